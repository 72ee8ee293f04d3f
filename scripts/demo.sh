#!/usr/bin/env bash
# The main job, locally: train the example fraud model, then run the model gate on its holdout
# predictions and print the report. No cloud needed; GitHub reporting switches on only inside
# Actions. Artifacts land in example-project/artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/dev/env.sh
source scripts/dev/env.sh

cd example-project
echo "== training the fraud detector (data/transactions.csv) ==" >&2
python src/train.py --output-path artifacts/model.skops >/dev/null
echo "== model gate (.mlops/gate.yml) ==" >&2
status=0
mlops-actions gate --predictions artifacts/holdout-predictions.csv --config .mlops/gate.yml \
  --output-dir artifacts/gate "$@" || status=$?
echo "verdict: example-project/artifacts/gate/verdict.json  report: example-project/artifacts/gate/report.md" >&2
exit "$status"
