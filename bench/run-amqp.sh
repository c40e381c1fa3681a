#!/usr/bin/env bash
# bench/run-amqp.sh: AMQP 0-9-1 throughput/latency of Warren vs RabbitMQ.
#
# Starts Warren (this repo's dist/, snapshotted so a concurrent rebuild cannot
# change it mid-run) on a free loopback port, then runs the issue-2 scenarios
# of ../shared/bench/run-matrix against Warren and the reference RabbitMQ,
# alternating the brokers scenario by scenario (the first broker swaps every
# round) over several rounds, because this 2-core box is shared and results
# drift 20-100 % between runs. Prints the per-round table of
# ../shared/bench/table and a table of medians with Warren/RabbitMQ ratios.
#
#   --rounds N       rounds (3)
#   --only LIST      scenarios (a,b,d,e,f): a) 1->1 16 B autoack, b) manual ack
#                    prefetch 100, d) fanout to 8 queues, e) 4p/4c/4 queues,
#                    f) 16 B at 1000 msg/s (latency); also c) 1 KiB persistent +
#                    confirms and c4) the same with 4 producers x 4 queues x 4 consumers
#   --duration S     measured seconds per scenario (10)
#   --warmup S       warm-up seconds (2)
#   --drain S        max drain seconds (5)
#   --rabbit PORT    RabbitMQ AMQP port (5673)
#   --relay          also run the relay-limit ceiling (i16,i1k,ilat) once
#   --cpu-prof DIR   run Warren under `node --cpu-prof` and write the profile
#                    to DIR when it stops (only profile, not measure, this way)
#   --warren-only    skip RabbitMQ (e.g. for profiling)
#   --out DIR        keep the raw JSON lines here (default: a temp dir)
#
# Worst case with the defaults: 5 scenarios x 2 brokers x 3 rounds x ~18 s
# = 9 min (+1 min with --relay); the bench tools have their own watchdogs.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"

rounds=3 only="a,b,d,e,f" duration=10 warmup=2 drain=5 rabbit=5673 relay=0
cpu_prof="" warren_only=0 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2;;
    --only) only="$2"; shift 2;;
    --duration) duration="$2"; shift 2;;
    --warmup) warmup="$2"; shift 2;;
    --drain) drain="$2"; shift 2;;
    --rabbit) rabbit="$2"; shift 2;;
    --relay) relay=1; shift;;
    --cpu-prof) cpu_prof="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2;;
    --warren-only) warren_only=1; shift;;
    --out) out="$2"; shift 2;;
    *) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done

