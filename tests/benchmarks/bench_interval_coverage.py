"""Coverage of every metric's 95% interval, at the extremes: n from 20 to 20,000, 1% and 50%
positives, ROC AUC 0.6, 0.8 and 0.99, scores continuous or rounded to one decimal.

    bash scripts/benchmark.sh intervals [--reps N] [--rows 20 50 200 1000 5000 20000]

Binormal scores (negatives N(0, 1), positives N(d, 1), d = √2·Φ⁻¹(AUC)), mapped to
probabilities by a logistic, with the threshold at 0.5. The truth of each metric comes from a
2M-row sample of the same population. For each regime and metric it prints the share of
intervals that cover the truth and the share of optimistic misses (the whole interval on the
flattering side of the truth: the misses that let a model pass a bound gate), and "—" where
the gate gives no interval (it then fails a bound gate closed); "(given N%)" where it gives one
in only some samples (the shares are of those). Target: coverage ≥ 0.93 and
optimistic misses ≤ 3.5% wherever an interval is given.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from mlops_actions.gate.metrics import METRICS, evaluate

PHI_INV = NormalDist().inv_cdf


def sample(rng, n, prevalence, auc, rounded):
    y = rng.random(n) < prevalence
    d = math.sqrt(2) * PHI_INV(auc)
    latent = rng.standard_normal(n) + d * y
    score = 1 / (1 + np.exp(-(1.5 * latent - 1.5 * d / 2)))
    if rounded:
        score = np.round(score, 1)
    return y, score


def exact(prevalence, auc, rounded):
    """The confusion-matrix metrics and the AUC of the population, in closed form: the
    threshold 0.5 (0.45 before rounding to one decimal) is a cut on the binormal latent."""
    d = math.sqrt(2) * PHI_INV(auc)
    cut = 0.45 if rounded else 0.5
    latent_cut = (math.log(cut / (1 - cut)) + 1.5 * d / 2) / 1.5
    phi = NormalDist().cdf
    tpr, fpr = 1 - phi(latent_cut - d), 1 - phi(latent_cut)
    tp, fp = prevalence * tpr, (1 - prevalence) * fpr
    fn, tn = prevalence - tp, (1 - prevalence) - fp
    truth = {"accuracy": tp + tn, "precision": tp / (tp + fp), "recall": tpr,
             "f1": 2 * tp / (2 * tp + fp + fn), "specificity": 1 - fpr,
             "false_positive_rate": fpr, "selection_rate": tp + fp}  # fmt: skip
    if not rounded:
        truth["roc_auc"] = auc
    return truth


_TRUTH: dict = {}


def population(prevalence, auc, rounded):
    """Every metric's value in the population: closed form where there is one, else a
    20M-row sample (its error is a small fraction of any interval's width here)."""
    key = (prevalence, auc, rounded)
    if key not in _TRUTH:
        parts = [sample(np.random.default_rng(7 + i), 5_000_000, prevalence, auc, rounded)
                 for i in range(4)]  # fmt: skip
        y = np.concatenate([p[0] for p in parts])
        s = np.concatenate([p[1] for p in parts])
        sampled = {k: e.value for k, e in evaluate(y, score=s).metrics.items()}
        _TRUTH[key] = {**sampled, **exact(prevalence, auc, rounded)}
    return _TRUTH[key]


def regime(rng, n, prevalence, auc, rounded, reps):
    truth = population(prevalence, auc, rounded)
    counts = {m: [0, 0, 0] for m in METRICS}  # covered, optimistic, with an interval
    for _ in range(reps):
        y, s = sample(rng, n, prevalence, auc, rounded)
        for name, e in evaluate(y, score=s).metrics.items():
            t = truth[name]
            if e.low is None or e.high is None or t is None:
                continue
            counts[name][2] += 1
            if e.low <= t <= e.high:
                counts[name][0] += 1
            elif (e.low > t) == METRICS[name].higher_is_better:
                counts[name][1] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--rows", type=int, nargs="*", default=[20, 50, 200, 1000, 5000, 20000])
    parser.add_argument("--seed", type=int, default=20261201, help="fresh seeds, fresh samples")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.time()
    names = list(METRICS)
    print(f"{args.reps} samples per regime; cells: coverage/optimistic misses ('—': no interval)")
    print("| rows | positives | AUC | scores | " + " | ".join(names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    worst: dict[str, tuple[float, float]] = {m: (1.0, 0.0) for m in names}
    for rounded in (False, True):
        for prevalence in (0.01, 0.5):
            for auc in (0.6, 0.8, 0.99):
                for n in args.rows:
                    counts = regime(rng, n, prevalence, auc, rounded, args.reps)
                    cells = []
                    for m in names:
                        covered, optimistic, given = counts[m]
                        if not given:
                            cells.append("—")
                            continue
                        c, o = covered / given, optimistic / given
                        # shares of fewer than 100 samples are too noisy to rank
                        if given >= 100:
                            worst[m] = (min(worst[m][0], c), max(worst[m][1], o))
                        flag = "" if c >= 0.93 and o <= 0.035 else " ✗"
                        partial = "" if given == args.reps else f" (given {given / args.reps:.0%})"
                        cells.append(f"{c:.2f}/{o:.3f}{flag}{partial}")
                    print(
                        f"| {n} | {prevalence:.0%} | {auc} | {'rounded' if rounded else 'continuous'} | "
                        + " | ".join(cells)
                        + " |",
                        flush=True,
                    )
    print("\nworst over the regimes where an interval is given (coverage / optimistic misses):")
    for m in names:
        print(f"  {m:>20}: {worst[m][0]:.3f} / {worst[m][1]:.3f}")
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
