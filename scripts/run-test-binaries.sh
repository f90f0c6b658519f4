#!/usr/bin/env bash
# Runs whole GoogleTest binaries, a few at a time, for the sanitizer stages
# of scripts/test.sh: one process per binary instead of CTest's one per
# test case, since a sanitizer's start-up (shadow memory, interceptors) costs
# more than most of our tests. Prints each binary's result and a closing
# "N passed, N failed" line; exits non-zero if any binary failed.
#   scripts/run-test-binaries.sh LABEL DIR JOBS GTEST_FILTER BINARY...
set -uo pipefail
label=$1 dir=$2 jobs=$3 filter=$4
shift 4
export FRESHET_SOURCE_DIR=${FRESHET_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_one() {
  local bin=$1 log=$logs/$1.log
  if "$dir/$bin" --gtest_filter="$filter" --gtest_brief=1 >"$log" 2>&1; then
    echo "ok    $bin: $(grep -a -o 'PASSED  \] [0-9]* tests\?' "$log" | tail -1 | sed 's/PASSED  ] //')"
  else
    local rc=$?
    : >"$logs/$bin.failed"  # the exit status decides, whatever the log's counts say
    # A failure's own lines first (the tail alone can miss them), written
    # at once so that binaries finishing together do not interleave.
    {
      echo "FAIL  $bin (exit status $rc; the failed tests and the end of its output below)"
      grep -a -E '^\[  FAILED  \]|: Failure$|WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error:' "$log" |
        head -n 50
      echo "--- end of $bin's output:"
      tail -n 150 "$log"
    } >"$logs/$bin.report"
    cat "$logs/$bin.report"
  fi
}
export -f run_one
export dir filter logs
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

passed=0 failed=0
for bin in "$@"; do
  log=$logs/$bin.log
  p=$(grep -a -o '\[  PASSED  \] [0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  f=$(grep -a -o '\[  FAILED  \] [0-9]* test' "$log" | grep -o '[0-9]*' | tail -1)
  passed=$((passed + ${p:-0}))
  # A binary that exited non-zero counts as at least one failure: one
  # that crashed before its summary, or whose failure the brief output's
  # counts do not show (gtest --gtest_brief prints no "N FAILED" line).
  if [[ -e "$logs/$bin.failed" && -z "$f" ]]; then f=1; fi
  failed=$((failed + ${f:-0}))
done
echo "$label: $passed passed, $failed failed"
((failed == 0))
