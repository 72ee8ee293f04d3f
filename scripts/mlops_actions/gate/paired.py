"""The challenger against the champion on the same rows: each metric's difference
(challenger − champion) with a paired confidence interval. Pure NumPy, no I/O.

Scored on the same holdout, the two models' errors are correlated, and a paired interval uses
that: it is much narrower than two independent intervals, so a real regression is seen and an
equal model is not failed on the noise of two different samples.

- proportions over the same rows (recall, specificity, false_positive_rate, accuracy,
  selection_rate): Newcombe's hybrid score interval for paired proportions with continuity
  correction (1998, method 11), from the 2x2 table of the rows each model gets right;
- precision and f1 (each model's own denominator): MOVER (Zou & Donner, 2008), the same
  recovery of the difference's interval from each model's own corrected Wilson interval that
  Newcombe's method is for the same rows, with the correlation of the two estimates taken from
  their influence functions over the eight cells of (label, challenger's call, champion's
  call). Where that correlation cannot be estimated (a model with no errors, say) it is taken
  as 0, which can only widen the interval;
- roc_auc: DeLong's paired variance (structural components, 1988), Wald on the difference,
  united with MOVER on each model's single-model interval (Newcombe's score interval ∪ DeLong);
- log_loss, brier: the normal interval of the mean per-row difference with Hall's skewness
  correction, from 500 rows on, where Cochran's rule holds, and for log loss only where no
  score is exactly 0 or 1;
- average_precision: a grouped jackknife (20 interleaved blocks of rows).

Every interval is at the gate's confidence level. A difference that cannot be computed (no
positives, say) has no value and a reason; one that has a value but too few rows for an interval
has no interval, and a bound rule then fails closed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from mlops_actions.gate.metrics import (
    CERTAIN_SCORES,
    BoolArray,
    Estimate,
    FloatArray,
    _mean_estimate,
    _RunningMoments,
    _score_interval,
    _wilson_cc,
    average_precision_estimate,
    has_certain_scores,
    row_losses,
    z_value,
)

Counts = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_CHUNK = 1 << 18
JACKKNIFE_BLOCKS = 20
# DeLong's variance from at most this many rows of each class (evenly spaced): its relative
# error is then about 0.3%, far below what matters; the AUCs themselves use every row.
VARIANCE_ROWS = 250_000
# Differences of two models' losses are more skewed than either's losses: at 200 rows their
# interval let 4.6% of regressions through (bench_paired_coverage.py), at 500 rows 3.2%.
MIN_ROWS_FOR_PAIRED_LOSS = 500
FLOAT_NOISE = 1e-12  # far below any difference a holdout can resolve
SAME_ROWS = ("recall", "specificity", "false_positive_rate", "accuracy", "selection_rate")
PAIRED_METRICS = (*SAME_ROWS, "precision", "f1", "roc_auc", "log_loss", "brier",
                  "average_precision")  # fmt: skip


@dataclass(frozen=True)
class Pair:
    """One holdout, two models: the labels and each model's calls (and scores, when given),
    aligned row by row."""

    y_true: BoolArray
    challenger: BoolArray  # predicted positive
    champion: BoolArray
    challenger_score: FloatArray | None = None
    champion_score: FloatArray | None = None
    # the challenger's positives' and negatives' scores, sorted, and its AUC, when the caller
    # has them (its own evaluation computed both)
    challenger_sorted: tuple[FloatArray, FloatArray] | None = None
    challenger_auc: float | None = None


@dataclass(frozen=True)
class Comparison:
    differences: dict[str, Estimate]  # challenger − champion
    champion: dict[str, Estimate]  # the champion's own value on these rows (no interval)
    # the champion's positives' and negatives' scores, sorted, when DeLong's method sorted
    # them (scores off the 6-decimal grid): the curves reuse them instead of sorting again
    champion_sorted: tuple[FloatArray, FloatArray] | None = None


def _chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, _CHUNK):
        yield slice(start, min(start + _CHUNK, n))


def newcombe_paired(
    both: int, only_challenger: int, only_champion: int, neither: int, level: float
) -> Estimate:
    """Challenger's minus champion's share of successes over the same trials: Newcombe's
    hybrid score interval with continuity correction (1998, method 11: each margin's corrected
    Wilson limits, and φ corrected by n/2: two models that agree on every row are not taken to
    be perfectly correlated, so the interval does not collapse)."""
    n = both + only_challenger + only_champion + neither
    if n == 0:
        return Estimate.undefined("denominator is zero")
    p1, p2 = (both + only_challenger) / n, (both + only_champion) / n
    l1, u1 = _wilson_cc(both + only_challenger, n, level)
    l2, u2 = _wilson_cc(both + only_champion, n, level)
    margins = (
        (both + only_challenger)
        * (only_champion + neither)
        * (both + only_champion)
        * (only_challenger + neither)
    )
    agreement: float = both * neither - only_challenger * only_champion
    if agreement > 0:  # Newcombe's correction of φ (method 11): never full agreement from data
        agreement = max(0.0, agreement - n / 2)
    phi = agreement / math.sqrt(margins) if margins else 0.0
    theta = p1 - p2
    below = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    above = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    low = max(-1.0, theta - math.sqrt(max(0.0, below)))
    high = min(1.0, theta + math.sqrt(max(0.0, above)))
    return Estimate(theta, min(low, theta), max(high, theta), "newcombe paired score (cc)")


def _cells(pair: Pair) -> Counts:
    """Counts of the 8 cells (label, challenger's call, champion's call), index 4y + 2a + b."""
    counts = np.zeros(8, dtype=np.int64)
    for part in _chunks(pair.y_true.size):
        code = (
            pair.y_true[part].view(np.uint8) * np.uint8(4)
            + pair.challenger[part].view(np.uint8) * np.uint8(2)
            + pair.champion[part].view(np.uint8)
        )
        counts += np.bincount(code, minlength=8)[:8]
    return counts


def _share(cells: Counts, rows: Mask) -> tuple[int, int, int, int]:
    """The 2x2 table of 'predicted positive' (both, only the challenger, only the champion,
    neither) over the rows that `rows` (a mask over the 8 cells) selects."""
    both = int(cells[rows & _A & _B].sum())
    only_a = int(cells[rows & _A & ~_B].sum())
    only_b = int(cells[rows & ~_A & _B].sum())
    neither = int(cells[rows & ~_A & ~_B].sum())
    return both, only_a, only_b, neither


_INDEX = np.arange(8)
_Y, _A, _B = (_INDEX & 4) > 0, (_INDEX & 2) > 0, (_INDEX & 1) > 0


def _same_rows_difference(metric: str, cells: Counts, level: float) -> Estimate:
    """Metrics that count one kind of outcome over rows both models share."""
    if metric == "recall":  # over positives: predicted positive
        table = _share(cells, _Y)
        reason = "no positive labels"
    elif metric == "false_positive_rate":  # over negatives: predicted positive
        table = _share(cells, ~_Y)
        reason = "no negative labels"
    elif metric == "specificity":  # over negatives: predicted negative (swap the roles)
        both, only_a, only_b, neither = _share(cells, ~_Y)
        table, reason = (neither, only_b, only_a, both), "no negative labels"
    elif metric == "selection_rate":
        table, reason = _share(cells, np.ones(8, dtype=bool)), "no rows"
    else:  # accuracy: correct = predicted positive on positives, negative on negatives
        p = _share(cells, _Y)
        n = _share(cells, ~_Y)
        table = (p[0] + n[3], p[1] + n[2], p[2] + n[1], p[3] + n[0])
        reason = "no rows"
    estimate = newcombe_paired(*table, level)
    return Estimate.undefined(reason) if estimate.value is None else estimate


def mover(
    p1: float, interval1: tuple[float, float], p2: float, interval2: tuple[float, float], r: float
) -> tuple[float, float]:
    """The interval of p1 − p2 from each one's interval and their correlation r."""
    (l1, u1), (l2, u2) = interval1, interval2
    theta = p1 - p2
    below = (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2)
    above = (u1 - p1) ** 2 + (p2 - l2) ** 2 - 2 * r * (u1 - p1) * (p2 - l2)
    return theta - math.sqrt(max(0.0, below)), theta + math.sqrt(max(0.0, above))


