# Shared helpers for the local-stack scripts; source it, do not run it.
set -Eeuo pipefail
# Never fail silently: say which command of which script gave up.
trap 'printf "\033[1;31merror:\033[0m %s:%s: %s failed\n" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR

CIVICLOOP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CIVICLOOP_ROOT
TOOLS_DIR="$CIVICLOOP_ROOT/.tools"
VENV="$CIVICLOOP_ROOT/.venv"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The one list of services lives in services/__init__.py. Read it with the virtualenv's interpreter,
# or any python3 before `make install` made one: that module imports nothing.
read_services() {
  local python="$VENV/bin/python" names
  [[ -x "$python" ]] || python=python3
  names="$(PYTHONPATH="$CIVICLOOP_ROOT" "$python" -c 'import services; print(*services.SERVICES)')" \
    || die "cannot read the list of services from services/__init__.py"
  read -r -a SERVICES <<<"$names"
}
read_services

# load_profile NAME: export the profile's settings and the paths derived from them.
load_profile() {
  local file="$CIVICLOOP_ROOT/deploy/local/profiles/$1.env"
  [[ -f "$file" ]] || die "unknown profile '$1' (no $file)"
  set -a
  # shellcheck disable=SC1090
  . "$file"
  set +a
  export CIVICLOOP_RUN_DIR="$CIVICLOOP_ROOT/.run/$CIVICLOOP_PROFILE"
  export FERRETDB_BIN="$TOOLS_DIR/ferretdb-$FERRETDB_VERSION/ferretdb"
  # The newest installed PostgreSQL; a placeholder until the package is installed keeps the
  # process manager's configuration parseable.
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  export PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
  export VENV
  local svc upper
  for svc in "${SERVICES[@]}"; do
    upper="${svc^^}"
    local port_var="${upper}_DB_PORT"
    export "${upper}_MONGO_URL=mongodb://127.0.0.1:${!port_var}/${CIVICLOOP_DB_PREFIX}_${svc}"
    # The PostgreSQL database behind that wire server: workers turn the models' declared indexes
    # into indexes FerretDB's SQL can use there (docs/adr/0070).
    export "${upper}_POSTGRES_URL=postgresql://postgres@127.0.0.1:${PG_PORT}/ferretdb_${svc}"
  done
  # RS256 (docs/adr/0081): the accounts service signs with the profile's keyring, generated into its
  # run directory (never committed); every service verifies through the accounts service's JWKS.
  export CIVICLOOP_JWT_KEYS_FILE="${CIVICLOOP_JWT_KEYS_FILE:-$CIVICLOOP_RUN_DIR/keys/jwt-keys.json}"
  export CIVICLOOP_JWT_JWKS_URL="${CIVICLOOP_JWT_JWKS_URL:-http://127.0.0.1:$ACCOUNTS_WEB_PORT/.well-known/jwks.json}"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for_port PORT WHAT SECONDS
wait_for_port() {
  local port=$1 what=$2 limit=${3:-30} i
  for ((i = 0; i < limit * 10; i++)); do
    port_open "$port" && return 0
    sleep 0.1
  done
  die "$what did not open 127.0.0.1:$port within ${limit}s"
}

# wait_for_http URL WHAT SECONDS: until the URL answers 2xx.
wait_for_http() {
  local url=$1 what=$2 limit=${3:-60} i
  for ((i = 0; i < limit * 5; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  curl -sS --max-time 2 "$url" >&2 || true
  die "$what was not ready at $url within ${limit}s"
}

APT_UPDATED_MARK="/tmp/.civicloop-apt-updated"
# apt_install PKG...: install Debian packages that are missing, running apt-get update once.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "need the Debian packages ${missing[*]} and apt-get is not here"
  local sudo=""
  [[ $EUID -ne 0 ]] && sudo="sudo"
  if [[ ! -f "$APT_UPDATED_MARK" ]]; then
    say "apt-get update"
    $sudo apt-get update -qq >&2 || die "apt-get update failed"
    touch "$APT_UPDATED_MARK"
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
