#!/usr/bin/env bash
# bench/run-blast.sh: scenarios a, b and d with the lean generator (bench/amqp-blast.ts)
# and, beside it, with ../shared/bench's amqp-perf, Warren and RabbitMQ alternating.
#
# amqp-perf (Go, amqp091-go) spends a whole core at ~250k msg/s whatever the
# broker, so a broker faster than that shows the generator's limit, not its
# own (issue 15 §3). amqp-blast sends pre-encoded frames and reads deliveries
# in place; both tools run in the same round so the two views sit side by side.
# Every broker gets the same generators, in the same round, order swapped
# every round; medians over the rounds.
#
#   --rounds N       rounds (3)
#   --only LIST      scenarios of amqp-blast: a, b, d (a,b,d)
#   --duration S     measured seconds per run (10)
#   --warmup S       warm-up seconds (2)
#   --rabbit PORT    RabbitMQ AMQP port (5673); "off" for Warren only
#   --dist LIST      Warren builds to compare, comma-separated dist/ directories (this checkout's dist/)
#   --max-backlog N  pause publishers while N messages are sent but not received (0 = off, as run-matrix)
#   --no-perf        skip the amqp-perf runs
#   --out DIR        keep the raw JSON lines here (default: a temp dir)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"

rounds=3 only="a,b,d" duration=10 warmup=2 rabbit=5673 dists="$repo/dist" perf=1 out="" backlog=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2;;
    --only) only="$2"; shift 2;;
    --duration) duration="$2"; shift 2;;
    --warmup) warmup="$2"; shift 2;;
    --rabbit) rabbit="$2"; shift 2;;
    --dist) dists="$2"; shift 2;;
    --max-backlog) backlog="$2"; shift 2;;
    --no-perf) perf=0; shift;;
    --out) out="$2"; shift 2;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done
[ -f "$repo/dist/bench/amqp-blast.js" ] || { echo "no $repo/dist/bench/amqp-blast.js: run npm run build first" >&2; exit 2; }
[ "$perf" = 0 ] || [ -x "$bench/bin/amqp-perf" ] || { echo "missing $bench/bin: run $bench/build first" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/warren-blast.XXXXXX")"
[ -n "$out" ] || out="$work/results"
mkdir -p "$out"
. "$here/warren-process.sh"
cp "$repo/dist/bench/amqp-blast.js" "$work/amqp-blast.js" # the tool itself, fixed for the run

pids=() labels=() ports=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ "$out" = "$work/results" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

IFS=, read -r -a dist_list <<<"$dists"
for i in "${!dist_list[@]}"; do
  snap="$work/snap$i"
  snapshot_dist "${dist_list[$i]}" "$snap"
  mkdir -p "$work/data$i"
  port="$(free_port)"
  (cd "$snap" && exec node dist/src/cli/main.js --host 127.0.0.1 --amqp-port "$port" --mqtt-port off --stomp-port off \
    --http-port off --web-stomp-port off --web-mqtt-port off $(optional_ports_off "$snap/dist") --data-dir "$work/data$i" \
    --log-level warn) >"$out/warren$i.log" 2>&1 &
  pids+=($!)
  wait_for_port "$port" "$!" "$out/warren$i.log"
  if [ "${#dist_list[@]}" -gt 1 ]; then labels+=("warren$i"); else labels+=("warren"); fi
  ports+=("$port")
  echo "# ${labels[-1]}: ${dist_list[$i]} on :$port (pid ${pids[-1]})" >&2
done
if [ "$rabbit" != off ]; then
  rabbit_pid="$(ss -ltnpH "sport = :$rabbit" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
  [ -n "$rabbit_pid" ] || { echo "nothing listens on :$rabbit (start ../shared/rabbitmq/start or pass --rabbit off)" >&2; exit 2; }
  labels+=("rabbitmq") ports+=("$rabbit") pids_all=("${pids[@]}" "$rabbit_pid")
else
  pids_all=("${pids[@]}")
fi
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

perf_flags() { # scenario: amqp-perf's flags as ../shared/bench/run-matrix gives them
  case "$1" in
    a) echo "--size 16 --autoack";;
    b) echo "--size 16 --prefetch 100";;
    d) echo "--size 256 --exchange-type fanout --fanout-queues 8 --consumers 8 --autoack";;
  esac
}