def _ratio(cells: Counts, numerator: Mask, denominator: Mask) -> tuple[int, int]:
    return int(cells[numerator].sum()), int(cells[denominator].sum())


def _correlation(cells: Counts, a: tuple[Mask, Mask, float], b: tuple[Mask, Mask, float]) -> float:
    """corr of two ratio estimates M = Σnum/Σden over the same rows, from their influence
    functions num_i − M·den_i (per cell); 0 when either has no variance."""

    def influence(numerator: Mask, denominator: Mask, value: float) -> npt.NDArray[Any]:
        return numerator.astype(np.float64) - value * denominator.astype(np.float64)

    ia, ib = influence(*a), influence(*b)
    weights = cells.astype(np.float64)
    var_a, var_b = float(weights @ (ia * ia)), float(weights @ (ib * ib))
    if var_a <= 0 or var_b <= 0:
        return 0.0
    return max(-1.0, min(1.0, float(weights @ (ia * ib)) / math.sqrt(var_a * var_b)))


def _ratio_difference(metric: str, cells: Counts, level: float) -> Estimate:
    """precision or f1: MOVER from each model's Wilson interval (f1 through the Jaccard index,
    as the single-model interval) and the influence-function correlation."""
    sides = []
    for calls in (_A, _B):
        if metric == "precision":
            numerator, denominator = _Y & calls, calls
        else:  # f1 = 2J / (1 + J), J = TP / (TP + FP + FN): the rows that are not TN
            numerator, denominator = _Y & calls, _Y | calls
        hits, trials = _ratio(cells, numerator, denominator)
        if trials == 0:
            reason = "no positive predictions" if metric == "precision" else "no positives at all"
            return Estimate.undefined(reason)
        share = hits / trials
        sides.append((numerator, denominator, share, _wilson_cc(hits, trials, level)))
    r = _correlation(cells, sides[0][:3], sides[1][:3])

    def shown(share: float) -> float:  # Jaccard to F1 (monotone: its interval maps over)
        return share if metric == "precision" else 2 * share / (1 + share)

    (_, _, pa, (la, ua)), (_, _, pb, (lb, ub)) = sides
    va, vb = shown(pa), shown(pb)
    low, high = mover(va, (shown(la), shown(ua)), vb, (shown(lb), shown(ub)), r)
    value = va - vb
    return Estimate(value, max(-1.0, min(low, value)), min(1.0, max(high, value)), "mover wilson")


