"""Per-feature drift statistics between a reference sample (the training data) and a current one
(recent production inputs). Pure NumPy and SciPy's distributions: no I/O.

- Numeric features: PSI over quantile bins of the reference (a bin per value when it has at most
  20 distinct values; missing values are a bin of their own), and the two-sample
  Kolmogorov-Smirnov statistic with its p-value, as scipy computes it.
- Categorical features: PSI and the Jensen-Shannon distance over the reference's categories;
  categories the reference never had are pooled into one "unseen" bin and listed.

Empty bins are smoothed: a proportion below EPSILON counts as EPSILON, the usual convention,
so PSI stays finite when a bin empties out (and then it is large, as it should be).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mlops_actions.tables import MISSING

EPSILON = 1e-4
EXACT_KS_MAX_N = 10_000  # scipy's own switch from the exact to the asymptotic p-value
UNSEEN = "(unseen)"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Bins:
    """Share of each sample per bin; labels say what the bin holds, for the report."""

    labels: tuple[str, ...]
    reference: FloatArray
    current: FloatArray


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    kind: str  # numeric | categorical
    psi: float
    bins: Bins
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    js_distance: float | None = None
    unseen: tuple[str, ...] = ()  # categories the reference never had (the most frequent first)
    unseen_share: float = 0.0
    reference_rows: int = 0
    current_rows: int = 0
    missing_share: tuple[float, float] = (0.0, 0.0)  # reference, current
    notes: tuple[str, ...] = field(default=())


def psi(reference: FloatArray, current: FloatArray) -> float:
    """Population stability index of two distributions over the same bins (shares summing to 1)."""
    p = np.maximum(np.asarray(reference, dtype=np.float64), EPSILON)
    q = np.maximum(np.asarray(current, dtype=np.float64), EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(reference: FloatArray, current: FloatArray) -> float:
    """Jensen-Shannon distance (base 2, so in [0, 1]) of two distributions over the same bins."""
    p = np.asarray(reference, dtype=np.float64)
    q = np.asarray(current, dtype=np.float64)
    m = (p + q) / 2

    def kl(a: FloatArray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    return math.sqrt(max((kl(p) + kl(q)) / 2, 0.0))


def _shares(counts: npt.NDArray[np.int64]) -> FloatArray:
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def quantile_edges(reference_sorted: FloatArray, bins: int) -> FloatArray:
    """Interior bin edges at the reference's quantiles (numpy's `linear` method, read straight
    off the sorted sample); repeated edges (ties) are merged."""
    n = reference_sorted.size
    if n == 0:
        return np.empty(0)
    position = np.linspace(0, 1, bins + 1)[1:-1] * (n - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    weight = position - low
    values = reference_sorted[low] * (1 - weight) + reference_sorted[high] * weight
    edges: FloatArray = np.unique(values)
    return edges


def _edge_labels(edges: FloatArray) -> list[str]:
    if edges.size == 0:
        return ["all values"]
    shown = [f"{e:.4g}" for e in edges]
    middle = [f"{a} – {b}" for a, b in itertools.pairwise(shown)]
    return [f"< {shown[0]}", *middle, f"≥ {shown[-1]}"]


def _ranks_right(values_sorted: FloatArray) -> npt.NDArray[np.int64]:
    """For each element of a sorted array, how many elements are <= it (searchsorted of the
    array in itself, side right), in one pass: ties share the index after their last copy."""
    n = values_sorted.size
    steps = np.flatnonzero(values_sorted[1:] != values_sorted[:-1]) + 1
    if steps.size == n - 1:  # no ties
        return np.arange(1, n + 1)
    ends = np.append(steps, n)
    return np.repeat(ends, np.diff(np.concatenate(([0], ends))))


def ks_2samp(reference_sorted: FloatArray, current_sorted: FloatArray) -> tuple[float, float]:
    """Two-sided two-sample KS statistic and p-value, equal to scipy.stats.ks_2samp's.

    Small samples go to scipy itself (its exact p-value); large ones compute the statistic here
    from the sorted samples and take scipy's asymptotic p-value (`kstwo` at n1*n2/(n1+n2)), as
    ks_2samp's `auto` mode does above 10,000 rows.
    """
    from scipy import stats

    n1, n2 = reference_sorted.size, current_sorted.size
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    if max(n1, n2) <= EXACT_KS_MAX_N:
        result = stats.ks_2samp(reference_sorted, current_sorted)
        return float(result.statistic), float(result.pvalue)
    # The empirical CDFs only step at sample points: compare them at every point of both.
    at_current = np.searchsorted(reference_sorted, current_sorted, side="right") / n1
    own_current = _ranks_right(current_sorted) / n2
    at_reference = np.searchsorted(current_sorted, reference_sorted, side="right") / n2
    own_reference = _ranks_right(reference_sorted) / n1
    d = max(
        float(np.max(np.abs(at_current - own_current))),
        float(np.max(np.abs(own_reference - at_reference))),
    )
    m, n = sorted((float(n1), float(n2)), reverse=True)
    pvalue = float(stats.kstwo.sf(d, np.round(m * n / (m + n))))
    return d, min(max(pvalue, 0.0), 1.0)


DISCRETE_MAX_VALUES = 20  # at most this many distinct reference values: a bin per value


def _numeric_bins(
    ref: FloatArray, cur: FloatArray, bins: int
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Counts per bin. Few distinct values (flags, small counts) get a bin each, since
    quantiles of tied data collapse; current values the reference never had are pooled."""
    few = ref.size > 0 and np.count_nonzero(ref[1:] != ref[:-1]) < DISCRETE_MAX_VALUES
    distinct = np.unique(ref) if few else np.empty(0)
    if few:
        index = np.searchsorted(distinct, cur)
        known = (index < distinct.size) & (distinct[np.minimum(index, distinct.size - 1)] == cur)
        labels = [f"{v:.6g}" for v in distinct]
        ref_counts = np.bincount(np.searchsorted(distinct, ref), minlength=distinct.size)
        cur_counts = np.bincount(index[known], minlength=distinct.size)
        if not known.all():
            labels.append(UNSEEN)
            ref_counts = np.append(ref_counts, 0)
            cur_counts = np.append(cur_counts, int((~known).sum()))
        return labels, ref_counts, cur_counts
    edges = quantile_edges(ref, bins)
    labels = _edge_labels(edges)
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(labels))
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(labels))
    return labels, ref_counts, cur_counts