IFS=, read -r -a scenarios <<<"$only"
n="${#labels[@]}"
for r in $(seq "$rounds"); do
  for s in "${scenarios[@]}"; do
    for k in $(seq 0 $((n - 1))); do
      i=$(((k + r) % n)) # rotate who goes first
      label="${labels[$i]}" port="${ports[$i]}" pid="${pids_all[$i]}"
      echo "# round $r $s $label (load $(cut -d' ' -f1 /proc/loadavg))" >&2
      node "$work/amqp-blast.js" --port "$port" --scenario "$s" --duration "$duration" --warmup "$warmup" \
        --max-backlog "$backlog" --broker-pid "$pid" --label "$label" --json >>"$out/blast.jsonl" || echo "# amqp-blast $label $s failed" >&2
      if [ "$perf" = 1 ]; then
        # shellcheck disable=SC2046
        "$bench/bin/amqp-perf" --uri "amqp://guest:guest@127.0.0.1:$port/" --json --warmup "$warmup" \
          --duration "$duration" --drain-timeout 5 --max-backlog "$backlog" --broker "$label" --scenario "$s" $(perf_flags "$s") \
          >>"$out/perf.jsonl" || echo "# amqp-perf $label $s failed" >&2
      fi
    done
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$out/blast.jsonl" "$out/perf.jsonl" "${labels[@]}" <<'EOF'
import json, os, statistics, sys
blast, perf, labels = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(path):
    rows = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("{"):
                r = json.loads(line)
                rows.setdefault((r["scenario"], r["broker"]), []).append(r)
    return rows
b, p = load(blast), load(perf)
def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None
def rate(v):
    return "-" if v is None else (f"{v/1e6:.2f}M" if v >= 1e6 else f"{v/1000:.1f}k")
def num(v, d=2):
    return "-" if v is None else f"{v:.{d}f}"
print("| scenario | broker | amqp-blast cons/s (rounds) | broker CPU µs/msg | broker CPU % | tool CPU % | p50 / p99 ms | amqp-perf cons/s (rounds) |")
print("|---|---|---|---|---|---|---|---|")
for s in dict.fromkeys(k[0] for k in b):
    for label in labels:
        rs, ps = b.get((s, label), []), p.get((s, label), [])
        rounds = " / ".join(rate(r["cons_rate"]) for r in rs)
        prounds = " / ".join(rate(r["cons_rate"]) for r in ps)
        print(f"| {s} | {label} | **{rate(med(rs, 'cons_rate'))}** ({rounds}) | {num(med(rs, 'broker_cpu_us_per_msg'))} "
              f"| {num(med(rs, 'broker_cpu_pct'), 0)} | {num(med(rs, 'tool_cpu_pct'), 0)} "
              f"| {num(med(rs, 'p50_ms'), 1)} / {num(med(rs, 'p99_ms'), 1)} | {rate(med(ps, 'cons_rate')) if ps else '-'}"
              f"{' (' + prounds + ')' if ps else ''} |")
print()
ref = labels[-1]
for s in dict.fromkeys(k[0] for k in b):
    for label in labels[:-1]:
        a, r = med(b.get((s, label), []), "cons_rate"), med(b.get((s, ref), []), "cons_rate")
        pa, pr = med(p.get((s, label), []), "cons_rate"), med(p.get((s, ref), []), "cons_rate")
        if a and r:
            line = f"- {s}: {label} / {ref} = **{a / r:.2f}** with amqp-blast"
            if pa and pr:
                line += f", {pa / pr:.2f} with amqp-perf"
            print(line)
bad = [(k, r) for rows in (b, p) for k, rs in rows.items() for r in rs
       if r.get("missing") or r.get("duplicates") or r.get("errors") or r.get("ok") is False
       or r.get("drain_end") not in ("complete", None)]
print()
if bad:
    print("Correctness signals:")
    for (s, lab), r in bad:
        print(f"- {s} {lab} ({r.get('tool', 'amqp-perf')}): missing={r.get('missing')} dup={r.get('duplicates')} "
              f"drain_end={r.get('drain_end')} left_in_queue={r.get('left_in_queue')}")
else:
    print("Correctness signals: none (no missing, no duplicates, every drain complete).")
EOF
