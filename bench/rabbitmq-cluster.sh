#!/usr/bin/env bash
# bench/rabbitmq-cluster.sh start|stop: a three-node RabbitMQ 3.10 cluster
# (Debian's rabbitmq-server, as ../shared/rabbitmq installs it) on this
# machine, for comparing Warren's three-node cluster with a RabbitMQ whose
# quorum queues have three members (the reference node of ../shared/rabbitmq
# is one node, so its quorum queues replicate to nobody). No plugins.
#   AMQP 127.0.0.1:5681, 5682, 5683; nodes rmq-bench-1..3@localhost;
#   data under ${RMQ_CLUSTER_DIR:-/tmp/rabbitmq-bench-cluster}.
# Stop the reference node first when measuring CPU: cluster-throughput.ts
# counts every beam.smp on the machine.
set -euo pipefail
DIR=${RMQ_CLUSTER_DIR:-/tmp/rabbitmq-bench-cluster}
BIN=/usr/lib/rabbitmq/bin
node_env() {
  local n=$1
  export RABBITMQ_NODENAME="rmq-bench-$n@localhost" RABBITMQ_DIST_PORT=$((25680 + n)) \
    RABBITMQ_CONFIG_FILE="$DIR/n$n/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/n$n/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$DIR/n$n/mnesia" RABBITMQ_LOG_BASE="$DIR/n$n/log" RABBITMQ_PID_FILE="$DIR/n$n/pid"
}
case "${1:-start}" in
  start)
    [ -x "$BIN/rabbitmq-server" ] || { echo "run ../shared/rabbitmq/start once first (installs rabbitmq-server)" >&2; exit 1; }
    ulimit -n 65536 2>/dev/null || true
    for n in 1 2 3; do
      mkdir -p "$DIR/n$n"/{mnesia,log}
      printf 'listeners.tcp.default = 127.0.0.1:%d\nloopback_users = none\n' $((5680 + n)) > "$DIR/n$n/rabbitmq.conf"
      echo '[].' > "$DIR/n$n/enabled_plugins"
      ( node_env $n; "$BIN/rabbitmq-server" -detached > "$DIR/n$n/log/startup.log" 2>&1 || true )
    done
    for n in 1 2 3; do
      # await_startup fails at once while the node is not yet registered with epmd: retried, as ../shared/rabbitmq/start does.
      ( node_env $n
        for _ in $(seq 1 120); do
          "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" await_startup --timeout 2 > /dev/null 2>&1 && exit 0
          sleep 1
        done
        echo "node $n did not start; see $DIR/n$n/log" >&2; exit 1 )
    done
    for n in 2 3; do
      ( node_env $n
        if ! "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" cluster_status 2>/dev/null | grep -q "rmq-bench-1@localhost"; then
          "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop_app > /dev/null
          "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" join_cluster rmq-bench-1@localhost > /dev/null
          "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" start_app > /dev/null
        fi )
    done
    ( node_env 1; "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" cluster_status | sed -n '/Running Nodes/,/^$/p' )
    echo "AMQP: amqp://guest:guest@127.0.0.1:5681,amqp://guest:guest@127.0.0.1:5682,amqp://guest:guest@127.0.0.1:5683"
    ;;
  stop)
    for n in 3 2 1; do ( node_env $n; "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop > /dev/null 2>&1 || true ); done
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
