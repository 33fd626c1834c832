#!/usr/bin/env bash
# RabbitMQ nodes of a profile's own, on loopback, for tests that stop or restart the broker
# (the fault suite): the shared broker on 5672 is never touched.
# usage: rabbitmq-cluster.sh start|stop|reset|status PROFILE
#        rabbitmq-cluster.sh start-node|stop-node|kill-node PROFILE N
#        rabbitmq-cluster.sh ctl PROFILE N ARGS...       (rabbitmqctl against node N)
# The profile names them: RABBITMQ_NODES (how many), RABBITMQ_NODE_PREFIX, RABBITMQ_NODE_PORT_BASE
# (node N listens on BASE+N-1), RABBITMQ_DIST_PORT_BASE, RABBITMQ_VHOST. Node 1 is the seed; the
# others join its cluster. Every node gets its own name, ports, data and logs, owned by the rabbitmq
# user (the server runs as that user).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_name() { echo "${RABBITMQ_NODE_PREFIX}-$1@$(hostname -s)"; }
# Under the rabbitmq user's home, not the checkout: the server runs as that user, and a checkout
# under /root (as on many CI machines) is not readable for it.
nodes_dir() { echo "${RABBITMQ_NODES_DIR:-/var/lib/rabbitmq/civicloop-nodes}/$CIVICLOOP_PROFILE"; }
node_dir() { echo "$(nodes_dir)/node$1"; }
node_port() { echo $((RABBITMQ_NODE_PORT_BASE + $1 - 1)); }

# rmqctl N ARGS...: rabbitmqctl against node N, as the rabbitmq user (it holds the Erlang cookie).
rmqctl() {
  local n=$1
  shift
  timeout 90 runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq rabbitmqctl -q -n "$(node_name "$n")" "$@"
}

node_env() {
  local n=$1 dir
  dir=$(node_dir "$n")
  echo HOME=/var/lib/rabbitmq \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$(node_port "$n")" \
    RABBITMQ_DIST_PORT=$((RABBITMQ_DIST_PORT_BASE + n - 1)) \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
}

node_running() { rmqctl "$1" ping >/dev/null 2>&1; }

# launch_node N: start node N's server in the background (it may wait for its cluster peers).
launch_node() {
  local n=$1 dir
  dir=$(node_dir "$n")
  if node_running "$n"; then return 0; fi
  mkdir -p "$dir/mnesia" "$dir/log"
  # No plugins (a second management listener would collide with the shared broker's).
  [[ -f "$dir/enabled_plugins" ]] || echo "[]." >"$dir/enabled_plugins"
  # A small disk-free limit: CI machines are small, and a blocked publisher would look like a bug.
  [[ -f "$dir/rabbitmq.conf" ]] || printf 'disk_free_limit.absolute = 50MB\nloopback_users = none\n' >"$dir/rabbitmq.conf"
  chown -R rabbitmq:rabbitmq "$(nodes_dir)"
  say "starting RabbitMQ node $(node_name "$n") on 127.0.0.1:$(node_port "$n")"
  # shellcheck disable=SC2046
  # The hard limit of open descriptors, not the soft 1024 that PAM gives the user (rabbitmq.sh says why).
  (cd /var/lib/rabbitmq && runuser -u rabbitmq -- env $(node_env "$n") \
    sh -c 'ulimit -n "$(ulimit -Hn)"; exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached' \
    >>"$dir/log/startup.log" 2>&1) || true
}

await_node() {
  local n=$1 dir i
  dir=$(node_dir "$n")
  for ((i = 0; i < 90; i++)); do
    port_open "$(node_port "$n")" && rmqctl "$n" await_startup >/dev/null 2>&1 && return 0
    sleep 1
  done
  tail -n 30 "$dir/log/startup.log" "$dir/log/"*.log >&2 2>/dev/null || true
  die "RabbitMQ node $(node_name "$n") did not start within 90 s (logs: $dir/log)"
}

start_node() {
  launch_node "$1"
  await_node "$1"
}

