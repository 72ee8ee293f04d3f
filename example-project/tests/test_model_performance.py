"""The model must meet its bar: the same metrics and config as the model-gate action."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CONFIG = PROJECT / ".mlops" / "gate.yml"


def test_precision_and_recall_meet_the_bar(trained, mlops_gate):
    result = mlops_gate(trained / "holdout-predictions.csv", config=CONFIG)
    assert result.metrics["precision"] >= 0.85
    assert result.metrics["recall"] >= 0.80


def test_every_gate_check_passes(trained, mlops_gate):
    mlops_gate(trained / "holdout-predictions.csv", config=CONFIG).assert_passed()


def test_recall_is_similar_across_regions(trained, mlops_gate):
    result = mlops_gate(trained / "holdout-predictions.csv", config=CONFIG)
    recalls = [g.metrics["recall"].value for g in result.result.groups["region"].values()]
    assert max(recalls) - min(recalls) <= 0.10
