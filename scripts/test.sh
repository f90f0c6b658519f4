#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the README's second
# command and what CI runs.
#   scripts/test.sh            release build + all tests, then ASan+UBSan and TSan builds
#   FRESHET_SANITIZERS=0 scripts/test.sh   skip the sanitizer builds (quick local loop)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
jobs=${FRESHET_JOBS:-$(nproc)}

run_suite() {  # run_suite <build-dir> <ctest label regex or ''> <cmake args...>
  local dir=$1 exclude=$2; shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  local args=(--test-dir "$dir" -j "$jobs" --output-on-failure --timeout 600)
  [[ -n "$exclude" ]] && args+=(-E "$exclude")
  ctest "${args[@]}"
}

echo "== release build and tests"
run_suite build ''
if [[ "${FRESHET_SANITIZERS:-1}" != 0 ]]; then
  echo "== ASan+UBSan build and unit tests"
  run_suite build-asan '^e2e\.' -DFRESHET_SANITIZE=address,undefined -DFRESHET_BUILD_PERF=OFF
  echo "== TSan build and unit tests"
  TSAN_OPTIONS=halt_on_error=1 run_suite build-tsan '^(e2e|fuzz)\.' -DFRESHET_SANITIZE=thread -DFRESHET_BUILD_PERF=OFF
fi
