#!/usr/bin/env bash
# bench/run-stomp.sh: STOMP 1->1 64 B throughput of one or more Warren builds
# beside RabbitMQ's STOMP plugin, auto ack and client-individual (prefetch
# 100), `stomp-perf --max-backlog 20000`, the order rotating every round.
# Prints one line per run: broker ack_mode consumed_per_s p50_ms load.
#
#   --dist LIST     comma list of dist/ dirs (default: this repo's dist)
#   --rabbit PORT   RabbitMQ STOMP port (61623; "off" to leave it out)
#   --rounds N      rounds (3)
#   --duration S    measured seconds per run (5)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"
dists="$repo/dist" rabbit=61623 rounds=3 duration=5
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dists="$2"; shift 2;;
    --rabbit) rabbit="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    --duration) duration="$2"; shift 2;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done
work="$(mktemp -d "${TMPDIR:-/tmp}/warren-stomp-bench.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$here/warren-process.sh"

IFS=, read -r -a builds <<<"$dists"
names=() ports=()
for i in "${!builds[@]}"; do
  d="$(cd "${builds[$i]}" && pwd)"
  snapshot_dist "$d" "$work/snap$i"
  port="$(free_port)"
  (cd "$work/snap$i" && exec node dist/src/cli/main.js --host 127.0.0.1 --amqp-port off --mqtt-port off \
    --stomp-port "$port" --http-port off --web-stomp-port off --web-mqtt-port off --stream-port off \
    --data-dir "$work/data$i" --log-level warn) >"$work/warren$i.log" 2>&1 &
  pids+=($!)
  wait_for_port "$port" "$!" "$work/warren$i.log"
  names+=("b$i:$(basename "$(dirname "$d")")") ports+=("$port")
done
if [ "$rabbit" != off ]; then names+=(rabbitmq) ports+=("$rabbit"); fi

run() { # name port ack
  local extra=()
  [ "$3" = auto ] || extra=(--prefetch 100)
  out="$("$bench/bin/stomp-perf" --host 127.0.0.1 --port "$2" --user guest --pass guest --json --duration "$duration" \
    --warmup 1 --size 64 --ack "$3" "${extra[@]}" --max-backlog 20000 2>&1 | grep '^{' | tail -1)"
  python3 - "$out" "$1" "$3" <<'PY'
import json, os, sys
out, name, ack = sys.argv[1:]
r = json.loads(out) if out else {}
print(name, ack, round(r.get("cons_rate", 0)), r.get("lat_p50_ms"), f"load {os.getloadavg()[0]:.1f}")
PY
}
n=${#names[@]}
for r in $(seq "$rounds"); do
  for ack in auto client-individual; do
    for k in $(seq 0 $((n - 1))); do
      j=$(((k + r) % n))
      run "${names[$j]}" "${ports[$j]}" "$ack"
    done
  done
done
