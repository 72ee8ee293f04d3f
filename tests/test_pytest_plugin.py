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


def _holdout(n=2000, seed=3):
    import numpy as np

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    score = np.clip(0.35 * y + rng.normal(0.3, 0.15, n), 0, 1)
    region = np.where(rng.random(n) < 0.5, "north", "south")
    return y, score, region


def test_a_dataframe_with_its_own_column_names_and_a_dict_config(mlops_gate):
    """Keyword columns instead of a YAML file; groups by column; the values equal sklearn's."""
    import pandas as pd
    from sklearn.metrics import recall_score, roc_auc_score

    y, score, region = _holdout()
    frame = pd.DataFrame({"is_fraud": y, "p_fraud": score, "region": region})
    result = mlops_gate(
        frame, label_column="is_fraud", score_column="p_fraud", group_columns=["region"],
        config={"metrics": {"recall": {"min": 0.5}}, "fairness": {"metrics": {"recall": {"max_difference": 0.2}}}},
    )  # fmt: skip
    result.assert_passed()
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert result.metrics["recall"] == pytest.approx(recall_score(y, score >= 0.5))
    north = region == "north"
    assert result.groups["region"]["north"]["recall"] == pytest.approx(
        recall_score(y[north], score[north] >= 0.5)
    )
    assert "passed" in repr(result) and "roc_auc=" in repr(result)


def test_arrays_and_a_failure_that_names_the_check(mlops_gate):
    y, score, _ = _holdout()
    result = mlops_gate(y_true=y, y_score=score, thresholds="precision>=0.99")
    assert not result.passed and [c.metric for c in result.failures] == ["precision"]
    with pytest.raises(AssertionError, match=r"(?s)failed 1 check.*precision"):
        result.assert_passed()
    # A gate with nothing to judge is not a pass, here as in the action.
    with pytest.raises(AssertionError, match="nothing was judged"):
        mlops_gate(y_true=y, y_score=score).assert_passed()


def test_fixture_mistakes_are_the_clis_one_line_errors(mlops_gate):
    import pandas as pd

    from mlops_actions.errors import UserError

    y, score, _ = _holdout(300)
    frame = pd.DataFrame({"is_fraud": y, "p": score})
    with pytest.raises(
        UserError,
        match=r"given-predictions.parquet: no label column 'label'.*\(columns: is_fraud, p\)",
    ):
        mlops_gate(frame, score_column="p", thresholds="recall>=0.1")
    with pytest.raises(UserError, match=r"config: metrics.recal: unknown metric"):
        mlops_gate(frame, label_column="is_fraud", score_column="p",
                   config={"metrics": {"recal": {"min": 0.5}}})  # fmt: skip
    with pytest.raises(UserError, match="predictions must be a path, a DataFrame or a mapping"):
        mlops_gate(42)


def test_arrays_of_predicted_labels_and_crossed_groups(mlops_gate):
    y, score, region = _holdout()
    predicted = (score >= 0.5).astype(int)
    by_label = mlops_gate(y_true=y, y_pred=predicted, thresholds="recall>=0.1")
    with_scores = mlops_gate(y_true=y, y_score=score, thresholds="recall>=0.1")
    assert by_label.metrics["recall"] == pytest.approx(with_scores.metrics["recall"])
    import pandas as pd

    frame = pd.DataFrame({"y": y, "s": score, "region": region, "tier": region[::-1]})
    one = mlops_gate(frame, label_column="y", score_column="s", group_columns="region",
                     thresholds="recall>=0.1")  # fmt: skip
    assert set(one.groups) == {"region"}
    crossed = mlops_gate(frame, label_column="y", score_column="s",
                         group_columns=[["region", "tier"]], thresholds="recall>=0.1")  # fmt: skip
    assert list(crossed.groups) == ["region × tier"]
    from mlops_actions.errors import UserError

    with pytest.raises(UserError, match="leave out label_column"):
        mlops_gate(y_true=y, y_score=score, label_column="y")
