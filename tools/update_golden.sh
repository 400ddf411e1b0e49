#!/usr/bin/env bash
# Regenerates golden results files from fresh runs with portable kernels (tests/README.md):
#   tools/update_golden.sh                   every golden test (bazel query: tag "golden")
#   tools/update_golden.sh table1_tiny ...   the named ones (//tests/regression:<name>_golden)
# Run it only when a change is meant to move the numbers, and commit the new golden files with
# that change and its reason.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
if (($#)); then
  targets=()
  for name in "$@"; do targets+=("//tests/regression:${name%_golden}_golden"); done
else
  mapfile -t targets < <(bazel query 'attr(tags, "golden", tests(//tests/...))' 2>/dev/null)
fi
for t in "${targets[@]}"; do
  echo "== $t"
  bazel run "$t" -- --update
done
echo "review with: git diff tests/golden"
