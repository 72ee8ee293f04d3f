#!/usr/bin/env bash
# Performance benchmarks (not part of the test suite): prints ratios against baselines run in
# the same session. Usage: bash scripts/benchmark.sh [gate [--rows N ...] | deploy]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/dev/env.sh
source scripts/dev/env.sh
case "${1:-all}" in
  gate) shift; python tests/benchmarks/bench_gate.py "$@" ;;
  deploy) python tests/benchmarks/bench_deploy_wait.py ;;
  all) python tests/benchmarks/bench_gate.py; python tests/benchmarks/bench_deploy_wait.py ;;
  *) echo "usage: bash scripts/benchmark.sh [gate [--rows N ...] | deploy]" >&2; exit 2 ;;
esac
