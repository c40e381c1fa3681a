#!/usr/bin/env bash
# Same-run comparison of two Warren builds and RabbitMQ, alternating brokers
# scenario by scenario: the "before/after" tables in RESULTS.md.
#   BEFORE=/path/to/old/checkout AFTER=/path/to/new/checkout ROUNDS=3 ONLY=a,b,e,g0,g1,h \
#     bench/compare-before-after.sh > results.jsonl
# Each checkout must be built (npx tsc). RabbitMQ is ../shared/rabbitmq's
# reference node (AMQP 5673, MQTT 1893, STOMP 61623).
set -u
: "${BEFORE:?checkout of the old build}" "${AFTER:?checkout of the new build}"
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-a,b,e,g0,g1,h}
BENCH=${BENCH:-$(cd "$(dirname "$0")/../../shared/bench" && pwd)}
start() { # checkout amqp mqtt stomp
  local data; data=$(mktemp -d)
  (cd "$1" && exec node dist/src/cli/main.js --amqp-port "$2" --mqtt-port "$3" --stomp-port "$4" --http-port off \
    --web-stomp-port off --web-mqtt-port off --stream-port off --data-dir "$data" --log-level warn) >&2 &
  echo $!
}
before=$(start "$BEFORE" 25672 21883 26613)
after=$(start "$AFTER" 35672 31883 36613)
trap 'kill $before $after' EXIT
sleep 4
for _ in $(seq 1 "$ROUNDS"); do
  for s in ${ONLY//,/ }; do
    "$BENCH/run-matrix" warren-before --amqp 25672 --mqtt 21883 --stomp 26613 --no-relay --only "$s"
    "$BENCH/run-matrix" warren-after --amqp 35672 --mqtt 31883 --stomp 36613 --no-relay --only "$s"
    "$BENCH/run-matrix" rabbitmq --amqp 5673 --mqtt 1893 --stomp 61623 --no-relay --only "$s"
  done
done
