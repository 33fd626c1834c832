#!/usr/bin/env bash
# The local stack: RabbitMQ, one FerretDB per service, the four services and the gateway.
# usage: stack.sh up|infra|down|status|reset PROFILE
#   up      everything, waits until each service's /readyz and the gateway answer
#   infra   only RabbitMQ and the database servers (what the integration tests need)
#   down    stops what this profile started (RabbitMQ too, when civicloop started it)
#   reset   down, then removes the profile's data and logs
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ctl() { "$VENV/bin/supervisorctl" -c "$CIVICLOOP_ROOT/deploy/local/supervisord.conf" "$@"; }

supervisor_running() { [[ -S "$CIVICLOOP_RUN_DIR/supervisor.sock" ]] && ctl pid >/dev/null 2>&1; }

# Each service's programs (supervisord-service.conf) once per service of the one list, and the groups
# that start and stop them together, into the file supervisord.conf includes.
render_programs() {
  local out="$CIVICLOOP_RUN_DIR/supervisord-services.conf" svc ferretdbs=() processes=()
  local replica
  for svc in "${SERVICES[@]}"; do
    ferretdbs+=("ferretdb-$svc")
    processes+=("$svc-web" "$svc-worker")
    for ((replica = 2; replica <= $(replicas); replica++)); do
      processes+=("$svc-web-$replica" "$svc-worker-$replica")
    done
  done
  {
    echo "; Rendered by deploy/local/stack.sh from deploy/local/supervisord-service.conf; do not edit."
    printf '[group:infra]\nprograms=postgres,%s\n\n' "$(IFS=,; echo "${ferretdbs[*]}")"
    printf '[group:services]\nprograms=%s\n' "$(IFS=,; echo "${processes[*]}")"
    for svc in "${SERVICES[@]}"; do
      echo
      # Without the template's header (its lines up to the first empty one).
      sed -e '1,/^$/d' -e "s/@@SERVICE@@/$svc/g" -e "s/@@SERVICE_UPPER@@/${svc^^}/g" \
        "$CIVICLOOP_ROOT/deploy/local/supervisord-service.conf"
      for ((replica = 2; replica <= $(replicas); replica++)); do
        echo
        render_replica "$svc" "$replica"
      done
    done
  } >"$out"
}

# CIVICLOOP_REPLICAS (default 1): how many web processes and workers each service runs. Replica N
# (from 2) listens CIVICLOOP_REPLICA_PORT_STEP (default 1000) × (N-1) above the profile's ports; the
# workers compete for the service's one queue, and the gateway spreads calls over the web processes.
replicas() { echo "${CIVICLOOP_REPLICAS:-1}"; }

replica_port() { # replica_port BASE N
  echo $(($1 + ${CIVICLOOP_REPLICA_PORT_STEP:-1000} * ($2 - 1)))
}

# The web and worker programs of the template again, as replica N of SERVICE, on ports of their own.
render_replica() {
  local svc=$1 n=$2 upper="${1^^}" web_var worker_var
  web_var="${upper}_WEB_PORT"
  worker_var="${upper}_WORKER_METRICS_PORT"
  sed -n '/^; its web process/,$p' "$CIVICLOOP_ROOT/deploy/local/supervisord-service.conf" | sed \
    -e "s/^\[program:@@SERVICE@@-\(web\|worker\)\]/[program:@@SERVICE@@-\1-$n]/" \
    -e "s/%(ENV_@@SERVICE_UPPER@@_WEB_PORT)s/$(replica_port "${!web_var}" "$n")/" \
    -e "s/%(ENV_@@SERVICE_UPPER@@_WORKER_METRICS_PORT)s/$(replica_port "${!worker_var}" "$n")/" \
    -e "s#metrics/@@SERVICE@@-web\"#metrics/@@SERVICE@@-web-$n\"#" \
    -e "s#logs/@@SERVICE@@-\(web\|worker\)\.log#logs/@@SERVICE@@-\1-$n.log#" \
    -e "s/@@SERVICE@@/$svc/g" -e "s/@@SERVICE_UPPER@@/$upper/g"
}

