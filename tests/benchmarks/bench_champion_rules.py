"""What each "no regression against the champion" rule gets wrong, by simulation through the
gate's own decision code (mlops_actions.gate.decide with paired.py's intervals).

    bash scripts/benchmark.sh champion [--reps N] [--rows 2000 8000 40000]

A binormal model of a fraud detector: 5% positives, scores sigmoid(b0 + b1*y + e) with the
threshold at 0.5, the champion at recall 0.70 and precision about 0.60. The challenger is of
equal quality, or 0.05 worse in recall (b1 lowered; negatives unchanged). The two models' noise
terms are correlated (0.8, 0.95, 0.99), as two versions of one model are. Checks: precision and
recall with max_drop 0.02 (a run fails when either fails), and roc_auc with max_drop 0.02 alone.

- unpaired: the champion's stored metrics come from its own holdout (an independent sample of
  the same size), as today's verdict.json baseline; `point` compares points, `lower_bound`
  the lower ends of both intervals;
- paired: the champion scored on the challenger's holdout rows; `point`, `non_inferiority`,
  `confident_regression` as in the gate's README.

Prints, per rule, the share of equal challengers that FAIL and of 0.05-worse challengers that
PASS, then the chain effect: five promotions in a row of equal-quality models, each gated
against the champion the previous one left (a champion stored by passing its own gate is a
lucky draw, which an unpaired comparison keeps holding against the next one).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from statistics import NormalDist

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from mlops_actions.gate import paired
from mlops_actions.gate.config import GateConfig, Rule
from mlops_actions.gate.decide import PairedComparison, decide
from mlops_actions.gate.metrics import Estimate, evaluate

PHI_INV = NormalDist().inv_cdf
PREVALENCE = 0.05
B0 = PHI_INV(0.0246)  # false positive rate 2.46%: precision about 0.60 at recall 0.70
B1_CHAMPION = PHI_INV(0.70) - B0
B1_WORSE = PHI_INV(0.65) - B0
RULES = [
    ("unpaired", "point"),
    ("unpaired", "lower_bound"),
    ("paired", "point"),
    ("paired", "non_inferiority"),
    ("paired", "confident_regression"),
]
PR = (Rule("baseline", "precision", "max_drop", 0.02), Rule("baseline", "recall", "max_drop", 0.02))
AUC = (Rule("baseline", "roc_auc", "max_drop", 0.02),)


def scores(rng: np.random.Generator, y: np.ndarray, b1: float, noise: np.ndarray) -> np.ndarray:
    # A probit-style latent passed through the logistic, so the scores look like probabilities.
    z = B0 + b1 * y + noise
    return 1 / (1 + np.exp(-1.7 * z))


def correlated(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    a = rng.standard_normal(n)
    b = rho * a + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
    return a, b


def decision(
    rules: tuple[Rule, ...], method: str, how: str, challenger: dict[str, Estimate],
    comparison: PairedComparison | None, stored: dict[str, Estimate] | None,
) -> bool:  # fmt: skip
    config = GateConfig(rules=rules)
    if method == "paired":
        config = replace(config, baseline_method="paired", baseline_rule=how)
        return decide(challenger, config, None, None, comparison).passed
    config = replace(config, baseline_method="unpaired", gate_on=how)
    return decide(challenger, config, stored, None, None).passed


def one_holdout(
    rng: np.random.Generator, n: int, rho: float, b1_challenger: float
) -> tuple[dict[str, Estimate], PairedComparison, dict[str, Estimate]]:
    """The challenger's metrics on its holdout, the champion on the same rows (paired), and
    the champion's metrics on a holdout of its own (what an unpaired verdict stores)."""
    y = rng.random(n) < PREVALENCE
    noise_champion, noise_challenger = correlated(rng, n, rho)
    champion = scores(rng, y, B1_CHAMPION, noise_champion)
    challenger = scores(rng, y, b1_challenger, noise_challenger)
    ours = evaluate(y, score=challenger).metrics
    theirs = evaluate(y, score=champion).metrics
    pair = paired.Pair(y, challenger >= 0.5, champion >= 0.5, challenger, champion)
    differences = paired.differences(pair, ("precision", "recall", "roc_auc"), 0.95)
    comparison = PairedComparison(n, int(y.sum()), differences, theirs)
    y_own = rng.random(n) < PREVALENCE
    stored = evaluate(y_own, score=scores(rng, y_own, B1_CHAMPION, rng.standard_normal(n))).metrics
    return ours, comparison, stored


