"""The monitor's statistics against scipy and hand-computed values, its decision, and its false
alarm and detection rates on the example's own generator."""

import math
import re
import sys

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from conftest import REPO
from mlops_actions.errors import UserError
from mlops_actions.monitor import drift
from mlops_actions.monitor.config import MonitorConfig, parse_config
from mlops_actions.monitor.decide import decide, judge_feature

sys.path.insert(0, str(REPO / "example-project" / "data"))
from generate import COLUMNS, generate


@pytest.mark.parametrize(
    ("n1", "n2", "shift", "discrete"),
    [(50, 80, 0.0, False), (300, 200, 0.3, False), (3000, 9000, 0.05, True),
     (20_000, 15_000, 0.0, False), (50_000, 30_000, 0.02, False), (40_000, 12_000, 0.1, True)],
)  # fmt: skip
def test_ks_matches_scipy(n1, n2, shift, discrete):
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(shift, size=n2)
    if discrete:  # ties: rounded values, as with counts and prices
        a, b = np.round(a, 1), np.round(b, 1)
    d, p = drift.ks_2samp(np.sort(a), np.sort(b))
    expected = stats.ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_psi_by_hand():
    # (0.7-0.5)ln(0.7/0.5) + (0.3-0.5)ln(0.3/0.5) = 0.0672944 + 0.1021651
    assert drift.psi(np.array([0.5, 0.5]), np.array([0.7, 0.3])) == pytest.approx(
        0.1694596, abs=1e-7
    )
    # An emptied bin counts as EPSILON (1e-4), not zero: finite and large.
    got = drift.psi(np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2]))
    by_hand = 2 * (-0.1 * math.log(0.4 / 0.5)) + (0.2 - 1e-4) * math.log(0.2 / 1e-4)
    assert got == pytest.approx(by_hand, rel=1e-12) and got == pytest.approx(1.5640, abs=1e-4)
    assert drift.psi(np.array([0.25] * 4), np.array([0.25] * 4)) == 0.0


def test_numeric_psi_uses_the_references_quantile_bins():
    reference = np.arange(100, dtype=float)  # bins=4: edges 24.75, 49.5, 74.25
    current = np.concatenate([np.arange(0, 25), np.arange(75, 100)]).astype(float)
    d = drift.numeric_drift("x", reference, current, bins=4)
    assert d.bins.labels == ("< 24.75", "24.75 – 49.5", "49.5 – 74.25", "≥ 74.25")
    assert list(d.bins.reference) == [0.25] * 4 and list(d.bins.current) == [0.5, 0, 0, 0.5]
    by_hand = 2 * 0.25 * math.log(2) + 2 * (1e-4 - 0.25) * math.log(1e-4 / 0.25)
    assert d.psi == pytest.approx(by_hand, rel=1e-12)


def test_few_distinct_values_get_a_bin_each_and_missing_values_one_more():
    reference = np.array([0.0] * 92 + [1.0] * 8)
    current = np.array([0.0] * 60 + [1.0] * 30 + [2.0] * 5 + [np.nan] * 5)
    d = drift.numeric_drift("flag", reference, current, bins=10)
    assert d.bins.labels == ("0", "1", drift.UNSEEN, drift.MISSING)
    assert list(d.bins.current) == [0.6, 0.3, 0.05, 0.05] and d.missing_share == (0.0, 0.05)
    assert d.psi > 0.25  # quantile bins of 92% zeros would have collapsed and shown nothing


def test_categorical_drift_pools_and_lists_unseen_categories():
    reference = {"grocery": 60, "fuel": 30, "travel": 10}
    current = {"grocery": 50, "fuel": 20, "crypto": 25, "(missing)": 5}
    d = drift.categorical_drift("merchant", reference, current)
    assert d.bins.labels == ("grocery", "fuel", "travel", drift.UNSEEN)
    assert d.unseen == ("crypto", "(missing)") and d.unseen_share == pytest.approx(0.30)
    p, q = np.array([0.6, 0.3, 0.1, 0.0]), np.array([0.5, 0.2, 0.0, 0.3])
    assert d.js_distance == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)
    assert d.psi == pytest.approx(drift.psi(p, q))


