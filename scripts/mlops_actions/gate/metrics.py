"""Binary-classification metrics with confidence intervals. Pure NumPy, no I/O.

Every metric agrees with scikit-learn's definition (tests check to 1e-9) and carries an interval
that stays honest at the extremes (a perfect score on five rows is not a certainty):

- proportions (accuracy, precision, recall, specificity, false_positive_rate, selection_rate):
  Wilson's score interval with continuity correction (Newcombe 1998, method 4): the plain
  Wilson interval misses on the optimistic side up to 17% of the time when five or fewer
  outcomes of the rarer kind are expected; the corrected one stays near or under 2.5%;
- f1: the same interval of the Jaccard index J = TP / (TP + FP + FN), mapped through
  F1 = 2J / (1 + J). Given the rows that are not true negatives, TP is binomial with
  probability J, so this is a proportion interval and never has zero width;
- roc_auc: the union of Newcombe's score-type interval (2006, method 5: the Hanley-McNeil
  variance, taken at each candidate AUC and inverted) and DeLong's Wald interval. DeLong's alone
  undercovers badly with few positives and a high AUC (0.67 at 10 positives); Newcombe's alone
  is a little narrow at moderate AUCs with many rows (0.92 at AUC 0.6); the union holds both;
- average_precision: the logit interval of Boyd et al. (2013) on the number of positives, its
  spread widened by AP_SPREAD (the logit form understates AP's spread by about a tenth at
  moderate AUCs: tests/benchmarks/bench_interval_coverage.py), or the Wilson interval on the
  same count where the logit is degenerate (AP at or next to 0 or 1); from AP_MIN_POSITIVES
  positives on;
- log_loss, brier: the normal interval of a mean of per-row losses, skewness-corrected (Hall
  1992: both ends move up by s·γ·(2z² + 1)/(6n)), given only from
  MIN_ROWS_FOR_NORMAL rows on, and only where the losses are not too skewed for it (Cochran's
  rule: n > 25·skewness²; scores of exactly 0 or 1 on the wrong side give clipped losses of 36
  that no normal interval can hold). Otherwise the interval is reported as unavailable.

Where no interval is given, a bound gate fails closed (decide.py).

Score-based metrics are computed from the two classes' sorted scores with `searchsorted`, in
chunks, so memory stays a small multiple of the input even at 10M rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

MIN_ROWS_FOR_NORMAL = 100  # a mean of fewer skewed losses is not near normal (simulation)
AP_MIN_POSITIVES = 20
AP_SPREAD = 1.2
_CHUNK = 1 << 18  # rows per chunk: bounds the temporaries of the score metrics


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool
    needs_score: bool
    description: str
    at_most_one: bool = True  # a share or a probability; log loss is not bounded above


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo(True, False, "share of rows classified correctly"),
    "precision": MetricInfo(True, False, "TP / (TP + FP)"),
    "recall": MetricInfo(True, False, "TP / (TP + FN), the true positive rate"),
    "f1": MetricInfo(True, False, "harmonic mean of precision and recall"),
    "specificity": MetricInfo(True, False, "TN / (TN + FP), the true negative rate"),
    "false_positive_rate": MetricInfo(False, False, "FP / (FP + TN)"),
    "selection_rate": MetricInfo(True, False, "share of rows predicted positive"),
    "roc_auc": MetricInfo(True, True, "area under the ROC curve"),
    "average_precision": MetricInfo(True, True, "area under the precision-recall curve"),
    "log_loss": MetricInfo(False, True, "mean negative log-likelihood", at_most_one=False),
    "brier": MetricInfo(False, True, "mean squared error of the probability"),
}


@dataclass(frozen=True)
class Estimate:
    """A metric's point value and interval; value is None when it cannot be computed."""

    value: float | None
    low: float | None = None
    high: float | None = None
    method: str = ""
    reason: str | None = None

    @staticmethod
    def undefined(reason: str) -> Estimate:
        return Estimate(None, reason=reason)


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def rows(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.fp + self.tn


@dataclass(frozen=True)
class Evaluation:
    confusion: Confusion
    metrics: dict[str, Estimate]
    level: float
    # each class's scores, sorted (kept on request: the paired comparison reuses them)
    sorted_scores: tuple[FloatArray, FloatArray] | None = None


def z_value(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson(successes: int, trials: int, level: float) -> Estimate:
    """A proportion with Wilson's continuity-corrected score interval."""
    if trials == 0:
        return Estimate.undefined("denominator is zero")
    low, high = _wilson_cc(successes, trials, level)
    return Estimate(successes / trials, low, high, "wilson cc")


def _wilson_cc(successes: int, trials: int, level: float) -> tuple[float, float]:
    """Newcombe (1998) method 4: Wilson's interval with the continuity correction."""
    z, n, x = z_value(level), trials, successes
    p = x / n
    q = 1 - p
    low, high = 0.0, 1.0
    if x > 0:
        root = z * z - 2 - 1 / n + 4 * p * (n * q + 1)
        low = max(0.0, (2 * n * p + z * z - 1 - z * math.sqrt(max(0.0, root))) / (2 * (n + z * z)))
    if x < n:
        root = z * z + 2 - 1 / n + 4 * p * (n * q - 1)
        high = min(1.0, (2 * n * p + z * z + 1 + z * math.sqrt(max(0.0, root))) / (2 * (n + z * z)))
    return min(low, p), max(high, p)


def f1_estimate(c: Confusion, level: float) -> Estimate:
    involved = c.tp + c.fp + c.fn  # rows that are not true negatives
    if involved == 0:
        return Estimate.undefined("no positive labels and no positive predictions")
    jaccard = wilson(c.tp, involved, level)
    assert jaccard.low is not None and jaccard.high is not None

    def to_f1(j: float) -> float:
        return 2 * j / (1 + j)

    return Estimate(
        2 * c.tp / (2 * c.tp + c.fp + c.fn),
        to_f1(jaccard.low),
        to_f1(jaccard.high),
        "wilson cc on TP/(TP+FP+FN)",
    )


def confusion_from_predictions(y_true: BoolArray, y_pred: BoolArray) -> Confusion:
    # bincount over a 2-bit code avoids four full-size boolean temporaries.
    code = y_true.view(np.uint8) * np.uint8(2) + y_pred.view(np.uint8)
    counts = np.bincount(code, minlength=4)
    tn, fp, fn, tp = (int(v) for v in counts[:4])
    return Confusion(tp=tp, fp=fp, fn=fn, tn=tn)


def confusion_metrics(c: Confusion, level: float) -> dict[str, Estimate]:
    return {
        "accuracy": wilson(c.tp + c.tn, c.rows, level),
        "precision": _or_reason(wilson(c.tp, c.tp + c.fp, level), "no positive predictions"),
        "recall": _or_reason(wilson(c.tp, c.positives, level), "no positive labels"),
        "f1": f1_estimate(c, level),
        "specificity": _or_reason(wilson(c.tn, c.negatives, level), "no negative labels"),
        "false_positive_rate": _or_reason(wilson(c.fp, c.negatives, level), "no negative labels"),
        "selection_rate": wilson(c.tp + c.fp, c.rows, level),
    }


def _or_reason(e: Estimate, reason: str) -> Estimate:
    return Estimate.undefined(reason) if e.value is None else e


def _chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, _CHUNK):
        yield slice(start, min(start + _CHUNK, n))


class _RunningMoments:
    """Mean and the second and third central moment sums, merged chunk by chunk (Chan et al.;
    Pébay 2008 for the third)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.m3 = 0.0

    def add(self, values: FloatArray) -> None:
        k = values.size
        if k == 0:
            return
        mean = float(values.mean())
        centred = values - mean
        m2 = float((centred * centred).sum())
        m3 = float((centred * centred * centred).sum())
        delta = mean - self.mean
        n, total = self.n, self.n + k
        self.m3 += (
            m3 + delta**3 * n * k * (n - k) / total**2 + 3 * delta * (n * m2 - k * self.m2) / total
        )
        self.mean += delta * k / total
        self.m2 += m2 + delta * delta * n * k / total
        self.n = total

    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0

    def skewness(self) -> float:
        if self.n < 3 or self.m2 <= 0:
            return 0.0
        return float((self.m3 / self.n) / (self.m2 / self.n) ** 1.5)


def _placements(reference: FloatArray, queries: FloatArray) -> _RunningMoments:
    """Moments of, for each query, (#reference below it + half the ties) / len(reference)."""
    moments = _RunningMoments()
    for part in _chunks(queries.size):
        q = queries[part]
        below = np.searchsorted(reference, q, side="left").astype(np.float64)
        below += np.searchsorted(reference, q, side="right")
        below *= 0.5 / reference.size
        moments.add(below)
    return moments


def _hanley_mcneil_variance(auc: float, positives: int, negatives: int) -> float:
    """Newcombe's symmetric form: both class sizes replaced by N* = (m + n) / 2 - 1."""
    n_star = (positives + negatives) / 2 - 1
    return (
        auc
        * (1 - auc)
        / (positives * negatives)
        * (1 + (n_star - 1) * ((1 - auc) / (2 - auc) + auc / (1 + auc)))
    )


def _score_interval(auc: float, positives: int, negatives: int, z: float) -> tuple[float, float]:
    """The AUC values t with (auc - t)^2 <= z^2 * Var(t), found by bisection on each side."""

    def outside(t: float) -> bool:
        return (auc - t) ** 2 > z * z * _hanley_mcneil_variance(t, positives, negatives)

    def boundary(inside: float, out: float) -> float:
        if not outside(out):
            return out
        for _ in range(60):  # 2**-60: far below any difference that matters
            middle = (inside + out) / 2
            if outside(middle):
                out = middle
            else:
                inside = middle
        return inside

    return boundary(auc, 0.0), boundary(auc, 1.0)


DELONG_ROWS = 250_000  # DeLong's variance from at most this many rows of a class (evenly spaced)


def _evenly(values: FloatArray, cap: int) -> FloatArray:
    if values.size <= cap:
        return values
    picked: FloatArray = values[np.linspace(0, values.size - 1, cap).astype(np.int64)]
    return picked


def roc_auc_estimate(pos: FloatArray, neg: FloatArray, level: float) -> Estimate:
    """ROC AUC (Mann-Whitney, ties count half); pos and neg are each class's scores, sorted.

    The interval is the union of Newcombe's score interval (honest with few positives and a high
    AUC, where DeLong's undercovers) and DeLong's Wald interval (the structural components'
    variance, which is right where Hanley and McNeil's parametric one is a little narrow: at
    moderate AUCs with many rows of both classes)."""
    if pos.size == 0 or neg.size == 0:
        return Estimate.undefined("needs both positive and negative labels")
    over_pos = _placements(neg, pos)  # per positive: share of negatives scored below it
    auc = min(1.0, max(0.0, over_pos.mean))
    z = z_value(level)
    low, high = _score_interval(auc, pos.size, neg.size, z)
    if pos.size > 1 and neg.size > 1:
        # a negative's component: the share of positives above it (an even subsample suffices)
        over_neg = _placements(pos, _evenly(neg, DELONG_ROWS))
        se = math.sqrt(over_pos.variance() / pos.size + over_neg.variance() / neg.size)
        low, high = min(low, auc - z * se), max(high, auc + z * se)
    low, high = max(0.0, low), min(1.0, high)
    return Estimate(auc, min(low, auc), max(high, auc), "newcombe score ∪ delong")


def average_precision_estimate(pos: FloatArray, neg: FloatArray, level: float) -> Estimate:
    """Average precision as scikit-learn defines it, with the logit interval of Boyd et al."""
    if pos.size == 0:
        return Estimate.undefined("needs positive labels")
    # Recall only moves at thresholds equal to a positive's score, so only those count.
    starts = np.flatnonzero(np.concatenate(([True], pos[1:] != pos[:-1])))
    thresholds = pos[starts]
    counts = np.diff(np.append(starts, pos.size))
    tp = pos.size - starts  # positives scored >= threshold
    fp = neg.size - np.searchsorted(neg, thresholds, side="left")
    ap = min(1.0, max(0.0, float(np.sum(counts / pos.size * (tp / (tp + fp))))))
    if pos.size < AP_MIN_POSITIVES:
        reason = f"{pos.size} positives: an interval needs at least {AP_MIN_POSITIVES}"
        return Estimate(ap, method="logit", reason=reason)
    if not _LOGIT_SAFE < ap < 1.0 - _LOGIT_SAFE:
        # The logit is infinite (or nearly): fall back to the proportion interval on the same
        # count, which stays honest at 0 and 1.
        fallback = _wilson_fraction(ap, pos.size, level)
        return Estimate(ap, fallback[0], fallback[1], "wilson (AP at the boundary)")
    z = z_value(level)
    eta = math.log(ap / (1 - ap))
    tau = AP_SPREAD / math.sqrt(pos.size * ap * (1 - ap))
    return Estimate(ap, _expit(eta - z * tau), _expit(eta + z * tau), "logit")


_LOGIT_SAFE = 1e-9


def _expit(x: float) -> float:
    """1 / (1 + e^-x) without overflow for any finite x."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _wilson_fraction(p: float, trials: int, level: float) -> tuple[float, float]:
    """Wilson's interval for an observed share p of `trials` (p need not be a whole count)."""
    z = z_value(level)
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z / denom * math.sqrt(max(0.0, p * (1 - p)) / trials + z * z / (4 * trials * trials))
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def _mean_estimate(
    moments: _RunningMoments, level: float, *, what: str = "per-row losses", floor: float = 0.0
) -> Estimate:
    """The normal interval of a mean of per-row values (losses, or two models' differences in
    loss), skewness-corrected, or no interval where the rows are too few or too skewed."""
    if moments.n < MIN_ROWS_FOR_NORMAL:
        # A mean of a handful of losses (often all equal) gives a zero-width normal interval.
        return Estimate(
            moments.mean,
            method="normal",
            reason=f"{moments.n} rows: an interval needs at least {MIN_ROWS_FOR_NORMAL}",
        )
    skew = moments.skewness()
    if moments.n <= 25 * skew * skew:  # Cochran's rule for a normal interval of a mean
        return Estimate(
            moments.mean,
            method="normal",
            reason=(
                f"the {what} are too skewed for an interval at {moments.n} rows "
                f"(skewness {skew:.1f}: Cochran's rule asks for {math.ceil(25 * skew * skew):,})"
            ),
        )
    variance = moments.variance()
    se = math.sqrt(variance / moments.n)
    z = z_value(level)
    # Losses are right-skewed: a sample's mean is more often below the truth than above, and the
    # studentised mean is skewed the other way. Hall's (1992) Edgeworth correction moves both
    # ends by s·γ·(2z² + 1) / (6n), γ the sample skewness (up for right-skewed rows).
    shift = se * skew * (2 * z * z + 1) / (6 * math.sqrt(moments.n))
    low, high = max(floor, moments.mean - z * se + shift), moments.mean + z * se + shift
    return Estimate(moments.mean, min(low, moments.mean), max(high, moments.mean), "normal, hall")


CERTAIN_SCORES = "scores of exactly 0 or 1: one wrong is a loss of 36, so no interval holds"


def has_certain_scores(score: FloatArray) -> bool:
    return bool(((score == 0.0) | (score == 1.0)).any())


def row_losses(y: BoolArray, score: FloatArray, metric: str) -> FloatArray:
    """Each row's log loss (the score clipped to [eps, 1 - eps], as scikit-learn) or Brier."""
    if metric == "brier":
        miss = score - y
        squared: FloatArray = miss * miss
        return squared
    eps = float(np.finfo(np.float64).eps)
    p_true = np.where(y, score, 1.0 - score)
    np.clip(p_true, eps, 1 - eps, out=p_true)
    logged: FloatArray = -np.log(p_true)
    return logged


def loss_estimates(y_true: BoolArray, score: FloatArray, level: float) -> dict[str, Estimate]:
    log_loss, brier = _RunningMoments(), _RunningMoments()
    certain = False  # a score of exactly 0 or 1: a model that says so is sometimes wrong
    for part in _chunks(score.size):
        s, y = score[part], y_true[part]
        certain = certain or has_certain_scores(s)
        log_loss.add(row_losses(y, s, "log_loss"))
        brier.add(row_losses(y, s, "brier"))
    brier_estimate = _mean_estimate(brier, level)
    if brier_estimate.high is not None:
        brier_estimate = replace(brier_estimate, high=min(1.0, brier_estimate.high))
    log_loss_estimate = _mean_estimate(log_loss, level)
    if certain and log_loss_estimate.low is not None:
        # One wrong certain score is a clipped loss of 36: the mean is ruled by events too rare
        # for the sample to show, and no interval from it is honest.
        log_loss_estimate = Estimate(log_loss.mean, method="normal", reason=CERTAIN_SCORES)
    return {"log_loss": log_loss_estimate, "brier": brier_estimate}


def evaluate(
    y_true: BoolArray,
    *,
    score: FloatArray | None = None,
    y_pred: BoolArray | None = None,
    threshold: float = 0.5,
    level: float = 0.95,
    keep_sorted: bool = False,
) -> Evaluation:
    """All metrics for one set of labels. y_pred wins over score >= threshold when both exist."""
    if score is None and y_pred is None:
        raise ValueError("evaluate() needs a score or a prediction array")
    if y_pred is None:
        assert score is not None
        y_pred = score >= threshold
    confusion = confusion_from_predictions(y_true, y_pred)
    metrics = confusion_metrics(confusion, level)
    kept = None
    if score is None:
        for name, info in METRICS.items():
            if info.needs_score:
                metrics[name] = Estimate.undefined("needs a score column (probabilities)")
    elif y_true.size == 0:
        for name, info in METRICS.items():
            if info.needs_score:
                metrics[name] = Estimate.undefined("no rows")
    else:
        # Boolean indexing already copies; sort those copies in place.
        pos = score[y_true]
        pos.sort()
        neg = score[~y_true]
        neg.sort()
        metrics["roc_auc"] = roc_auc_estimate(pos, neg, level)
        metrics["average_precision"] = average_precision_estimate(pos, neg, level)
        kept = (pos, neg) if keep_sorted else None
        del pos, neg
        metrics.update(loss_estimates(y_true, score, level))
    return Evaluation(confusion=confusion, metrics=metrics, level=level, sorted_scores=kept)
