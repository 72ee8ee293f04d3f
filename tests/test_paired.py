"""The champion on the challenger's own rows: paired differences checked against independent
references (scikit-learn, SciPy, a brute-force DeLong), their coverage by simulation, the id
join's refusals, and the three rules."""

import json
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

from conftest import run_cli, write_csv
from mlops_actions.gate import paired


def _models(seed, n=3000, prevalence=0.08, rho=0.9, shift=0.0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < prevalence
    e = rng.standard_normal((n, 2))
    e[:, 1] = rho * e[:, 0] + math.sqrt(1 - rho * rho) * e[:, 1]
    a = 1 / (1 + np.exp(-(-2.2 + 3.0 * y + e[:, 0])))
    b = 1 / (1 + np.exp(-(-2.2 + (3.0 - shift) * y + e[:, 1])))
    return y, a, b


def _delong_brute_force(y, a, b):
    """DeLong et al. (1988), written out with the O(mn) kernel: the reference."""
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)

    def components(s):
        kernel = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        return kernel.mean(axis=1), kernel.mean(axis=0)

    (va, wa), (vb, wb) = components(a), components(b)
    s10 = np.cov(np.vstack([va, vb]))
    s01 = np.cov(np.vstack([wa, wb]))
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / pos.size + (
        s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]
    ) / neg.size
    return va.mean() - vb.mean(), variance


def test_differences_equal_scikit_learn_and_the_references():
    y, a, b = _models(3, n=1500)
    pair = paired.Pair(y, a >= 0.5, b >= 0.5, a, b)
    d = paired.differences(pair, paired.PAIRED_METRICS, 0.95)
    assert d["recall"].value == pytest.approx(
        recall_score(y, a >= 0.5) - recall_score(y, b >= 0.5), abs=1e-12
    )
    assert d["precision"].value == pytest.approx(
        precision_score(y, a >= 0.5) - precision_score(y, b >= 0.5), abs=1e-12
    )
    assert d["roc_auc"].value == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b), abs=1e-12)
    assert d["average_precision"].value == pytest.approx(
        average_precision_score(y, a) - average_precision_score(y, b), abs=1e-12
    )
    # The AUC interval holds DeLong's paired Wald interval (here at AUC 0.99 and 120 positives,
    # where DeLong's variance is too small, it is wider: the MOVER side of the union).
    diff, variance = _delong_brute_force(y, a, b)
    half = stats.norm.ppf(0.975) * math.sqrt(variance)
    assert d["roc_auc"].low <= diff - half + 1e-12 and d["roc_auc"].high >= diff + half - 1e-12
    # log loss: the paired mean difference, as SciPy's paired t (normal quantile, large n), with
    # Hall's skewness correction moving both ends by the same amount
    eps = np.finfo(float).eps
    loss = lambda s: -np.log(np.clip(np.where(y, s, 1 - s), eps, 1 - eps))  # noqa: E731
    rows = loss(a) - loss(b)
    interval = stats.ttest_rel(loss(a), loss(b)).confidence_interval(0.95)
    z = stats.norm.ppf(0.975)
    shift = rows.std(ddof=1) / math.sqrt(y.size) * stats.skew(rows) * (2 * z * z + 1)
    shift /= 6 * math.sqrt(y.size)
    assert (d["log_loss"].low, d["log_loss"].high) == pytest.approx(
        (interval.low + shift, interval.high + shift), rel=2e-3
    )


def test_roc_auc_interval_is_delongs_where_the_auc_is_moderate():
    """At AUC 0.8 DeLong's paired Wald interval is right, and the union barely widens it."""
    rng = np.random.default_rng(8)
    n = 3000
    y = rng.random(n) < 0.08
    e = rng.standard_normal((n, 2))
    e[:, 1] = 0.9 * e[:, 0] + math.sqrt(1 - 0.81) * e[:, 1]
    a = 1 / (1 + np.exp(-(-2.2 + 1.2 * y + e[:, 0])))
    b = 1 / (1 + np.exp(-(-2.2 + 1.2 * y + e[:, 1])))
    got = paired.differences(paired.Pair(y, a >= 0.5, b >= 0.5, a, b), ("roc_auc",), 0.95)
    diff, variance = _delong_brute_force(y, a, b)
    half = stats.norm.ppf(0.975) * math.sqrt(variance)
    e = got["roc_auc"]
    assert e.value == pytest.approx(diff, abs=1e-12)
    assert e.low <= diff - half + 1e-12 and e.high >= diff + half - 1e-12
    assert (e.high - e.low) <= 1.15 * 2 * half


