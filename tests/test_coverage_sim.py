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
