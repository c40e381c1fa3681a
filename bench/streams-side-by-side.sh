#!/usr/bin/env bash
# Stream protocol (bench/streams-raw.ts) and AMQP stream queues (bench/streams-amqp.mjs)
# on Warren and the RabbitMQ 3.10 reference node, alternated in the same run, with
# each broker's CPU time per message (Warren's node pid, RabbitMQ's beam pid).
#   bench/streams-side-by-side.sh [--rounds 3] [--messages 200000] [--bytes 1024] [--only raw|amqp] [--cpu-prof DIR]
# Needs a build (npx tsc -p tsconfig.json) and the reference node (../shared/rabbitmq/start).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
. "$repo/bench/warren-process.sh"
rounds=3 messages=200000 bytes=1024 only="" prof=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --bytes) bytes="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --cpu-prof) prof="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"
trap 'kill "$warren" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
snapshot_dist "$repo/dist" "$work"
stream_port="$(free_port)" amqp_port="$(free_port)"
node_flags=()
[ -n "$prof" ] && node_flags=(--cpu-prof --cpu-prof-dir "$prof")
node "${node_flags[@]}" "$work/dist/src/cli/main.js" --data-dir "$work/data" --stream-port "$stream_port" \
  --amqp-port "$amqp_port" --mqtt-port off --stomp-port off --http-port off --web-stomp-port off \
  --web-mqtt-port off >"$work/warren.log" 2>&1 &
warren=$!
wait_for_port "$stream_port" "$warren" "$work/warren.log"
beam="$(pgrep -x beam.smp | head -1)"
for round in $(seq "$rounds"); do
  for side in warren rabbitmq; do
    if [ "$side" = warren ]; then sp=$stream_port ap=$amqp_port pid=$warren; else sp=5553 ap=5673 pid=$beam; fi
    if [ "$only" != amqp ]; then
      echo "round $round $side raw $(node "$work/dist/bench/streams-raw.js" "$sp" "$messages" "$bytes" --pid "$pid" ${STREAMS_RAW_FLAGS:-})"
    fi
    if [ "$only" != raw ]; then
      echo "round $round $side amqp $(node "$repo/bench/streams-amqp.mjs" "amqp://guest:guest@127.0.0.1:$ap" "$((messages / 2))" "$bytes" --pid "$pid" ${STREAMS_RAW_FLAGS:-})"
    fi
  done
done
kill -INT "$warren"; wait "$warren" || true
