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
  say "building FerretDB $FERRETDB_VERSION from its Go module (first run only, about a minute)"
  local dir src
  dir=$(go mod download -json "$MODULE@$FERRETDB_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') \
    || die "go mod download $MODULE@$FERRETDB_VERSION failed"
  src="$TOOLS_DIR/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$src"
  mkdir -p "$src" "$dest"
  cp -r "$dir/." "$src/"
  chmod -R u+w "$src"
  # A plain module build lacks the version file the binary embeds; packagers write it before building.
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$dest/ferretdb" ./cmd/ferretdb) \
    || die "go build of FerretDB failed"
  rm -rf "$src"
  "$dest/ferretdb" --version >/dev/null || die "the FerretDB binary built but does not start"
  say "FerretDB built: $dest/ferretdb"
}

case "${1:-}" in
  build) build ;;
  *) die "usage: $0 build" ;;
esac
