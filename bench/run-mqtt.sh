#!/usr/bin/env bash
# bench/run-mqtt.sh: MQTT 1->1 64 B throughput of Warren vs Mosquitto, Aedes
# and RabbitMQ's MQTT plugin, QoS 0 and QoS 1 (issue 5), plus a QoS 2 run
# under load that must lose nothing.
#
# Starts Warren (a snapshot of dist/), Mosquitto (`mosquitto -p PORT`) and
# Aedes (bench/aedes-server.mjs) on free loopback ports; RabbitMQ is the
# reference node on --rabbit. Each round runs every broker per QoS, the broker
# order rotating every round, because this 2-core box is shared and single
# runs drift. Prints medians and Warren's ratios to each other broker.
#
#   --rounds N      rounds (3)
#   --duration S    measured seconds per run (8)
#   --warmup S      warm-up seconds (2)
#   --rabbit PORT   RabbitMQ MQTT port (1893)
#   --cpu-prof DIR  run Warren under `node --cpu-prof` (profile, don't measure)
#   --only LIST     brokers (warren,mosquitto,aedes,rabbitmq)
#   --out DIR       keep the raw JSON lines here (default: a temp dir)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"
rounds=3 duration=8 warmup=2 rabbit=1893 cpu_prof="" only="warren,mosquitto,aedes,rabbitmq" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2;;
    --duration) duration="$2"; shift 2;;
    --warmup) warmup="$2"; shift 2;;
    --rabbit) rabbit="$2"; shift 2;;
    --cpu-prof) cpu_prof="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2;;
    --only) only="$2"; shift 2;;
    --out) out="$2"; shift 2;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done
command -v mosquitto >/dev/null || { echo "mosquitto missing: apt-get install -y mosquitto" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/warren-mqtt-bench.XXXXXX")"
[ -n "$out" ] || out="$work/results"
mkdir -p "$out" "$work/snap" "$work/data"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  rm -rf "$work/snap" "$work/data"
  [ "$out" = "$work/results" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port pid log
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "broker exited:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "broker on $1 did not start" >&2; exit 1
}

# Snapshot the build: other engineers rebuild dist/ while this runs.
cp -r "$repo/dist" "$work/snap/dist"; cp "$repo/package.json" "$work/snap/"; ln -s "$repo/node_modules" "$work/snap/node_modules"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
declare -A port
port[rabbitmq]="$rabbit"
port[warren]="$(free_port)"
node_flags=()
[ -z "$cpu_prof" ] || node_flags=(--cpu-prof --cpu-prof-dir "$cpu_prof")
(cd "$work/snap" && exec node "${node_flags[@]}" dist/src/cli/main.js --host 127.0.0.1 --mqtt-port "${port[warren]}" \
  --amqp-port off --stomp-port off --http-port off --web-stomp-port off --web-mqtt-port off \
  --data-dir "$work/data" --log-level warn) >"$out/warren.log" 2>&1 &
pids+=($!); wait_port "${port[warren]}" "$!" "$out/warren.log"
if [[ ",$only," == *,mosquitto,* ]]; then
  port[mosquitto]="$(free_port)"
  mosquitto -p "${port[mosquitto]}" >"$out/mosquitto.log" 2>&1 &
  pids+=($!); wait_port "${port[mosquitto]}" "$!" "$out/mosquitto.log"
fi
if [[ ",$only," == *,aedes,* ]]; then
  port[aedes]="$(free_port)"
  node "$repo/bench/aedes-server.mjs" "${port[aedes]}" >"$out/aedes.log" 2>&1 &
  pids+=($!); wait_port "${port[aedes]}" "$!" "$out/aedes.log"
fi
echo "# warren $commit (node $(node --version)), $(mosquitto -h 2>/dev/null | head -1), aedes $(node -p 'require("'"$repo"'/node_modules/aedes/package.json").version'); raw results in $out" >&2

run_one() { # broker qos round [extra args]
  local b="$1" q="$2" r="$3"; shift 3
  local auth=()
  [ "$b" = rabbitmq ] && auth=(--user guest --pass guest)
  "$bench/bin/mqtt-perf" --port "${port[$b]}" --broker "$b" --scenario "qos$q" --qos "$q" --size 64 \
    --duration "$duration" --warmup "$warmup" --drain-timeout 10 --json "${auth[@]}" "$@" >>"$out/round-$r.jsonl" 2>>"$out/perf.err"
}

IFS=, read -r -a brokers <<<"$only"
n=${#brokers[@]}
for r in $(seq "$rounds"); do
  for q in 0 1; do
    for i in $(seq 0 $((n - 1))); do
      run_one "${brokers[$(( (i + r - 1) % n ))]}" "$q" "$r"
    done
  done
done
# QoS 2 under load: unlimited publishers (4 of them) into one subscriber; nothing may be lost or duplicated.
for b in "${brokers[@]}"; do run_one "$b" 2 qos2 --producers 4 --inflight 1000; done

files=(); for r in $(seq "$rounds"); do files+=("$out/round-$r.jsonl"); done
python3 - "$only" "$out/round-qos2.jsonl" "${files[@]}" <<'PY'
import json, statistics, sys
brokers = sys.argv[1].split(",")
def load(paths):
    rows = {}
    for path in paths:
        try: lines = open(path).read().splitlines()
        except FileNotFoundError: continue
        for line in lines:
            if line.startswith("{"):
                r = json.loads(line); rows.setdefault((r["scenario"], r["broker"]), []).append(r)
    return rows
rows = load(sys.argv[3:])
def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None
others = [b for b in brokers if b != "warren"]
print("| scenario | metric | " + " | ".join(brokers) + " | " + " | ".join(f"warren/{b}" for b in others) + " |")
print("|---" * (1 + 1 + len(brokers) + len(others)) + "|")
for s in ("qos0", "qos1"):
    for key, label in (("pub_rate", "pub/s"), ("cons_rate", "cons/s"), ("lat_p50_ms", "p50 ms"), ("lat_p99_ms", "p99 ms")):
        vals = {b: med(rows.get((s, b), []), key) for b in brokers}
        cells = [("-" if vals[b] is None else (f"{vals[b]/1000:.1f}k" if key.endswith("rate") else f"{vals[b]:.3g}")) for b in brokers]
        ratios = [(f"{vals['warren']/vals[b]:.2f}" if vals.get("warren") and vals[b] else "-") for b in others]
        print(f"| {s} 1→1 64 B | {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
print()
print("QoS 2 under load (4 unthrottled publishers → 1 subscriber, 64 B):")
for (s, b), rs in load([sys.argv[2]]).items():
    r = rs[0]
    print(f"- {b}: sent={r.get('sent')} received={r.get('received')} missing={r['missing']} duplicates={r['duplicates']} "
          f"errors={r['errors']} ok={r['ok']} drain_end={r.get('drain_end')} pub/s={r['pub_rate']:.0f}")
bad = [(k, r) for k, rs in rows.items() for r in rs if r["missing"] or r["duplicates"] or r["errors"] or not r["ok"]]
print()
print("Correctness signals (QoS 0/1 runs): " + ("none" if not bad else "; ".join(f"{s} {b}: missing={r['missing']} dup={r['duplicates']} errors={r['errors']}" for (s, b), r in bad)))
PY
