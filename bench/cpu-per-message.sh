#!/usr/bin/env bash
# bench/cpu-per-message.sh: broker CPU time and GC count per message, the
# hot-path measure that does not depend on the machine's load (issue 15 §3).
#
# Starts one or more Warren builds (each a dist/ directory, snapshotted) on
# free loopback ports with --trace-gc, then for each scenario runs a fixed
# number of messages through each build in turn (order alternating by round)
# and reads the broker's utime+stime from /proc/PID/stat just before and just
# after the run. Prints one line per (round, scenario, build):
#   build scenario deliveries cpu_ms us_per_delivery scavenges mark_compacts load
# and a table of medians at the end.
#
#   --dist LIST      comma list of dist/ dirs (default: this repo's dist)
#   --only LIST      scenarios (a,b,d,g0,g1,h,h1):
#                    a) AMQP 1->1 16 B autoack, b) 16 B manual ack prefetch 100,
#                    d) fanout to 8 queues/8 consumers 256 B autoack,
#                    g0/g1) MQTT QoS 0/1 64 B, h) STOMP 64 B auto ack,
#                    h1) STOMP 64 B client-individual ack, prefetch 100
#   --count N        messages per producer (500000; d, g1 and h1 use N/4)
#   --rounds N       rounds (3)
#   --cpu-prof DIR   run the (single) build under node --cpu-prof into DIR
#   --node-flags LIST  node flags per build, '|'-separated in --dist order
#                    (e.g. "|--max-semi-space-size=32" runs the same dist twice)
#
# Deliveries: a, b, g0, g1, h, h1 deliver N (g1 and h1 N/4); d delivers 8 x N/4.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"

dists="$repo/dist" only="a,b,d" count=500000 rounds=3 cpu_prof="" node_flags=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dists="$2"; shift 2;;
    --only) only="$2"; shift 2;;
    --count) count="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    --cpu-prof) cpu_prof="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2;;
    --node-flags) node_flags="$2"; shift 2;;
    *) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done

. "$here/warren-process.sh"
bench_work_dir warren-cpu

IFS=, read -r -a builds <<<"$dists"
IFS='|' read -r -a extra_flags <<<"$node_flags"
declare -a amqp mqtt stomp logs names
for i in "${!builds[@]}"; do
  d="$(cd "${builds[$i]}" && pwd)"
  snap="$work/snap$i"
  mkdir -p "$work/data$i"
  snapshot_dist "$d" "$snap"
  names[$i]="b$i:$(basename "$(dirname "$d")")${extra_flags[$i]:+:${extra_flags[$i]}}"
  amqp[$i]="$(free_port)"; mqtt[$i]="$(free_port)"; stomp[$i]="$(free_port)"
  logs[$i]="$work/warren$i.log"
  flags=(--trace-gc ${extra_flags[$i]:-})
  [ -z "$cpu_prof" ] || flags+=(--cpu-prof --cpu-prof-dir "$cpu_prof")
  (cd "$snap" && exec node "${flags[@]}" dist/src/cli/main.js --host 127.0.0.1 --amqp-port "${amqp[$i]}" \
    --mqtt-port "${mqtt[$i]}" --stomp-port "${stomp[$i]}" --http-port off --web-stomp-port off \
    --web-mqtt-port off $(optional_ports_off "$snap/dist") --data-dir "$work/data$i" --log-level warn) >"${logs[$i]}" 2>&1 &
  pids[$i]=$!
  # Every listener: the MQTT and STOMP ones may open after AMQP's (a first g0/h run under --cpu-prof saw 0 deliveries).
  for port in "${amqp[$i]}" "${mqtt[$i]}" "${stomp[$i]}"; do wait_for_port "$port" "${pids[$i]}" "${logs[$i]}"; done
  echo "# ${names[$i]} = ${builds[$i]} pid ${pids[$i]} amqp ${amqp[$i]}" >&2
done

gc_count() { grep -c "$2" "$1" 2>/dev/null || true; }

run_tool() { # build-index scenario
  local i="$1" s="$2" q=$((count / 4))
  local uri="amqp://guest:guest@127.0.0.1:${amqp[$i]}/"
  case "$s" in
    a) "$bench/bin/amqp-perf" --uri "$uri" --json --count "$count" --size 16 --autoack;;
    b) "$bench/bin/amqp-perf" --uri "$uri" --json --count "$count" --size 16 --prefetch 100;;
    d) "$bench/bin/amqp-perf" --uri "$uri" --json --count "$q" --size 256 --exchange-type fanout \
         --fanout-queues 8 --consumers 8 --autoack;;
    g0) "$bench/bin/mqtt-perf" --host 127.0.0.1 --port "${mqtt[$i]}" --user guest --pass guest --json \
         --count "$count" --size 64 --qos 0;;
    g1) "$bench/bin/mqtt-perf" --host 127.0.0.1 --port "${mqtt[$i]}" --user guest --pass guest --json \
         --count "$q" --size 64 --qos 1 --inflight 100;;
    h) "$bench/bin/stomp-perf" --host 127.0.0.1 --port "${stomp[$i]}" --user guest --pass guest --json \
         --count "$count" --size 64 --ack auto;;
    h1) "$bench/bin/stomp-perf" --host 127.0.0.1 --port "${stomp[$i]}" --user guest --pass guest --json \
         --count "$q" --size 64 --ack client-individual --prefetch 100;;
  esac
}

results="$work/results.txt"
IFS=, read -r -a scenarios <<<"$only"
for r in $(seq "$rounds"); do
  for s in "${scenarios[@]}"; do
    order=("${!builds[@]}")
    [ $((r % 2)) -eq 1 ] || order=($(printf '%s\n' "${order[@]}" | tac))
    for i in "${order[@]}"; do
      sc0="$(gc_count "${logs[$i]}" Scavenge)"; mc0="$(gc_count "${logs[$i]}" Mark-Compact)"
      c0="$(cpu_ms "${pids[$i]}")"
      out="$(run_tool "$i" "$s")"
      c1="$(cpu_ms "${pids[$i]}")"
      sleep 0.2
      sc1="$(gc_count "${logs[$i]}" Scavenge)"; mc1="$(gc_count "${logs[$i]}" Mark-Compact)"
      line="$(python3 - "$out" "${names[$i]}" "$s" "$c0" "$c1" $((sc1 - sc0)) $((mc1 - mc0)) <<'EOF'
import json, os, sys
out, name, s, c0, c1, sc, mc = sys.argv[1:]
r = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
n = r.get("received") or r.get("consumed") or r.get("cons_count") or 0
cpu = float(c1) - float(c0)
load = os.getloadavg()[0]
bad = "" if (r.get("missing", 0) == 0 and r.get("ok", True)) else f" missing={r.get('missing')} ok={r.get('ok')}"
print(f"{name} {s} {n} {cpu:.0f} {cpu * 1000 / n if n else 0:.3f} {sc} {mc} {load:.1f}{bad}")
EOF
)"
      echo "$line" | tee -a "$results"
    done
  done
done

echo
echo "| build | scenario | deliveries | median µs/delivery (rounds) | scavenges | mark-compacts |"
echo "|---|---|---|---|---|---|"
python3 - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[0], f[1]), []).append(f)
for (b, s), fs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    us = [float(f[4]) for f in fs]
    print(f"| {b} | {s} | {fs[0][2]} | {statistics.median(us):.3f} ({' / '.join(f'{u:.2f}' for u in us)}) "
          f"| {statistics.median(int(f[5]) for f in fs):.0f} | {statistics.median(int(f[6]) for f in fs):.0f} |")
EOF
