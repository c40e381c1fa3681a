#!/usr/bin/env bash
# bench/memory.sh: Warren's memory beside RabbitMQ's in the same run (issue 15 §4).
#
# Starts Warren (this repo's dist/, snapshotted) with AMQP, MQTT and STOMP on
# free loopback ports, then for each broker in turn (Warren first, then the
# reference RabbitMQ): idle RSS, RSS per idle AMQP connection, per connection
# with one channel, per empty queue (../shared/bench/bin/amqp-idle), per idle
# MQTT and STOMP connection (bench/idle-connections.mjs). One JSON line each,
# then a table. RabbitMQ's figures are deltas of the shared reference node's
# RSS, so other sessions' traffic on it adds noise.
#
#   --connections N   idle connections per sample (1000)
#   --queues N        queues for the per-queue sample (10000)
#   --settle S        seconds before each RSS sample (5)
#   --messages N     also Warren's RSS per queued 1 KiB message: N transient in a
#                    non-durable queue (in memory), N persistent in a durable one
#                    (paged past --queue-memory-messages) (0: skip)
#   --warren-only
#   --source-layout  run the compiled source layout (dist/src/cli/main.js, what the
#                    tests load) instead of the published bundle (dist/warren-cli.js,
#                    what `npm start` and the `warren` bin run): ~12 MB more idle RSS
#                    (240 ES modules each keep their own records and source)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bench="$(cd "$repo/../shared/bench" && pwd)"
conns=1000 queues=10000 settle=5 warren_only=0 messages=0 entry=dist/warren-cli.js
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) conns="$2"; shift 2;;
    --queues) queues="$2"; shift 2;;
    --settle) settle="$2"; shift 2;;
    --messages) messages="$2"; shift 2;;
    --warren-only) warren_only=1; shift;;
    --source-layout) entry=dist/src/cli/main.js; shift;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/warren-mem.XXXXXX")"
pid=""
cleanup() {
  [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$here/warren-process.sh"

mkdir -p "$work/data"
snapshot_dist "$repo/dist" "$work/snap"
amqp="$(free_port)" mqtt="$(free_port)" stomp="$(free_port)"
# A full GC each second (bench/gc-every-second.mjs): without it, Node's RSS deltas measure garbage.
cp "$here/gc-every-second.mjs" "$work/snap/"
(cd "$work/snap" && exec node --expose-gc --import ./gc-every-second.mjs "$entry" --host 127.0.0.1 --amqp-port "$amqp" --mqtt-port "$mqtt" \
  --stomp-port "$stomp" --http-port off --web-stomp-port off --web-mqtt-port off --stream-port off \
  --data-dir "$work/data" --log-level warn) >"$work/warren.log" 2>&1 &
pid=$!
wait_for_port "$amqp" "$pid" "$work/warren.log"
rabbit_pid="$(ss -ltnpH 'sport = :5673' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"

measure() { # label amqp-port mqtt-port stomp-port pid
  local b="$1"
  sleep "$settle"
  echo "{\"broker\":\"$b\",\"what\":\"idle\",\"rss_kb\":$(awk '/VmRSS/ {print $2}' "/proc/$5/status")}"
  for what in conn chan queue; do
    case "$what" in
      conn) extra=(--connections "$conns");;
      chan) extra=(--connections "$conns" --channels 1);;
      queue) extra=(--queues "$queues");;
    esac
    "$bench/bin/amqp-idle" --uri "amqp://guest:guest@127.0.0.1:$2/" --pid "$5" --settle "$settle" "${extra[@]}" |
      sed "s/^{/{\"broker\":\"$b\",\"what\":\"$what\",/"
  done
  node "$here/idle-connections.mjs" --protocol mqtt --port "$3" --pid "$5" --connections "$conns" --settle "$settle" |
    sed "s/^{/{\"broker\":\"$b\",\"what\":\"mqtt\",/"
  node "$here/idle-connections.mjs" --protocol stomp --port "$4" --pid "$5" --connections "$conns" --settle "$settle" |
    sed "s/^{/{\"broker\":\"$b\",\"what\":\"stomp\",/"
}

queued() { # label mode
  sleep "$settle"
  local before after
  before="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  node "$here/durability/fill-queue.mjs" "amqp://guest:guest@127.0.0.1:$amqp" "mem-$1" "$messages" 1024 ${2:-} >/dev/null
  sleep "$settle"
  after="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  echo "{\"broker\":\"warren\",\"what\":\"$1\",\"messages\":$messages,\"rss_before_kb\":$before,\"rss_loaded_kb\":$after}"
}

{
  measure warren "$amqp" "$mqtt" "$stomp" "$pid"
  if [ "$messages" -gt 0 ]; then queued in-memory transient; queued paged; fi
  [ "$warren_only" = 1 ] || measure rabbitmq 5673 1893 61623 "$rabbit_pid"
} | tee "$work/results.jsonl"

echo
python3 - "$work/results.jsonl" "$conns" "$queues" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
conns, queues = int(sys.argv[2]), int(sys.argv[3])
def fig(b, what):
    for r in rows:
        if r["broker"] == b and r["what"] == what:
            if what == "idle": return f'{r["rss_kb"] / 1024:.1f} MiB'
            if what in ("in-memory", "paged"):
                return f'{(r["rss_loaded_kb"] - r["rss_before_kb"]) * 1024 / r["messages"]:.0f} bytes'
            n = queues if what == "queue" else r.get("connections_open", r.get("connections", conns))
            return f'{(r["rss_loaded_kb"] - r["rss_before_kb"]) / max(n, 1):.2f} KiB'
    return "-"
labels = {"idle": "idle RSS", "conn": "per idle AMQP connection", "chan": "per AMQP connection with one channel",
          "queue": "per empty queue", "mqtt": "per idle MQTT connection", "stomp": "per idle STOMP connection",
          "in-memory": "per queued 1 KiB message, in memory (RSS)", "paged": "per queued 1 KiB message, paged (RSS)"}
print("| what | Warren | RabbitMQ |")
print("|---|---|---|")
for what, label in labels.items():
    print(f"| {label} | {fig('warren', what)} | {fig('rabbitmq', what)} |")
EOF
