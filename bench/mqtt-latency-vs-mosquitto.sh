#!/usr/bin/env bash
# bench/mqtt-latency-vs-mosquitto.sh: issue 13's MQTT number, same run.
# Scenario g1 of ../shared/bench (MQTT QoS 1, 1→1, 64 B, unthrottled: its p50
# is the latency under load) against Warren (a snapshot of dist/, MQTT only,
# a data dir) and Mosquitto (`mosquitto -p PORT`), alternating the two every
# round, the first broker swapping each round. Prints each run's JSON line
# and, at the end, the medians and Warren/Mosquitto ratios.
#   ROUNDS=3 bench/mqtt-latency-vs-mosquitto.sh > g1.jsonl
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"
ROUNDS=${ROUNDS:-3}
command -v mosquitto >/dev/null || { echo "mosquitto missing: apt-get install -y mosquitto" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/warren-g1.XXXXXX")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cp -r "$repo/dist" "$work/dist"; cp "$repo/package.json" "$work/"; ln -s "$repo/node_modules" "$work/node_modules"
wport=$(free_port); mport=$(free_port)
(cd "$work" && exec node dist/src/cli/main.js --host 127.0.0.1 --mqtt-port "$wport" --amqp-port off --stomp-port off \
  --http-port off --web-stomp-port off --web-mqtt-port off --data-dir "$work/data" --log-level warn) >&2 &
warren=$!
mosquitto -p "$mport" >/dev/null 2>&1 &
mosq=$!
trap 'kill $warren $mosq 2>/dev/null; rm -rf "$work"' EXIT
sleep 3
results="$work/g1.jsonl"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="warren mosquitto"; else order="mosquitto warren"; fi
  for b in $order; do
    p=$wport; [ "$b" = mosquitto ] && p=$mport
    "$bench/run-matrix" "$b" --mqtt "$p" --no-relay --only g1 | tee -a "$results"
  done
done
python3 - "$results" >&2 <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def med(b, k): return statistics.median(r[k] for r in rows if r["broker"] == b)
for k, name in (("lat_p50_ms", "p50 ms"), ("cons_rate", "msg/s")):
    w, m = med("warren", k), med("mosquitto", k)
    per = lambda b: ", ".join(f"{r[k]:.2f}" if k != "cons_rate" else f"{r[k]/1000:.1f}k" for r in rows if r["broker"] == b)
    print(f"g1 {name}: Warren {w:.2f} ({per('warren')}) Mosquitto {m:.2f} ({per('mosquitto')}) ratio {w/m:.2f}")
print("missing:", sum(r.get("missing", 0) for r in rows))
PY
