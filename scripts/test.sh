#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the README's second
# command and what CI runs (.ci/run).
#   scripts/test.sh                         release build + all tests, then sanitizer builds
#   FRESHET_SANITIZERS=0 scripts/test.sh    release build + all tests only (quick local loop)
# Each stage's duration is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${FRESHET_JOBS:-$(nproc)}
# Tests wait on servers, child processes and the disk for a third of their
# time: twice as many test processes as cores keep the cores busy (the
# release tests: 155 s at -j2, 114 s at -j4 on 2 cores). Speed is measured
# by perf/, never by a timed test, so a loaded machine fails nothing.
test_jobs=${FRESHET_TEST_JOBS:-$((jobs * 2))}

stages=()
stage_start=$SECONDS
stage_name=""
# stage NAME: ends the stage in progress (recording its duration) and starts NAME.
stage() {
  if [[ -n "$stage_name" ]]; then stages+=("$(printf '%5ds  %s' $((SECONDS - stage_start)) "$stage_name")"); fi
  stage_name=$1
  stage_start=$SECONDS
  [[ -n "$stage_name" ]] && echo "== $(date +%T) $stage_name"
  return 0
}
summary() {
  local rc=$?
  stage ""
  echo "== stage durations (total $((SECONDS))s)"
  printf '%s\n' "${stages[@]}"
  return $rc
}
trap summary EXIT

stage "install: Debian packages and npm test tools"
scripts/install-deps.sh test
scripts/install-npm-tools.sh >/dev/null

# configure DIR ARGS...: Ninja when it is there (CMake's Makefiles
# otherwise), unless DIR was configured before with another generator.
configure() {
  local dir=$1
  shift
  local generator=()
  if command -v ninja >/dev/null && [[ ! -f "$dir/CMakeCache.txt" ]]; then generator=(-G Ninja); fi
  cmake -S . -B "$dir" "${generator[@]}" "$@" >/dev/null
}

# The release build runs the tests, not the product: the Asio shells (stores,
# admin server, actors, CLI) compile at -O1, a fifth faster; index, ingest
# and commit keep -O2 (FRESHET_SHELL_OPTIMIZE in CMakeLists.txt). When the
# ASan stage runs the fuzz targets under libFuzzer, their replay binaries
# are not built here as well.
release_flags=(-DCMAKE_BUILD_TYPE=Release -DFRESHET_SHELL_OPTIMIZE=-O1)
if [[ "${FRESHET_SANITIZERS:-1}" != 0 ]]; then
  release_flags+=(-DFRESHET_BUILD_FUZZ_REPLAYS=OFF)
  release_what="library, CLI, tests, benchmarks"
else
  release_flags+=(-DFRESHET_BUILD_FUZZ_REPLAYS=ON)
  release_what="library, CLI, tests, fuzz replays, benchmarks"
fi
stage "release build (unity): $release_what"
configure build "${release_flags[@]}"
cmake --build build -j "$jobs"

stage "release tests: unit, pipeline, end-to-end"
ctest --test-dir build -j "$test_jobs" --output-on-failure --timeout 900

if [[ "${FRESHET_SANITIZERS:-1}" != 0 ]]; then
  # Both sanitizer builds use clang at -O0 without debug info, the modules
  # the tests spend their time in at -O1 (FRESHET_HOT_OPTIMIZE in
  # CMakeLists.txt): on 2 cores the ASan stage took 226 s instead of 304 s
  # at -O1 everywhere, and TSan 184 s instead of 286 s with GCC at -O1
  # (GCC at -O0 builds only a tenth faster; clang at -O0, twice as fast).
  san_flags=(-DCMAKE_BUILD_TYPE= -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_FLAGS=-O0
             -DFRESHET_HOT_OPTIMIZE=-O1 -DFRESHET_BUILD_PERF=OFF)

  # ASan+UBSan, built with clang as the libFuzzer build (FRESHET_LIBFUZZER:
  # every library instrumented for coverage), so the coverage-guided fuzz
  # targets keep compiling: every parser's libFuzzer target replays 20,000
  # executions from its seeds, and the unit tests of the modules that parse,
  # encode or hold raw buffers run: config, index (segment format), plan
  # (layouts, checkpoint), ingest (records, LZ4), sink and commit, reader
  # (queries), the local/fault stores and the Beast HTTP client. (UBSan's
  # null, alignment, object-size and pointer-overflow checks are off next to
  # ASan: see CMakeLists.txt.) perf/fuzz_campaign.sh runs the long campaigns.
  asan_tests=(base_test config_test index_test plan_test ingest_test sink_test commit_test reader_test storage_test
              http_test)
  fuzzers=$(cd test/fuzz && ls *_fuzz.cc | sed 's/\.cc$//')
  stage "ASan+UBSan build (clang, libFuzzer): parsers' unit tests and fuzz targets"
  configure build-fuzz "${san_flags[@]}" -DFRESHET_LIBFUZZER=ON
  # shellcheck disable=SC2086
  cmake --build build-fuzz -j "$jobs" --target "${asan_tests[@]}" $fuzzers
  stage "ASan+UBSan tests"
  # The fuzz replays (one process per core) beside the unit test binaries
  # rather than before them, so neither waits on the other's slowest (the
  # record parser's and SigV4's replays: 19 and 14 s).
  fuzz_log=$(mktemp)
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-fuzz -j "$jobs" --output-on-failure --timeout 900 \
    -R '^fuzz\.' >"$fuzz_log" 2>&1 &
  fuzz_pid=$!
  asan_rc=0
  ASAN_OPTIONS=detect_leaks=1 scripts/run-test-binaries.sh ASan build-fuzz "$test_jobs" '*' "${asan_tests[@]}" ||
    asan_rc=$?
  fuzz_rc=0
  wait "$fuzz_pid" || fuzz_rc=$?
  cat "$fuzz_log"
  rm -f "$fuzz_log"
  ((asan_rc == 0 && fuzz_rc == 0))

  # TSan: the threaded code (actors with their mailboxes and timers, the
  # pipeline, stores, HTTP client, S3, admin server, metrics, pools). The
  # parallel build, the segment writer and the full's entities read by
  # concurrent lookups (a segment reader's shared block cache) run under
  # TSan inside the pipeline tests (actors_test, two compute threads);
  # index_test, ingest_test and commit_test, single-threaded pure code
  # otherwise, run in the release and ASan stages only (a 15-minute CI).
  tsan_tests=(actors_test storage_test http_test s3_test admin_test metrics_test base_test)
  stage "TSan build (clang): the threaded code"
  configure build-tsan "${san_flags[@]}" -DFRESHET_SANITIZE=thread
  cmake --build build-tsan -j "$jobs" --target "${tsan_tests[@]}"
  stage "TSan tests"
  # Chromium drawing the status page tests the page, not our C++: release only.
  TSAN_OPTIONS=halt_on_error=1 scripts/run-test-binaries.sh TSan build-tsan "$test_jobs" '-*Chromium*' \
    "${tsan_tests[@]}"
fi
stage ""
echo "== $(date +%T) all tests passed"
