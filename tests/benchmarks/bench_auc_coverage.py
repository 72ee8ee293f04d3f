"""Coverage of 95% ROC AUC intervals with few positives: the gate's method against DeLong.

    bash scripts/benchmark.sh coverage [--reps N]

Binormal scores, so the true AUC is known exactly (Phi(d / sqrt 2)). For each case it prints the
share of intervals that cover the truth, and the share that sit wholly above it (the misses that
let a weak model pass a lower-bound gate), for DeLong's Wald interval, its logit form, and the
gate's own interval (Newcombe's score method, from mlops_actions.gate.metrics).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from mlops_actions.gate.metrics import evaluate

Z = NormalDist().inv_cdf(0.975)


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    neg_s, pos_s = np.sort(neg), np.sort(pos)
    v10 = (
        (np.searchsorted(neg_s, pos, "left") + np.searchsorted(neg_s, pos, "right")) / 2 / neg.size
    )
    v01 = (
        (np.searchsorted(pos_s, neg, "left") + np.searchsorted(pos_s, neg, "right")) / 2 / pos.size
    )
    return v10, v01


def delong(pos: np.ndarray, neg: np.ndarray, logit: bool) -> tuple[float, float]:
    v10, v01 = _placements(pos, neg)
    auc = float(v10.mean())
    var10 = v10.var(ddof=1) if pos.size > 1 else 0.0
    se = math.sqrt(var10 / pos.size + v01.var(ddof=1) / neg.size)
    if not logit:
        return auc - Z * se, auc + Z * se
    if not 0 < auc < 1 or se == 0:
        return auc, auc
    centre, spread = math.log(auc / (1 - auc)), se / (auc * (1 - auc))
    return 1 / (1 + math.exp(-(centre - Z * spread))), 1 / (1 + math.exp(-(centre + Z * spread)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--auc", type=float, nargs="*", default=[0.9, 0.97])
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    print(
        f"{'true AUC':>8} {'prev':>5} {'rows':>5} | {'DeLong':>13} {'logit DeLong':>13} {'gate':>13}"
    )
    print(f"{'':>21} | {'cover/above':>13} {'cover/above':>13} {'cover/above':>13}")
    for truth in args.auc:
        d = math.sqrt(2) * NormalDist().inv_cdf(truth)
        for prevalence, n in ((0.05, 500), (0.02, 500), (0.02, 5000)):
            tallies = {k: [0, 0] for k in ("delong", "logit", "gate")}
            done = 0
            while done < args.reps:
                y = rng.random(n) < prevalence
                if y.all() or not y.any():
                    continue
                scores = rng.normal(d * y, 1.0)
                done += 1
                gate = evaluate(y, score=scores).metrics["roc_auc"]
                for key, (low, high) in (
                    ("delong", delong(scores[y], scores[~y], logit=False)),
                    ("logit", delong(scores[y], scores[~y], logit=True)),
                    ("gate", (gate.low, gate.high)),
                ):
                    tallies[key][0] += low <= truth <= high
                    tallies[key][1] += low > truth
            shown = " ".join(f"{c / done:>6.3f}/{a / done:<6.3f}" for c, a in tallies.values())
            print(f"{truth:>8} {prevalence:>5} {n:>5} | {shown}")


if __name__ == "__main__":
    main()
