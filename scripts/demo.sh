#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, generates a
# fresh backfill of ads updates into ./data/source (snapshot + 20 partitions
# of 15s), keeps generating one partition every 15s in the background, and
# runs the daemon on conf/local.json (the local store) in the foreground.
# The sink (./data/sink) survives between runs. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
# The product build: every module at -O2, whatever scripts/test.sh left in
# build/'s cache (it builds the Asio shells at -O1 to test sooner).
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFRESHET_SHELL_OPTIMIZE= >/dev/null
cmake --build build -j "$(nproc)" --target freshet
rm -rf data/source
mkdir -p data
./build/freshet gen --out local://./data/source --interval 15s --layout '%Y/%m/%d/%H/%M/%S' \
  --partitions 20 --campaigns 40 --updates-per-partition 200 --follow 2> data/gen.log &
gen_pid=$!
trap 'kill $gen_pid 2>/dev/null || true' EXIT
# Start the daemon once the backfill is complete.
until grep -q following data/gen.log 2>/dev/null; do
  kill -0 $gen_pid 2>/dev/null || { cat data/gen.log; exit 1; }
  sleep 0.2
done
echo "generator: $(head -1 data/gen.log) (log: data/gen.log)"
./build/freshet run --config conf/local.json
