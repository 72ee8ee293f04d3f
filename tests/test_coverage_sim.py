"""Confidence intervals cover the true value at about the nominal rate (simulation, fixed seed)."""

import numpy as np
import pytest

from mlops_actions.gate.metrics import evaluate

REPS = 300
N = 2000


def _sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.random(n) < 0.2
    logit = rng.normal(-1.0 + 2.2 * y, 1.0)
    return y, 1 / (1 + np.exp(-logit))


@pytest.fixture(scope="module")
def coverage() -> dict[str, float]:
    rng = np.random.default_rng(12345)
    truth_y, truth_s = _sample(rng, 4_000_000)  # population values, to ~1e-3 or better
    truth = {k: e.value for k, e in evaluate(truth_y, score=truth_s).metrics.items()}
    hits = dict.fromkeys(truth, 0)
    for _ in range(REPS):
        y, s = _sample(rng, N)
        for name, e in evaluate(y, score=s).metrics.items():
            hits[name] += e.low <= truth[name] <= e.high
    return {k: v / REPS for k, v in hits.items()}


@pytest.mark.parametrize(
    "metric",
    [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "specificity",
        "false_positive_rate",
        "selection_rate",
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier",
    ],
)
def test_95_percent_interval_covers_truth_about_95_percent(coverage, metric):
    # With 300 reps, the 95% binomial band around 0.95 is about 0.925-0.975; allow a margin.
    assert 0.91 <= coverage[metric] <= 0.985, f"{metric} coverage {coverage[metric]:.3f}"


# Few positives and a high AUC: where DeLong's Wald interval undercovered (0.67 at 10
# positives), letting a weak model pass a lower-bound gate. Binormal scores, so the true AUC is
# known exactly: AUC = Phi(d / sqrt(2)).
AUC_TRUE = 0.97
AUC_CASES = [(0.05, 500), (0.02, 500), (0.02, 5000)]
AUC_REPS = 400


@pytest.fixture(scope="module")
def auc_coverage() -> dict[tuple[float, int], dict[str, float]]:
    from statistics import NormalDist

    d = 2**0.5 * NormalDist().inv_cdf(AUC_TRUE)
    rng = np.random.default_rng(2026)
    out = {}
    for prevalence, n in AUC_CASES:
        hits = optimistic = done = 0
        while done < AUC_REPS:
            y = rng.random(n) < prevalence
            if y.all() or not y.any():
                continue
            e = evaluate(y, score=rng.normal(d * y, 1.0)).metrics["roc_auc"]
            done += 1
            hits += e.low <= AUC_TRUE <= e.high
            optimistic += e.low > AUC_TRUE
        out[(prevalence, n)] = {"coverage": hits / done, "optimistic": optimistic / done}
    return out


@pytest.mark.parametrize("prevalence,n", AUC_CASES)
def test_auc_interval_covers_with_few_positives(auc_coverage, prevalence, n):
    got = auc_coverage[(prevalence, n)]
    assert got["coverage"] >= 0.93, f"AUC coverage {got} at prevalence {prevalence}, n={n}"
    # A miss that lets a weak model pass is one where the whole interval sits above the truth.
    assert got["optimistic"] <= 0.035, got


# The extremes of the extended simulation (tests/benchmarks/bench_interval_coverage.py): few
# positive predictions, where plain Wilson missed optimistically up to 17% of the time.
def _binormal(rng, n, prevalence, auc):
    from statistics import NormalDist

    d = 2**0.5 * NormalDist().inv_cdf(auc)
    y = rng.random(n) < prevalence
    latent = rng.standard_normal(n) + d * y
    return y, 1 / (1 + np.exp(-(1.5 * latent - 0.75 * d)))


@pytest.mark.parametrize(("n", "prevalence", "auc"), [(20, 0.01, 0.6), (50, 0.01, 0.99)])
def test_proportions_stay_honest_with_few_minority_outcomes(n, prevalence, auc):
    from statistics import NormalDist

    rng = np.random.default_rng(2026)
    d = 2**0.5 * NormalDist().inv_cdf(auc)
    fpr = 1 - NormalDist().cdf(d / 2)  # the threshold cuts the latent at d/2
    tpr = 1 - NormalDist().cdf(d / 2 - d)
    truth = {"precision": prevalence * tpr / (prevalence * tpr + (1 - prevalence) * fpr),
             "specificity": 1 - fpr, "accuracy": prevalence * tpr + (1 - prevalence) * (1 - fpr)}  # fmt: skip
    counts = {m: [0, 0, 0] for m in truth}
    for _ in range(400):
        y, s = _binormal(rng, n, prevalence, auc)
        metrics = evaluate(y, score=s).metrics
        for m, t in truth.items():
            e = metrics[m]
            if e.low is None:
                continue
            counts[m][2] += 1
            counts[m][0] += e.low <= t <= e.high
            counts[m][1] += e.low > t  # optimistic: the whole interval above the truth
    for m, (covered, optimistic, given) in counts.items():
        assert covered / given >= 0.91 and optimistic / given <= 0.04, (m, covered / given,
                                                                        optimistic / given)  # fmt: skip
