#!/usr/bin/env bash
# Performance benchmarks (not part of the test suite): prints ratios against baselines run in
# the same session. Usage: bash scripts/benchmark.sh [--rows 1000000 10000000]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/dev/env.sh
source scripts/dev/env.sh
python tests/benchmarks/bench_gate.py "$@"
