"""The serving image's batch contract (`predict`), which score-champion runs so the gate can
compare this model, as a champion, with its challenger on the challenger's own holdout rows:

    docker run -i <serving image> predict < holdout-features.csv > predictions.csv

stdin is CSV with a header: the id column (its name in MLOPS_ID_COLUMN, default
transaction_id) and the features. stdout is CSV: the id column and `score`, the probability of
fraud, one row per input row, and nothing else (messages go to stderr). The model is the one
serve.py would serve, loaded the same way: its sha256 checked against its card, with the fixed
list of trusted types. Exit 0 on success, 2 on bad input, 1 when the model cannot be loaded.
"""

from __future__ import annotations

import os
import sys

import pandas as pd


def main() -> int:
    import serve

    id_column = os.environ.get("MLOPS_ID_COLUMN", "transaction_id")
    try:
        serve.load_verified()
    except Exception as exc:  # a broken card or model file: one line, exit 1
        print(f"predict: cannot load the model: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if "model" not in serve.state:
        print("predict: this image holds no model (MODEL_PATH)", file=sys.stderr)
        return 1
    try:
        frame = pd.read_csv(sys.stdin)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        print(f"predict: stdin is not a CSV with a header ({exc})", file=sys.stderr)
        return 2
    features = list(serve.Transaction.model_fields)
    missing = [c for c in [id_column, *features] if c not in frame.columns]
    if missing:
        print(f"predict: stdin has no column(s) {', '.join(missing)}", file=sys.stderr)
        return 2
    proba = serve.state["model"].predict_proba(frame[features])[:, 1]
    out = pd.DataFrame({id_column: frame[id_column], "score": proba.round(6)})
    out.to_csv(sys.stdout, index=False)
    print(f"predict: {len(out):,} rows scored by {serve.state['sha256'][:12]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
