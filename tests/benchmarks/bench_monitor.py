"""The monitor on 1M rows x 30 features, against Evidently's data-drift preset and a plain
per-column scipy/numpy loop, in the same session; and where the methods agree, their verdicts.

    bash scripts/benchmark.sh monitor          # or: python tests/benchmarks/bench_monitor.py
    python tests/benchmarks/bench_monitor.py --rows 200000   # quicker

Reference and current data (25 numeric, 5 categorical features; 10 of them shifted) are written
once as Parquet. Each contender runs in its own process from those files, so its time includes
reading, and its peak memory (max RSS) is its own:
- ours:      mlops_actions.monitor (pyarrow columns, PSI + KS per numeric feature, PSI + JS per
             categorical one);
- scipy:     pandas.read_parquet, then per column scipy.stats.ks_2samp and a numpy PSI;
- evidently: pandas.read_parquet, then Report([DataDriftPreset(num_method="ks",
             cat_method="jensenshannon")]) (Evidently runs in a venv of its own, made on first use:
             its pandas pin clashes with this project's).
Prints seconds, peak RSS, ratios against ours, and peak RSS over the raw column bytes (target:
ours faster than both, memory <= 3x the raw column bytes). Then the per-column verdicts of ours
(KS at alpha 0.05 for numeric, JS distance >= 0.1 for categorical, the same methods) against
Evidently's, and the reasons where they differ.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "mlops-actions" / "bench-monitor"
EVIDENTLY_VENV = Path.home() / ".cache" / "mlops-actions" / "evidently-venv"
NUMERIC, CATEGORICAL = 25, 5


def make_data(rows: int) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    ref_path, cur_path = CACHE / f"reference-{rows}.parquet", CACHE / f"current-{rows}.parquet"
    if ref_path.exists() and cur_path.exists():
        return ref_path, cur_path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for path, shifted in ((ref_path, False), (cur_path, True)):
        columns = {}
        for i in range(NUMERIC):
            shift = 0.05 * (i % 5) if shifted and i < 8 else 0.0  # 8 numeric drifted, by degrees
            columns[f"n{i:02d}"] = rng.normal(shift, 1.0 + 0.1 * (i % 3), rows).round(3)
        for j in range(CATEGORICAL):
            p = np.array([0.4, 0.3, 0.2, 0.1])
            if shifted and j < 2:  # 2 categorical drifted
                p = np.array([0.25, 0.25, 0.25, 0.25])
            columns[f"c{j}"] = np.array(["a", "b", "c", "d"])[rng.choice(4, rows, p=p)]
        pq.write_table(pa.table(columns), path)
    return ref_path, cur_path


def run_ours(ref: str, cur: str) -> dict[str, dict[str, object]]:
    sys.path.insert(0, str(REPO / "scripts"))
    from mlops_actions.monitor.config import MonitorConfig
    from mlops_actions.monitor.decide import decide
    from mlops_actions.monitor.run import MonitorRequest, measure

    config = MonitorConfig(numeric_method="ks", categorical_method="jensen_shannon")
    drifts, _ = measure(MonitorRequest(ref, cur, config))
    decision = decide(drifts, config)
    return {
        v.drift.name: {"drift": v.status == "drifted", "score": v.score, "psi": v.drift.psi}
        for v in decision.features
    }


def run_scipy(ref: str, cur: str) -> dict[str, dict[str, object]]:
    import numpy as np
    import pandas as pd
    from scipy import stats

    reference, current = pd.read_parquet(ref), pd.read_parquet(cur)
    out = {}
    for name in reference.columns:
        a, b = reference[name], current[name]
        if a.dtype.kind in "if":
            p = float(stats.ks_2samp(a.to_numpy(), b.to_numpy()).pvalue)
            edges = np.quantile(a, np.linspace(0, 1, 11)[1:-1])
            pa_ = np.bincount(np.searchsorted(edges, a, side="right"), minlength=10) / len(a)
            pb_ = np.bincount(np.searchsorted(edges, b, side="right"), minlength=10) / len(b)
            pa_, pb_ = np.maximum(pa_, 1e-4), np.maximum(pb_, 1e-4)
            out[name] = {
                "drift": p < 0.05,
                "score": p,
                "psi": float(np.sum((pb_ - pa_) * np.log(pb_ / pa_))),
            }
        else:
            ca, cb = a.value_counts(normalize=True), b.value_counts(normalize=True)
            keys = sorted(set(ca.index) | set(cb.index))
            from scipy.spatial.distance import jensenshannon

            js = float(
                jensenshannon([ca.get(k, 0) for k in keys], [cb.get(k, 0) for k in keys], base=2)
            )
            out[name] = {"drift": js >= 0.1, "score": js}
    return out


def run_evidently(ref: str, cur: str, psi: bool = False) -> dict[str, dict[str, object]]:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference, current = pd.read_parquet(ref), pd.read_parquet(cur)
    preset = (
        DataDriftPreset(method="psi", threshold=0.1)
        if psi
        else DataDriftPreset(num_method="ks", cat_method="jensenshannon")
    )
    report = Report([preset])
    result = report.run(current_data=current, reference_data=reference).dict()
    out = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            score = float(metric["value"])
            threshold = config.get("threshold") or (0.05 if config.get("method") == "ks" else 0.1)
            lower_is_drift = config.get("method") == "ks"
            drift = score < threshold if lower_is_drift else score >= threshold
            out[config["column"]] = {"drift": drift, "score": score, "method": config.get("method")}
    return out


def child(mode: str, ref: str, cur: str) -> None:
    start = time.perf_counter()
    runs = {"ours": run_ours, "scipy": run_scipy, "evidently": run_evidently,
            "evidently-psi": lambda r, c: run_evidently(r, c, psi=True)}  # fmt: skip
    verdicts = runs[mode](ref, cur)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak": peak, "verdicts": verdicts}))


def evidently_python() -> str:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print("making a venv for Evidently (once):", EVIDENTLY_VENV, file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "evidently==0.7.23",
                        "pandas<2.3", "pyarrow", "scipy"], check=True)  # fmt: skip
    return str(python)


def measure(mode: str, ref: Path, cur: Path) -> dict[str, object]:
    python = evidently_python() if mode.startswith("evidently") else sys.executable
    proc = subprocess.run([python, __file__, "--child", mode, str(ref), str(cur)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"{mode} failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "REF", "CUR"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    ref, cur = make_data(args.rows)
    raw = args.rows * (NUMERIC * 8 + CATEGORICAL * 8) * 2  # float64 / one code per value, both sets
    results = {mode: measure(mode, ref, cur) for mode in ("ours", "scipy", "evidently")}
    ours = results["ours"]
    print(f"monitor, {args.rows:,} rows x {NUMERIC + CATEGORICAL} features (reference and current); "
          f"raw column bytes {raw / 1e6:.0f} MB")  # fmt: skip
    print(f"{'':10} {'seconds':>8} {'/ ours':>7} {'peak MB':>8} {'/ ours':>7} {'/ raw':>6}")
    for mode, r in results.items():
        print(f"{mode:10} {r['seconds']:8.2f} {r['seconds'] / ours['seconds']:7.2f} "
              f"{r['peak'] / 1e6:8.0f} {r['peak'] / ours['peak']:7.2f} {r['peak'] / raw:6.2f}")  # fmt: skip
    mine, theirs = ours["verdicts"], results["evidently"]["verdicts"]
    agree = [c for c in mine if c in theirs and mine[c]["drift"] == theirs[c]["drift"]]
    print(
        f"\nverdicts (same methods: KS p < 0.05, JS distance >= 0.1): {len(agree)} of {len(mine)} agree"
    )
    for column in sorted(mine):
        if column in theirs and mine[column]["drift"] != theirs[column]["drift"]:
            print(f"  {column}: ours {mine[column]} evidently {theirs[column]}")
        elif column in theirs and column.startswith("n"):
            print(
                f"  {column}: p ours {mine[column]['score']:.3g}, evidently {theirs[column]['score']:.3g}"
            )
    # PSI: the same statistic over different bins, so the values differ (not timed).
    psi = measure("evidently-psi", ref, cur)["verdicts"]
    same = [c for c in mine if c in psi and (mine[c]["psi"] >= 0.1) == psi[c]["drift"]]
    print(f"\nPSI >= 0.1: {len(same)} of {len(mine)} verdicts agree. Ours bins numeric features at "
          "10 quantiles of the reference; Evidently at equal-width Sturges bins over reference and "
          "current together (a bin per value under 21 distinct values, as ours under 21). Sparse "
          "tail bins weigh more in equal-width bins, so its PSI runs higher on shifted normals.")  # fmt: skip
    for column in sorted(mine):
        if column in psi:
            print(f"  {column}: PSI ours {mine[column]['psi']:.4f}, evidently {psi[column]['score']:.4f}"
                  f"{'  (verdicts differ)' if (mine[column]['psi'] >= 0.1) != psi[column]['drift'] else ''}")  # fmt: skip


if __name__ == "__main__":
    main()
