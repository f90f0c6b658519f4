#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the README's second
# command and what CI runs (.ci/run).
#   scripts/test.sh                         release build + all tests, then sanitizer builds
#   FRESHET_SANITIZERS=0 scripts/test.sh    release build + all tests only (quick local loop)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/install-npm-tools.sh >/dev/null
jobs=${FRESHET_JOBS:-$(nproc)}

echo "== $(date +%T) release build: unit, fuzz-replay, pipeline and end-to-end tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure --timeout 900

if [[ "${FRESHET_SANITIZERS:-1}" != 0 ]]; then
  # -O1 without debug info keeps sanitizer builds quick on 2 cores.
  san_flags=(-DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O1 -DFRESHET_BUILD_PERF=OFF)
  unit_tests=(base_test config_test metrics_test storage_test http_test s3_test index_test plan_test build_test gen_test
              sink_test reader_test admin_test actors_test)

  echo "== $(date +%T) ASan+UBSan: unit tests and fuzz replays"
  # (UBSan's null, alignment, object-size and pointer-overflow checks are
  # off next to ASan: see FRESHET_SANITIZE in CMakeLists.txt.)
  cmake -S . -B build-asan "${san_flags[@]}" -DFRESHET_SANITIZE=address,undefined >/dev/null
  fuzzers=$(cd test/fuzz && ls *_fuzz.cc | sed 's/\.cc$//')
  # shellcheck disable=SC2086
  cmake --build build-asan -j "$jobs" --target "${unit_tests[@]}" $fuzzers
  # Chromium drawing the status page tests the page, not our C++: release only.
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 900 \
    -E '(^e2e|_NOT_BUILT$|Chromium)'

  echo "== $(date +%T) TSan: the threaded code (actors, pipeline, stores, HTTP client, S3, admin server, metrics, pools, parallel build and segment writer)"
  cmake -S . -B build-tsan "${san_flags[@]}" -DFRESHET_SANITIZE=thread >/dev/null
  cmake --build build-tsan -j "$jobs" --target actors_test storage_test http_test s3_test admin_test metrics_test base_test \
    build_test index_test
  # Only the targets built above run; the others show up as *_NOT_BUILT.
  TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -j "$jobs" --output-on-failure --timeout 900 \
    -E '(^e2e|^fuzz|_NOT_BUILT$|Chromium)'
fi
echo "== $(date +%T) all tests passed"
