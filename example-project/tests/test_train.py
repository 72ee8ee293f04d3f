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
        "metrics.json",
        "params.json",
    }
    header = (trained / "holdout-predictions.csv").read_text().splitlines()[0]
    assert header == "is_fraud,fraud_probability,region"
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["rows_holdout"] == 12000


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