def test_paired_log_loss_has_no_interval_with_certain_scores():
    y, a, b = _models(4, n=4000)
    b = b.copy()
    b[0] = 1.0
    got = paired.differences(paired.Pair(y, a >= 0.5, b >= 0.5, a, b), ("log_loss", "brier"), 0.95)
    assert got["log_loss"].value is not None and got["log_loss"].low is None
    assert "exactly 0 or 1" in got["log_loss"].reason
    assert got["brier"].low is not None


def _wilson_cc(x, n, z):
    """Newcombe (1998, Statistics in Medicine 17:857), method 4, from the paper's formulas."""
    p = x / n
    low = 2 * n * p + z * z - 1 - z * math.sqrt(z * z - 2 - 1 / n + 4 * p * (n * (1 - p) + 1))
    high = 2 * n * p + z * z + 1 + z * math.sqrt(z * z + 2 - 1 / n + 4 * p * (n * (1 - p) - 1))
    return (0.0 if x == 0 else low / (2 * (n + z * z))), (
        1.0 if x == n else high / (2 * (n + z * z))
    )


def test_newcombe_paired_is_the_published_method_11():
    """Newcombe (1998, Statistics in Medicine 17:2635), method 11, written out here from the
    paper's formulas: corrected Wilson limits of each margin, combined with the phi
    coefficient, its numerator AD - BC reduced by n/2."""
    both, only_a, only_b, neither = 40, 8, 3, 49
    got = paired.newcombe_paired(both, only_a, only_b, neither, 0.95)
    n = 100
    p1, p2 = 0.48, 0.43
    z = stats.norm.ppf(0.975)
    (l1, u1), (l2, u2) = _wilson_cc(48, n, z), _wilson_cc(43, n, z)
    phi = (both * neither - only_a * only_b - n / 2) / math.sqrt(48 * 52 * 43 * 57)
    low = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    assert (got.value, got.low, got.high) == pytest.approx((0.05, low, high), abs=1e-12)
    assert got.low < 0.05 < got.high


def test_two_models_that_agree_on_every_row_are_not_shown_equal():
    """0 of 20 rows in disagreement: with φ corrected the interval does not collapse to 0."""
    got = paired.newcombe_paired(12, 0, 0, 8, 0.95)
    assert got.value == 0 and got.low < -0.08 and got.high > 0.08


@pytest.mark.parametrize("case", [(3000, 0.08, 0.9), (800, 0.2, 0.8), (4000, 0.03, 0.95)])
def test_paired_intervals_cover_the_true_difference(case):
    """Coverage by simulation: the true difference from a 2M-row population."""
    n, prevalence, rho = case
    y, a, b = _models(99, n=2_000_000, prevalence=prevalence, rho=rho, shift=0.3)
    metrics = ("recall", "precision", "roc_auc", "brier", "average_precision", "f1")
    truth = paired.differences(paired.Pair(y, a >= 0.5, b >= 0.5, a, b), metrics, 0.95)
    hits = dict.fromkeys(metrics, 0)
    reps = 150
    for seed in range(reps):
        y, a, b = _models(1000 + seed, n=n, prevalence=prevalence, rho=rho, shift=0.3)
        d = paired.differences(paired.Pair(y, a >= 0.5, b >= 0.5, a, b), metrics, 0.95)
        for m in metrics:
            hits[m] += d[m].low <= truth[m].value <= d[m].high
    for m in metrics:
        # 150 reps: the 95% band around 0.95 is about 0.91-0.99; the methods may be conservative.
        assert 0.88 <= hits[m] / reps <= 1.0, f"{m}: {hits[m] / reps:.3f}"


