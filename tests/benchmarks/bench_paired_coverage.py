"""Coverage of the paired intervals (challenger − champion on the same rows), by simulation.

    bash scripts/benchmark.sh paired-coverage [--reps N] [--seed S]

Two correlated binormal-logistic models (noise correlation rho), the threshold at 0.5. The
truth of each difference is 0 where the two models are alike (exchangeable), else it comes
from a 2M-row sample. Per regime and metric: the share of intervals that cover the true
difference, and the share of optimistic misses (the whole interval above the truth: the
challenger looks better than it is, the miss that lets a regression through). The `roc_auc wald` column is DeLong's paired Wald interval
alone, the baseline the gate's interval (Wald ∪ MOVER on each model's single-model interval) is
compared with. Target: coverage ≥ 0.93 and optimistic misses ≤ 3.5%.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from mlops_actions.gate import paired
from mlops_actions.gate.metrics import z_value

METRICS = ("accuracy", "recall", "precision", "f1", "roc_auc", "brier", "log_loss",
           "average_precision")  # fmt: skip
# rows, positives, noise correlation, challenger's and champion's separation
REGIMES = [
    (60, 0.3, 0.99, 1.5, 1.5),
    (200, 0.1, 0.95, 2.0, 1.8),
    (500, 0.2, 0.8, 1.5, 1.5),
    (2000, 0.05, 0.9, 2.0, 1.7),
    (1500, 0.08, 0.9, 3.0, 3.0),
    (1500, 0.02, 0.9, 3.5, 3.2),
    (5000, 0.01, 0.8, 3.5, 3.0),
    (20000, 0.05, 0.95, 2.0, 2.0),
]


def sample(rng, n, prevalence, rho, sep_a, sep_b):
    y = rng.random(n) < prevalence
    e = rng.standard_normal((n, 2))
    e[:, 1] = rho * e[:, 0] + math.sqrt(1 - rho * rho) * e[:, 1]
    a = 1 / (1 + np.exp(-(-2.2 + sep_a * y + e[:, 0])))
    b = 1 / (1 + np.exp(-(-2.2 + sep_b * y + e[:, 1])))
    return paired.Pair(y, a >= 0.5, b >= 0.5, a, b)


def wald(pair: paired.Pair, level: float) -> tuple[float, float]:
    """DeLong's paired Wald interval alone, from the same structural components."""
    assert pair.challenger_score is not None and pair.champion_score is not None
    y = pair.y_true
    pos, neg = np.sort(pair.challenger_score[y]), np.sort(pair.challenger_score[~y])
    qa_pos = paired._placements(neg, pair.challenger_score[y])
    qa_neg = 1 - paired._placements(pos, pair.challenger_score[~y])
    pos_b, neg_b = np.sort(pair.champion_score[y]), np.sort(pair.champion_score[~y])
    qb_pos = paired._placements(neg_b, pair.champion_score[y])
    qb_neg = 1 - paired._placements(pos_b, pair.champion_score[~y])
    diff = qa_pos.mean() - qb_pos.mean()
    var = np.var(qa_pos - qb_pos, ddof=1) / y.sum() + np.var(qa_neg - qb_neg, ddof=1) / (~y).sum()
    half = z_value(level) * math.sqrt(var)
    return diff - half, diff + half


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    started = time.perf_counter()
    columns = (*METRICS, "roc_auc wald")
    print(f"{args.reps} samples per regime; cells: coverage/optimistic misses ('—': no interval)")
    print("| rows | positives | rho | separation | " + " | ".join(columns) + " |")
    print("|---|---|---|---|" + "---|" * len(columns))
    worst: dict[str, tuple[float, float]] = {}
    for index, (n, prevalence, rho, sep_a, sep_b) in enumerate(REGIMES):
        population = sample(np.random.default_rng(index), 2_000_000, prevalence, rho, sep_a, sep_b)
        truth = paired.differences(population, METRICS, 0.95)
        if sep_a == sep_b:  # the same model twice: every true difference is 0 (exchangeable)
            truth = {m: replace(e, value=0.0) for m, e in truth.items()}
        rng = np.random.default_rng([args.seed, index])
        covered = dict.fromkeys(columns, 0)
        optimistic = dict.fromkeys(columns, 0)
        given = dict.fromkeys(columns, 0)
        for _ in range(args.reps):
            pair = sample(rng, n, prevalence, rho, sep_a, sep_b)
            found = paired.differences(pair, METRICS, 0.95)
            intervals = {m: (found[m].low, found[m].high) for m in METRICS}
            intervals["roc_auc wald"] = wald(pair, 0.95)
            for column, (low, high) in intervals.items():
                value = truth["roc_auc" if column == "roc_auc wald" else column].value
                if low is None or high is None or value is None:
                    continue
                given[column] += 1
                covered[column] += low <= value <= high
                optimistic[column] += low > value
        cells = []
        for column in columns:
            if not given[column]:
                cells.append("—")
                continue
            share = given[column] / args.reps
            coverage, misses = covered[column] / given[column], optimistic[column] / given[column]
            low_cov, high_miss = worst.get(column, (1.0, 0.0))
            worst[column] = (min(low_cov, coverage), max(high_miss, misses))
            partial = "" if share == 1 else f" (given {share:.0%})"
            cells.append(f"{coverage:.2f}/{misses:.3f}{partial}")
        print(
            f"| {n} | {prevalence:.0%} | {rho} | {sep_a} vs {sep_b} | " + " | ".join(cells) + " |"
        )
    print("\nworst over the regimes (coverage / optimistic misses):")
    for column, (coverage, misses) in worst.items():
        print(f"  {column:>18}: {coverage:.3f} / {misses:.3f}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
