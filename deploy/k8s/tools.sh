#!/usr/bin/env bash
# What rendering and checking deploy/k8s needs, from Go modules into .tools/ (once), and the render.
# usage: tools.sh kustomize        build kustomize, print its path
#        tools.sh crds             fetch the operators' released CRD files, print their folder
#        tools.sh render [OVERLAY] kustomize build deploy/k8s/overlays/OVERLAY (default gutian) to stdout
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

K8S_DIR="$CIVICLOOP_ROOT/deploy/k8s"
# v5.8.3 needs Go 1.27; v5.8.2 builds with the Go the machines have (1.26).
KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5"
KUSTOMIZE_VERSION="v5.8.2"
KUSTOMIZE_BIN="$TOOLS_DIR/kustomize-$KUSTOMIZE_VERSION/kustomize"

# module@version, its go.sum hash (the download must be exactly this), then the CRD files in it.
# The objects of deploy/k8s are checked against these, the operators' own schemas.
CRD_MODULES=(
  "github.com/rabbitmq/cluster-operator/v2@v2.20.0 h1:9RAb5Gj9kz/eIgpRwUMwOKXLMXdn3O5dJ2Gjw6pj21k=
   config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml"
  "github.com/kedacore/keda/v2@v2.21.0 h1:R6z2HZvstK4RLUMxroNACzBj74xGxt3kG59b5Xc+Xps=
   config/crd/bases/keda.sh_scaledobjects.yaml config/crd/bases/keda.sh_triggerauthentications.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s=
   example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
  "github.com/mongodb/mongodb-kubernetes-operator@v0.13.0 h1:tbR6z7f3DZmeQJgPsC+Xp193kdADMzcwFGqlTvO9gh0=
   config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml"
)
CRD_DIR="$TOOLS_DIR/crds"

kustomize_bin() {
  if [[ -x "$KUSTOMIZE_BIN" ]] && "$KUSTOMIZE_BIN" version >/dev/null 2>&1; then
    echo "$KUSTOMIZE_BIN"
    return 0
  fi
  command -v go >/dev/null || die "the Go toolchain is needed to build kustomize (go not on PATH)"
  say "building kustomize $KUSTOMIZE_VERSION from its Go module (first run only, about half a minute)"
  local log="$TOOLS_DIR/kustomize-build.log"
  mkdir -p "$(dirname "$KUSTOMIZE_BIN")"
  GOBIN="$(dirname "$KUSTOMIZE_BIN")" CGO_ENABLED=0 go install "$KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION" >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "go install $KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION failed (log: $log)"; }
  "$KUSTOMIZE_BIN" version >/dev/null || die "kustomize built but does not run"
  echo "$KUSTOMIZE_BIN"
}

crds() {
  local entry module_version sum files dir want got file
  command -v go >/dev/null || die "the Go toolchain is needed to fetch the CRDs (go not on PATH)"
  mkdir -p "$CRD_DIR"
  for entry in "${CRD_MODULES[@]}"; do
    read -r module_version sum files <<<"$(echo $entry)"
    local stamp="$CRD_DIR/.${module_version//[\/@]/_}"
    [[ -f "$stamp" ]] && continue
    got=$(go mod download -json "$module_version" | python3 -c '
import json, sys
info = json.load(sys.stdin)
if "Error" in info:
    sys.exit(info["Error"])
print(info["Dir"], info["Sum"])') || die "go mod download $module_version failed"
    read -r dir want <<<"$got"
    [[ "$want" == "$sum" ]] || die "$module_version: hash $want, expected $sum"
    for file in $files; do
      [[ -f "$dir/$file" ]] || die "$module_version has no $file"
      cp "$dir/$file" "$CRD_DIR/"
      chmod u+w "$CRD_DIR/$(basename "$file")"
    done
    touch "$stamp"
  done
  echo "$CRD_DIR"
}

render() {
  local overlay="${1:-gutian}" bin
  [[ -d "$K8S_DIR/overlays/$overlay" ]] || die "no overlay $K8S_DIR/overlays/$overlay"
  bin=$(kustomize_bin)
  local keys="$K8S_DIR/overlays/$overlay/jwt-keys.json"
  if [[ "$overlay" == local && ! -f "$keys" ]]; then
    # The local overlay's signing keyring: made here, never committed (.gitignore).
    "$VENV/bin/civicloop" keys init --file "$keys" >/dev/null || die "cannot make $keys"
  fi
  "$bin" build "$K8S_DIR/overlays/$overlay"
}

case "${1:-}" in
  kustomize) kustomize_bin ;;
  crds) crds ;;
  render) render "${2:-}" ;;
  *) die "usage: $0 kustomize | crds | render [OVERLAY]" ;;
esac
