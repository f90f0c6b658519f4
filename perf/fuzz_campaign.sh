#!/usr/bin/env bash
# Coverage-guided fuzzing campaign: builds the libFuzzer targets (clang,
# ASan+UBSan, every library instrumented) and runs each one, keeping its
# corpus between campaigns; prints executions, coverage and crashes per
# target. See perf/README.md.
#
#   perf/fuzz_campaign.sh                          # every target, 10,000,000 executions each (or 1 h)
#   perf/fuzz_campaign.sh --runs 1000000 --seconds 300
#   perf/fuzz_campaign.sh --targets "plan_layout_fuzz storage_sigv4_fuzz"
#   perf/fuzz_campaign.sh --corpus /var/tmp/freshet-corpus --build build-libfuzzer
#   nice -n 19 perf/fuzz_campaign.sh --timeout 120   # beside other work
#   perf/fuzz_campaign.sh --targets storage_sigv4_fuzz --max-len 1024
#
# Targets run two at a time (--parallel). A target stops after --runs
# executions or --seconds, whichever comes first. An input running longer
# than --timeout seconds (default 10) is reported as a hang; raise it when
# the machine is busy with other work, or starved runs read as hangs.
# Crash inputs are kept in <corpus>/<target>.crashes/; the script exits 1
# if any target crashed. --max-len caps input size (libFuzzer -max_len):
# long inputs make the slowest targets slower without new coverage.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-libfuzzer
corpus=$root/.fuzz-corpus
runs=10000000
seconds=3600
parallel=2
timeout=10
max_len=""
targets=""

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --max-len) max_len=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz_campaign.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
command -v clang++-14 >/dev/null || { echo "fuzz_campaign.sh: needs clang++-14 (scripts/install-deps.sh test)" >&2; exit 2; }
[[ -n "$targets" ]] || targets=$(cd "$root/test/fuzz" && ls ./*_fuzz.cc | sed 's|^\./||; s/\.cc$//' | tr '\n' ' ')

echo "building the libFuzzer targets in $build ..." >&2
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_FLAGS=-O1 -DFRESHET_LIBFUZZER=ON -DFRESHET_BUILD_PERF=OFF >/dev/null
fi
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets >/dev/null

mkdir -p "$corpus"
corpus=$(cd "$corpus" && pwd)
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)

# run_one TARGET: fuzzes into $corpus/TARGET; leaves its log in $corpus/TARGET.log.
run_one() {
  local t=$1 dir=$corpus/$1 crashes=$corpus/$1.crashes
  mkdir -p "$dir" "$crashes"
  local bin
  bin=$(find "$build" -name "$t" -type f -perm -u+x | head -1)
  FRESHET_FUZZ_SEED_DIR=$dir ASAN_OPTIONS=detect_leaks=1${symbolizer:+:external_symbolizer_path=$symbolizer} \
    "$bin" -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$crashes/" \
    -timeout="$timeout" ${max_len:+-max_len=$max_len} -rss_limit_mb=2048 "$dir" >"$corpus/$t.log" 2>&1 || true
}

start=$SECONDS
running=0
for t in $targets; do
  run_one "$t" &
  running=$((running + 1))
  if ((running >= parallel)); then wait -n || true; running=$((running - 1)); fi
done
wait || true

printf '%-28s %12s %8s %10s %7s %7s %8s %8s\n' target execs seconds "execs/s" cov ft corpus crashes
crashed=0
for t in $targets; do
  log=$corpus/$t.log
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1 || true)
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | awk '{print $5}' | tail -1 || true)
  cov=$(grep -o 'cov: *[0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  ft=$(grep -o 'ft: *[0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  n=$(find "$corpus/$t" -type f | wc -l)
  c=$(find "$corpus/$t.crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if grep -q 'ERROR: libFuzzer\|ERROR: AddressSanitizer\|runtime error:' "$log"; then c=$((c > 0 ? c : 1)); fi
  ((c == 0)) || crashed=1
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}' | tail -1 || true)
  printf '%-28s %12s %8s %10s %7s %7s %8s %8s\n' "$t" "${execs:--}" "${secs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$n" "$c"
done
echo "campaign: $((SECONDS - start)) s wall; corpus and logs in $corpus"
exit $crashed
