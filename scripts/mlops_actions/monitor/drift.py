"""Per-feature drift statistics between a reference sample (the training data) and a current one
(recent production inputs). Pure NumPy and SciPy's distributions: no I/O.

- Numeric features: PSI over quantile bins of the reference (a bin per value when it has at most
  20 distinct values; missing values are a bin of their own), and the two-sample
  Kolmogorov-Smirnov statistic with its p-value, as scipy computes it.
- Categorical features: PSI and the Jensen-Shannon distance over the reference's categories;
  categories the reference never had are pooled into one "unseen" bin and listed.
- Every feature: a test of "same distribution" with a p-value that holds at any size (the
  default judge). Continuous numeric: KS on the values present, and, where values are missing,
  a test of the missing share, the two combined by Bonferroni. Categorical, and numeric with at
  most 20 distinct values: Pearson's chi-square test of homogeneity over the categories, those
  too rare for it (expected count under 5 in the smaller sample) pooled into one bin. The
  categories are chosen by their counts in both samples together, which the test conditions
  on, so choosing them does not bias it (choosing by the reference's counts would: its lucky
  categories look like drift).

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
    test: str = ""  # the default judge's test: ks | chi_square
    pvalue: float | None = None  # its p-value (None: nothing to test, e.g. no current rows)
    test_bins: int = 0  # chi-square: the bins it compared, after pooling the rare ones


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
    off the sorted sample); repeated edges (ties) are merged. An edge between two equal values
    is that value exactly (v + (v - v)·w, not v(1 - w) + vw, which gives 0.9000000000000001 for
    0.9 and puts the tied values below their own edge)."""
    n = reference_sorted.size
    if n == 0:
        return np.empty(0)
    position = np.linspace(0, 1, bins + 1)[1:-1] * (n - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    weight = position - low
    below, above = reference_sorted[low], reference_sorted[high]
    values = below + (above - below) * weight
    edges: FloatArray = np.unique(values)
    return edges


MIN_EXPECTED = 5  # Cochran's rule for the chi-square approximation


def chi_square_homogeneity(
    reference: npt.NDArray[np.int64], current: npt.NDArray[np.int64]
) -> tuple[float, float, int]:
    """Pearson's chi-square test that two samples share one distribution over the same
    categories (counts aligned). Categories whose expected count in the smaller sample is under
    MIN_EXPECTED are pooled into one bin, and that bin, if still too small, into the smallest
    kept one. The choice uses the two samples' counts together (the margins the test conditions
    on), never one sample's. Returns (statistic, p-value, bins compared)."""
    from scipy import stats

    n1, n2 = int(reference.sum()), int(current.sum())
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, 0
    together = reference + current
    if np.count_nonzero(together) < 2:  # one category in all: the same distribution, exactly
        return 0.0, 1.0, 1
    expected_small = together * (min(n1, n2) / (n1 + n2))
    keep = expected_small >= MIN_EXPECTED
    ref_bins, cur_bins = list(reference[keep]), list(current[keep])
    rare_ref, rare_cur = int(reference[~keep].sum()), int(current[~keep].sum())
    if rare_ref + rare_cur:
        big_enough = (rare_ref + rare_cur) * min(n1, n2) / (n1 + n2) >= MIN_EXPECTED
        if big_enough or len(ref_bins) < 2:  # never merged down to a single bin
            ref_bins.append(rare_ref)
            cur_bins.append(rare_cur)
        else:
            smallest = int(np.argmin(np.add(ref_bins, cur_bins)))
            ref_bins[smallest] += rare_ref
            cur_bins[smallest] += rare_cur
    if len(ref_bins) < 2:
        # Every category too rare to test (ids, timestamps, free text): nothing was judged.
        return math.nan, math.nan, 0
    table = np.array([ref_bins, cur_bins], dtype=np.float64)
    if len(ref_bins) == 2:
        expected_2x2 = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
        if (expected_2x2 < MIN_EXPECTED).any():  # a small 2x2 table: Fisher's exact test
            return math.nan, float(stats.fisher_exact(table.astype(np.int64)).pvalue), 2
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return statistic, float(stats.chi2.sf(statistic, len(ref_bins) - 1)), len(ref_bins)


def missing_share_pvalue(ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int) -> float:
    """Two-sided test that the share of missing values is the same: chi-square on the 2x2
    table where every expected count is at least 5, else Fisher's exact test."""
    from scipy import stats

    table = np.array([[ref_missing, ref_rows - ref_missing], [cur_missing, cur_rows - cur_missing]])
    if (table.sum(axis=0) == 0).any():  # all missing, or none, in both: nothing differs
        return 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (expected >= MIN_EXPECTED).all():
        statistic = float(((table - expected) ** 2 / expected).sum())
        return float(stats.chi2.sf(statistic, 1))
    return float(stats.fisher_exact(table).pvalue)


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
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64], bool]:
    """Counts per bin, and whether each bin is one value. Few distinct values (flags, small
    counts) get a bin each, since quantiles of tied data collapse; current values the reference
    never had are pooled."""
    # A value set, not a sample of a continuum: few distinct values, each seen twice on average
    # (five rows of five values are a tiny sample, not five categories).
    distinct_count = np.count_nonzero(ref[1:] != ref[:-1]) + 1 if ref.size else 0
    few = 0 < distinct_count <= DISCRETE_MAX_VALUES and 2 * distinct_count <= ref.size
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
        return labels, ref_counts, cur_counts, True
    # The edges come from the finite values; ±inf still land in the first and last bins.
    edges = quantile_edges(ref[np.isfinite(ref)], bins)
    labels = _edge_labels(edges)
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(labels))
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(labels))
    return labels, ref_counts, cur_counts, False


