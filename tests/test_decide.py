"""What the gate decides, tested on the pure core (no files)."""

import pytest

from mlops_actions.gate.config import GateConfig, parse_config
from mlops_actions.gate.decide import GroupResult, decide, judged_value
from mlops_actions.gate.metrics import Estimate


def cfg(**doc) -> GateConfig:
    return parse_config(doc, "test.yml")


def est(value, low=None, high=None):
    return Estimate(value, low, high, "test")


def test_value_checks_min_and_max():
    config = cfg(metrics={"recall": {"min": 0.8}, "log_loss": {"max": 0.3}})
    decision = decide({"recall": est(0.85), "log_loss": est(0.35)}, config)
    assert [c.status for c in decision.checks] == ["pass", "fail"]
    assert "is above the maximum 0.3" in decision.checks[1].message
    assert not decision.passed


@pytest.mark.parametrize(
    "gate_on,expected", [("point", 0.85), ("lower_bound", 0.78), ("upper_bound", 0.9)]
)
def test_gate_on_picks_the_judged_end(gate_on, expected):
    assert judged_value("recall", est(0.85, 0.78, 0.9), gate_on) == expected


def test_lower_bound_uses_the_upper_end_for_losses():
    assert judged_value("log_loss", est(0.2, 0.15, 0.25), "lower_bound") == 0.25
    assert judged_value("log_loss", est(0.2, 0.15, 0.25), "upper_bound") == 0.15


def test_baseline_absolute_and_relative_drops():
    config = cfg(baseline={"recall": {"max_drop": 0.01}, "precision": {"max_drop_relative": 0.02}})
    metrics = {"recall": est(0.80), "precision": est(0.88)}
    decision = decide(metrics, config, baseline={"recall": est(0.805), "precision": est(0.90)})
    recall, precision = decision.checks
    assert recall.status == "pass" and "worsened by 0.005" in recall.message
    assert precision.status == "fail" and "worsened by 2.2%" in precision.message


def test_baseline_improvement_passes_and_loss_increase_is_a_drop():
    config = cfg(baseline={"recall": {"max_drop": 0.0}, "brier": {"max_drop": 0.01}})
    decision = decide(
        {"recall": est(0.9), "brier": est(0.08)},
        config,
        baseline={"recall": est(0.85), "brier": est(0.05)},
    )
    assert decision.checks[0].status == "pass" and "no worsening" in decision.checks[0].message
    assert decision.checks[1].status == "fail"


def test_no_baseline_skips_and_says_so():
    config = cfg(metrics={"recall": {"min": 0.5}}, baseline={"recall": {"max_drop": 0.01}})
    decision = decide({"recall": est(0.9)}, config)
    assert decision.passed and decision.checks[1].status == "skipped"
    assert "No baseline" in decision.notes[0]


def test_fail_closed_when_metric_or_baseline_value_is_missing():
    config = cfg(metrics={"precision": {"min": 0.5}}, baseline={"recall": {"max_drop": 0.1}})
    decision = decide(
        {"precision": Estimate.undefined("no positive predictions"), "recall": est(0.8)},
        config,
        baseline={},
    )
    assert [c.status for c in decision.checks] == ["fail", "fail"]
    assert "no positive predictions" in decision.checks[0].message
    assert "the baseline has no recall" in decision.checks[1].message


def _groups(values, rows=100, positives=40):
    return {
        "region": {
            name: GroupResult(rows, positives, {"recall": est(v)}) for name, v in values.items()
        }
    }


def test_fairness_difference_and_ratio():
    config = cfg(
        fairness={
            "group_columns": ["region"],
            "metrics": {"recall": {"max_difference": 0.1, "min_ratio": 0.9}},
        }
    )
    decision = decide({}, config, groups=_groups({"a": 0.9, "b": 0.78}))
    difference, ratio = decision.checks
    assert difference.status == "fail" and difference.observed == pytest.approx(0.12)
    assert "lowest b 0.78, highest a 0.9" in difference.message
    assert ratio.status == "fail" and ratio.observed == pytest.approx(0.78 / 0.9)


