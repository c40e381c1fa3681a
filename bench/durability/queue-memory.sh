#!/usr/bin/env bash
# Queues larger than memory and recovery time, on one Warren built in dist/:
#   fill a durable queue with COUNT persistent 1 KiB messages (confirms, window 100),
#   report RSS; restart cleanly and after kill -9, report time to ready and RSS
#   after recovery; drain the queue and report the rate and peak RSS.
# usage: bench/durability/queue-memory.sh [count] [extra warren flags...]
set -euo pipefail
count="${1:-1000000}"
shift || true
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/warren-qmem-XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="amqp://guest:guest@127.0.0.1:$port"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT

start() {
  local t0 t1
  t0=$(date +%s%N)
  node "$repo/dist/src/cli/main.js" --host 127.0.0.1 --amqp-port "$port" --mqtt-port off --stomp-port off \
    --http-port off --web-stomp-port off --web-mqtt-port off --data-dir "$work/data" --log-level info "$@" >>"$work/warren.log" 2>&1 &
  pid=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done
  t1=$(date +%s%N)
  ready="ready_ms=$(( (t1 - t0) / 1000000 )) rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
}
stop() { kill -"$1" "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; pid=""; }
rss() { awk '/VmRSS|VmHWM/ {printf "%s=%s ", $1, $2} END {print ""}' "/proc/$pid/status"; }

start "$@"
node "$repo/bench/durability/fill-queue.mjs" "$url" fill "$count" 1024
echo "filled: $(rss)"
stop TERM
start "$@"
echo "clean restart: $ready"
grep -o '"recoveredMessages[^}]*' "$work/warren.log" | tail -1
stop KILL
start "$@"
echo "restart after kill -9: $ready"
grep -o '"recoveredMessages[^}]*' "$work/warren.log" | tail -1
node "$repo/bench/durability/drain-queue.mjs" "$url" fill
echo "drained: $(rss)"
stop TERM