def test_config_errors_name_the_field():
    with pytest.raises(UserError, match=r"m.yml: drift.psy: unknown key \(did you mean 'psi'\?\)"):
        parse_config({"drift": {"psy": {}}}, "m.yml")
    with pytest.raises(UserError, match=re.escape("m.yml: drift.ks: was replaced by drift.alpha")):
        parse_config({"drift": {"ks": {"alpha": 0.05}}}, "m.yml")
    with pytest.raises(
        UserError, match=re.escape("m.yml: drift.psi.major: 0.05 is below drift.psi.warn")
    ):
        parse_config({"drift": {"psi": {"major": 0.05}}}, "m.yml")
    with pytest.raises(
        UserError, match=re.escape("m.yml: drift.numeric: expected one of auto, ks, psi")
    ):
        parse_config({"drift": {"numeric": "wasserstein"}}, "m.yml")
    with pytest.raises(
        UserError, match=re.escape("m.yml: columns.exclude: expected a list of column names")
    ):
        parse_config({"columns": {"exclude": "id"}}, "m.yml")
    with pytest.raises(
        UserError, match=re.escape("m.yml: drift.bins: expected a whole number 2-100")
    ):
        parse_config({"drift": {"bins": 1}}, "m.yml")


def _columns(rows):
    table = list(zip(*rows, strict=True))
    return {name: table[i] for i, name in enumerate(COLUMNS)}


REFERENCE = _columns(generate(20_000, seed=7))
FEATURES = ["amount", "hour", "merchant_category", "is_international", "account_age_days",
            "distance_from_home_km", "region"]  # fmt: skip
CATEGORICAL = {"merchant_category", "region"}


def _drifts(current, bins=10):
    out = []
    for name in FEATURES:
        if name in CATEGORICAL:
            ref, cur = {}, {}
            for v in REFERENCE[name]:
                ref[v] = ref.get(v, 0) + 1
            for v in current[name]:
                cur[v] = cur.get(v, 0) + 1
            out.append(drift.categorical_drift(name, ref, cur))
        else:
            ref = np.array(REFERENCE[name], dtype=float)
            out.append(drift.numeric_drift(name, ref, np.array(current[name], dtype=float), bins))
    return out


@pytest.mark.parametrize("method", ["psi", "auto"])
def test_undrifted_samples_raise_no_more_alarms_than_the_configured_level(method):
    """Same generator, other seeds: the dataset-level false-alarm rate stays at or under the
    configured level (alpha 0.01 for the tests; PSI has no level, so: none at all)."""
    config = MonitorConfig(numeric_method=method, alpha=0.05 if method == "auto" else 0.01)
    seeds = range(100, 160)
    alarms, feature_alarms, judged = 0, 0, 0
    for seed in seeds:
        decision = decide(_drifts(_columns(generate(2_000, seed=seed))), config)
        alarms += decision.degraded
        feature_alarms += sum(
            v.status == "drifted" for v in decision.features if v.drift.kind == "numeric"
        )
        judged += sum(v.drift.kind == "numeric" for v in decision.features)
    rate, feature_rate = alarms / len(seeds), feature_alarms / judged
    print(f"{method}: dataset false-alarm rate {rate:.3f}, per-feature {feature_rate:.3f}")
    assert rate <= (0.05 if method == "auto" else 0.0)
    if method == "auto":  # at alpha 0.05 here, so that 60 seeds can see an excess
        assert feature_rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / judged)