def _placements(reference: FloatArray, queries: FloatArray) -> FloatArray:
    """For each query: (#reference below + half the ties) / len(reference)."""
    below = np.searchsorted(reference, queries, side="left").astype(np.float64)
    below += np.searchsorted(reference, queries, side="right")
    below *= 0.5 / reference.size
    return below


class _PairMoments:
    """Sums for the means, variances and covariance of two aligned series."""

    def __init__(self) -> None:
        self.n, self.a, self.b, self.aa, self.bb, self.ab = 0, 0.0, 0.0, 0.0, 0.0, 0.0

    def add(self, a: FloatArray, b: FloatArray) -> None:
        self.n += a.size
        self.a += float(a.sum())
        self.b += float(b.sum())
        self.aa += float(a @ a)
        self.bb += float(b @ b)
        self.ab += float(a @ b)

    def variance_of_difference(self) -> float:
        """Var(a - b) of one row (n - 1 denominator)."""
        return max(0.0, self.var_a() + self.var_b() - 2 * self.cov())

    def _centred(self, xy: float, x: float, y: float) -> float:
        if self.n < 2:
            return 0.0
        return (xy - x * y / self.n) / (self.n - 1)

    def var_a(self) -> float:
        return max(0.0, self._centred(self.aa, self.a, self.a))

    def var_b(self) -> float:
        return max(0.0, self._centred(self.bb, self.b, self.b))

    def cov(self) -> float:
        return self._centred(self.ab, self.a, self.b)


def _spaced(mask: BoolArray, cap: int) -> BoolArray:
    """`mask`, thinned to at most `cap` rows, evenly spaced."""
    count = int(mask.sum())
    if count <= cap:
        return mask
    keep = np.zeros(count, dtype=bool)
    keep[np.linspace(0, count - 1, cap).astype(np.int64)] = True
    thinned = np.zeros_like(mask)
    thinned[np.flatnonzero(mask)[keep]] = True
    return thinned


