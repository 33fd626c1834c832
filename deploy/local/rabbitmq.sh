#!/usr/bin/env bash
# RabbitMQ for the local stack: use the broker answering on 127.0.0.1:5672, else install Debian's and start it.
# usage: rabbitmq.sh start VHOST... | drop-vhosts VHOST... | stop | status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARK="$CIVICLOOP_ROOT/.run/rabbitmq.started-by-civicloop"
AMQP_PORT=5672

rabbitmqctl_q() { timeout 60 rabbitmqctl -q "$@"; }

wait_for_broker() {
  # The node takes a few seconds to answer rabbitmqctl at all; await_startup fails until then.
  local i
  for ((i = 0; i < 90; i++)); do
    port_open $AMQP_PORT && rabbitmqctl -q await_startup >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "RabbitMQ did not answer within 90 s; see /var/log/rabbitmq/"
}

start() {
  local vhost
  if port_open $AMQP_PORT; then
    say "RabbitMQ answers on 127.0.0.1:$AMQP_PORT; using it"
  elif command -v rabbitmqctl >/dev/null && timeout 15 rabbitmqctl -q ping >/dev/null 2>&1; then
    # A node whose app is stopped for a moment (a broker-restart test) is not ours to own or stop.
    say "a RabbitMQ node runs but its listener is closed; waiting for it"
    wait_for_broker
  else
    apt_install rabbitmq-server
    say "starting RabbitMQ"
    mkdir -p "$(dirname "$MARK")"
    # Every checkout on the machine connects here. Debian's wrapper switches to the rabbitmq user
    # through PAM, which sets the soft limit of open descriptors to 1024: the node ran out, stopped
    # accepting, and every suite on the machine failed. So switch users here and take the hard limit.
    (cd /var/lib/rabbitmq && runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq \
      sh -c 'ulimit -n "$(ulimit -Hn)"; exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached' >/dev/null 2>&1) || true
    touch "$MARK"
    wait_for_broker
  fi
  # Each profile gets virtual hosts of its own, so `make test` never touches the platform's queues.
  local existing
  existing=$(rabbitmqctl_q list_vhosts 2>/dev/null) || die "rabbitmqctl cannot talk to the broker on 5672"
  for vhost in "$@"; do
    if ! grep -qx -- "$vhost" <<<"$existing"; then
      rabbitmqctl_q add_vhost "$vhost" >/dev/null || die "cannot create the RabbitMQ vhost $vhost"
    fi
    rabbitmqctl_q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null \
      || die "cannot grant guest access to vhost $vhost"
  done
  # Its own metrics on :15692 for Prometheus (deploy/prometheus); enabling is online, no restart.
  if ! timeout 60 rabbitmq-plugins -q is_enabled rabbitmq_prometheus >/dev/null 2>&1; then
    timeout 60 rabbitmq-plugins -q enable rabbitmq_prometheus >/dev/null || warn "could not enable rabbitmq_prometheus"
  fi
  say "RabbitMQ ready, vhosts: $*"
}

stop() {
  if [[ -f "$MARK" ]]; then
    local others
    others=$(find "$CIVICLOOP_ROOT/.run" -maxdepth 2 -name supervisord.pid 2>/dev/null | wc -l)
    if ((others > 0)); then
      say "RabbitMQ left running: another profile still runs"
      return 0
    fi
    # Checkouts elsewhere on the machine share this broker; while anyone is connected, leave it.
    if [[ -n "$(rabbitmqctl_q --no-table-headers list_connections name 2>/dev/null)" ]]; then
      say "RabbitMQ left running: other clients are connected"
      return 0
    fi
    say "stopping RabbitMQ (started by civicloop)"
    timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || warn "rabbitmqctl stop failed"
    rm -f "$MARK"
  fi
}

# drop-vhosts VHOST...: delete the vhosts with every queue and message in them (a profile's reset).
drop_vhosts() {
  local vhost existing
  if ! port_open $AMQP_PORT; then
    # The broker keeps its queues on disk: start it just to forget this profile's, then stop it again.
    start "$@"
  fi
  existing=$(rabbitmqctl_q list_vhosts 2>/dev/null) || die "rabbitmqctl cannot talk to the broker on 5672"
  for vhost in "$@"; do
    if grep -qx -- "$vhost" <<<"$existing"; then
      rabbitmqctl_q delete_vhost "$vhost" >/dev/null || die "cannot delete the RabbitMQ vhost $vhost"
      say "deleted the RabbitMQ vhost $vhost and its queues"
    fi
  done
}

status() { port_open $AMQP_PORT && echo "RabbitMQ: up on 127.0.0.1:$AMQP_PORT" || echo "RabbitMQ: down"; }

case "${1:-}" in
  start) shift; start "${@:?vhost}" ;;
  drop-vhosts) shift; drop_vhosts "${@:?vhost}" ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start VHOST... | drop-vhosts VHOST... | stop | status" ;;
esac