def numeric_drift(name: str, reference: FloatArray, current: FloatArray, bins: int) -> FeatureDrift:
    """PSI over the reference's quantile bins (or its values, when it has few; plus a
    missing-value bin when either sample has one) and the KS test on the values present."""
    ref_missing, cur_missing = np.isnan(reference), np.isnan(current)
    ref = np.sort(reference[~ref_missing] if ref_missing.any() else reference)
    cur = np.sort(current[~cur_missing] if cur_missing.any() else current)
    labels, ref_counts, cur_counts = _numeric_bins(ref, cur, bins)
    if ref_missing.any() or cur_missing.any():
        labels.append(MISSING)
        ref_counts = np.append(ref_counts, int(ref_missing.sum()))
        cur_counts = np.append(cur_counts, int(cur_missing.sum()))
    shares = Bins(tuple(labels), _shares(ref_counts), _shares(cur_counts))
    statistic, pvalue = ks_2samp(ref, cur)
    return FeatureDrift(
        name,
        "numeric",
        psi(shares.reference, shares.current),
        shares,
        ks_statistic=None if math.isnan(statistic) else statistic,
        ks_pvalue=None if math.isnan(pvalue) else pvalue,
        js_distance=js_distance(shares.reference, shares.current),
        reference_rows=int(reference.size),
        current_rows=int(current.size),
        missing_share=(
            float(ref_missing.mean()) if reference.size else 0.0,
            float(cur_missing.mean()) if current.size else 0.0,
        ),
    )


def categorical_drift(
    name: str,
    reference: dict[str, int],
    current: dict[str, int],
) -> FeatureDrift:
    """PSI and JS distance over the reference's categories plus one pooled "unseen" bin.

    Inputs are category counts; missing values come in under the MISSING key.
    """
    categories = sorted(reference, key=lambda c: (-reference[c], c))
    unseen = sorted((c for c in current if c not in reference), key=lambda c: (-current[c], c))
    labels = [*categories, *([UNSEEN] if unseen else [])]
    ref_counts = np.array([reference[c] for c in categories] + [0] * bool(unseen), dtype=np.int64)
    pooled = [sum(current[c] for c in unseen)] if unseen else []
    cur_counts = np.array([current.get(c, 0) for c in categories] + pooled, dtype=np.int64)
    shares = Bins(tuple(labels), _shares(ref_counts), _shares(cur_counts))
    cur_total, ref_total = int(cur_counts.sum()), int(ref_counts.sum())
    return FeatureDrift(
        name,
        "categorical",
        psi(shares.reference, shares.current),
        shares,
        js_distance=js_distance(shares.reference, shares.current),
        unseen=tuple(unseen),
        unseen_share=float(shares.current[-1]) if unseen else 0.0,
        reference_rows=ref_total,
        current_rows=cur_total,
        missing_share=(
            reference.get(MISSING, 0) / ref_total if ref_total else 0.0,
            current.get(MISSING, 0) / cur_total if cur_total else 0.0,
        ),
    )
