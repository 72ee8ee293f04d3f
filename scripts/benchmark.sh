#!/usr/bin/env bash
# Performance benchmarks (not part of the test suite): prints ratios against baselines run in
# the same session. Usage: bash scripts/benchmark.sh [gate [--rows N ...] | deploy | train | coverage | loop | overhead | monitor [--rows N] | champion [--reps N] | paired [--rows N] | intervals [--reps N] | paired-coverage [--reps N] | drift [--reps N]]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/dev/env.sh
source scripts/dev/env.sh
case "${1:-all}" in
  gate) shift; python tests/benchmarks/bench_gate.py "$@" ;;
  deploy) python tests/benchmarks/bench_deploy_wait.py ;;
  coverage) shift; python tests/benchmarks/bench_auc_coverage.py "$@" ;;
  train) python scripts/dev/testbed.py up && python tests/benchmarks/bench_train_overhead.py ;;
  loop) python tests/benchmarks/bench_loop.py ;;
  overhead) python scripts/dev/testbed.py up && python tests/benchmarks/bench_action_overhead.py ;;
  monitor) shift; python tests/benchmarks/bench_monitor.py "$@" ;;
  champion) shift; python tests/benchmarks/bench_champion_rules.py "$@" ;;
  paired) shift; python tests/benchmarks/bench_paired_gate.py "$@" ;;
  intervals) shift; python tests/benchmarks/bench_interval_coverage.py "$@" ;;
  paired-coverage) shift; python tests/benchmarks/bench_paired_coverage.py "$@" ;;
  drift) shift; python tests/benchmarks/bench_drift_alarms.py "$@" ;;
  all) python tests/benchmarks/bench_gate.py; python tests/benchmarks/bench_deploy_wait.py ;;
  *) echo "usage: bash scripts/benchmark.sh [gate [--rows N ...] | deploy | train | coverage | loop | overhead | monitor | champion | paired | intervals | paired-coverage | drift]" >&2; exit 2 ;;
esac
