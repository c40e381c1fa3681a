#!/usr/bin/env bash
# bench/mqtt-qos1-latency.sh: MQTT QoS 1 1->1 64 B latency and throughput of
# one or more Warren builds beside Mosquitto and Aedes, same run (issue 15 §3).
#
# Starts each Warren build (a dist/ directory, snapshotted; MQTT only, a data
# dir), `mosquitto -p PORT` and Aedes (bench/aedes-server.mjs) on free
# loopback ports, then per round runs ../shared/bench's mqtt-perf (1
# publisher with --inflight QoS 1 publishes in flight, 1 subscriber,
# unthrottled) against every broker, the order rotating every round. For the
# Warren builds it also reads the broker's CPU time (/proc/PID/stat) around
# the run. Prints one line per run:
#   broker rate p50 p95 p99 max cpu_us_per_delivery load missing
# (CPU over the whole run, warm-up and drain included, per message received
# in the measured window: for comparing builds in one run, not cpu-per-message.sh's figure)
# and a table of medians (min in brackets) at the end.
#
#   --dist LIST      comma list of dist/ dirs (default: this repo's dist)
#   --only LIST      other brokers (mosquitto,aedes; "" for none)
#   --rounds N       rounds (3)
#   --duration S     measured seconds per run (8)
#   --warmup S       warm-up seconds (2)
#   --inflight N     the publisher's window (100, as run-matrix's g1)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"
dists="$repo/dist" only="mosquitto,aedes" rounds=3 duration=8 warmup=2 inflight=100
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dists="$2"; shift 2;;
    --only) only="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    --duration) duration="$2"; shift 2;;
    --warmup) warmup="$2"; shift 2;;
    --inflight) inflight="$2"; shift 2;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done

. "$here/warren-process.sh"
bench_work_dir warren-q1lat

declare -A port pid
names=()
IFS=, read -r -a builds <<<"$dists"
for i in "${!builds[@]}"; do
  d="$(cd "${builds[$i]}" && pwd)"
  name="w$i:$(basename "$(dirname "$d")")"
  snapshot_dist "$d" "$work/snap$i"
  mkdir -p "$work/data$i"
  port[$name]="$(free_port)"
  (cd "$work/snap$i" && exec node dist/src/cli/main.js --host 127.0.0.1 --mqtt-port "${port[$name]}" \
    --amqp-port off --stomp-port off --http-port off --web-stomp-port off --web-mqtt-port off $(optional_ports_off "$work/snap$i/dist") \
    --data-dir "$work/data$i" --log-level warn) >"$work/$i.log" 2>&1 &
  pid[$name]=$!; pids+=($!)
  wait_for_port "${port[$name]}" "$!" "$work/$i.log"
  names+=("$name")
  echo "# $name = ${builds[$i]}" >&2
done
if [[ ",$only," == *,mosquitto,* ]]; then
  command -v mosquitto >/dev/null || { echo "mosquitto missing: apt-get install -y mosquitto" >&2; exit 2; }
  port[mosquitto]="$(free_port)"
  mosquitto -p "${port[mosquitto]}" >"$work/mosquitto.log" 2>&1 &
  pid[mosquitto]=$!; pids+=($!); names+=(mosquitto)
  wait_for_port "${port[mosquitto]}" "$!" "$work/mosquitto.log"
fi
if [[ ",$only," == *,aedes,* ]]; then
  port[aedes]="$(free_port)"
  node "$repo/bench/aedes-server.mjs" "${port[aedes]}" >"$work/aedes.log" 2>&1 &
  pid[aedes]=$!; pids+=($!); names+=(aedes)
  wait_for_port "${port[aedes]}" "$!" "$work/aedes.log"
fi

results="$work/results.txt"
n=${#names[@]}
for r in $(seq "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    b="${names[$(( (k + r - 1) % n ))]}"
    c0="$(cpu_ms "${pid[$b]}")"
    out="$("$bench/bin/mqtt-perf" --host 127.0.0.1 --port "${port[$b]}" --broker "$b" --qos 1 --inflight "$inflight" \
      --size 64 --duration "$duration" --warmup "$warmup" --drain-timeout 10 --json 2>>"$work/perf.err")"
    c1="$(cpu_ms "${pid[$b]}")"
    python3 - "$out" "$b" "$c0" "$c1" <<'EOF' | tee -a "$results"
import json, os, sys
out, b, c0, c1 = sys.argv[1:]
r = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
n = r.get("received") or 0
cpu = (float(c1) - float(c0)) * 1000 / n if n else 0
print(f"{b} {r['cons_rate']:.0f} {r['lat_p50_ms']:.3f} {r.get('lat_p95_ms', 0):.3f} {r['lat_p99_ms']:.3f} "
      f"{r.get('lat_max_ms', 0):.1f} {cpu:.2f} {os.getloadavg()[0]:.1f} {r.get('missing', 0)}")
EOF
  done
done
echo
python3 - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append([float(x) for x in f[1:]])
def cell(vals, fmt):
    return f"{fmt(statistics.median(vals))} (min {fmt(min(vals))})"
print("| broker | msg/s | p50 ms | p95 ms | p99 ms | max ms | broker CPU µs/msg | load | missing |")
print("|---|---|---|---|---|---|---|---|---|")
for b, fs in rows.items():
    col = lambda i: [f[i] for f in fs]
    print(f"| {b} | {statistics.median(col(0))/1000:.1f}k ({' / '.join(f'{v/1000:.1f}' for v in col(0))}) "
          f"| {cell(col(1), lambda v: f'{v:.2f}')} | {cell(col(2), lambda v: f'{v:.2f}')} "
          f"| {cell(col(3), lambda v: f'{v:.1f}')} | {statistics.median(col(4)):.0f} "
          f"| {cell(col(5), lambda v: f'{v:.2f}')} | {min(col(6)):.1f}-{max(col(6)):.1f} | {sum(col(7)):.0f} |")
EOF
