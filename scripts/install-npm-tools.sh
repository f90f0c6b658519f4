#!/usr/bin/env bash
# Installs the Node tools the tests use (test/tools/package.json, pinned by
# its package-lock.json) into test/tools/node_modules: s3rver 3.7.1,
# @20minutes/s3rver 5.0.0 (as "s3rver-sigv4"), @smithy/signature-v4 and
# @aws-sdk/client-s3. Runs `npm ci` only when the lock file changed since
# the last install, so a second run is instant. Prints the tools directory.
set -euo pipefail
cd "$(dirname "$0")/../test/tools"
stamp=node_modules/.freshet-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "install-npm-tools: npm ci in test/tools" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
pwd
