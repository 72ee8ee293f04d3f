"""Skip unchanged: containerized-train does not repeat the champion's run. A real training run
writes a card; with that card, the same image, data, command and parameters skip training
(and say so), while a change to any of them trains."""

import json
import shutil

import pytest

from mlops_actions.train.lineage import unchanged_since
from support.train_fixtures import TRAIN, train_cli

pytestmark = pytest.mark.act

DATA = "data/transactions.csv"


@pytest.fixture(scope="module")
def first_run(pushed, tmp_path_factory):
    """A real run with data mounted, and the card it wrote."""
    tmp = tmp_path_factory.mktemp("first")
    data = tmp / "transactions.csv"
    shutil.copy(__import__("conftest").REPO / "example-project" / DATA, data)
    proc, artifacts = train_cli(pushed, tmp, "--data", str(data), command=TRAIN)
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = artifacts / "model-card.json"
    return data, card, json.loads(card.read_text())


def _again(pushed, tmp_path, data, card, *args, command=TRAIN):
    outputs = tmp_path / "out.txt"
    outputs.write_text("")
    proc, artifacts = train_cli(pushed, tmp_path, "--data", str(data), "--skip-if-unchanged-card",
                                str(card), *args, command=command,
                                env={"GITHUB_OUTPUT": str(outputs)})  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out, artifacts


def test_the_same_run_is_skipped_and_says_why(pushed, first_run, tmp_path):
    data, card, _ = first_run
    proc, out, artifacts = _again(pushed, tmp_path, data, card)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out["skipped"] == "true" and "retraining would repeat its run" in out["skip-reason"]
    assert "Training skipped" in proc.stdout
    # Nothing ran: the stale file the fixture planted is still there, no card was written.
    assert (artifacts / "model.skops").read_text() == "a stale model from an earlier run"
    assert not (artifacts / "model-card.json").exists()


@pytest.mark.parametrize("change", ["data", "params", "command"])
def test_any_change_trains(pushed, first_run, tmp_path, change):
    data, card, _ = first_run
    args, command = [], TRAIN
    if change == "data":
        changed = tmp_path / "transactions.csv"
        changed.write_text(data.read_text() + data.read_text().splitlines()[1] + "\n")
        data = changed
    elif change == "params":
        args = ["--params", "C=0.5"]
    else:
        command = TRAIN + " --param C=0.7"
    proc, out, artifacts = _again(pushed, tmp_path, data, card, *args, command=command)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out["skipped"] == "false" and (artifacts / "model-card.json").exists()


def test_a_card_that_cannot_tell_never_skips():
    card = {"image": {"digest": "sha256:" + "a" * 64}, "data": [{"mount": "/data/x", "sha256": "1"}],
            "command": ["python", "t.py"], "params": {}}  # fmt: skip
    same = dict(image_digest="sha256:" + "a" * 64, data=[{"mount": "/data/x", "sha256": "1"}],
                command=["python", "t.py"], params={})  # fmt: skip
    assert unchanged_since(card, **same)
    assert unchanged_since({**card, "data": None}, **same) is None
    assert unchanged_since({**card, "image": "x"}, **same) is None
    assert unchanged_since(card, **{**same, "image_digest": ""}) is None
    assert (
        unchanged_since(card, **{**same, "data": [{"mount": "/data/x", "dvc": {"md5": "1"}}]})
        is None
    )
    dvc_card = {**card, "data": [{"mount": "/data/x", "dvc": {"md5": "abc", "size": 3}}]}
    assert unchanged_since(
        dvc_card, **{**same, "data": [{"mount": "/data/x", "dvc": {"md5": "abc", "size": 3}}]}
    )