GRID = 1_000_000  # scores written with 6 decimals (CSV, score-champion) sit on this grid


def _on_grid(score: FloatArray) -> npt.NDArray[np.int64] | None:
    """The scores as multiples of 1/GRID when every one is exactly one (k / 10⁶ reads back as
    the same double: what parsing a 6-decimal number gives), else None. Chunk by chunk and in
    place: this runs over every row, so it must cost next to nothing."""
    out = np.empty(score.size, dtype=np.int64)
    scaled = np.empty(min(score.size, _CHUNK), dtype=np.float64)
    steps = np.empty_like(scaled)
    for part in _chunks(score.size):
        k = part.stop - part.start
        s, r = scaled[:k], steps[:k]
        np.multiply(score[part], GRID, out=s)
        np.rint(s, out=r)
        np.divide(r, GRID, out=s)
        if not np.array_equal(s, score[part]):
            return None
        out[part] = r
    return out


class _Placer:
    """For one model: each positive's share of negatives scored below it (ties count half),
    and each negative's share of positives above it: DeLong's structural components. From
    counts per score when the scores sit on a 6-decimal grid (no sort at all), else from the
    sorted scores of each class."""

    def __init__(
        self, y: BoolArray, score: FloatArray, presorted: tuple[FloatArray, FloatArray] | None
    ):
        self.grid = _on_grid(score) if presorted is None else None
        self.positives, self.negatives = int(y.sum()), int(y.size - y.sum())
        if self.grid is not None:
            pos = np.bincount(self.grid[y], minlength=GRID + 1).astype(np.float64)
            neg = np.bincount(self.grid[~y], minlength=GRID + 1).astype(np.float64)
            # per score value: the share of the other class below it, ties counting half
            self.neg_below = (np.cumsum(neg) - neg / 2) / self.negatives
            self.pos_above = 1 - (np.cumsum(pos) - pos / 2) / self.positives
            self._pos_counts = pos
        else:
            self.sorted_pos, self.sorted_neg = presorted or (np.sort(score[y]), np.sort(score[~y]))

    @property
    def auc(self) -> float:
        """Computed only when asked: the challenger's own evaluation has it already."""
        if self.grid is not None:
            return float(self._pos_counts @ self.neg_below) / self.positives
        return _auc(self.sorted_pos, self.sorted_neg)

    def of_positives(self, rows: slice, mask: BoolArray, score: FloatArray) -> FloatArray:
        if self.grid is not None:
            out: FloatArray = self.neg_below[self.grid[rows][mask]]
            return out
        return _placements(self.sorted_neg, score[rows][mask])

    def of_negatives(self, rows: slice, mask: BoolArray, score: FloatArray) -> FloatArray:
        if self.grid is not None:
            out: FloatArray = self.pos_above[self.grid[rows][mask]]
            return out
        return 1 - _placements(self.sorted_pos, score[rows][mask])


def delong_difference(pair: Pair, level: float) -> tuple[Estimate, float | None]:
    """(challenger − champion AUC with DeLong's paired interval, the champion's AUC)."""
    estimate, auc_b, _ = _delong(pair, level)
    return estimate, auc_b


