#!/usr/bin/env bash
# Full-build throughput: `freshet run --trigger available_now` over a snapshot
# of flat ad documents (no partitions, no joins), i.e. one full index built
# from scratch plus its (empty) delta, committed. Prints figures that can be
# compared run to run; see perf/README.md for what each one means.
#
#   perf/full_build.sh                      # 500,000 docs in a temp dir, removed after
#   perf/full_build.sh --ads 100000         # another corpus size
#   perf/full_build.sh --dir /var/tmp/fb    # keep the data; later runs reuse the source
#   perf/full_build.sh --budget 268435456   # pipeline.memory_budget in bytes (default: the config's, 1 GiB)
#   FRESHET_BIN=build-perf/freshet perf/full_build.sh
#
# Needs a built binary (default: build/freshet; `cmake --build build --target
# freshet`, Release). Peak RSS comes from GNU time (/usr/bin/time, Debian
# package `time`); without it (or with FULL_BUILD_NO_GNU_TIME=1) the script
# samples VmHWM from /proc instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FRESHET_BIN:-$root/build/freshet}
ads=500000
dir=""
seed=1

budget=""
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --ads) ads=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "full_build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "full_build.sh: no freshet binary at $bin (build it, or set FRESHET_BIN)" >&2; exit 2; }
[[ "$ads" =~ ^[1-9][0-9]*$ ]] || { echo "full_build.sh: --ads must be a positive integer" >&2; exit 2; }
[[ -z "$budget" || "$budget" =~ ^[1-9][0-9]*$ ]] || { echo "full_build.sh: --budget must be a byte count" >&2; exit 2; }

cleanup=""
if [[ -z "$dir" ]]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/freshet-full-build-XXXXXX")
  cleanup=$dir
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
source_dir=$dir/source-$ads-$seed
sink_dir=$dir/sink
config=$root/conf/local-flat.json  # flat schema, 1m partitions, no admin endpoint

# 1. The corpus: generated once per (size, seed), reused while --dir is kept.
if [[ ! -f "$source_dir/.complete" ]]; then
  rm -rf "$source_dir"
  echo "generating $ads flat ad documents into $source_dir ..." >&2
  gen_start=$(date +%s.%N)
  "$bin" gen --out "$source_dir" --flat --ads "$ads" --partitions 0 --interval 1m \
    --start 2026-01-01T00:00:00Z --seed "$seed" >&2
  gen_end=$(date +%s.%N)
  echo "generated in $(awk -v a="$gen_start" -v b="$gen_end" 'BEGIN{printf "%.1f", b-a}') s" >&2
  touch "$source_dir/.complete"
fi

# 2. The build, measured. A fresh sink each time so every run does the same work.
rm -rf "$sink_dir"
log=$dir/run.log
export FRESHET_SOURCE_URI="local://$source_dir" FRESHET_SINK_URI="local://$sink_dir" FRESHET_ADMIN_LISTEN=""
# Spilled runs go beside the data, not into a small /tmp.
export FRESHET_PIPELINE_SCRATCH_DIR="$dir/scratch"
if [[ -n "$budget" ]]; then export FRESHET_PIPELINE_MEMORY_BUDGET="$budget"; fi
if [[ -x /usr/bin/time && -z "${FULL_BUILD_NO_GNU_TIME:-}" ]]; then
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time.out" \
    "$bin" run --config "$config" --trigger available_now >"$log" 2>&1 || {
    echo "full_build.sh: freshet run failed; log: $log" >&2; tail -20 "$log" >&2; cleanup=""; exit 1; }
  read -r wall user sys rss_kb <"$dir/time.out"
  rss_note=""
