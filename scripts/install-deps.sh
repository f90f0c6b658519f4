#!/usr/bin/env bash
# Installs the Debian packages freshet needs to build and test, and only the
# ones that are missing, so a second run costs one dpkg query.
# Usage: scripts/install-deps.sh [build|test]   (default: test, a superset)
set -euo pipefail

want=(
  build-essential cmake pkg-config ninja-build
  libboost1.81-dev      # Asio + Beast (header-only parts)
  rapidjson-dev libspdlog-dev libfmt-dev liblz4-dev libutf8proc-dev
  libxxhash-dev libssl-dev libcli11-dev
  libgoogle-perftools-dev  # tcmalloc_minimal, linked into the freshet binary
  libpugixml-dev        # S3 response and error XML
  libsystemd-dev        # sd_notify: READY, WATCHDOG, STOPPING, STATUS under systemd
)
if [[ "${1:-test}" == test ]]; then
  want+=(libgtest-dev libgmock-dev googletest libbenchmark-dev
         time   # GNU time: peak RSS in perf/full_build.sh
         s3cmd  # an independent S3 client for the S3 cross-check tests
         prometheus  # promtool check metrics, and a real server scraping the daemon
         chromium    # renders the status page headless in the admin tests
         wrk         # HTTP load on the admin endpoint (perf/admin_load.sh)
         clang-14 libclang-rt-14-dev llvm-14  # ASan+UBSan stage and libFuzzer (perf/fuzz_campaign.sh)
         systemd)    # systemd-analyze verify/security on conf/freshet.service
  # Node.js runs the S3-compatible test servers and the AWS SDK signer the
  # differential tests compare against (scripts/install-npm-tools.sh). The
  # machine image usually has it; Debian's own is the fallback.
  command -v node >/dev/null && command -v npm >/dev/null || want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