def _files(tmp_path, n=2000, shift=0.0, order=None, ids=None, champion_extra=None):
    y, a, b = _models(5, n=n, shift=shift)
    ids = ids if ids is not None else [f"t{i:05d}" for i in range(n)]
    challenger = write_csv(tmp_path / "challenger.csv",
                           {"txn": ids, "is_fraud": y.astype(int), "p": b.round(6)})  # fmt: skip
    order = order if order is not None else np.random.default_rng(1).permutation(n)
    champion_ids = [ids[i] for i in order]
    columns = {"txn": champion_ids, "score": a[order].round(6)}
    columns.update(champion_extra or {})
    champion = write_csv(tmp_path / "champion.csv", columns)
    return challenger, champion


def _gate(tmp_path, challenger, champion, config="", *extra):
    cfg = tmp_path / "gate.yml"
    cfg.write_text("columns: {label: is_fraud, score: p, id: txn}\n" + (config or
                   "baseline:\n  recall: {max_drop: 0.02}\n  roc_auc: {max_drop: 0.02}\n"))  # fmt: skip
    proc = run_cli("gate", "--quiet", "--predictions", str(challenger), "--champion-predictions",
                   str(champion), "--config", str(cfg), "--output-dir", str(tmp_path / "out"),
                   *extra)  # fmt: skip
    verdict = tmp_path / "out" / "verdict.json"
    return proc, json.loads(verdict.read_text()) if verdict.exists() else None


def test_a_shuffled_champion_file_is_joined_by_id_and_judged_paired(tmp_path):
    challenger, champion = _files(tmp_path)
    proc, verdict = _gate(tmp_path, challenger, champion)
    assert proc.returncode == 0, proc.stderr
    checks = [c for c in verdict["checks"] if c["kind"] == "baseline"]
    assert {c["comparison"] for c in checks} == {"paired"}
    assert all(c["difference_ci"] and c["detectable"] > 0 for c in checks)
    assert verdict["champion"]["rows"] == 2000 and "recall" in verdict["champion"]["differences"]
    # The champion's metrics are its own on these rows, not a stored number.
    y, a, _ = _models(5, n=2000)
    assert verdict["champion"]["metrics"]["roc_auc"]["value"] == pytest.approx(
        roc_auc_score(y, a.round(6)), abs=1e-9
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", "have no row for id 't00007' of the challenger's holdout (1 missing)"),
        ("extra", "have id 'zzz', which the challenger's holdout does not"),
        ("duplicate", "repeats the id 't00003'"),
        ("label", "label column 'is_fraud' disagrees with the challenger's for id"),
    ],
)
def test_ids_that_do_not_match_are_one_line(tmp_path, change, message):
    n = 50
    order = np.arange(n)
    ids = [f"t{i:05d}" for i in range(n)]
    extra = None
    if change == "missing":
        order = np.delete(order, 7)
    challenger, champion = _files(tmp_path, n=n, order=order, ids=ids)
    text = champion.read_text().splitlines()
    if change == "extra":
        text.append("zzz,0.5")
    elif change == "duplicate":
        text[-1] = "t00003,0.5"  # the last row's id repeated: one id missing, one twice
    elif change == "label":
        y, _, _ = _models(5, n=n)
        extra = {"is_fraud": (~y).astype(int)}
        challenger, champion = _files(tmp_path, n=n, order=order, ids=ids, champion_extra=extra)
        text = champion.read_text().splitlines()
    champion.write_text("\n".join(text) + "\n")
    proc, verdict = _gate(tmp_path, challenger, champion)
    assert proc.returncode == 2 and verdict is None, proc.stdout
    (line,) = proc.stderr.strip().splitlines()
    assert message in line, line


