"""Train the fraud detector and write everything the MLOps loop needs next to the model.

    python src/train.py --output-path artifacts/model.skops [--data data/transactions.csv]

Writes, in the model's directory:
- the model, saved with skops (never pickle);
- holdout-predictions.csv: transaction_id, is_fraud, fraud_probability, region (the model
  gate's input);
- holdout-features.csv: transaction_id and the features of the same rows, which the champion's
  serving image scores (`predict`), so the gate compares both models on the same rows;
- metrics.json: holdout metrics;
- params.json: the parameters used.
Exits 1 with a one-line message on bad data; nothing that looks like a model is left behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    OneHotEncoder,
    SplineTransformer,
    StandardScaler,
)

NUMERIC = ["amount", "hour", "is_international", "account_age_days", "distance_from_home_km"]
CATEGORICAL = ["merchant_category", "region"]
LABEL = "is_fraud"
ID = "transaction_id"
DEFAULT_PARAMS = {
    "C": 10.0,
    "max_iter": 2000,
    "age_bins": 20,
    "test_size": 0.3,
    "random_state": 42,
    "decision_threshold": 0.5,
}


class DataError(Exception):
    pass


def load(path: str) -> pd.DataFrame:
    if not Path(path).is_file():
        raise DataError(f"{path}: data file not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in [*NUMERIC, *CATEGORICAL, LABEL] if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise DataError(f"{path}: no rows")
    for column in [*NUMERIC, LABEL]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise DataError(
                f"{path}: row {row}: column '{column}' must be a number, "
                f"got {frame[column].iloc[row - 2]!r}"
            )
        frame[column] = values
    labels = set(frame[LABEL].unique())
    if not labels <= {0, 1}:
        raise DataError(f"{path}: column '{LABEL}' must be 0/1, found {sorted(labels)[:5]}")
    if len(labels) < 2:
        raise DataError(
            f"{path}: column '{LABEL}' has only one class; need fraud and non-fraud rows"
        )
    return frame


def build_model(params: dict[str, float]) -> Pipeline:
    """Logistic regression over shaped features: log amount, hour and age buckets, splines."""
    one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    features = ColumnTransformer(
        [
            ("categories", one_hot, [*CATEGORICAL, "hour"]),
            ("log_amount", FunctionTransformer(np.log1p), ["amount"]),
            (
                "age",
                KBinsDiscretizer(
                    n_bins=int(params["age_bins"]), quantile_method="averaged_inverted_cdf"
                ),
                ["account_age_days"],
            ),
            ("distance", SplineTransformer(n_knots=6), ["distance_from_home_km"]),
            ("flags", "passthrough", ["is_international"]),
        ]
    )
    classifier = LogisticRegression(C=params["C"], max_iter=int(params["max_iter"]))
    return Pipeline(
        [("features", features), ("scale", StandardScaler()), ("classifier", classifier)]
    )


def _write_atomic(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the next job step must read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def in_holdout(ids: pd.Series, share: float) -> np.ndarray:
    """A row's side of the split depends on its own id only: a transaction in this holdout was
    in the holdout of every earlier version that had it, never in its training rows, so the
    champion scored on this holdout has not seen these rows either."""
    cut = int(share * 10_000)
    return np.array(
        [int(hashlib.sha256(str(i).encode()).hexdigest()[:8], 16) % 10_000 < cut for i in ids]
    )


def split(frame: pd.DataFrame, params: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    if ID in frame.columns:
        holdout = in_holdout(frame[ID], params["test_size"])
        return frame[~holdout], frame[holdout]
    # No id to split by: a seeded, stratified split (the paired comparison then needs ids).
    train_part, holdout = train_test_split(
        frame,
        test_size=params["test_size"],
        random_state=int(params["random_state"]),
        stratify=frame[LABEL],
    )
    return train_part, holdout


def train(data_path: str, output_path: str, params: dict[str, float]) -> dict[str, float]:
    frame = load(data_path)
    train_part, holdout = split(frame, params)
    model = build_model(params)
    model.fit(train_part[NUMERIC + CATEGORICAL], train_part[LABEL])
    proba = model.predict_proba(holdout[NUMERIC + CATEGORICAL])[:, 1]
    predicted = proba >= params["decision_threshold"]
    y = holdout[LABEL].to_numpy()
    metrics = {
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted)),
        "roc_auc": float(roc_auc_score(y, proba)),
        "average_precision": float(average_precision_score(y, proba)),
        "rows_train": len(train_part),
        "rows_holdout": len(holdout),
    }
    out = Path(output_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    predictions = pd.DataFrame(
        {LABEL: y, "fraud_probability": np.round(proba, 6), "region": holdout["region"].to_numpy()}
    )
    directory = out.parent
    written = list(OUTPUTS)
    if ID in holdout.columns:
        # The champion is scored on these rows and joined by id: only real ids can pair them.
        predictions.insert(0, ID, holdout[ID].to_numpy())
        features = holdout[[ID, *NUMERIC, *CATEGORICAL]]
        _write_atomic(directory / FEATURES, lambda p: features.to_csv(p, index=False))
        written.append(FEATURES)
    else:
        (directory / FEATURES).unlink(missing_ok=True)  # an earlier run's rows are not these
        print(f"no {ID} column: the champion cannot be scored on these rows, so the gate "
              "compares with its stored metrics (unpaired)", file=sys.stderr)  # fmt: skip
    _write_atomic(
        directory / "holdout-predictions.csv", lambda p: predictions.to_csv(p, index=False)
    )
    _write_atomic(
        directory / "metrics.json",
        lambda p: Path(p).write_text(json.dumps(metrics, indent=2) + "\n"),
    )
    _write_atomic(
        directory / "params.json", lambda p: Path(p).write_text(json.dumps(params, indent=2) + "\n")
    )
    # The model goes last: its presence means the run finished.
    _write_atomic(out, lambda p: sio.dump(model, p))
    upload_outputs(directory, [directory / n for n in written] + [out])
    return metrics


OUTPUTS = ("holdout-predictions.csv", "metrics.json", "params.json")
FEATURES = "holdout-features.csv"


def upload_outputs(directory: Path, files: list[Path]) -> None:
    """On ECS (containerized-train backend ecs) the outputs travel through S3: upload them to
    MLOPS_ARTIFACTS_URI, the model last."""
    uri = os.environ.get("MLOPS_ARTIFACTS_URI")
    if not uri:
        return
    import boto3

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3")
    for path in files:
        s3.upload_file(
            str(path), bucket, f"{prefix.rstrip('/')}/{path.relative_to(directory).as_posix()}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the fraud detector.")
    parser.add_argument("--output-path", required=True, help="where the model (.skops) goes")
    parser.add_argument(
        "--data", default=str(Path(__file__).resolve().parents[1] / "data" / "transactions.csv")
    )
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    params = dict(DEFAULT_PARAMS)
    # containerized-train passes its `params` input as JSON in MLOPS_PARAMS; --param wins.
    try:
        given = json.loads(os.environ.get("MLOPS_PARAMS") or "{}")
    except ValueError:
        print("error: MLOPS_PARAMS is not valid JSON", file=sys.stderr)
        return 2
    for key, value in given.items():
        if key not in DEFAULT_PARAMS:
            print(
                f"error: params: unknown parameter {key!r}; known: {', '.join(DEFAULT_PARAMS)}",
                file=sys.stderr,
            )
            return 2
        params[key] = float(value)
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or key not in DEFAULT_PARAMS:
            print(
                f"error: --param {item!r}: expected KEY=VALUE, KEY one of "
                f"{', '.join(DEFAULT_PARAMS)}",
                file=sys.stderr,
            )
            return 2
        params[key] = float(value)
    if not args.output_path.endswith(".skops"):
        print(
            f"error: --output-path {args.output_path}: models are saved with skops; "
            "use a .skops path",
            file=sys.stderr,
        )
        return 2
    try:
        metrics = train(args.data, args.output_path, params)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