def rates(reps: int, n: int, rho: float, rng: np.random.Generator) -> dict[str, list[float]]:
    """Per rule: [equal FAIL (precision+recall), worse PASS (p+r), equal FAIL (auc), worse PASS (auc)]."""
    counts = {f"{m} {h}": [0, 0, 0, 0] for m, h in RULES}
    for _ in range(reps):
        for worse, b1 in ((False, B1_CHAMPION), (True, B1_WORSE)):
            ours, comparison, stored = one_holdout(rng, n, rho, b1)
            for method, how in RULES:
                key = f"{method} {how}"
                for offset, rules in ((0, PR), (2, AUC)):
                    passed = decision(rules, method, how, ours, comparison, stored)
                    counts[key][offset + int(worse)] += int(passed if worse else not passed)
    return {k: [c / reps for c in v] for k, v in counts.items()}


def chain(reps: int, n: int, rho: float, rng: np.random.Generator) -> dict[str, float]:
    """Five promotions of equal-quality models: the share of challengers failed, per rule."""
    out = {}
    for method, how in RULES:
        failed = trials = 0
        for _ in range(reps):
            y0 = rng.random(n) < PREVALENCE
            stored = evaluate(
                y0, score=scores(rng, y0, B1_CHAMPION, rng.standard_normal(n))
            ).metrics
            for _step in range(5):
                ours, comparison, _ = one_holdout(rng, n, rho, B1_CHAMPION)
                passed = decision(PR, method, how, ours, comparison, stored)
                trials += 1
                failed += int(not passed)
                if passed:  # the challenger's own holdout metrics become the stored baseline
                    stored = ours
        out[f"{method} {how}"] = failed / trials
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--rows", type=int, nargs="*", default=[2000, 8000, 40000])
    parser.add_argument("--rho", type=float, nargs="*", default=[0.8, 0.95, 0.99])
    args = parser.parse_args()
    rng = np.random.default_rng(20261201)
    started = time.time()
    print(f"{args.reps} repetitions each; tolerance 0.02; 5% positives; champion recall 0.70\n")
    for rho in args.rho:
        table = {n: rates(args.reps, n, rho, rng) for n in args.rows}
        sizes = " / ".join(f"{n // 1000}k" for n in args.rows)
        print(f"scores correlated {rho}: precision+recall, and roc_auc alone ({sizes} rows)")
        print(
            "| rule | equal: false FAIL | 0.05 worse recall: false PASS | AUC equal: false FAIL | AUC worse: false PASS |"
        )
        print("|---|---|---|---|---|")
        for key in table[args.rows[0]]:
            cells = [" / ".join(f"{table[n][key][i]:.2f}" for n in args.rows) for i in range(4)]
            print(f"| {key} | " + " | ".join(cells) + " |")
        print()
    print("chain: five promotions of equal models, share of challengers failed (rho 0.95)")
    print("| rule | " + " | ".join(f"{n // 1000}k" for n in args.rows) + " |")
    print("|---|" + "---|" * len(args.rows))
    chains = {n: chain(max(1, args.reps // 5), n, 0.95, rng) for n in args.rows}
    for key in chains[args.rows[0]]:
        print(f"| {key} | " + " | ".join(f"{chains[n][key]:.2f}" for n in args.rows) + " |")
    print(f"\n({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
