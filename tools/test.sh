#!/usr/bin/env bash
# Builds everything (benchmarks included, so they keep compiling) and runs every test.
# Prints a closing "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bazel build //... || { echo "0 passed, 1 failed: build"; exit 1; }
log=$(mktemp)
bazel test //... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -cE '^//.* PASSED' "$log" || true)
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log" || true)
echo "$passed passed, $failed failed"
exit "$rc"
