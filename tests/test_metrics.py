"""Metric values agree with scikit-learn's to 1e-9, ties and edge cases included."""

import numpy as np
import pytest
from sklearn import metrics as sk

from mlops_actions.gate.metrics import Confusion, evaluate, wilson


def _reference(y, score, pred):
    cm = sk.confusion_matrix(y, pred, labels=[False, True])
    tn, fp, fn, tp = cm.ravel()
    return {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred),
        "recall": sk.recall_score(y, pred),
        "f1": sk.f1_score(y, pred),
        "specificity": tn / (tn + fp),
        "false_positive_rate": fp / (fp + tn),
        "selection_rate": pred.mean(),
        "roc_auc": sk.roc_auc_score(y, score),
        "average_precision": sk.average_precision_score(y, score),
        "log_loss": sk.log_loss(y, score),
        "brier": sk.brier_score_loss(y, score),
    }, (tp, fp, fn, tn)


@pytest.mark.parametrize(
    "n,prevalence,rounding,seed",
    [
        (500, 0.3, None, 1),
        (5000, 0.02, None, 2),
        (20000, 0.1, 2, 3),
        (3000, 0.5, 1, 4),
        (100000, 0.01, 3, 5),
    ],
)
def test_agrees_with_sklearn(n, prevalence, rounding, seed):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < prevalence
    score = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1)
    if rounding is not None:
        score = np.round(score, rounding)  # many ties
    result = evaluate(y, score=score, threshold=0.5)
    reference, cells = _reference(y, score, score >= 0.5)
    c = result.confusion
    assert (c.tp, c.fp, c.fn, c.tn) == tuple(int(v) for v in cells)
    for name, expected in reference.items():
        got = result.metrics[name].value
        assert got == pytest.approx(expected, abs=1e-9), name
        e = result.metrics[name]
        # an interval, around the value; or none, with the reason (a bound gate then fails)
        assert (e.low is None and e.reason) or e.low <= got <= e.high, name


def test_prediction_column_wins_over_score_threshold():
    y = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    score = np.array([0.9, 0.2, 0.1, 0.8, 0.7, 0.3])
    pred = np.array([1, 1, 0, 0, 0, 0], dtype=bool)
    result = evaluate(y, score=score, y_pred=pred)
    assert result.metrics["precision"].value == 1.0
    assert result.metrics["recall"].value == pytest.approx(2 / 3)
    assert result.metrics["roc_auc"].value == pytest.approx(sk.roc_auc_score(y, score), abs=1e-12)


def test_score_metrics_undefined_without_scores():
    y = np.array([1, 0, 1, 0], dtype=bool)
    result = evaluate(y, y_pred=np.array([1, 0, 0, 0], dtype=bool))
    assert result.metrics["roc_auc"].value is None
    assert "score" in result.metrics["roc_auc"].reason


def test_undefined_metrics_carry_reasons():
    y = np.zeros(10, dtype=bool)
    result = evaluate(y, score=np.full(10, 0.1))
    assert result.metrics["precision"].reason == "no positive predictions"
    assert result.metrics["recall"].reason == "no positive labels"
    assert result.metrics["roc_auc"].value is None
    assert result.metrics["accuracy"].value == 1.0


def test_wilson_matches_textbook_value():
    # 81 of 263, Newcombe (1998) table I: Wilson 0.2553-0.3662 (method 3), and with the
    # continuity correction, what the gate uses, 0.2535-0.3682 (method 4).
    from mlops_actions.gate.metrics import _wilson_fraction

    assert _wilson_fraction(81 / 263, 263, 0.95) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    e = wilson(81, 263, 0.95)
    assert (e.low, e.high) == pytest.approx((0.2535, 0.3682), abs=1e-4)


def test_f1_bootstrap_is_reproducible():
    from mlops_actions.gate.metrics import f1_estimate

    c = Confusion(tp=40, fp=10, fn=8, tn=942)
    assert f1_estimate(c, 0.95) == f1_estimate(c, 0.95)


def test_average_precision_next_to_one_does_not_overflow():
    # 24 positives .90-.95, 40 negatives .10-.295: rounding puts AP at 0.9999999999999999.
    pos = np.linspace(0.90, 0.95, 24)
    neg = np.linspace(0.10, 0.295, 40)
    y = np.concatenate([np.ones(24, bool), np.zeros(40, bool)])
    e = evaluate(y, score=np.concatenate([pos, neg])).metrics["average_precision"]
    assert e.value == pytest.approx(1.0)
    assert 0.5 < e.low < 0.95 and e.high == 1.0


def test_all_positive_labels_give_honest_intervals():
    y = np.ones(8, bool)
    e = evaluate(y, score=np.linspace(0.6, 0.9, 8)).metrics
    assert e["roc_auc"].value is None
    ap = e["average_precision"]  # 8 positives: too few for an honest interval
    assert ap.value == 1.0 and ap.low is None and "positives" in ap.reason


def test_perfect_separation_on_ten_rows_is_not_a_certainty():
    y = np.array([1] * 5 + [0] * 5, dtype=bool)
    score = np.array([0.9] * 5 + [0.1] * 5)
    m = evaluate(y, score=score).metrics
    for name in ("roc_auc", "average_precision", "f1", "precision", "recall"):
        assert m[name].value == 1.0, name
        # a lower-bound gate at 0.95 must not pass: a low end under it, or no interval at all
        assert m[name].low is None or m[name].low < 0.95, (name, m[name])


def test_normal_intervals_need_enough_rows():
    m = evaluate(np.array([True]), score=np.array([0.9])).metrics
    for name in ("log_loss", "brier"):
        assert m[name].value is not None and m[name].low is None and "rows" in m[name].reason


@pytest.mark.parametrize("seed", range(40))
def test_every_interval_is_total_on_small_samples(seed):
    """Any input gives, per metric, either 'undefined' or finite low <= value <= high."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 12))
    y = rng.random(n) < rng.choice([0.0, 0.3, 1.0])
    score = rng.choice([0.0, 0.5, 1.0, 0.99999999, 1e-12], n) if seed % 2 else rng.random(n)
    for name, e in evaluate(y, score=score).metrics.items():
        if e.value is None:
            assert e.reason, name
            continue
        assert np.isfinite(e.value), name
        if e.low is not None:
            assert np.isfinite(e.low) and np.isfinite(e.high), name
            assert e.low <= e.value <= e.high, (name, e)
            if name not in ("log_loss", "brier") and n > 0:
                assert e.high > e.low, (name, e)  # never a zero-width claim


def test_log_loss_from_exact_zero_or_one_scores_has_no_interval():
    """A score of exactly 0 for a positive is a clipped loss of 36: the mean of such losses is
    far too skewed for a normal interval (Cochran's rule), so none is given."""
    y = np.zeros(400, bool)
    y[:8] = True
    score = np.where(y, 0.9, 0.05)
    score[0] = 0.0  # one positive scored exactly 0
    m = evaluate(y, score=score).metrics
    assert m["log_loss"].low is None and "too skewed" in m["log_loss"].reason
    # Scores with no such extremes, in a balanced holdout: the interval is given.
    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.3
    tame = evaluate(y, score=np.clip(0.3 + 0.4 * y + rng.normal(0, 0.1, 400), 0.01, 0.99)).metrics
    assert tame["log_loss"].low is not None and tame["brier"].low is not None