# The web processes of a service that run: "name port" lines, the first one the profile's own.
web_replicas() {
  local svc=$1 port_var="${1^^}_WEB_PORT" n
  echo "$svc-web ${!port_var}"
  for ((n = 2; n <= $(replicas); n++)); do echo "$svc-web-$n $(replica_port "${!port_var}" "$n")"; done
}

start_supervisor() {
  [[ -x "$VENV/bin/supervisord" ]] || die "no virtualenv at $VENV; run 'make install' first"
  mkdir -p "$CIVICLOOP_RUN_DIR/logs"
  supervisor_running && return 0
  render_programs
  rm -f "$CIVICLOOP_RUN_DIR/supervisor.sock"
  "$VENV/bin/supervisord" -c "$CIVICLOOP_ROOT/deploy/local/supervisord.conf" \
    || die "supervisord did not start; see $CIVICLOOP_RUN_DIR/logs/supervisord.log"
  local i
  for ((i = 0; i < 50; i++)); do supervisor_running && return 0; sleep 0.1; done
  die "supervisord did not answer on $CIVICLOOP_RUN_DIR/supervisor.sock"
}

# start_program NAME: start it unless running; show its log tail when it will not start.
start_program() {
  local name=$1
  ctl status "$name" 2>/dev/null | grep -q RUNNING && return 0
  if ! ctl start "$name" >/dev/null; then
    tail -n 20 "$CIVICLOOP_RUN_DIR/logs/${name#*:}.log" >&2 2>/dev/null || true
    die "$name did not start (log: $CIVICLOOP_RUN_DIR/logs/${name#*:}.log)"
  fi
}

# A throwaway PostgreSQL cluster of the profile's own, behind the FerretDB servers.
init_postgres() {
  apt_install postgresql
  # A CJK font for the volunteers' printable certificates (docs/adr/0051); they fall back without it.
  apt_install fonts-wqy-microhei
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  export PG_BIN
  local data="$CIVICLOOP_RUN_DIR/postgres" sockets="$CIVICLOOP_RUN_DIR/pgsocket"
  mkdir -p "$sockets"
  chown postgres:postgres "$sockets"
  [[ -f "$data/PG_VERSION" ]] && return 0
  say "creating the PostgreSQL cluster in $data"
  mkdir -p "$data"
  chown postgres:postgres "$data"
  chmod 700 "$data"
  # A checkout in a private directory (mktemp -d is 0700) must let the postgres user pass through it.
  local dir="$data"
  while dir=$(dirname "$dir") && [[ "$dir" != / ]]; do
    runuser -u postgres -- test -x "$dir" || chmod o+x "$dir"
  done
  runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null \
    || die "initdb failed"
}

# The project's server settings (deploy/local/postgresql-civicloop.conf), for new and existing
# clusters alike: copied in, included once from postgresql.conf; a running server reloads them.
configure_postgres() {
  local data="$CIVICLOOP_RUN_DIR/postgres"
  install -o postgres -g postgres -m 0644 "$CIVICLOOP_ROOT/deploy/local/postgresql-civicloop.conf" "$data/civicloop.conf"
  if ! grep -qx "include = 'civicloop.conf'" "$data/postgresql.conf"; then
    printf "\n# civicloop's settings (deploy/local/postgresql-civicloop.conf)\ninclude = 'civicloop.conf'\n" \
      >>"$data/postgresql.conf"
  fi
}

# apply_postgres_settings: reload; restart when a setting needs it and no database server uses it yet.
apply_postgres_settings() {
  psql_q -c "SELECT pg_reload_conf()" >/dev/null || die "PostgreSQL did not reload its settings"
  sleep 0.2
  local pending
  pending=$(psql_q -tAc "SELECT string_agg(name, ',') FROM pg_settings WHERE pending_restart")
  [[ -z "$pending" ]] && return 0
  if ctl status "infra:*" 2>/dev/null | grep -q "ferretdb-.*RUNNING"; then
    warn "PostgreSQL needs a restart for $pending; it happens at the next 'stack.sh infra' with the database servers stopped"
    return 0
  fi
  say "restarting PostgreSQL for $pending"
  ctl restart infra:postgres >/dev/null || die "PostgreSQL did not restart"
  wait_for_postgres
}

