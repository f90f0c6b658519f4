#!/usr/bin/env bash
# S3 client throughput and latency: freshet's S3Store (perf/s3_bench.cc)
# side by side with the AWS SDK for JavaScript v3 (perf/s3_bench.js), the
# same operations against the same s3rver 3.7.1 on 127.0.0.1 in the same
# run, at the same concurrency. Prints one table with the freshet/SDK ratios;
# see perf/README.md for what each figure means.
#
#   perf/s3_bench.sh                          # defaults below
#   perf/s3_bench.sh --concurrency 4 --small-count 500
#   S3_BENCH_BIN=build-x/perf/s3_bench perf/s3_bench.sh
#
# Options (passed unchanged to both clients):
#   --concurrency N    requests in flight per client (default 16; freshet's
#                      max_connections, the SDK agent's maxSockets)
#   --small-count N --small-size BYTES    (2000 x 16384)
#   --large-count N --large-size BYTES    (50 x 4194304)
#   --range-count N --range-size BYTES    ranged GETs into the large objects (1000 x 65536)
#   --list-repeats N   whole listings of the 2050 keys, pages of 1000 (4)
#   --warmup N         small PUTs and as many GETs before the first phase (1000)
#
# Needs node (20+) and npm: scripts/install-npm-tools.sh installs s3rver and
# @aws-sdk/client-s3 into test/tools. The bench binary is S3_BENCH_BIN, else
# it is built (target s3_bench, Release) in S3_BENCH_BUILD_DIR (default
# build-s3perf), configuring that directory first if it has no CMakeCache.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
declare -A opt=([concurrency]=16 [small-count]=2000 [small-size]=16384 [large-count]=50
                [large-size]=4194304 [range-count]=1000 [range-size]=65536 [list-repeats]=4 [warmup]=1000)

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --*)
      name=${1#--}
      [[ -v "opt[$name]" ]] || { echo "s3_bench.sh: unknown argument '$1' (try --help)" >&2; exit 2; }
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "s3_bench.sh: $1 wants a number" >&2; exit 2; }
      opt[$name]=$2; shift 2 ;;
    *) echo "s3_bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
client_args=()
for name in "${!opt[@]}"; do client_args+=("--$name" "${opt[$name]}"); done

# 1. Tools and the binary.
tools=$("$root/scripts/install-npm-tools.sh" | tail -1)
if [[ -n "${S3_BENCH_BIN:-}" ]]; then
  bin=$S3_BENCH_BIN
else
  build=${S3_BENCH_BUILD_DIR:-$root/build-s3perf}
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    echo "s3_bench.sh: configuring $build (Release)" >&2
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFRESHET_BUILD_PERF=ON >/dev/null
  fi
  cmake --build "$build" --target s3_bench -j2 >"${TMPDIR:-/tmp}/s3_bench_build.$$.log" 2>&1 || {
    cat "${TMPDIR:-/tmp}/s3_bench_build.$$.log" >&2; rm -f "${TMPDIR:-/tmp}/s3_bench_build.$$.log"
    echo "s3_bench.sh: building s3_bench in $build failed" >&2; exit 1; }
  rm -f "${TMPDIR:-/tmp}/s3_bench_build.$$.log"
  bin=$build/perf/s3_bench
fi
[[ -x "$bin" ]] || { echo "s3_bench.sh: no bench binary at $bin" >&2; exit 2; }
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$(dirname "$(dirname "$bin")")/CMakeCache.txt" 2>/dev/null ||
  echo "s3_bench.sh: warning: $bin does not look like a Release build" >&2

# 2. s3rver on 127.0.0.1, stopped whatever happens.
work=$(mktemp -d "${TMPDIR:-/tmp}/freshet-s3-bench-XXXXXX")
server_pid=""
client_pids=()
cleanup() {
  for pid in "${client_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$work/data"
NODE_OPTIONS=--openssl-legacy-provider node "$tools/node_modules/s3rver/bin/s3rver.js" \
  -d "$work/data" -a 127.0.0.1 -p 0 --silent --configure-bucket bench >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
port=""
for _ in $(seq 300); do  # up to 30 s: the "S3rver listening on 127.0.0.1:PORT" line
  port=$(sed -n 's/.*S3rver listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/server.out" | head -1)
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "s3_bench.sh: s3rver did not start; its output:" >&2
  cat "$work/server.out" "$work/server.err" >&2
  exit 1
fi
endpoint=http://127.0.0.1:$port

# CPU seconds (user + system) s3rver has used so far.
server_cpu() {
  local stat fields
  stat=$(<"/proc/$server_pid/stat")
  read -r -a fields <<<"${stat##*) }"  # fields after the command name; utime, stime are 12th, 13th
  awk -v u="${fields[11]}" -v s="${fields[12]}" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (u + s) / hz}'
}

# 3. Both clients start once and are fed commands through FIFOs: first
# "warmup" to each in turn, then one phase at a time, alternating which
# client goes first, so that no two measured things overlap.
client_pids=()
start_client() {  # name, then its command line
  local name=$1; shift
  mkfifo "$work/$name.in" "$work/$name.out"
  "$@" --endpoint "$endpoint" --prefix "$name/" --phases - "${client_args[@]}" \
    <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
  client_pids+=("$!")
}
start_client freshet "$bin"
exec 3>"$work/freshet.in" 4<"$work/freshet.out"
start_client sdk env FRESHET_NODE_TOOLS="$tools" node "$root/perf/s3_bench.js"
exec 5>"$work/sdk.in" 6<"$work/sdk.out"

ask() {  # client command expected-reply-prefix: prints the reply
  local client=$1 cmd=$2 want=$3 in=3 out=4 line=""
  [[ $client == sdk ]] && in=5 out=6
  echo "$cmd" >&"$in"
  IFS= read -r -t 600 line <&"$out" || true
  if [[ "$line" != "$want"* ]]; then
    echo "s3_bench.sh: $client $cmd: no answer (the client failed or hung); its stderr:" >&2
    cat "$work/$client.err" >&2
    exit 1
  fi
  echo "$line"
}
run_phase() {  # client phase
  local cpu0 cpu1 line
  cpu0=$(server_cpu)
  line=$(ask "$1" "$2" result) || exit 1
  cpu1=$(server_cpu)
  line="$line server_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.2f", b - a}')"
  echo "  $line" >&2
  echo "$line" >>"$work/results"
}