def test_a_drifted_sample_is_detected():
    current = _columns(generate(2_000, seed=99))
    current["amount"] = [f"{float(a) * 1.8:.2f}" for a in current["amount"]]
    current["account_age_days"] = [int(a) // 3 + 1 for a in current["account_age_days"]]
    current["is_international"] = [
        1 if i % 3 == 0 else v for i, v in enumerate(current["is_international"])
    ]
    current["merchant_category"] = [
        "crypto" if i % 4 == 0 else v for i, v in enumerate(current["merchant_category"])
    ]
    decision = decide(_drifts(current), MonitorConfig(dataset_share=0.5))
    assert decision.degraded and decision.dataset_drifted
    assert {v.drift.name for v in decision.drifted} == {
        "amount", "account_age_days", "is_international", "merchant_category"
    }  # fmt: skip
    assert decision.reasons[0].startswith("drift: 4 of 7 features drifted (57% ≥ 50%)")
    crypto = next(v for v in decision.features if v.drift.name == "merchant_category")
    assert crypto.drift.unseen == ("crypto",)


def test_too_few_rows_are_not_judged_and_give_no_all_clear():
    decision = decide(_drifts(_columns(generate(50, seed=3))), MonitorConfig(min_rows=100))
    assert not decision.degraded and decision.drift_share == 0.0
    assert decision.outcome == "not-judged"
    assert decision.not_judged == ("only 50 current rows (drift.min_rows is 100)",)


def test_failed_live_performance_checks_are_reasons():
    verdict = {"passed": False, "checks": [
        {"status": "fail", "metric": "recall", "message": "recall 0.52 < min 0.60"},
        {"status": "pass", "metric": "precision", "message": "precision 0.91 >= 0.8"},
    ]}  # fmt: skip
    decision = decide(_drifts(_columns(generate(2_000, seed=5))), MonitorConfig(), verdict)
    assert decision.degraded and not decision.dataset_drifted
    assert decision.reasons == ("performance: recall 0.52 < min 0.60",)


def test_chi_square_equals_scipy_on_the_pooled_table():
    """Categories too rare for the approximation are pooled by their counts in both samples
    together; the statistic and p-value are scipy's chi2_contingency on that table."""
    reference = np.array([500, 300, 120, 3, 2, 1, 0], dtype=np.int64)
    current = np.array([260, 170, 50, 4, 0, 2, 6], dtype=np.int64)
    statistic, p, bins = drift.chi_square_homogeneity(reference, current)
    # expected in the smaller sample (492 of 1418 rows): only the first three reach 5
    table = np.array([[500, 300, 120, 6], [260, 170, 50, 12]])
    expected = stats.chi2_contingency(table, correction=False)
    assert bins == 4
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-12)


def test_the_missing_share_test_equals_scipy():
    p = drift.missing_share_pvalue(40, 1000, 70, 1000)
    table = [[40, 960], [70, 930]]
    assert p == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-12)
    small = drift.missing_share_pvalue(0, 1000, 3, 50)  # expected counts under 5: Fisher
    assert small == pytest.approx(stats.fisher_exact([[0, 1000], [3, 47]]).pvalue, rel=1e-12)


def test_a_feature_missing_everywhere_now_is_drifted_not_silently_fine():
    rng = np.random.default_rng(1)
    d = drift.numeric_drift("x", rng.normal(size=2000), np.full(800, np.nan), bins=10)
    verdict = decide([d], MonitorConfig()).features[0]
    assert d.ks_pvalue is None and verdict.status == "drifted" and verdict.score < 1e-10


def test_no_current_rows_and_no_features_are_not_judged():
    rng = np.random.default_rng(2)
    empty = drift.numeric_drift("x", rng.normal(size=500), np.empty(0), bins=10)
    decision = decide([empty], MonitorConfig())
    assert decision.outcome == "not-judged" and decision.features[0].status == "not_judged"
    assert decision.not_judged[0] == "the current data has no rows"
    assert decide([], MonitorConfig()).not_judged == ("no feature to compare",)
    with pytest.raises(UserError, match=r"m.yml: features: is empty, so nothing would be"):
        parse_config({"features": []}, "m.yml")


def test_a_quantile_edge_on_tied_values_is_the_value_itself():
    """Deciles of data tied at 0.9: the edge is 0.9 exactly, so 0.9 lands in the bin '≥ 0.9'."""
    reference = np.sort(np.array([0.1] * 5 + [0.9] * 95))
    edges = drift.quantile_edges(reference, 10)
    assert 0.9 in edges.tolist() and max(edges) == 0.9