stop_node() {
  local n=$1 pid_file
  pid_file="$(node_dir "$n")/pid"
  node_running "$n" || return 0
  say "stopping RabbitMQ node $(node_name "$n")"
  # A node that hangs half-way through its shutdown keeps its queue leaderships (seen once:
  # minutes of nacked publishes); give it 20 s, then end it the hard way.
  timeout 20 runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq rabbitmqctl -q -n "$(node_name "$n")" \
    stop "$pid_file" >/dev/null 2>&1 || true
  if [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    warn "node $(node_name "$n") did not stop within 20 s; killing it"
    kill_node "$n"
  fi
}

# kill_node N: the harsh way, for a node that must not get to say goodbye.
kill_node() {
  local pid_file
  pid_file="$(node_dir "$1")/pid"
  if [[ -f "$pid_file" ]]; then kill -9 "$(cat "$pid_file")" 2>/dev/null || true; fi
}

join_cluster() {
  local n=$1 seed
  seed=$(node_name 1)
  if rmqctl "$n" cluster_status 2>/dev/null | grep -q "$seed"; then return 0; fi
  say "node $(node_name "$n") joins $seed"
  local log
  log="$(node_dir "$n")/log/join.log"
  # The CLI reports harmless start-up warnings on stderr while a node joins; keep them in a log.
  { rmqctl "$n" stop_app && rmqctl "$n" reset && rmqctl "$n" join_cluster "$seed" \
    && rmqctl "$n" start_app && rmqctl "$n" await_startup; } >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "node $n could not join $seed"; }
}

start_all() {
  [[ -n "${RABBITMQ_NODE_PREFIX:-}" ]] || die "profile $CIVICLOOP_PROFILE names no RabbitMQ nodes of its own"
  apt_install rabbitmq-server
  local n
  # All at once: a node restarted from a cluster's data waits for its peers before it answers.
  for ((n = 1; n <= RABBITMQ_NODES; n++)); do launch_node "$n"; done
  for ((n = 1; n <= RABBITMQ_NODES; n++)); do await_node "$n"; done
  for ((n = 2; n <= RABBITMQ_NODES; n++)); do join_cluster "$n"; done
  local vhost
  for vhost in "$RABBITMQ_VHOST" ${RABBITMQ_EXTRA_VHOSTS:-}; do
    rmqctl 1 list_vhosts | grep -qx -- "$vhost" || rmqctl 1 add_vhost "$vhost" >/dev/null
    rmqctl 1 set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
  done
  say "RabbitMQ nodes of '$CIVICLOOP_PROFILE' ready: ${RABBITMQ_NODES} on ports from $RABBITMQ_NODE_PORT_BASE"
}

stop_all() {
  [[ -n "${RABBITMQ_NODE_PREFIX:-}" ]] || return 0
  local n max=${RABBITMQ_NODES:-1}
  # Also nodes a larger cluster of this profile left behind.
  for dir in "$(nodes_dir)"/node*; do
    [[ -d "$dir" ]] || continue
    n=${dir##*node}
    ((n > max)) && max=$n
  done
  for ((n = max; n >= 1; n--)); do stop_node "$n"; done
  for ((n = max; n >= 1; n--)); do kill_node "$n"; done
}

# reset: stop, then forget the nodes' data (the next start makes a new cluster).
reset_all() {
  stop_all
  rm -rf "$(nodes_dir)"
}

status_all() {
  local n
  for ((n = 1; n <= RABBITMQ_NODES; n++)); do
    if node_running "$n"; then echo "$(node_name "$n"): up on $(node_port "$n")"; else echo "$(node_name "$n"): down"; fi
  done
}

cmd=${1:-}
load_profile "${2:?profile}"
case "$cmd" in
  start) start_all ;;
  stop) stop_all ;;
  reset) reset_all ;;
  status) status_all ;;
  start-node) start_node "${3:?node number}" ;;
  stop-node) stop_node "${3:?node number}" ;;
  kill-node) kill_node "${3:?node number}" ;;
  ctl) n=${3:?node number}; shift 3; rmqctl "$n" "$@" ;;
  *) die "usage: $0 start|stop|reset|status PROFILE | start-node|stop-node|kill-node PROFILE N | ctl PROFILE N ARGS..." ;;
esac