wait_for_postgres() {
  wait_for_port "$PG_PORT" PostgreSQL 30
  local i
  for ((i = 0; i < 50; i++)); do psql_q -c "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "PostgreSQL did not answer on port $PG_PORT"
}

create_databases() {
  local svc
  for svc in "${SERVICES[@]}"; do
    if ! psql_q -tAc "SELECT 1 FROM pg_database WHERE datname = 'ferretdb_$svc'" | grep -q 1; then
      psql_q -c "CREATE DATABASE ferretdb_$svc" >/dev/null || die "cannot create database ferretdb_$svc"
    fi
  done
}

psql_q() { PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q "$@"; }

# A profile that names RabbitMQ nodes of its own (RABBITMQ_NODE_PREFIX, the fault suite's) gets them
# from rabbitmq-cluster.sh; every other profile shares the broker on 5672.
own_broker() { [[ -n "${RABBITMQ_NODE_PREFIX:-}" ]]; }

infra() {
  # promtool checks the rules in the suite; the monitoring e2e test runs a real Prometheus.
  apt_install prometheus
  if own_broker; then
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq-cluster.sh" start "$CIVICLOOP_PROFILE"
  else
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq.sh" start "$RABBITMQ_VHOST" ${RABBITMQ_EXTRA_VHOSTS:-}
  fi
  "$CIVICLOOP_ROOT/deploy/local/ferretdb.sh" build
  init_postgres
  local svc port_var
  for svc in "${SERVICES[@]}"; do mkdir -p "$CIVICLOOP_RUN_DIR/data/$svc"; done
  start_supervisor
  say "starting PostgreSQL and the database servers (FerretDB $FERRETDB_VERSION)"
  configure_postgres
  start_program infra:postgres
  wait_for_postgres
  apply_postgres_settings
  create_databases
  for svc in "${SERVICES[@]}"; do start_program "infra:ferretdb-$svc"; done
  for svc in "${SERVICES[@]}"; do
    port_var="${svc^^}_DB_PORT"
    wait_for_port "${!port_var}" "FerretDB for $svc" 30
  done
}

# The console's two libraries (Preact and htm), exactly as console/package-lock.json pins them; the
# gateway serves them as files. Installed again only when the lock changes.
console_libraries() {
  local dir="$CIVICLOOP_ROOT/console"
  [[ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]] && return 0
  command -v npm >/dev/null || apt_install nodejs npm
  say "installing the console's libraries (npm ci)"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
    || die "npm ci in console/ failed"
}

render_gateway() {
  apt_install nginx
  console_libraries
  local out="$CIVICLOOP_RUN_DIR/nginx" svc port_var
  mkdir -p "$out/tmp" "$out/cache"
  chmod 0777 "$out/tmp" "$out/cache"
  (
    # The template names each service's upstream as <SERVICE>_UPSTREAM: its web process here.
    local servers name port
    for svc in "${SERVICES[@]}"; do
      # With replicas, one upstream names them all (the template has room for one: `server X;`).
      servers=""
      while read -r name port; do
        servers="${servers:+$servers; server }127.0.0.1:$port"
      done < <(web_replicas "$svc")
      export "${svc^^}_UPSTREAM=$servers"
    done
    RUN_DIR="$CIVICLOOP_RUN_DIR" LISTEN="127.0.0.1:$GATEWAY_PORT" CONSOLE_ROOT="$CIVICLOOP_ROOT/console" \
      RATE_PER_SECOND="${GATEWAY_RATE_PER_SECOND:-200}" RATE_BURST="${GATEWAY_RATE_BURST:-400}" \
      TOKEN_RATE_PER_SECOND="${GATEWAY_TOKEN_RATE_PER_SECOND:-50}" TOKEN_RATE_BURST="${GATEWAY_TOKEN_RATE_BURST:-100}" \
      "$CIVICLOOP_ROOT/deploy/gateway/render.sh" "$out/nginx.conf"
  )
  /usr/sbin/nginx -t -q -c "$out/nginx.conf" -p "$out" 2>&1 | grep -v "^$" >&2 || true
  /usr/sbin/nginx -t -q -c "$out/nginx.conf" -p "$out" >/dev/null 2>&1 || die "the gateway's nginx.conf does not pass nginx -t"
}

