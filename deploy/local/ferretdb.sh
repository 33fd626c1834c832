#!/usr/bin/env bash
# Builds FerretDB (MongoDB wire protocol on SQLite) from its Go module into .tools/, once.
# usage: ferretdb.sh build
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE="github.com/FerretDB/FerretDB"

build() {
  local dest="$TOOLS_DIR/ferretdb-$FERRETDB_VERSION"
  if [[ -x "$dest/ferretdb" ]] && "$dest/ferretdb" --version >/dev/null 2>&1; then
    return 0
  fi
  command -v go >/dev/null || die "the Go toolchain is needed to build FerretDB (go not on PATH)"
  say "building FerretDB $FERRETDB_VERSION from its Go module (first run only, one to two minutes)"
  local log="$TOOLS_DIR/ferretdb-build.log" started=$SECONDS
  mkdir -p "$TOOLS_DIR"
  : >"$log"
  local dir src
  dir=$(go mod download -json "$MODULE@$FERRETDB_VERSION" 2>>"$log" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') \
    || { tail -n 20 "$log" >&2; die "go mod download $MODULE@$FERRETDB_VERSION failed (log: $log)"; }
  src="$TOOLS_DIR/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$src"
  mkdir -p "$src" "$dest"
  cp -r "$dir/." "$src/"
  chmod -R u+w "$src"
  # A plain module build lacks the version file the binary embeds; packagers write it before building.
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  say "  compiling (progress in $log)"
  (cd "$src" && CGO_ENABLED=0 go build -v -trimpath -o "$dest/ferretdb" ./cmd/ferretdb) >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "go build of FerretDB failed (log: $log)"; }
  rm -rf "$src"
  "$dest/ferretdb" --version >/dev/null || die "the FerretDB binary built but does not start"
  say "FerretDB built in $((SECONDS - started)) s: $dest/ferretdb"
}

case "${1:-}" in
  build) build ;;
  *) die "usage: $0 build" ;;
esac
