#!/usr/bin/env bash
# bench/cold-start-instructions.sh: the instructions a fresh process runs from
# its start to every listener of startBroker() ready (valgrind callgrind's
# "I refs", all threads), beside Aedes (import + createBroker + listen) and a
# bare `node`, alternating, over several rounds (issue 15 §1). Unlike
# bench/cold-start.ts's wall clock and CPU time, the count does not move with
# the machine's load (five engineers on 2 cores moved those 2-5x), so a
# before/after comparison holds on a busy machine. ~15 s per sample.
#
#   bench/cold-start-instructions.sh [--rounds N] [--dist DIR[,DIR...]]
#
# DIR is a build's dist/ (holding warren.js, with package.json and
# node_modules above it, as /tmp/base8/dist); default: this repo's dist/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
rounds=3
dists="$repo/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --dist) dists="$2"; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--dist DIR[,DIR...]]" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install -y valgrind)" >&2; exit 1; }

# One sample: prints the I refs of `node --input-type=module -e CODE` run in the repo folder (aedes resolves there).
irefs() {
  (cd "$repo" && valgrind --tool=callgrind --callgrind-out-file=/dev/null node --input-type=module -e "$1" 2>&1 >/dev/null) |
    sed -n 's/.*I *refs: *//p' | tr -d ,
}
warren_code() {
  echo "const { startBroker } = await import($(node -p "JSON.stringify(require('node:url').pathToFileURL('$1/warren.js').href)")); await startBroker(); process.exit(0);"
}
aedes_code='const { Aedes } = await import("aedes"); const { createServer } = await import("node:net");
const broker = await Aedes.createBroker(); const server = createServer(broker.handle);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve)); process.exit(0);'
bare_code='process.exit(0);'

IFS=, read -r -a dist_list <<<"$dists"
declare -A samples
for ((round = 1; round <= rounds; round++)); do
  for dist in "${dist_list[@]}"; do
    n="$(irefs "$(warren_code "$dist")")"
    samples["$dist"]+="$n "
    echo "round $round  $dist  $n" >&2
  done
  n="$(irefs "$aedes_code")"; samples[aedes]+="$n "; echo "round $round  aedes  $n" >&2
  n="$(irefs "$bare_code")"; samples[bare]+="$n "; echo "round $round  bare node  $n" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
bare="$(echo "${samples[bare]}" | median)"
aedes="$(echo "${samples[aedes]}" | median)"
echo "| kind | I refs to ready (median of $rounds) | above a bare node | / Aedes | above bare / Aedes's |"
echo "|---|---|---|---|---|"
for kind in "${dist_list[@]}" aedes bare; do
  m="$(echo "${samples[$kind]}" | median)"
  awk -v k="$kind" -v m="$m" -v b="$bare" -v a="$aedes" 'BEGIN {
    printf "| %s | %.1f M | %.1f M | %.2f | %.2f |\n", k, m / 1e6, (m - b) / 1e6, m / a, (m - b) / (a - b) }'
done