def _delong(
    pair: Pair, level: float
) -> tuple[Estimate, float | None, tuple[FloatArray, FloatArray] | None]:
    """delong_difference, and the champion's scores of each class sorted when it sorted them."""
    assert pair.challenger_score is not None and pair.champion_score is not None
    y = pair.y_true
    positives = int(y.sum())
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        return Estimate.undefined("needs both positive and negative labels"), None, None
    ours = _Placer(y, pair.challenger_score, pair.challenger_sorted)
    theirs = _Placer(y, pair.champion_score, None)
    kept = None if theirs.grid is not None else (theirs.sorted_pos, theirs.sorted_neg)
    # The AUCs from every row (the challenger's is the one its own evaluation found).
    auc_a = pair.challenger_auc if pair.challenger_auc is not None else ours.auc
    auc_b = theirs.auc
    value = auc_a - auc_b
    if positives < 2 or negatives < 2:
        return (
            Estimate(value, method="delong paired", reason="too few rows of a class"),
            auc_b,
            kept,
        )
    # The variance from each row's structural components, paired across the models.
    over_pos, over_neg = _PairMoments(), _PairMoments()
    pos_rows, neg_rows = _spaced(y, VARIANCE_ROWS), _spaced(~y, VARIANCE_ROWS)
    a, b = pair.challenger_score, pair.champion_score
    for part in _chunks(y.size):
        p, n = pos_rows[part], neg_rows[part]
        over_pos.add(ours.of_positives(part, p, a), theirs.of_positives(part, p, b))
        over_neg.add(ours.of_negatives(part, n, a), theirs.of_negatives(part, n, b))
    z = z_value(level)
    variance = (over_pos.variance_of_difference() / positives
                + over_neg.variance_of_difference() / negatives)  # fmt: skip
    half = z * math.sqrt(variance)
    # MOVER on each model's own interval (the single-model gate's: Newcombe's score interval ∪
    # DeLong's), with the correlation of the two AUCs from the same components. Its union with
    # the paired Wald keeps the paired interval honest where DeLong's variance is too small
    # (few positives, AUC near 1), as the single-model one is.
    var_a = over_pos.var_a() / positives + over_neg.var_a() / negatives
    var_b = over_pos.var_b() / positives + over_neg.var_b() / negatives
    cov = over_pos.cov() / positives + over_neg.cov() / negatives
    r = cov / math.sqrt(var_a * var_b) if var_a > 0 and var_b > 0 else 0.0

    def own(auc: float, var: float) -> tuple[float, float]:
        low, high = _score_interval(auc, positives, negatives, z)
        return max(0.0, min(low, auc - z * math.sqrt(var))), min(
            1.0, max(high, auc + z * math.sqrt(var))
        )

    low, high = mover(auc_a, own(auc_a, var_a), auc_b, own(auc_b, var_b), max(-1.0, min(1.0, r)))
    low, high = min(low, value - half), max(high, value + half)
    method = "delong paired ∪ mover (newcombe ∪ delong)"
    estimate = Estimate(value, max(-1.0, min(low, value)), min(1.0, max(high, value)), method)
    return estimate, auc_b, kept


def _auc(sorted_pos: FloatArray, sorted_neg: FloatArray) -> float:
    total = 0.0
    for part in _chunks(sorted_pos.size):
        total += float(_placements(sorted_neg, sorted_pos[part]).sum())
    return total / sorted_pos.size


def loss_difference(pair: Pair, metric: str, level: float) -> tuple[Estimate, float | None]:
    """The mean per-row difference in loss with the single-model rules: the normal interval
    with Hall's correction, none under 500 rows or where Cochran's rule fails, and none for log
    loss where either model gives a score of exactly 0 or 1."""
    assert pair.challenger_score is not None and pair.champion_score is not None
    differences, champion = _RunningMoments(), 0.0
    certain = False
    for part in _chunks(pair.y_true.size):
        y, a, b = pair.y_true[part], pair.challenger_score[part], pair.champion_score[part]
        theirs = row_losses(y, b, metric)
        champion += float(theirs.sum())
        differences.add(row_losses(y, a, metric) - theirs)
        certain = certain or has_certain_scores(a) or has_certain_scores(b)
    if differences.n == 0:
        return Estimate.undefined("no rows"), None
    champion /= differences.n
    if certain and metric == "log_loss":
        return Estimate(differences.mean, method="paired mean", reason=CERTAIN_SCORES), champion
    if differences.n < MIN_ROWS_FOR_PAIRED_LOSS:
        reason = f"{differences.n} rows: a paired loss interval needs {MIN_ROWS_FOR_PAIRED_LOSS}"
        return Estimate(differences.mean, method="paired mean", reason=reason), champion
    estimate = _mean_estimate(differences, level, what="per-row differences in loss",
                              floor=-math.inf)  # fmt: skip
    if estimate.low is None or estimate.high is None:
        return replace(estimate, method="paired mean"), champion
    bound = 1.0 if metric == "brier" else math.inf  # a row's Brier difference is within ±1
    low, high = max(-bound, estimate.low), min(bound, estimate.high)
    return replace(estimate, low=low, high=high, method="paired mean, hall"), champion