def test_fairness_ignores_small_groups_and_fails_closed_without_two_groups():
    config = cfg(
        fairness={
            "group_columns": ["region"],
            "min_group_size": 50,
            "metrics": {"recall": {"max_difference": 0.1}},
        }
    )
    groups = {
        "region": {
            "a": GroupResult(100, 40, {"recall": est(0.9)}),
            "tiny": GroupResult(5, 1, {"recall": est(0.0)}),
        }
    }
    decision = decide({}, config, groups=groups)
    assert (
        decision.checks[0].status == "fail" and "fewer than 2 groups" in decision.checks[0].message
    )
    assert any("tiny" in note for note in decision.notes)


def test_fairness_without_predictions_fails_closed():
    config = cfg(
        fairness={"group_columns": ["region"], "metrics": {"recall": {"max_difference": 0.1}}}
    )
    decision = decide({"recall": est(0.9)}, config, groups=None)
    assert (
        decision.checks[0].status == "fail"
        and "needs a predictions file" in decision.checks[0].message
    )


def test_a_gate_that_judged_nothing_fails_and_says_what_to_add():
    decision = decide({"recall": est(0.9)}, cfg())
    assert not decision.passed and decision.checks == ()
    assert "Nothing was judged" in decision.notes[0] and "add a threshold" in decision.notes[0]


def test_only_baseline_checks_and_no_champion_judges_nothing():
    """The first run of a loop whose config has only baseline checks: nothing to compare with,
    so nothing judged, so no pass."""
    decision = decide({"recall": est(0.9)}, cfg(baseline={"recall": {"max_drop": 0.01}}))
    assert not decision.passed and "Nothing was judged" in decision.notes[0]


def test_bound_gate_fails_closed_without_an_interval():
    config = cfg(confidence={"gate_on": "lower_bound"}, metrics={"recall": {"min": 0.5}})
    decision = decide({"recall": est(0.9)}, config)  # e.g. a metrics file with no intervals
    (check,) = decision.checks
    assert check.status == "fail" and "no confidence interval" in check.message
    # The point gate still judges the point value.
    point = cfg(metrics={"recall": {"min": 0.5}})
    assert decide({"recall": est(0.9)}, point).passed


def test_lower_bound_gate_does_not_pass_a_perfect_tiny_sample():
    import numpy as np

    from mlops_actions.gate.metrics import evaluate

    y = np.array([1] * 5 + [0] * 5, dtype=bool)
    metrics = evaluate(y, score=np.array([0.9] * 5 + [0.1] * 5)).metrics
    rules = {m: {"min": 0.95} for m in ("roc_auc", "average_precision", "f1")}
    rules["log_loss"] = {"max": 0.5}
    config = cfg(confidence={"gate_on": "lower_bound"}, metrics=rules)
    decision = decide(metrics, config)
    assert [c.status for c in decision.checks] == ["fail"] * 4, decision.checks


def test_fairness_fails_on_a_group_where_the_metric_is_undefined():
    config = cfg(
        fairness={"group_columns": ["region"], "metrics": {"precision": {"max_difference": 0.1}}}
    )
    undefined = Estimate.undefined("no positive predictions")
    groups = {
        "region": {
            "A": GroupResult(300, 80, {"precision": est(0.8)}),
            "B": GroupResult(300, 70, {"precision": est(0.82)}),
            "C": GroupResult(300, 84, {"precision": undefined}),
            "tiny": GroupResult(5, 1, {"precision": undefined}),  # below min_group_size: ignored
        }
    }
    (check,) = decide({}, config, groups=groups).checks
    assert check.status == "fail"
    assert "group C (no positive predictions)" in check.message and "tiny" not in check.message


def test_a_recall_spread_is_judged_only_on_groups_with_enough_positives():
    """One recall spread was judged on 19 positives: a group needs min_group_positives as well
    as min_group_size for a metric that rests on the positives."""
    config = cfg(fairness={"group_columns": ["region"], "min_group_positives": 20,
                           "metrics": {"recall": {"max_difference": 0.1}}})  # fmt: skip
    groups = {"region": {"a": GroupResult(500, 19, {"recall": est(0.5)}),
                         "b": GroupResult(500, 60, {"recall": est(0.9)}),
                         "c": GroupResult(500, 80, {"recall": est(0.85)})}}  # fmt: skip
    decision = decide({}, config, groups=groups)
    assert decision.passed, decision.checks  # a (19 positives) is not judged
    assert any("fewer than 20 positives (min_group_positives)" in n and ": a." in n
               for n in decision.notes), decision.notes  # fmt: skip
