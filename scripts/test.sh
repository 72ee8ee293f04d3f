#!/usr/bin/env bash
# The whole test suite from a clean clone: set-up, lint gates (actionlint, zizmor,
# check-jsonschema, ruff, mypy), unit and integration tests, act-driven action tests with a
# local GitHub API stand-in, builds pushed to a local authenticated registry, deploys against
# moto, coverage, and the example project's own tests.
# Benchmarks are not run here: bash scripts/benchmark.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/dev/env.sh
source scripts/dev/env.sh

# --fast: what needs neither the container testbed, act nor the package index (lint gates,
# unit, CLI, moto, the example's tests), on every core, for iterating. The whole suite is the
# command without it.
if [ "${1:-}" = "--fast" ]; then
  shift
  MLOPS_SUBSET=fast python -m pytest tests -q -p no:cacheprovider -n auto "$@"
  (cd example-project && python -m pytest -q tests -p no:cacheprovider -n auto)
  exit 0
fi

# The container testbed (Docker engine, authenticated registry, base image); `down` stops only
# what `up` started.
python scripts/dev/testbed.py up
trap 'python scripts/dev/testbed.py down' EXIT
python scripts/dev/testbed.py status

# The part that needs no testbed on every core, then the testbed and act part a file per
# worker on two workers (one engine and registry; each test names its own images, stacks and
# caches), longest files first; coverage is the union of both.
MLOPS_SUBSET=light python -m pytest tests -q -n auto --cov --cov-report= --cov-fail-under=0 "$@"
MLOPS_SUBSET=heavy python -m pytest tests -n 2 --dist loadfile --no-loadscope-reorder \
  --cov --cov-append --cov-report=term --durations=30 "$@"
(cd example-project && python -m pytest -q tests -p no:cacheprovider -n auto)
