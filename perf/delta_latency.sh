#!/usr/bin/env bash
# Freshness at scale: what committing ONE new partition costs as the window
# grows, after a restart, and what an idle tick costs. See perf/README.md.
#
#   perf/delta_latency.sh                         # 1,000,000 ads, windows 1h / 5h / 12h
#   perf/delta_latency.sh --ads 200000 --steps 5  # smaller and quicker
#   perf/delta_latency.sh --dir /var/tmp/dl       # keep the generated source between runs
#   perf/delta_latency.sh --idle-only             # only the idle-tick figures
#   FRESHET_BIN=build-perf/freshet perf/delta_latency.sh
#
# The daemon runs on the local store with 5-minute partitions and a 1 s
# trigger; partitions are moved into its source one at a time (each one
# complete before it appears). For each window (1 h, 5 h, 12 h of
# partitions after the base snapshot) it measures --steps batches that each
# commit exactly one new partition, then restarts the daemon and measures
# its first batch. Needs a Release binary (default build/freshet) and curl.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FRESHET_BIN:-$root/build/freshet}
ads=1000000
steps=12
dir=""
updates=2000  # generator events per partition: about 5,000 records
campaigns=2000  # x 10 ad groups x 50 ads at 1M: a campaign change fans out to 500 ads
idle_only=0

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --ads) ads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --updates-per-partition) updates=$2; shift 2 ;;
    --campaigns) campaigns=$2; shift 2 ;;
    --idle-only) idle_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "delta_latency.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "delta_latency.sh: no freshet binary at $bin (build it, or set FRESHET_BIN)" >&2; exit 2; }
command -v curl >/dev/null || { echo "delta_latency.sh: needs curl" >&2; exit 2; }

cleanup=""
if [[ -z "$dir" ]]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/freshet-delta-latency-XXXXXX")
  cleanup=$dir
fi
daemon_pid=""
stop_daemon() {
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  daemon_pid=""
}
trap 'stop_daemon; [[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

partitions=$((12 * 12 + steps + 2))  # 12 h of 5-minute partitions, then the measured ones
start=2026-01-01T00:00:00Z            # long past: every partition is eligible once it appears
port=$((20000 + RANDOM % 20000))

# --- helpers -----------------------------------------------------------------

write_config() {  # <config> <source> <sink> <trigger interval>
  cat >"$1" <<EOF
{
  "source": {"uri": "local://$2", "layout": "%Y/%m/%d/%H/%M", "partition_interval": "5m"},
  "sink": {"uri": "local://$3", "retain_generations": 2, "writer_lease": "0s"},
  "pipeline": {"trigger": "interval", "trigger_interval": "$4", "policy": "latest", "grace": "0s",
               "overlap": "5m", "max_window": "13h"},
  "watchdog": {"state_file": ""},
  "admin": {"listen": "127.0.0.1:$port"},
  "log": {"level": "info"}
}
EOF
}

start_daemon() {  # <config> <log>
  "$bin" run --config "$1" >>"$2" 2>&1 &
  daemon_pid=$!
}

# The top-level watermark of the sink's CURRENT, or "".
watermark() { grep -o '"watermark":"[^"]*"' "$1/CURRENT" 2>/dev/null | head -1 | cut -d'"' -f4 || true; }
chain_length() { grep -o '"chain":\[[^]]*\]' "$1/CURRENT" 2>/dev/null | head -1 | grep -o 'delta/' | wc -l; }

# Partition i's folder (relative) and time.
part_rel() { date -u -d "$start + $((5 * $1)) minutes" +updates/%Y/%m/%d/%H/%M; }
part_time() { date -u -d "$start + $((5 * $1)) minutes" +%Y-%m-%dT%H:%M:%SZ; }

# Moves partition i from staging into the source, whole.
publish() {
  local rel; rel=$(part_rel "$1")
  mkdir -p "$source/$(dirname "$rel")"
  cp -r "$staging/$rel" "$source/$(dirname "$rel")/.incoming"
  mv "$source/$(dirname "$rel")/.incoming" "$source/$rel"
}

wait_for_watermark() {  # <sink> <time> <seconds>
  local deadline=$((SECONDS + $3))
  while [[ "$(watermark "$1")" != "$2" ]]; do
    ((SECONDS < deadline)) || { echo "delta_latency.sh: watermark $2 not committed within $3 s (log: $log)" >&2; exit 1; }
    sleep 0.05
  done
}

# The log line of the batch that committed watermark <time> (it may follow
# CURRENT by a moment).
committed_line() {  # <log> <time>
  local i
  for ((i = 0; i < 200; i++)); do
    if grep -q " committed .* watermark=$2" "$1"; then grep " committed .* watermark=$2" "$1" | tail -1; return; fi
    sleep 0.05
  done
  echo "delta_latency.sh: no committed log line for $2 in $1" >&2; exit 1
}