@pytest.mark.parametrize("written", ["0007", "+7", "7 ", "0x7"])
def test_an_id_written_differently_is_another_id(tmp_path, written):
    """A number parser reads all of these as 7; as ids they are not the challenger's 7."""
    n = 20
    ids = [str(i) for i in range(n)]
    challenger, champion = _files(tmp_path, n=n, order=np.arange(n), ids=ids)
    text = champion.read_text().splitlines()
    text[8] = f"{written},{text[8].split(',')[1]}"  # data row 8 is the id 7
    champion.write_text("\n".join(text) + "\n")
    proc, verdict = _gate(tmp_path, challenger, champion)
    assert proc.returncode == 2 and verdict is None, proc.stdout
    assert "have no row for id '7' of the challenger's holdout" in proc.stderr, proc.stderr


def test_whole_number_ids_join_as_numbers_in_any_order(tmp_path):
    n = 3000
    ids = [str(i * 7919) for i in range(n)]
    challenger, champion = _files(tmp_path, n=n, ids=ids)
    proc, verdict = _gate(tmp_path, challenger, champion)
    assert proc.returncode == 0, proc.stderr
    assert verdict["checks"][0]["comparison"] == "paired"


def test_paired_needs_an_id_column_and_predictions(tmp_path):
    challenger, champion = _files(tmp_path, n=40)
    cfg = tmp_path / "plain.yml"
    cfg.write_text("columns: {label: is_fraud, score: p}\nbaseline: {recall: {max_drop: 0.02}}\n")
    proc = run_cli("gate", "--predictions", str(challenger), "--champion-predictions",
                   str(champion), "--config", str(cfg), "--output-dir", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 2 and "name the id column both files share" in proc.stderr
    proc = run_cli("gate", "--predictions", str(challenger), "--champion-predictions",
                   str(champion), "--config", str(cfg), "--id-column", "nope",
                   "--output-dir", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 2 and "no id column 'nope'" in proc.stderr


@pytest.mark.parametrize(
    ("rule", "shift", "passed"),
    [
        ("point", 0.0, True),  # an equal model
        ("point", 1.2, False),  # a much worse one
        ("non_inferiority", 0.0, False),  # 2k rows cannot show "no worse than 0.01"
        ("confident_regression", 0.0, True),
        ("confident_regression", 1.2, False),  # confidently worse
    ],
)
def test_the_three_rules(tmp_path, rule, shift, passed):
    challenger, champion = _files(tmp_path, shift=shift)
    config = f"baseline:\n  rule: {rule}\n  recall: {{max_drop: 0.01}}\n"
    _, verdict = _gate(tmp_path, challenger, champion, config)
    assert verdict["passed"] is passed, verdict["checks"]
    (check,) = verdict["checks"]
    assert f"rule {rule}" in check["message"] and check["comparison"] == "paired"


def test_a_tolerance_below_what_the_holdout_can_detect_is_said(tmp_path):
    challenger, champion = _files(tmp_path, n=2000)
    _, verdict = _gate(tmp_path, challenger, champion, "baseline:\n  recall: {max_drop: 0.01}\n")
    note = next(n for n in verdict["notes"] if "below what" in n)
    assert "recall: the tolerance 0.01 is below what 2,000 holdout rows can detect" in note
    assert "would resolve it" in note


def test_paired_required_without_champion_predictions_fails_closed(tmp_path):
    challenger, _ = _files(tmp_path, n=200)
    cfg = tmp_path / "gate.yml"
    cfg.write_text("columns: {label: is_fraud, score: p}\n"
                   "baseline:\n  method: paired\n  recall: {max_drop: 0.02}\n")  # fmt: skip
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"passed": True, "metrics": {"recall": 0.5}}))
    proc = run_cli("gate", "--predictions", str(challenger), "--config", str(cfg), "--baseline",
                   str(baseline), "--output-dir", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 1
    assert "baseline.method is paired, but the champion was not scored" in proc.stdout


def test_unpaired_bounds_compare_bound_to_bound(tmp_path):
    """gate_on: lower_bound against a stored verdict: the challenger's lower bound against the
    champion's lower bound (never against its point), so an identical model passes."""
    challenger, _ = _files(tmp_path, n=3000)
    first = run_cli("gate", "--predictions", str(challenger), "--label-column", "is_fraud",
                    "--score-column", "p", "--thresholds", "recall>=0", "--output-dir",
                    str(tmp_path / "first"))  # fmt: skip
    assert first.returncode == 0, first.stderr
    cfg = tmp_path / "gate.yml"
    cfg.write_text("columns: {label: is_fraud, score: p}\nconfidence: {gate_on: lower_bound}\n"
                   "baseline:\n  recall: {max_drop: 0.0}\n  precision: {max_drop: 0.0}\n")  # fmt: skip
    proc = run_cli("gate", "--predictions", str(challenger), "--config", str(cfg), "--baseline",
                   str(tmp_path / "first" / "verdict.json"), "--output-dir", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]
    verdict = json.loads((tmp_path / "o" / "verdict.json").read_text())
    assert {c["comparison"] for c in verdict["checks"]} == {"unpaired"}
    assert any("Unpaired" in n for n in verdict["notes"])


def _simulated(tmp_path, seed, n, worse):
    """A holdout of n rows, 5% positives: the champion at recall 0.70 (scores correlated
    0.95 with the challenger's), the challenger equal or 0.05 worse in recall."""
    from statistics import NormalDist

    inv = NormalDist().inv_cdf
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.05
    b0 = inv(0.0246)
    noise = rng.standard_normal(n)
    other = 0.95 * noise + math.sqrt(1 - 0.95**2) * rng.standard_normal(n)
    champion = 1 / (1 + np.exp(-1.7 * (b0 + (inv(0.70) - b0) * y + noise)))
    challenger = 1 / (1 + np.exp(-1.7 * (b0 + (inv(0.65 if worse else 0.70) - b0) * y + other)))
    ids = np.arange(n)
    ours = write_csv(tmp_path / f"c{seed}.csv", {"id": ids, "label": y.astype(int),
                                                 "score": challenger.round(6)})  # fmt: skip
    theirs = write_csv(tmp_path / f"p{seed}.csv", {"id": ids, "score": champion.round(6)})
    return ours, theirs


def test_through_the_cli_the_default_rule_separates_equal_from_worse_at_40k_rows(tmp_path):
    """The acceptance simulation, small: equal challengers pass and 0.05-worse-recall ones
    fail at 40k rows (the benchmark puts both error rates at 0.00 over 500 repetitions)."""
    config = tmp_path / "gate.yml"
    config.write_text("columns: {id: id}\n"
                      "baseline: {precision: {max_drop: 0.02}, recall: {max_drop: 0.02}}\n")  # fmt: skip
    for seed in range(4):
        for worse in (False, True):
            ours, theirs = _simulated(tmp_path, 100 + seed, 40_000, worse)
            proc = run_cli("gate", "--quiet", "--predictions", str(ours), "--champion-predictions",
                           str(theirs), "--config", str(config), "--output-dir",
                           str(tmp_path / "out"))  # fmt: skip
            assert proc.returncode == (1 if worse else 0), (seed, worse, proc.stdout[-1500:])


def test_a_model_compared_with_itself_differs_by_exactly_zero():
    """Scores off the 6-decimal grid take another summation path than the challenger's own
    evaluation; the difference is still 0, so `max_drop: 0` passes the same model."""
    rng = np.random.default_rng(11)
    y = rng.random(5000) < 0.1
    s = rng.random(5000)
    from mlops_actions.gate.metrics import evaluate

    own = evaluate(y, score=s)
    pair = paired.Pair(y, s >= 0.5, s >= 0.5, s, s[::-1][::-1].copy(),
                       challenger_sorted=(np.sort(s[y]), np.sort(s[~y])),
                       challenger_auc=own.metrics["roc_auc"].value)  # fmt: skip
    d = paired.differences(pair, paired.PAIRED_METRICS, 0.95)
    assert all(e.value == 0.0 for e in d.values()), {k: e.value for k, e in d.items()}
