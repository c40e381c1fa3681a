#!/usr/bin/env bash
# bench/confirm-cpu.sh [--rounds N] [--duration S] [--only c,c4] CHECKOUT...:
# broker CPU time per confirmed persistent message (issue 15 §2), for one or
# more built Warren checkouts, alternating them round by round. CPU time
# (utime + stime of the broker process, /proc/PID/stat, libuv's fs threads
# included) divided by the messages published, confirmed, delivered and
# acked depends far less on the shared machine's load than msg/s does.
#   bench/confirm-cpu.sh --rounds 3 /tmp/before .
# Prints one line per run: label, scenario, msg/s, p99 ms, CPU µs/msg, load.
set -uo pipefail
rounds=3 duration=8 only="c,c4"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2;;
    --duration) duration="$2"; shift 2;;
    --only) only="$2"; shift 2;;
    *) break;;
  esac
done
[ $# -gt 0 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
bench="$(cd "$(dirname "$0")/../../shared/bench" && pwd)"
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-cpu.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -a ports labels
for i in $(seq 0 $(($# - 1))); do
  dir=$(cd "${@:$((i + 1)):1}" && pwd)
  port=$(free_port)
  mkdir -p "$work/data-$i"
  node "$dir/dist/src/cli/main.js" --host 127.0.0.1 --amqp-port "$port" --mqtt-port off --stomp-port off \
    --http-port off --web-stomp-port off --web-mqtt-port off --stream-port off --data-dir "$work/data-$i" --log-level warn &
  pids+=($!)
  ports+=("$port")
  labels+=("$(git -C "$dir" rev-parse --short HEAD 2>/dev/null || basename "$dir")@$i")
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
hz=$(getconf CLK_TCK)
for r in $(seq "$rounds"); do
  for s in ${only//,/ }; do
    extra=()
    [ "$s" = c4 ] && extra=(--producers 4 --consumers 4 --queues 4)
    for i in "${!pids[@]}"; do
      # Alternate who goes first round by round.
      [ $((r % 2)) -eq 0 ] && i=$((${#pids[@]} - 1 - i))
      before=$(cpu_ticks "${pids[$i]}")
      "$bench/bin/amqp-perf" --uri "amqp://guest:guest@127.0.0.1:${ports[$i]}/" --json --warmup 1 \
        --duration "$duration" --drain-timeout 5 --broker "${labels[$i]}" --scenario "$s" --size 1024 --persistent \
        --confirm --confirm-window 100 --prefetch 100 "${extra[@]}" >"$work/out" 2>/dev/null
      after=$(cpu_ticks "${pids[$i]}")
      python3 - "${labels[$i]}" "$s" "$before" "$after" "$hz" "$work/out" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
label, s, before, after, hz, out, load = sys.argv[1:]
r = json.loads(open(out).read().strip().splitlines()[-1])
us = (int(after) - int(before)) / int(hz) * 1e6 / max(r["published"], 1)
bad = "" if r["ok"] and not r["missing"] and not r["duplicates"] else f" BAD missing={r['missing']} dup={r['duplicates']}"
print(f"{label:14} {s:3} pub/s {r['pub_rate']:8.0f} p99 {r['lat_p99_ms']:6.1f} ms  cpu {us:5.1f} us/msg  load {load}{bad}", flush=True)
PY
    done
  done
done