def _ap_of(y: BoolArray, score: FloatArray, keep: BoolArray | None) -> float | None:
    s, labels = (score, y) if keep is None else (score[keep], y[keep])
    pos, neg = np.sort(s[labels]), np.sort(s[~labels])
    return average_precision_estimate(pos, neg, 0.95).value


def ap_difference(pair: Pair, level: float) -> tuple[Estimate, float | None]:
    assert pair.challenger_score is not None and pair.champion_score is not None
    y = pair.y_true
    full_a = _ap_of(y, pair.challenger_score, None)
    full_b = _ap_of(y, pair.champion_score, None)
    if full_a is None or full_b is None:
        return Estimate.undefined("needs positive labels"), None
    value = full_a - full_b
    blocks = JACKKNIFE_BLOCKS
    if int(y.sum()) < 2 * blocks:
        reason = f"fewer than {2 * blocks} positives for a jackknife interval"
        return Estimate(value, method="grouped jackknife", reason=reason), full_b
    block = np.arange(y.size) % blocks
    leave_out = []
    for k in range(blocks):
        keep = block != k
        a = _ap_of(y, pair.challenger_score, keep)
        b = _ap_of(y, pair.champion_score, keep)
        assert a is not None and b is not None
        leave_out.append(a - b)
    values = np.asarray(leave_out)
    se = math.sqrt((blocks - 1) / blocks * float(((values - values.mean()) ** 2).sum()))
    half = _t_quantile(level, blocks - 1) * se
    estimate = Estimate(value, max(-1.0, value - half), min(1.0, value + half), "grouped jackknife")
    return estimate, full_b


def _t_quantile(level: float, freedom: int) -> float:
    """Student's t quantile (Cornish-Fisher from the normal; exact enough from 10 dof)."""
    z = z_value(level)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / freedom + g2 / freedom**2 + g3 / freedom**3


def compare(pair: Pair, metrics: tuple[str, ...], level: float) -> Comparison:
    """challenger − champion for each of `metrics`, with its paired interval; and the
    champion's own values on these rows (every confusion-matrix metric, and the compared
    score metrics)."""
    from mlops_actions.gate.metrics import Confusion, confusion_metrics

    cells = _cells(pair)
    scored = pair.challenger_score is not None and pair.champion_score is not None
    counts = {(y, b): int(cells[(y == _Y) & (b == _B)].sum()) for y in (0, 1) for b in (0, 1)}
    confusion = Confusion(tp=counts[1, 1], fp=counts[0, 1], fn=counts[1, 0], tn=counts[0, 0])
    champion = {k: Estimate(e.value, method="champion on these rows", reason=e.reason)
                for k, e in confusion_metrics(confusion, level).items()}  # fmt: skip
    out: dict[str, Estimate] = {}
    champion_sorted = None
    for metric in metrics:
        value: float | None = None
        if metric in SAME_ROWS:
            out[metric] = _same_rows_difference(metric, cells, level)
        elif metric in ("precision", "f1"):
            out[metric] = _ratio_difference(metric, cells, level)
        elif not scored:
            out[metric] = Estimate.undefined("needs both models' scores")
        elif metric == "roc_auc":
            out[metric], value, champion_sorted = _delong(pair, level)
        elif metric in ("log_loss", "brier"):
            out[metric], value = loss_difference(pair, metric, level)
        elif metric == "average_precision":
            out[metric], value = ap_difference(pair, level)
        else:
            out[metric] = Estimate.undefined(f"no paired method for {metric}")
        if value is not None:
            champion[metric] = Estimate(value, method="champion on these rows")
        found = out[metric].value
        if found is not None and abs(found) < FLOAT_NOISE:
            # Two sums of the same numbers in another order differ in the last bits: a model
            # compared with itself must differ by 0, so `max_drop: 0` passes it.
            out[metric] = replace(out[metric], value=0.0)
    return Comparison(out, champion, champion_sorted)


def differences(pair: Pair, metrics: tuple[str, ...], level: float) -> dict[str, Estimate]:
    """challenger − champion for each of `metrics`, with its paired interval."""
    return compare(pair, metrics, level).differences
