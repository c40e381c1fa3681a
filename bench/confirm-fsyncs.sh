#!/usr/bin/env bash
# bench/confirm-fsyncs.sh CHECKOUT LABEL AMQP-PERF-ARGS...: one amqp-perf run
# against the Warren build in CHECKOUT (built: dist/src), run under
# `strace -f -e trace=fdatasync` to count the group commits, for the
# before/after tables of issue 15 (bench/RESULTS.md). Prints the publish
# rate, latency p50/p99 and the number of fdatasync calls. strace slows the
# broker; compare builds with each other, not with RabbitMQ, this way.
#   bench/confirm-fsyncs.sh . after --size 1024 --persistent --confirm --confirm-window 100 --prefetch 100
set -uo pipefail
dir=$1 label=$2
shift 2
bench="$(cd "$(dirname "$0")/../../shared/bench" && pwd)"
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-fsyncs.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
strace -f -qq -e trace=fdatasync -o "$work/strace" node "$dir/dist/src/cli/main.js" --host 127.0.0.1 --amqp-port "$port" \
  --mqtt-port off --stomp-port off --http-port off --web-stomp-port off --web-mqtt-port off \
  --data-dir "$work/data" --log-level warn >/dev/null 2>&1 &
tracer=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
"$bench/bin/amqp-perf" --uri "amqp://guest:guest@127.0.0.1:$port/" --json --warmup 1 --duration 6 --drain-timeout 5 \
  --broker "$label" --scenario c "$@" >"$work/out" 2>/dev/null
# SIGTERM to the broker itself: strace does not pass it on.
kill -TERM "$(pgrep -P "$tracer")"
wait "$tracer" 2>/dev/null
python3 - "$label" "$(grep -c fdatasync "$work/strace")" "$work/out" <<'PY'
import json, sys
r = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
print(f"{sys.argv[1]:8} pub/s {r['pub_rate']:8.0f} p50 {r['lat_p50_ms']:.2f} p99 {r['lat_p99_ms']:.1f} fsyncs {sys.argv[2]}")
PY
rm -rf "$work"
