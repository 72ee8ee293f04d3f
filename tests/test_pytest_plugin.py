"""The pytest fixture gives the action's own metric definitions and checks."""

import pytest


def test_fixture_reports_metrics_and_failures(mlops_gate, predictions_csv, gate_yml):
    result = mlops_gate(predictions_csv, config=gate_yml)
    assert result.passed
    assert 0 < result.metrics["precision"] <= 1
    low, high = result.intervals["recall"]
    assert low <= result.metrics["recall"] <= high
    result.assert_passed()
    strict = mlops_gate(predictions_csv, config=gate_yml, thresholds="precision>=0.999")
    assert not strict.passed and strict.failures[0].metric == "precision"
    with pytest.raises(AssertionError, match="model gate failed 1 check"):
        strict.assert_passed()


def test_fixture_compares_with_the_champion_on_the_same_rows(mlops_gate, tmp_path):
    from conftest import write_csv

    ids = [f"r{i}" for i in range(300)]
    labels = [int(i % 5 == 0) for i in range(300)]
    ours = [0.9 if y else 0.1 for y in labels]
    theirs = [0.8 if y else 0.2 for y in labels]
    challenger = write_csv(tmp_path / "c.csv", {"id": ids, "label": labels, "score": ours})
    champion = write_csv(tmp_path / "p.csv", {"id": ids[::-1], "score": theirs[::-1]})
    config = tmp_path / "gate.yml"
    config.write_text("baseline: {roc_auc: {max_drop: 0.01}, brier: {max_drop: 0.01}}\n")
    result = mlops_gate(challenger, champion_predictions=champion, id_column="id", config=config)
    result.assert_passed()
    assert {c.comparison for c in result.result.decision.checks} == {"paired"}
    assert result.result.paired.differences["brier"].value == pytest.approx(0.01 - 0.04)