# Waits until the Merger has built every merge it started (log lines
# "merger: building X", then "merger: built X" or "merger: X: <error>").
wait_for_merges() {  # <log> <seconds>
  local deadline=$((SECONDS + $2)) started ended
  while :; do
    started=$(grep -c "merger: building " "$1" || true)
    ended=$(grep -c "merger: built \|merger: delta/" "$1" || true)
    ((ended >= started)) && return
    ((SECONDS < deadline)) || { echo "delta_latency.sh: merges still running after $2 s (log: $1)" >&2; exit 1; }
    sleep 0.1
  done
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$daemon_pid/status"; }
# CPU time of the daemon's threads in ns (schedstat's first field): the
# idle ticks cost about 1 ms each, and /proc/PID/stat counts in 10 ms clock
# ticks, a tenth of the measured figure over 100 ticks. (Threads that exit
# between two samples take their time with them; the daemon's are pools.)
cpu_ns() { cat /proc/"$daemon_pid"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
metric() {  # <name> <label filter regex>: the sum of matching samples
  curl -s "http://127.0.0.1:$port/metrics" | awk -v n="$1" -v f="$2" \
    'index($0, n) == 1 && $0 ~ f {s += $NF} END {printf "%.0f", s}'
}

# p50 / p99 / max of the numbers on stdin.
stats() { sort -n | awk '{a[NR] = $1} END {
  if (NR == 0) { print "- - -"; exit }
  p50 = a[int((NR + 1) / 2)]; i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
  printf "%s %s %s\n", p50, a[i], a[NR] }'; }

# A committed batch's field from its log line.
field() { grep -o " $1=[^ ]*" | cut -d= -f2; }
stage() { grep -o "stages_ms=[^ ]*" | tr ',' '\n' | grep "^\(stages_ms=\)\?$1:" | cut -d: -f2; }

# --- the source ----------------------------------------------------------------

staging=$dir/staging-$ads-$campaigns-$updates
if [[ $idle_only == 0 && ! -f "$staging/.complete" ]]; then
  rm -rf "$staging"
  echo "generating $ads ads and $partitions partitions of 5 minutes into $staging ..." >&2
  "$bin" gen --out "$staging" --ads "$ads" --campaigns "$campaigns" --ad-groups-per-campaign 10 \
    --partitions "$partitions" --interval 5m --start "$start" --updates-per-partition "$updates" --seed 7 >&2
  touch "$staging/.complete"
fi


if [[ $idle_only == 0 ]]; then
  run=$dir/run
  rm -rf "$run"
  mkdir -p "$run"
  source=$run/source
  sink=$run/sink
  log=$run/daemon.log
  config=$run/config.json
  write_config "$config" "$source" "$sink" 1s
  mkdir -p "$source"
  cp -r "$staging/snapshots" "$source/"

  printf '%-8s %-6s %-24s %-22s %-22s %-22s %-9s %-10s %-10s %-6s %-7s\n' \
    window steps "trigger-commit ms p50/p99/max" "fetch+parse ms p50/p99" "build ms p50/p99" "write+commit ms p50/p99" \
    "read KB" "written KB" "records" chain merges
  next=0
  declare -A first_after_restart rss hwm heap heap_free
  for hours in 1 5 12; do
    # Bring the window to `hours` of partitions after the snapshot (one
    # catch-up batch), then measure one-partition batches.
    upto=$((hours * 12 - 1))
    while ((next <= upto)); do publish "$next"; next=$((next + 1)); done
    [[ -n "$daemon_pid" ]] || start_daemon "$config" "$log"
    wait_for_watermark "$sink" "$(part_time "$upto")" 900
    sleep 0.5  # the merge the catch-up decided has started
    merges_before=$(grep -c "merger: built" "$log" || true)
    : >"$run/steps.log"
    for ((s = 0; s < steps; s++)); do
      # Partitions come minutes apart: the merge a commit decides is built
      # before the next partition lands, and the next commit (which makes
      # it live, deterministically: committer.h) does not wait for it. The
      # steps here come seconds apart, so they wait for it instead.
      wait_for_merges "$log" 300
      publish "$next"
      wait_for_watermark "$sink" "$(part_time "$next")" 120
      committed_line "$log" "$(part_time "$next")" >>"$run/steps.log"
      next=$((next + 1))
      sleep 1.5  # a trigger interval and a bit: merges build between batches, as they would
    done
    merges=$(( $(grep -c "merger: built" "$log" || true) - merges_before ))
    # Trigger -> committed as the daemon measured it: its stages and what
    # lies between them (total_ms sums the stages only).
    read -r t50 t99 tmax < <(field since_trigger_ms <"$run/steps.log" | stats)
    fp=$(while read -r l; do echo $(( $(stage fetch <<<"$l") + $(stage parse <<<"$l") )); done <"$run/steps.log" | stats)
    bu=$(while read -r l; do stage build <<<"$l"; done <"$run/steps.log" | stats)
    wc_=$(while read -r l; do echo $(( $(stage write <<<"$l") + $(stage commit <<<"$l") )); done <"$run/steps.log" | stats)
    read_kb=$(field bytes <"$run/steps.log" | stats | awk '{printf "%d", $1 / 1024}')
    out_kb=$(field out_bytes <"$run/steps.log" | stats | awk '{printf "%d", $1 / 1024}')
    recs=$(field records <"$run/steps.log" | stats | awk '{print $1}')
    printf '%-8s %-6s %-24s %-22s %-22s %-22s %-9s %-10s %-10s %-6s %-7s\n' \
      "${hours}h" "$steps" "$t50/$t99/$tmax" "$(awk '{print $1 "/" $2}' <<<"$fp")" "$(awk '{print $1 "/" $2}' <<<"$bu")" \
      "$(awk '{print $1 "/" $2}' <<<"$wc_")" "$read_kb" "$out_kb" "$recs" "$(chain_length "$sink")" "$merges"
    rss[$hours]=$(( $(rss_kb) / 1024 ))
    hwm[$hours]=$(( $(hwm_kb) / 1024 ))
    # Of that resident set: the heap in use, and what the allocator keeps freed.
    heap[$hours]=$(( $(metric freshet_heap_allocated_bytes '') / 1048576 ))
    heap_free[$hours]=$(( $(metric freshet_heap_free_cached_bytes '') / 1048576 ))

    # Restart: stop, one more partition, start; its first batch rebuilds
    # the window state from the chain's manifests and the source.
    stop_daemon
    publish "$next"
    t0=$(date +%s.%N)
    start_daemon "$config" "$log"
    wait_for_watermark "$sink" "$(part_time "$next")" 300
    t1=$(date +%s.%N)
    line=$(committed_line "$log" "$(part_time "$next")")
    first_after_restart[$hours]="$(field since_trigger_ms <<<"$line") ms batch ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s from exec to commit; fetch $(stage fetch <<<"$line") parse $(stage parse <<<"$line") build $(stage build <<<"$line") ms; $(field objects <<<"$line") objects read)"
    next=$((next + 1))
  done
  echo
  for hours in 1 5 12; do
    echo "${hours}h window: RSS after the steps ${rss[$hours]} MiB (heap in use ${heap[$hours]} MiB, allocator's free ${heap_free[$hours]} MiB; peak so far ${hwm[$hours]} MiB); first batch after a restart: ${first_after_restart[$hours]}"
  done
  echo "daemon log: $log"
  stop_daemon
fi

# --- idle ticks --------------------------------------------------------------
# A caught-up daemon over H partitions of history, triggering every 100 ms
# for 10 s with nothing new: CPU per tick and LIST requests per tick.
echo
printf '%-10s %-8s %-14s %-14s\n' history ticks "cpu ms/tick" "LISTs/tick"
for history in 60 6000; do
  idle=$dir/idle-$history
  if [[ ! -f "$idle/.complete" ]]; then
    rm -rf "$idle"
    "$bin" gen --out "$idle/source" --ads 200 --campaigns 2 --partitions "$history" --interval 5m --start "$start" \
      --updates-per-partition 1 --objects-per-partition 1 --seed 3 >/dev/null 2>&1
    touch "$idle/.complete"
  fi
  rm -rf "$idle/sink" "$idle/daemon.log"
  log=$idle/daemon.log
  write_config "$idle/config.json" "$idle/source" "$idle/sink" 100ms
  start_daemon "$idle/config.json" "$log"
  wait_for_watermark "$idle/sink" "$(part_time $((history - 1)))" 600
  sleep 1  # the merge the catch-up decided has started
  wait_for_merges "$log" 300
  sleep 3  # settle: retention after the merge's commit
  c0=$(cpu_ns); l0=$(metric freshet_object_store_requests_total 'store="source".*operation="list"')
  g0=$(metric freshet_triggers_total '')
  sleep 10
  c1=$(cpu_ns); l1=$(metric freshet_object_store_requests_total 'store="source".*operation="list"')
  g1=$(metric freshet_triggers_total '')
  ticks=$((g1 - g0))
  printf '%-10s %-8s %-14s %-14s\n' "$history" "$ticks" \
    "$(awk -v c=$((c1 - c0)) -v t="$ticks" 'BEGIN{printf "%.2f", t ? c / 1e6 / t : 0}')" \
    "$(awk -v l=$((l1 - l0)) -v t="$ticks" 'BEGIN{printf "%.2f", t ? l / t : 0}')"
  stop_daemon
done