up() {
  infra
  render_gateway
  # The accounts service's signing keys: made once per profile, rotated with `civicloop keys rotate`.
  "$VENV/bin/civicloop" keys init --file "$CIVICLOOP_JWT_KEYS_FILE" >/dev/null \
    || die "cannot make the signing keys in $CIVICLOOP_JWT_KEYS_FILE"
  local svc port_var
  # Stale multiprocess metric files would add a dead worker's counts to the live ones.
  local name port n
  for svc in "${SERVICES[@]}"; do
    while read -r name port; do
      if ! ctl status "services:$name" 2>/dev/null | grep -q RUNNING; then
        rm -rf "$CIVICLOOP_RUN_DIR/metrics/$name"
      fi
      mkdir -p "$CIVICLOOP_RUN_DIR/metrics/$name"
    done < <(web_replicas "$svc")
  done
  say "starting the services (web + worker each, $(replicas) of each)"
  for svc in "${SERVICES[@]}"; do
    start_program "services:$svc-worker"
    start_program "services:$svc-web"
    for ((n = 2; n <= $(replicas); n++)); do
      start_program "services:$svc-worker-$n"
      start_program "services:$svc-web-$n"
    done
  done
  start_program gateway
  for svc in "${SERVICES[@]}"; do
    while read -r name port; do
      wait_for_http "http://127.0.0.1:$port/readyz" "$name" 60
    done < <(web_replicas "$svc")
  done
  wait_for_http "http://127.0.0.1:$GATEWAY_PORT/healthz" gateway 20
  say "stack '$CIVICLOOP_PROFILE' is up: gateway http://127.0.0.1:$GATEWAY_PORT"
}

down() {
  if supervisor_running; then
    say "stopping the '$CIVICLOOP_PROFILE' stack"
    ctl shutdown >/dev/null || warn "supervisorctl shutdown failed"
    local i
    for ((i = 0; i < 150; i++)); do
      [[ -f "$CIVICLOOP_RUN_DIR/supervisord.pid" ]] || break
      sleep 0.2
    done
  fi
  rm -f "$CIVICLOOP_RUN_DIR/supervisord.pid" "$CIVICLOOP_RUN_DIR/supervisor.sock"
  if own_broker; then
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq-cluster.sh" stop "$CIVICLOOP_PROFILE"
  else
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq.sh" stop
  fi
}

status() {
  if own_broker; then
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq-cluster.sh" status "$CIVICLOOP_PROFILE"
  else
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq.sh" status
  fi
  if supervisor_running; then ctl status || true; else echo "supervisord ($CIVICLOOP_PROFILE): not running"; fi
}

reset() {
  # Events still queued for the old databases must not reach the new, empty ones: the profile's
  # vhosts go with its data (own-broker profiles lose their nodes' data in rabbitmq-cluster.sh reset).
  if own_broker; then
    down
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq-cluster.sh" reset "$CIVICLOOP_PROFILE"
  else
    "$CIVICLOOP_ROOT/deploy/local/rabbitmq.sh" drop-vhosts "$RABBITMQ_VHOST" ${RABBITMQ_EXTRA_VHOSTS:-}
    down
  fi
  rm -rf "$CIVICLOOP_RUN_DIR"
  say "removed $CIVICLOOP_RUN_DIR"
}

# What the browser tests drive: Debian's Chromium (and its driver), and a CJK font to draw the pages with.
browser() {
  apt_install chromium chromium-driver fonts-wqy-microhei
}

cmd=${1:-}
profile=${2:-run}
load_profile "$profile"
case "$cmd" in
  up) up ;;
  infra) infra ;;
  browser) browser ;;
  down) down ;;
  status) status ;;
  reset) reset ;;
  ctl) shift 2; ctl "$@" ;;
  *) die "usage: $0 up|infra|browser|down|status|reset|ctl PROFILE" ;;
esac
