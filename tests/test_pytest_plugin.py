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