echo "s3_bench.sh: s3rver 3.7.1 on $endpoint; concurrency ${opt[concurrency]}" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s.%N)
for client in freshet sdk; do
  reply=$(ask "$client" warmup warmed) || exit 1
  echo "  $reply" >&2
done
i=0
for phase in put-small put-large get-small get-large get-range list; do
  if ((i % 2 == 0)); then run_phase freshet "$phase"; run_phase sdk "$phase"
  else run_phase sdk "$phase"; run_phase freshet "$phase"; fi
  i=$((i + 1))
done
exec 3>&- 5>&-  # end of input: the clients exit
for pid in "${client_pids[@]}"; do wait "$pid" || echo "s3_bench.sh: a client exited with status $?" >&2; done
client_pids=()
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b - a}')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 4. The table.
awk -v small="${opt[small-size]}" -v large="${opt[large-size]}" -v range="${opt[range-size]}" \
    -v conc="${opt[concurrency]}" -v cores="$(nproc)" -v elapsed="$elapsed" \
    -v load="$load_before -> $load_after" '
function size(b) { return b >= 1048576 && b % 1048576 == 0 ? b / 1048576 " MiB" : (b >= 1024 && b % 1024 == 0 ? b / 1024 " KiB" : b " B") }
function ratio(f, s) { return s > 0 ? sprintf("%.2f", f / s) : "-" }
{
  delete kv
  for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
  k = kv["phase"] SUBSEP kv["client"]
  for (f in kv) v[k, f] = kv[f]
}
END {
  label["put-small"] = "PUT " size(small); label["put-large"] = "PUT " size(large)
  label["get-small"] = "GET " size(small); label["get-large"] = "GET " size(large)
  label["get-range"] = "GET range " size(range); label["list"] = "LIST page 1000"
  n = split("put-small put-large get-small get-large get-range list", phases, " ")
  printf "S3 on s3rver 3.7.1 (127.0.0.1), %d in flight per client, %d cores, load %s, %s s\n", conc, cores, load, elapsed
  fmt = "%-17s %-8s %6s %9s %8s %9s %9s %11s %11s %8s %5s\n"
  printf fmt, "op", "client", "ops", "ops/s", "MiB/s", "p50 ms", "p99 ms", "cpu us/op", "srv us/op", "req/op", "conns"
  for (j = 1; j <= n; j++) {
    ph = phases[j]
    for (c = 1; c <= 2; c++) {
      cl = c == 1 ? "freshet" : "sdk"; k = ph SUBSEP cl
      ops = v[k, "ops"]; wall = v[k, "wall_s"]
      ops_s[cl] = wall > 0 ? ops / wall : 0
      mib_s[cl] = wall > 0 ? v[k, "bytes"] / 1048576 / wall : 0
      p50[cl] = v[k, "p50_ms"]; p99[cl] = v[k, "p99_ms"]
      cpu[cl] = ops > 0 ? v[k, "cpu_s"] * 1e6 / ops : 0
      srv[cl] = ops > 0 ? v[k, "server_cpu_s"] * 1e6 / ops : 0
      mib = ph == "list" ? "-" : sprintf("%.1f", mib_s[cl])
      req = ops > 0 ? sprintf("%.2f", v[k, "requests"] / ops) : "-"
      printf fmt, label[ph], cl, ops, sprintf("%.0f", ops_s[cl]), mib, sprintf("%.1f", p50[cl]), sprintf("%.1f", p99[cl]),
             sprintf("%.0f", cpu[cl]), sprintf("%.0f", srv[cl]), req, v[k, "conns"]
      if (v[k, "retries"] + 0 > 0 || v[k, "errors"] + 0 > 0)
        printf "  (%s %s: %d retries, %d errors)\n", ph, cl, v[k, "retries"], v[k, "errors"]
    }
    mib = ph == "list" ? "-" : ratio(mib_s["freshet"], mib_s["sdk"])
    line = sprintf(fmt, "", "f/sdk", "", ratio(ops_s["freshet"], ops_s["sdk"]), mib,
                   ratio(p50["freshet"], p50["sdk"]), ratio(p99["freshet"], p99["sdk"]), ratio(cpu["freshet"], cpu["sdk"]),
                   ratio(srv["freshet"], srv["sdk"]), "", "")
    sub(/ +\n$/, "", line)
    print line
  }
}' "$work/results"