def numeric_drift(name: str, reference: FloatArray, current: FloatArray, bins: int) -> FeatureDrift:
    """PSI over the reference's quantile bins (or its values, when it has few; plus a
    missing-value bin when either sample has one), the KS test on the values present, and the
    default judge's test: chi-square over the values when there are few, else KS and the
    missing share's test (Bonferroni)."""
    ref_missing, cur_missing = np.isnan(reference), np.isnan(current)
    ref = np.sort(reference[~ref_missing] if ref_missing.any() else reference)
    cur = np.sort(current[~cur_missing] if cur_missing.any() else current)
    labels, ref_counts, cur_counts, discrete = _numeric_bins(ref, cur, bins)
    if ref_missing.any() or cur_missing.any():
        labels.append(MISSING)
        ref_counts = np.append(ref_counts, int(ref_missing.sum()))
        cur_counts = np.append(cur_counts, int(cur_missing.sum()))
    shares = Bins(tuple(labels), _shares(ref_counts), _shares(cur_counts))
    statistic, ks_p = ks_2samp(ref, cur)
    test_bins = 0
    if reference.size == 0 or current.size == 0:
        test, pvalue = "ks", None
    elif discrete:  # a bin per value: chi-square over them (KS is conservative on ties)
        _, chi_p, test_bins = chi_square_homogeneity(ref_counts, cur_counts)
        pvalue, test = (None if math.isnan(chi_p) else chi_p), "chi_square"
    else:
        test = "ks"
        pvalues = [] if math.isnan(ks_p) else [ks_p]
        if ref_missing.any() or cur_missing.any():
            pvalues.append(missing_share_pvalue(int(ref_missing.sum()), reference.size,
                                                int(cur_missing.sum()), current.size))  # fmt: skip
        pvalue = min(1.0, len(pvalues) * min(pvalues)) if pvalues else None
    return FeatureDrift(
        name,
        "numeric",
        psi(shares.reference, shares.current),
        shares,
        ks_statistic=None if math.isnan(statistic) else statistic,
        ks_pvalue=None if math.isnan(ks_p) else ks_p,
        js_distance=js_distance(shares.reference, shares.current),
        reference_rows=int(reference.size),
        current_rows=int(current.size),
        missing_share=(
            float(ref_missing.mean()) if reference.size else 0.0,
            float(cur_missing.mean()) if current.size else 0.0,
        ),
        test=test,
        pvalue=pvalue,
        test_bins=test_bins,
    )


def categorical_drift(
    name: str,
    reference: dict[str, int],
    current: dict[str, int],
) -> FeatureDrift:
    """PSI and JS distance over the reference's categories plus one pooled "unseen" bin, and
    the chi-square test over every category of either sample (rare ones pooled).

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
    # The test sees each unseen category on its own: a new frequent one is its own bin.
    every = [*categories, *unseen]
    _, pvalue, test_bins = chi_square_homogeneity(
        np.array([reference.get(c, 0) for c in every], dtype=np.int64),
        np.array([current.get(c, 0) for c in every], dtype=np.int64),
    )
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
        test="chi_square",
        pvalue=None if math.isnan(pvalue) else pvalue,
        test_bins=test_bins,
    )