@pytest.mark.parametrize(("levels", "rows"), [(20, 500), (500, 500), (500, 5000), (5000, 5000)])
def test_many_categories_raise_no_more_false_alarms_than_alpha(levels, rows):
    """No drift, many levels (Zipf-like shares): the default chi-square alarms at about alpha.
    PSI over the same data alarms in nearly every run at 500 levels and 500 rows."""
    rng = np.random.default_rng(levels + rows)
    shares = 1 / np.arange(1, levels + 1)
    shares /= shares.sum()
    names = np.array([f"c{i}" for i in range(levels)])
    alarms = psi_alarms = 0
    reps = 300
    for _ in range(reps):
        ref = dict(
            zip(*np.unique(rng.choice(names, rows, p=shares), return_counts=True), strict=True)
        )
        cur = dict(
            zip(*np.unique(rng.choice(names, rows, p=shares), return_counts=True), strict=True)
        )
        d = drift.categorical_drift("c", {k: int(v) for k, v in ref.items()},
                                    {k: int(v) for k, v in cur.items()})  # fmt: skip
        alarms += d.pvalue < 0.05
        psi_alarms += d.psi >= 0.25
    # at alpha 0.05 (so that 300 runs can see an excess): 0.05 plus three standard errors
    assert alarms / reps <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps), alarms / reps
    if (levels, rows) == (500, 500):
        assert psi_alarms / reps > 0.9


def test_small_real_shifts_are_found_at_100k_rows():
    """A 0.1 SD mean shift and a 20% rise in variance, 100k rows each: KS at alpha 0.01."""
    rng = np.random.default_rng(3)
    reference = rng.normal(size=100_000)
    for current in (rng.normal(0.1, 1.0, 100_000), rng.normal(0.0, math.sqrt(1.2), 100_000)):
        d = drift.numeric_drift("x", reference, current, bins=10)
        assert decide([d], MonitorConfig()).features[0].status == "drifted"
        assert d.psi < 0.1  # PSI calls both stable


def test_a_pool_of_rare_categories_is_never_merged_into_the_only_bin():
    """Reviewer's cases: one kept category and a pool of new ones, or a flag that changed value,
    was one bin after pooling and read as p = 1. Now two bins, by Fisher's exact test."""
    from scipy import stats

    _, p, bins = drift.chi_square_homogeneity(np.array([10_000, 0]), np.array([0, 100]))
    assert bins == 2 and p == pytest.approx(stats.fisher_exact([[10_000, 0], [0, 100]]).pvalue)
    assert p < 1e-100
    new = {f"new{i}": 1 for i in range(100)}
    d = drift.categorical_drift("cat", {"a": 10_000}, new)
    assert d.pvalue is not None and d.pvalue < 1e-100


def test_every_category_rare_is_not_judged_and_says_why():
    ids = drift.categorical_drift("id", {f"r{i}": 1 for i in range(1000)},
                                  {f"c{i}": 1 for i in range(1000)})  # fmt: skip
    assert ids.pvalue is None
    verdict = judge_feature(ids, MonitorConfig())
    assert verdict.status == "not_judged" and "columns.exclude" in verdict.why
    same = drift.categorical_drift("c", {"a": 500}, {"a": 300})  # one category in both
    assert same.pvalue == 1.0


def test_a_tiny_reference_is_a_sample_not_a_set_of_categories():
    rng = np.random.default_rng(5)
    d = drift.numeric_drift("x", rng.normal(0, 1, 5), rng.normal(5, 1, 500), bins=10)
    assert d.test == "ks" and d.pvalue < 1e-3
    flag = drift.numeric_drift("f", np.array([0.0, 1.0] * 50), np.array([1.0] * 100), bins=10)
    assert flag.test == "chi_square" and flag.pvalue < 1e-10
    decision = decide([d], MonitorConfig())
    assert decision.outcome == "not-judged" and "only 5 reference rows" in decision.not_judged[0]
