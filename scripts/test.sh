#!/usr/bin/env bash
# The whole test suite from a clean clone: set-up, lint gates (actionlint, zizmor,
# check-jsonschema, ruff, mypy), unit and integration tests, act-driven action tests with a
# local GitHub API stand-in, coverage, and the example project's own tests.
# Benchmarks are not run here: bash scripts/benchmark.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/dev/env.sh
source scripts/dev/env.sh

python -m pytest tests --cov --cov-report=term "$@"
(cd example-project && python -m pytest -q tests -p no:cacheprovider)
