#!/usr/bin/env bash
# Regenerates tests/golden/table1_tiny.json from a fresh run of the tiny Table 1 config.
# Run it only when a change is meant to move the numbers, and commit the new golden file with
# that change (tests/regression/table1_golden_test.cc compares against it).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
out=$(mktemp -d)
bazel run //experiments/table1_vanilla_robustness -- \
  --config="$PWD/experiments/table1_vanilla_robustness/configs/tiny.pbtxt" --output_dir="$out"
cp "$out/results.json" tests/golden/table1_tiny.json
echo "updated tests/golden/table1_tiny.json (review with: git diff tests/golden)"