[ -f "$repo/dist/src/cli/main.js" ] || { echo "no $repo/dist: run npm run build first" >&2; exit 2; }
[ -x "$bench/bin/amqp-perf" ] || { echo "missing $bench/bin: run $bench/build first" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/warren-bench.XXXXXX")"
[ -n "$out" ] || out="$work/results"
mkdir -p "$out"
warren_pid=""
cleanup() {
  if [ -n "$warren_pid" ] && kill -0 "$warren_pid" 2>/dev/null; then
    kill -TERM "$warren_pid" 2>/dev/null
    # A clean stop is what writes the --cpu-prof file; give it a moment.
    for _ in $(seq 50); do kill -0 "$warren_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$warren_pid" 2>/dev/null
  fi
  rm -rf "$work/snap" "$work/data"
  [ "$out" = "$work/results" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Snapshot the build: other engineers rebuild dist/ while this runs.
. "$here/warren-process.sh"
mkdir -p "$work/data"
snapshot_dist "$repo/dist" "$work/snap"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"

port="$(free_port)"
node_flags=()
[ -z "$cpu_prof" ] || node_flags=(--cpu-prof --cpu-prof-dir "$cpu_prof")
(cd "$work/snap" && exec node "${node_flags[@]}" dist/src/cli/main.js --host 127.0.0.1 --amqp-port "$port" \
  --mqtt-port off --stomp-port off --http-port off --web-stomp-port off --web-mqtt-port off --stream-port off \
  --data-dir "$work/data" --log-level warn) >"$out/warren.log" 2>&1 &
warren_pid=$!
wait_for_port "$port" "$warren_pid" "$out/warren.log"
echo "# warren $commit (node $(node --version)) on 127.0.0.1:$port, rabbitmq on :$rabbit; raw results in $out" >&2

common=(--duration "$duration" --warmup "$warmup" --drain "$drain" --no-relay)
run_one() { # broker port scenario round
  if [ "$3" = c4 ]; then
    # Not in run-matrix: scenario c with 4 producers x 4 queues x 4 consumers (issue 15).
    "$bench/bin/amqp-perf" --uri "amqp://guest:guest@127.0.0.1:$2/" --json --warmup "$warmup" --duration "$duration" \
      --drain-timeout "$drain" --broker "$1" --scenario c4 --size 1024 --persistent --confirm --confirm-window 100 \
      --prefetch 100 --producers 4 --consumers 4 --queues 4 >>"$out/round-$4.jsonl"
  else
    "$bench/run-matrix" "$1" --amqp "$2" "${common[@]}" --only "$3" >>"$out/round-$4.jsonl"
  fi
}

IFS=, read -r -a scenarios <<<"$only"
for r in $(seq "$rounds"); do
  for s in "${scenarios[@]}"; do
    kill -0 "$warren_pid" 2>/dev/null || { echo "warren died:" >&2; cat "$out/warren.log" >&2; exit 1; }
    if [ "$warren_only" = 1 ]; then
      run_one warren "$port" "$s" "$r"
    elif [ $((r % 2)) -eq 1 ]; then
      run_one warren "$port" "$s" "$r"; run_one rabbitmq "$rabbit" "$s" "$r"
    else
      run_one rabbitmq "$rabbit" "$s" "$r"; run_one warren "$port" "$s" "$r"
    fi
  done
done
if [ "$relay" = 1 ]; then
  "$bench/run-matrix" relay-limit --duration "$duration" --warmup "$warmup" --drain "$drain" \
    --only i16,i1k,ilat >>"$out/round-1.jsonl"
fi

kill -0 "$warren_pid" 2>/dev/null || { echo "warren died:" >&2; cat "$out/warren.log" >&2; exit 1; }
kill -TERM "$warren_pid"; wait "$warren_pid"; rc=$?
warren_pid=""
[ "$rc" -eq 0 ] || echo "# warren exited with status $rc" >&2
if [ -s "$out/warren.log" ]; then echo "# warren logged (warn and above):" >&2; head -20 "$out/warren.log" >&2; fi

files=()
for r in $(seq "$rounds"); do [ -f "$out/round-$r.jsonl" ] && files+=("$out/round-$r.jsonl"); done
echo "## Per round (cells: round 1 / round 2 / ...)"
echo
"$bench/table" "${files[@]}"
echo
echo "## Medians over $rounds rounds"
echo
python3 - "${files[@]}" <<'EOF'
import json, statistics, sys
rows = {}
for path in sys.argv[1:]:
    for line in open(path):
        if line.startswith("{"):
            r = json.loads(line)
            rows.setdefault((r["scenario"], r["broker"]), []).append(r)
def med(rs, key):
    vals = [r[key] for r in rs if r.get("lat_samples") or not key.startswith("lat")]
    return statistics.median(vals) if vals else None
def fmt(v, rate=False):
    if v is None: return "-"
    if rate: return f"{v/1000:.1f}k" if v >= 1000 else f"{v:.0f}"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"
def ratio(a, b):
    return f"{a/b:.2f}" if a is not None and b else "-"
print("| scenario | metric | warren | rabbitmq | warren/rabbitmq |")
print("|---|---|---|---|---|")
for s in dict.fromkeys(k[0] for k in rows):
    w, q = rows.get((s, "warren"), []), rows.get((s, "rabbitmq"), [])
    if not w and not q:
        w = rows.get((s, "relay-limit"), [])
    for key, label, rate in (("pub_rate", "pub/s", True), ("cons_rate", "cons/s", True),
                             ("lat_p50_ms", "p50 ms", False), ("lat_p99_ms", "p99 ms", False)):
        a, b = (med(w, key) if w else None), (med(q, key) if q else None)
        print(f"| {s} | {label} | {fmt(a, rate)} | {fmt(b, rate)} | {ratio(a, b)} |")
bad = [(k, r) for k, rs in rows.items() for r in rs
       if r["missing"] or r["duplicates"] or r["errors"] or not r["ok"] or r.get("drain_end") not in ("complete", None)]
print()
if bad:
    print("Correctness signals:")
    for (s, b), r in bad:
        print(f"- {s} {b}: missing={r['missing']} dup={r['duplicates']} errors={r['errors']} "
              f"ok={r['ok']} drain_end={r.get('drain_end')} left_in_queue={r.get('left_in_queue')}")
else:
    print("Correctness signals: none (no missing, no duplicates, no errors, every drain complete).")
EOF