else
  # No GNU time: wall clock from date, CPU from the shell's children times
  # (which include the few `sleep`s of the polling loop), peak RSS sampled
  # from /proc (VmHWM is a high-water mark, so the last sample is at most one
  # sampling interval short of the true peak).
  times >"$dir/times.0"  # a builtin with a redirection runs in this shell: its children's times
  t0=$(date +%s.%N)
  "$bin" run --config "$config" --trigger available_now >"$log" 2>&1 &
  pid=$!
  rss_kb=0
  while kill -0 "$pid" 2>/dev/null; do
    hwm=""
    { while read -r key value _; do [[ "$key" == VmHWM: ]] && hwm=$value; done <"/proc/$pid/status"; } 2>/dev/null || true
    if [[ -n "$hwm" ]] && ((hwm > rss_kb)); then rss_kb=$hwm; fi
    sleep 0.05
  done
  wait "$pid" || { echo "full_build.sh: freshet run failed; log: $log" >&2; tail -20 "$log" >&2; cleanup=""; exit 1; }
  t1=$(date +%s.%N)
  times >"$dir/times.1"
  # Second line of `times`: children's user and system time, e.g. "0m1.230s 0m0.450s".
  children() { sed -n 2p "$1" | sed 's/[ms]/ /g' | awk -v f="$2" '{print (f == 1 ? $1 * 60 + $2 : $3 * 60 + $4)}'; }
  cu0=$(children "$dir/times.0" 1) cs0=$(children "$dir/times.0" 2)
  cu1=$(children "$dir/times.1" 1) cs1=$(children "$dir/times.1" 2)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
  user=$(awk -v a="$cu0" -v b="$cu1" 'BEGIN{printf "%.2f", b-a}')
  sys=$(awk -v a="$cs0" -v b="$cs1" 'BEGIN{printf "%.2f", b-a}')
  rss_note=" (sampled from /proc: install the 'time' package for an exact figure)"
fi

# 3. What was built: the full generation's manifest (pretty JSON, one key a line).
full=$(sed -n 's/.*"full":"\([^"]*\)".*/\1/p' "$sink_dir/CURRENT")
[[ -n "$full" ]] || { echo "full_build.sh: no full generation in $sink_dir/CURRENT" >&2; cleanup=""; exit 1; }
count() { sed -n "s/^ *\"$1\": *\([0-9]*\),\{0,1\}$/\1/p" "$sink_dir/$full/manifest.json" | head -1; }
docs=$(count docs)
records=$(count records)
bad=$(count bad_records)
terms=$(count terms)
input_bytes=$(count input_bytes)
output_bytes=$(find "$sink_dir" -type f ! -name '.freshet-tmp-*' -printf '%s\n' | awk '{s+=$1} END{print s+0}')
cores=$(nproc)
# The Builder logs "... spilled to N sorted run(s), B bytes, in DIR" when it spills.
scratch_bytes=$(sed -n 's/.*spilled to [0-9]* sorted run(s), \([0-9]*\) bytes.*/\1/p' "$log" | awk '{s+=$1} END{print s+0}')
budget_shown=${budget:-default}

awk -v docs="$docs" -v records="$records" -v bad="$bad" -v terms="$terms" -v inb="$input_bytes" \
    -v outb="$output_bytes" -v wall="$wall" -v user="$user" -v sys="$sys" -v rss="$rss_kb" -v cores="$cores" \
    -v rss_note="$rss_note" -v bin="$bin" -v scratch="$scratch_bytes" -v budget="$budget_shown" 'BEGIN {
  mb = 1024 * 1024; cpu = user + sys
  printf "freshet full build (%s, %d cores)\n", bin, cores
  printf "  documents         %d indexed (%d input records, %d quarantined), %d terms\n", docs, records, bad, terms
  printf "  input             %.1f MB\n", inb / mb
  printf "  wall              %.2f s\n", wall
  printf "  cpu (user+sys)    %.2f s (%.2f + %.2f), %.2f cores busy on average\n", cpu, user, sys, (wall > 0 ? cpu / wall : 0)
  printf "  records/s         %.0f\n", (wall > 0 ? records / wall : 0)
  printf "  MB/s              %.1f\n", (wall > 0 ? inb / mb / wall : 0)
  printf "  MB/s per core     %.1f (input MB per CPU second)\n", (cpu > 0 ? inb / mb / cpu : 0)
  printf "  records/s per core %.0f\n", (cpu > 0 ? records / cpu : 0)
  printf "  memory budget     %s\n", (budget == "default" ? "default (1024 MiB)" : sprintf("%.0f MiB", budget / mb))
  printf "  peak RSS          %.1f MB%s\n", rss / 1024, rss_note
  printf "  scratch written   %.1f MB (sorted runs spilled past a sixteenth of the budget)\n", scratch / mb
  printf "  output            %.1f MB (%.2f of input)\n", outb / mb, (inb > 0 ? outb / inb : 0)
}'
