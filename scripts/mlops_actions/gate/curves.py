"""The points behind the gate's pictures: ROC and precision-recall curves, a calibration curve and
score histograms by class. Pure NumPy, no I/O.

Every number is computed once here, rounded to DIGITS decimals, and goes into verdict.json as
it is; the Markdown, HTML and text renderings only draw these numbers, so none of them differs
from the JSON.

- Curve points are exact operating points (a threshold that is one of the scores, as
  scikit-learn's roc_curve and precision_recall_curve with every threshold kept), at most
  about MAX_POINTS of them: thresholds evenly spaced in rank among the positives and among the
  negatives, so both axes are covered where the data is. A test checks them against sklearn.
- Grids read each curve at evenly spaced steps (what a chart with an even axis can draw):
  the best true-positive rate with a false-positive rate at most x, and the precision at the
  first threshold whose recall reaches r. Both are real operating points, not interpolations.
- Calibration: CALIBRATION_BINS equal bins of the score, as sklearn's calibration_curve
  (strategy="uniform"): each bin's rows, positives, mean score and observed positive rate.
- Histograms: HISTOGRAM_BINS equal bins of [0, 1], counted per class, in chunks.

Memory: the curves read the two classes' sorted scores that evaluate() already made; the
binned parts go through the scores in chunks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlops_actions.gate.metrics import BoolArray, FloatArray

DIGITS = 4
MAX_POINTS = 200
GRID_STEPS = 20  # grid points at 0, 1/20, ..., 1
CALIBRATION_BINS = 10
HISTOGRAM_BINS = 20
_CHUNK = 1 << 18


def _r(x: float) -> float:
    return round(float(x), DIGITS) + 0.0  # + 0.0: no -0.0


def grid() -> list[float]:
    return [_r(i / GRID_STEPS) for i in range(GRID_STEPS + 1)]


def _thresholds(pos: FloatArray, neg: FloatArray) -> FloatArray:
    """At most about MAX_POINTS score values, evenly spaced in rank within each class."""
    half = MAX_POINTS // 2
    picked = [pos[np.linspace(0, pos.size - 1, min(pos.size, half)).astype(np.int64)]]
    if neg.size:
        picked.append(neg[np.linspace(0, neg.size - 1, min(neg.size, half)).astype(np.int64)])
    candidates: FloatArray = np.unique(np.concatenate(picked))[::-1]  # high to low
    return candidates


def _counts(pos: FloatArray, neg: FloatArray, t: FloatArray) -> tuple[Any, Any]:
    """Rows of each class scored >= each threshold."""
    tp = pos.size - np.searchsorted(pos, t, side="left")
    fp = neg.size - np.searchsorted(neg, t, side="left")
    return tp, fp


def roc(pos: FloatArray, neg: FloatArray) -> dict[str, Any] | None:
    """ROC points (from (0, 0), threshold None) and the grid; None without both classes."""
    if pos.size == 0 or neg.size == 0:
        return None
    t = _thresholds(pos, neg)
    tp, fp = _counts(pos, neg, t)
    points = [{"threshold": None, "fpr": 0.0, "tpr": 0.0}]
    points += [
        {"threshold": _r(th), "fpr": _r(f / neg.size), "tpr": _r(p / pos.size)}
        for th, p, f in zip(t.tolist(), tp.tolist(), fp.tolist(), strict=True)
    ]
    xs = grid()
    tpr = []
    for x in xs:
        allowed = math.floor(x * neg.size + 1e-9)  # negatives that may score >= the threshold
        if allowed >= neg.size:
            tpr.append(1.0)
            continue
        # The lowest threshold above the (allowed + 1)-th highest negative.
        cut = neg[neg.size - allowed - 1]
        tpr.append(_r((pos.size - np.searchsorted(pos, cut, side="right")) / pos.size))
    return {"points": points, "grid": {"fpr": xs, "tpr": tpr}}


def precision_recall(pos: FloatArray, neg: FloatArray) -> dict[str, Any] | None:
    """Precision-recall points and the grid; None without positives."""
    if pos.size == 0:
        return None
    t = _thresholds(pos, neg)
    tp, fp = _counts(pos, neg, t)
    points = [
        {"threshold": _r(th), "recall": _r(p / pos.size), "precision": _r(p / (p + f))}
        for th, p, f in zip(t.tolist(), tp.tolist(), fp.tolist(), strict=True)
        if p + f
    ]
    xs = grid()
    precision = []
    for r in xs:
        wanted = max(1, math.ceil(r * pos.size - 1e-9))  # positives the threshold must reach
        th = pos[pos.size - wanted]
        p = pos.size - int(np.searchsorted(pos, th, side="left"))
        f = neg.size - int(np.searchsorted(neg, th, side="left"))
        precision.append(_r(p / (p + f)))
    return {
        "points": points,
        "grid": {"recall": xs, "precision": precision},
        "prevalence": _r(pos.size / (pos.size + neg.size)),
    }


def _chunks(n: int) -> Any:
    for start in range(0, n, _CHUNK):
        yield slice(start, min(start + _CHUNK, n))


def calibration(y_true: BoolArray, score: FloatArray) -> list[dict[str, Any]]:
    """sklearn's calibration_curve(strategy="uniform") bins, with their counts; empty bins
    are left out, as sklearn does."""
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    rows = np.zeros(CALIBRATION_BINS, dtype=np.int64)
    positives = np.zeros(CALIBRATION_BINS, dtype=np.int64)
    sums = np.zeros(CALIBRATION_BINS, dtype=np.float64)
    for part in _chunks(score.size):
        s, y = score[part], y_true[part]
        ids = np.searchsorted(edges[1:-1], s)
        rows += np.bincount(ids, minlength=CALIBRATION_BINS)
        positives += np.bincount(ids, weights=y, minlength=CALIBRATION_BINS).astype(np.int64)
        sums += np.bincount(ids, weights=s, minlength=CALIBRATION_BINS)
    return [
        {
            "low": _r(edges[i]),
            "high": _r(edges[i + 1]),
            "rows": int(rows[i]),
            "positives": int(positives[i]),
            "mean_score": _r(sums[i] / rows[i]),
            "observed": _r(positives[i] / rows[i]),
        }
        for i in range(CALIBRATION_BINS)
        if rows[i]
    ]


def histogram(y_true: BoolArray, score: FloatArray, threshold: float) -> dict[str, Any]:
    """Counts of each class's scores in HISTOGRAM_BINS equal bins of [0, 1] (the last closed)."""
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)  # as numpy.histogram's
    pos = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    neg = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    for part in _chunks(score.size):
        s, y = score[part], y_true[part]
        ids = np.minimum(np.searchsorted(edges, s, side="right") - 1, HISTOGRAM_BINS - 1)
        pos += np.bincount(ids[y], minlength=HISTOGRAM_BINS)
        neg += np.bincount(ids[~y], minlength=HISTOGRAM_BINS)
    p_total, n_total = int(pos.sum()), int(neg.sum())
    return {
        "edges": [_r(e) for e in edges],
        "positives": pos.tolist(),
        "negatives": neg.tolist(),
        "positives_total": p_total,
        "negatives_total": n_total,
        # each bin's share of its class (what the chart draws, so the JSON holds it)
        "positive_share": [_r(c / p_total) if p_total else 0.0 for c in pos.tolist()],
        "negative_share": [_r(c / n_total) if n_total else 0.0 for c in neg.tolist()],
        "threshold": threshold,
    }


def compute(
    y_true: BoolArray,
    score: FloatArray,
    threshold: float,
    sorted_scores: tuple[FloatArray, FloatArray] | None = None,
) -> dict[str, Any]:
    """Every curve of one model's scores. sorted_scores: each class's scores, sorted, when the
    caller has them (evaluate(keep_sorted=True)); else they are made here."""
    if sorted_scores is None:
        pos = np.sort(score[y_true])
        neg = np.sort(score[~y_true])
    else:
        pos, neg = sorted_scores
    return {
        "roc": roc(pos, neg),
        "pr": precision_recall(pos, neg),
        "calibration": calibration(y_true, score),
        "histogram": histogram(y_true, score, threshold),
    }
