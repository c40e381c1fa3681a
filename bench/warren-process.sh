# bench/warren-process.sh: sourced by the bench scripts that start Warren from a dist/ build.
# Needs $repo (this checkout) set by the caller.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# snapshot_dist DIST DIR: a copy of the build in DIR/dist (other engineers rebuild dist/ while a bench runs),
# with this checkout's package.json and node_modules beside it.
snapshot_dist() {
  mkdir -p "$2"
  cp -r "$1" "$2/dist"
  cp "$repo/package.json" "$2/"
  ln -s "$repo/node_modules" "$2/node_modules"
}

# wait_for_port PORT PID LOG: until PORT accepts connections (10 s at most); exits if PID died, showing LOG.
wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "warren exited:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.1
  done
}

# optional_ports_off DIST: "--stream-port off" when that build has the stream listener (builds before
# 2026-12-06 do not, and refuse the flag), so that older builds can be benchmarked as "before".
optional_ports_off() { if [ -f "$1/src/stream/listener.js" ]; then echo "--stream-port off"; fi; }

# stop_processes PID...: TERM, up to 5 s to exit, then KILL (the cleanup trap of the bench scripts).
stop_processes() {
  for p in "$@"; do
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
}

# cpu_ms PID: the process's user + system CPU time so far, ms (/proc/PID/stat).
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }

# bench_work_dir NAME: $work, a fresh temp dir, and $pids, empty; on exit the processes in $pids are stopped
# (stop_processes) and $work is removed.
bench_work_dir() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  pids=()
  trap 'stop_processes "${pids[@]}"; rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
}
