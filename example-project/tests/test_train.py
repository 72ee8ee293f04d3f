import json
import subprocess
import sys
from pathlib import Path

import skops.io as sio

PROJECT = Path(__file__).resolve().parents[1]
TRAIN = PROJECT / "src" / "train.py"


def run_train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TRAIN), *args], capture_output=True, text=True)


def test_training_writes_model_predictions_metrics_and_params(trained):
    assert {p.name for p in trained.iterdir()} >= {
        "model.skops",
        "holdout-predictions.csv",
        "holdout-features.csv",
        "metrics.json",
        "params.json",
    }
    predictions = (trained / "holdout-predictions.csv").read_text().splitlines()
    assert predictions[0] == "transaction_id,is_fraud,fraud_probability,region"
    features = (trained / "holdout-features.csv").read_text().splitlines()
    assert features[0].startswith("transaction_id,amount,")
    # The same rows, in the same order: what the champion scores is what the gate judges.
    assert [r.split(",")[0] for r in features] == [r.split(",")[0] for r in predictions]
    metrics = json.loads((trained / "metrics.json").read_text())
    assert 11_400 <= metrics["rows_holdout"] <= 12_600  # 30% of 40,000, by each row's id


def test_a_row_stays_on_its_side_of_the_split_when_data_is_added():
    """The holdout is decided by each row's id alone: rows added later never move an existing
    row into training, so a champion never trained on rows of a later holdout."""
    import pandas as pd

    sys.path.insert(0, str(PROJECT / "src"))
    from train import in_holdout

    ids = pd.Series([f"t{i:06d}" for i in range(5000)])
    first = in_holdout(ids[:3000], 0.3)
    assert (in_holdout(ids, 0.3)[:3000] == first).all()
    assert 0.27 < first.mean() < 0.33


def test_predict_is_the_batch_contract(trained, tmp_path):
    """`predict` (the serving image's batch command): features CSV on stdin, the id and the
    score on stdout, nothing else there; the same scores the training wrote."""
    import csv
    import hashlib
    import os

    features = (trained / "holdout-features.csv").read_text()
    model = trained / "model.skops"
    # No card beside this model: the digest is what says which model it must be.
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    env = {**os.environ, "MODEL_PATH": str(model), "MODEL_SHA256": digest}
    predict = [sys.executable, str(PROJECT / "src" / "predict.py")]
    proc = subprocess.run(predict, input=features, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    expected = {r["transaction_id"]: float(r["fraud_probability"])
                for r in csv.DictReader((trained / "holdout-predictions.csv").open())}  # fmt: skip
    assert list(rows[0]) == ["transaction_id", "score"] and len(rows) == len(expected)
    assert all(abs(float(r["score"]) - expected[r["transaction_id"]]) < 2e-6 for r in rows)
    assert "scored" in proc.stderr
    broken = subprocess.run(predict, input="a,b\n1,2\n", capture_output=True, text=True, env=env)
    assert broken.returncode == 2 and "no column(s) transaction_id" in broken.stderr
    assert broken.stdout == ""
    # A card that is not JSON: one line, exit 1, no traceback, nothing on stdout.
    card = tmp_path / "broken-card.json"
    card.write_text("{not json")
    env_card = {**env, "MODEL_CARD": str(card), "MODEL_SHA256": ""}
    bad_card = subprocess.run(predict, input=features, capture_output=True, text=True, env=env_card)
    assert bad_card.returncode == 1 and bad_card.stdout == "", bad_card.stderr
    assert "cannot load the model" in bad_card.stderr and "Traceback" not in bad_card.stderr


def test_model_loads_with_the_serving_allow_list(trained):
    sys.path.insert(0, str(PROJECT / "src"))
    from serve import TRUSTED_TYPES, load_model

    path = trained / "model.skops"
    assert set(sio.get_untrusted_types(file=path)) <= set(TRUSTED_TYPES)
    assert hasattr(load_model(str(path)), "predict_proba")


def test_serving_refuses_a_type_outside_its_allow_list(tmp_path):
    import os

    import pytest
    from sklearn.preprocessing import FunctionTransformer

    sys.path.insert(0, str(PROJECT / "src"))
    from serve import load_model

    path = tmp_path / "hostile.skops"
    sio.dump(FunctionTransformer(func=os.getcwd), path)  # a function from os: never trusted
    assert "posix.getcwd" in sio.get_untrusted_types(file=path)
    with pytest.raises(RuntimeError, match=r"refusing to load untrusted types \['posix.getcwd'\]"):
        load_model(str(path))


def test_bad_data_exits_nonzero_with_one_line_and_no_model(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("amount,hour\n1,2\n")
    out = tmp_path / "out" / "model.skops"
    proc = run_train("--output-path", str(out), "--data", str(data))
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "missing column(s)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_non_numeric_amount_names_the_row(tmp_path):
    rows = (PROJECT / "data" / "transactions.csv").read_text().splitlines()[:50]
    rows[3] = rows[3].replace(rows[3].split(",")[1], "lots", 1)
    data = tmp_path / "bad.csv"
    data.write_text("\n".join(rows) + "\n")
    proc = run_train("--output-path", str(tmp_path / "m.skops"), "--data", str(data))
    assert proc.returncode == 1
    assert "row 4: column 'amount' must be a number" in proc.stderr


def test_pickle_output_path_is_refused(tmp_path):
    proc = run_train("--output-path", str(tmp_path / "model.pkl"))
    assert proc.returncode == 2 and "skops" in proc.stderr


def test_without_ids_no_feature_rows_are_written_for_the_champion(tmp_path):
    """Row positions are not ids: without a transaction_id column the training writes no
    holdout-features.csv (the gate then compares unpaired, and says so) and no id column."""
    import pandas as pd

    frame = pd.read_csv(PROJECT / "data" / "transactions.csv").drop(columns=["transaction_id"])
    data = tmp_path / "no-ids.csv"
    frame.head(4000).to_csv(data, index=False)
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / "holdout-features.csv"
    stale.write_text("transaction_id,amount\n1,2\n")
    proc = run_train("--data", str(data), "--output-path", str(tmp_path / "out" / "m.skops"))
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and "unpaired" in proc.stderr
    header = (tmp_path / "out" / "holdout-predictions.csv").read_text().splitlines()[0]
    assert header == "is_fraud,fraud_probability,region"
