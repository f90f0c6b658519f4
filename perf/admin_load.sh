#!/usr/bin/env bash
# Admin endpoint under load while a build runs: `wrk` against /metrics and
# /healthz during the first full build of a flat corpus, then the same when
# idle, and the daemon's own event-loop-lag histogram (how late a 100 ms
# timer on the io_context fired) over the whole run. The admin server lives
# on the pipeline's io_context and the build on the compute pool, so the
# endpoint should stay fast while every core is busy building.
#
#   perf/admin_load.sh                       # 500,000 docs in a temp dir, removed after
#   perf/admin_load.sh --ads 1000000 --dir /var/tmp/al --duration 5
#   FRESHET_BIN=build-perf/freshet perf/admin_load.sh
#
# Needs a Release binary (default build/freshet) and wrk (Debian package
# wrk; scripts/install-deps.sh test installs it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FRESHET_BIN:-$root/build/freshet}
ads=500000
dir=""
duration=4
connections=16

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --ads) ads=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "admin_load.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "admin_load.sh: no freshet binary at $bin (build it, or set FRESHET_BIN)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "admin_load.sh: wrk not found: run scripts/install-deps.sh test" >&2; exit 2; }

cleanup=""
if [[ -z "$dir" ]]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/freshet-admin-load-XXXXXX")
  cleanup=$dir
fi
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; [[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
source_dir=$dir/source-$ads
sink_dir=$dir/sink
if [[ ! -f "$source_dir/.complete" ]]; then
  rm -rf "$source_dir"
  echo "generating $ads flat ad documents into $source_dir ..." >&2
  "$bin" gen --out "$source_dir" --flat --ads "$ads" --partitions 0 --interval 1m \
    --start 2026-01-01T00:00:00Z --seed 1 >&2
  touch "$source_dir/.complete"
fi
rm -rf "$sink_dir"

# The daemon: the first trigger builds the full index; the next one is an
# hour away, so afterwards it idles with the endpoint up.
log=$dir/run.log
FRESHET_SOURCE_URI="local://$source_dir" FRESHET_SINK_URI="local://$sink_dir" \
  FRESHET_ADMIN_LISTEN=127.0.0.1:0 FRESHET_PIPELINE_TRIGGER_INTERVAL=1h FRESHET_WATCHDOG_STATE_FILE="" \
  "$bin" run --config "$root/conf/local-flat.json" --trigger interval >"$log" 2>&1 &
pid=$!
url=""
for _ in $(seq 600); do
  url=$(grep -o 'admin endpoint on http://127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/admin endpoint on //') || true
  [[ -n "$url" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "admin_load.sh: freshet exited; log: $log" >&2; tail -20 "$log" >&2; exit 1; }
  sleep 0.05
done
[[ -n "$url" ]] || { echo "admin_load.sh: no admin endpoint in $log" >&2; exit 1; }

# A plain HTTP/1.0 GET through bash's /dev/tcp (no curl needed).
fetch() { exec 3<>"/dev/tcp/127.0.0.1/${url##*:}"; printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$1" >&3; cat <&3; exec 3<&-; }
in_flight() { fetch /status | grep -q '"batch_in_flight":{'; }

for _ in $(seq 2000); do in_flight && break; sleep 0.01; done
in_flight || { echo "admin_load.sh: the build never showed as in flight" >&2; exit 1; }

# wrk's summary: requests/s and the 99th percentile latency.
run_wrk() {  # path label
  local out
  out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$url$1")
  local rps p99 p50
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-8s %-9s %10s req/s   p50 %-9s p99 %-9s' "$2" "$1" "$rps" "$p50" "$p99"
}
echo "wrk: 2 threads, $connections connections, ${duration}s per run; $ads docs; $(nproc) cores"
line=$(run_wrk /metrics build); still=$(in_flight && echo "build still running" || echo "BUILD ENDED DURING THE RUN")
echo "$line  ($still)"
line=$(run_wrk /healthz build); still=$(in_flight && echo "build still running" || echo "BUILD ENDED DURING THE RUN")
echo "$line  ($still)"
for _ in $(seq 6000); do in_flight || break; sleep 0.05; done
echo "$(run_wrk /metrics idle)"
echo "$(run_wrk /healthz idle)"

# The event-loop lag over the whole run, from the daemon's own histogram.
metrics=$(fetch /metrics)
echo "event-loop lag (100 ms probe timer on the io_context), whole run:"
awk '
  /^freshet_event_loop_lag_seconds_bucket/ {
    match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5)
    n++; bound[n] = le; cum[n] = $2
  }
  /^freshet_event_loop_lag_seconds_count/ { total = $2 }
  /^freshet_event_loop_lag_seconds_sum/ { sum = $2 }
  /^freshet_batch_duration_seconds_sum/ { build = $2 }
  END {
    if (total == 0) { print "  no samples"; exit }
    printf "  samples %d, mean %.3f ms\n", total, 1000 * sum / total
    for (q = 1; q <= 3; q++) {
      p = (q == 1) ? 0.5 : (q == 2 ? 0.99 : 1.0)
      for (i = 1; i <= n; i++) if (cum[i] >= p * total) { printf "  p%s <= %s s\n", (q == 3 ? "100" : p * 100), bound[i]; break }
    }
    prev = 0
    for (i = 1; i <= n; i++) { if (cum[i] > prev) printf "    le=%-8s %d\n", bound[i], cum[i] - prev; prev = cum[i] }
    printf "  batch duration (the build) %.1f s\n", build
  }' <<<"$metrics"
kill -TERM "$pid"
wait "$pid" || true
pid=""
