"""The monitor's drift alarms by simulation: false alarms when nothing drifted, and detection
of two small real shifts, for the default judge and for PSI and JS.

    bash scripts/benchmark.sh drift [--reps N] [--seed S]

No drift: reference and current are two samples of one population, n rows each (500, 5,000,
100,000): a continuous numeric feature (normal), a discrete one (Poisson counts, 3 on average),
and categoricals of 20, 500 and 5,000 levels with Zipf-like shares. Per feature, the share of
runs that call it drifted; for the dataset of all five, the share of runs with any feature
drifted and with the dataset drifted (half its features, the default `dataset_share`).
Detection: a 0.1 SD mean shift and a 20% rise in variance of the numeric feature. Targets: at
most 5% false alarms per feature in every cell, for the default judge.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from mlops_actions.monitor import drift
from mlops_actions.monitor.config import MonitorConfig
from mlops_actions.monitor.decide import decide

ROWS = (500, 5_000, 100_000)
LEVELS = (20, 500, 5_000)
JUDGES = {
    "default": MonitorConfig(),
    "psi": MonitorConfig(numeric_method="psi", categorical_method="psi"),
    "js": MonitorConfig(numeric_method="psi", categorical_method="jensen_shannon"),
}


def _counts(rng: np.random.Generator, n: int, shares: np.ndarray) -> dict[str, int]:
    drawn = np.bincount(rng.choice(shares.size, n, p=shares), minlength=shares.size)
    return {f"c{i}": int(c) for i, c in enumerate(drawn) if c}


def features(rng: np.random.Generator, n: int, shift: str = "") -> list[drift.FeatureDrift]:
    mean, sd = (0.1, 1.0) if shift == "mean" else (0.0, math.sqrt(1.2) if shift else 1.0)
    out = [
        drift.numeric_drift("normal", rng.normal(size=n), rng.normal(mean, sd, n), 10),
        drift.numeric_drift("counts", rng.poisson(3, n).astype(float),
                            rng.poisson(3, n).astype(float), 10),
    ]  # fmt: skip
    for levels in LEVELS:
        shares = 1 / np.arange(1, levels + 1)
        shares /= shares.sum()
        out.append(drift.categorical_drift(f"{levels} levels", _counts(rng, n, shares),
                                           _counts(rng, n, shares)))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    names = ["normal", "counts", *(f"{k} levels" for k in LEVELS)]
    print(f"No drift: share of {args.reps} runs that call a feature drifted "
          "(default: KS / chi-square at alpha 0.01; psi: PSI ≥ 0.25; js: JS distance ≥ 0.1 on "
          "categoricals, PSI on numerics)\n")  # fmt: skip
    print("| rows | judge | " + " | ".join(names) + " | any feature | dataset |")
    print("|---|---|" + "---|" * (len(names) + 2))
    worst = 0.0
    for n in ROWS:
        alarms = {j: dict.fromkeys([*names, "any", "dataset"], 0) for j in JUDGES}
        for _ in range(args.reps):
            measured = features(rng, n)
            for judge, config in JUDGES.items():
                decision = decide(measured, config)
                for v in decision.features:
                    alarms[judge][v.drift.name] += v.status == "drifted"
                alarms[judge]["any"] += bool(decision.drifted)
                alarms[judge]["dataset"] += decision.dataset_drifted
        for judge in JUDGES:
            rates = {k: c / args.reps for k, c in alarms[judge].items()}
            if judge == "default":
                worst = max(worst, *(rates[k] for k in names))
            cells = " | ".join(f"{rates[k]:.3f}" for k in [*names, "any", "dataset"])
            print(f"| {n:,} | {judge} | {cells} |", flush=True)
    print(f"\nworst per-feature false-alarm rate of the default judge: {worst:.3f} (target 0.05)")

    print("\nDetection: share of runs that call the numeric feature drifted\n")
    print("| rows | judge | 0.1 SD mean shift | 20% more variance |")
    print("|---|---|---|---|")
    for n in (5_000, 100_000):
        found = {j: {"mean": 0, "variance": 0} for j in JUDGES if j != "js"}
        reps = max(50, args.reps // 3)
        for _ in range(reps):
            for shift in ("mean", "variance"):
                measured = features(rng, n, shift)[:1]
                for judge in found:
                    verdict = decide(measured, JUDGES[judge]).features[0]
                    found[judge][shift] += verdict.status == "drifted"
        for judge, hits in found.items():
            print(
                f"| {n:,} | {judge} | {hits['mean'] / reps:.2f} | {hits['variance'] / reps:.2f} |"
            )
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
