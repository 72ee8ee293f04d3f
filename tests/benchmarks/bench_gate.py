"""Gate benchmark: prints ratios against baselines measured in the same session.

    bash scripts/benchmark.sh                 # 1M and 10M rows
    python tests/benchmarks/bench_gate.py --rows 1000000

For each size it times, on the same CSV (label int, score float):
- load:       the fastest plain read of the used columns: multi-threaded pyarrow read_csv,
              then to NumPy (the gate itself streams batches to bound memory);
- sklearn:    scikit-learn's point metrics on the loaded arrays (accuracy, precision, recall,
              f1, confusion matrix, roc_auc, average_precision, log_loss, brier);
- gate:       the full gate, load included: every metric with its 95% CI, checks, verdict;
- bootstrap:  a naive scikit-learn row bootstrap of the same metrics, B=1000, extrapolated
              from a few resamples;
and, in a fresh subprocess, the gate's peak memory above the imported-libraries baseline.

Targets: gate <= 1.5x (load + sklearn); gate >= 100x faster than the bootstrap; peak memory
<= 3x the raw bytes of the used columns. These are printed, never asserted: timing on shared
machines is noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from mlops_actions.gate import predictions
from mlops_actions.gate.config import parse_config
from mlops_actions.gate.run import GateRequest, compute

CONFIG = parse_config(
    {
        "columns": {"label": "label", "score": "score"},
        "metrics": {"precision": {"min": 0.5}, "recall": {"min": 0.5}, "roc_auc": {"min": 0.8}},
    },
    "bench",
)
BOOTSTRAP_B = 1000
BOOTSTRAP_SAMPLED = 3


def make_csv(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    y = (rng.random(rows) < 0.05).astype(np.int64)
    score = np.round(np.clip(rng.normal(0.3 + 0.4 * y, 0.15), 0, 1), 6)
    pacsv.write_csv(pa.table({"label": y, "score": score}), path)


def plain_load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(
        path, convert_options=pacsv.ConvertOptions(include_columns=["label", "score"])
    )
    return table.column("label").to_numpy() == 1, table.column("score").to_numpy()


def sklearn_point_metrics(y: np.ndarray, score: np.ndarray) -> None:
    from sklearn import metrics as sk

    pred = score >= 0.5
    sk.accuracy_score(y, pred)
    sk.precision_score(y, pred)
    sk.recall_score(y, pred)
    sk.f1_score(y, pred)
    sk.confusion_matrix(y, pred)
    sk.roc_auc_score(y, score)
    sk.average_precision_score(y, score)
    sk.log_loss(y, score)
    sk.brier_score_loss(y, score)


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory(path: Path, warmup: Path) -> dict[str, float]:
    """Peak RSS of the gate above the RSS before it, in a fresh process (Linux: VmHWM reset).

    "cold" is the first run in the process, so it includes one-off costs (library code paged
    in, Arrow's allocator arenas); "warm" follows a 1,000-row run and is what grows with data.
    """
    code = f"""
import json, sys
sys.path.insert(0, {str(REPO / "scripts")!r})
import numpy, pyarrow, pyarrow.csv, pyarrow.compute, yaml
from mlops_actions.gate.run import GateRequest, compute

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

def measure(path):
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the high-water mark to the current RSS
    base = status("VmRSS")
    compute(GateRequest(output_dir="", predictions=path, thresholds="precision>=0.5,recall>=0.5"))
    return (status("VmHWM") - base) * 1024

cold = measure({str(path)!r})
measure({str(warmup)!r})
print(json.dumps({{"cold": cold, "warm": measure({str(path)!r})}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def bench(rows: int, workdir: Path) -> dict[str, float]:
    path = workdir / f"bench-{rows}.csv"
    if not path.exists():
        make_csv(path, rows)
    request = GateRequest(
        output_dir="",
        predictions=str(path),
        config=None,
        thresholds="precision>=0.5,recall>=0.5,roc_auc>=0.8",
    )
    data = predictions.load_predictions(str(path), CONFIG)
    y, score = data.y_true, data.score
    assert score is not None
    load_s = timed(lambda: plain_load(path))
    sklearn_s = timed(lambda: sklearn_point_metrics(y, score))
    gate_s = timed(lambda: compute(request))
    rng = np.random.default_rng(1)

    def one_resample() -> None:
        index = rng.integers(0, rows, rows)
        sklearn_point_metrics(y[index], score[index])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_resample = timed(one_resample, repeat=BOOTSTRAP_SAMPLED)
    bootstrap_s = per_resample * BOOTSTRAP_B
    warmup = workdir / "bench-1000.csv"
    if not warmup.exists():
        make_csv(warmup, 1000)
    memory = peak_memory(path, warmup)
    raw_bytes = rows * (8 + 8)  # the used columns as int64 labels and float64 scores
    return {
        "rows": rows,
        "file_mb": path.stat().st_size / 1e6,
        "load_s": load_s,
        "sklearn_s": sklearn_s,
        "gate_s": gate_s,
        "bootstrap_s": bootstrap_s,
        "gate_vs_load_plus_sklearn": gate_s / (load_s + sklearn_s),
        "bootstrap_vs_gate": bootstrap_s / gate_s,
        "cold_peak_mb": memory["cold"] / 1e6,
        "cold_vs_raw": memory["cold"] / raw_bytes,
        "warm_peak_mb": memory["warm"] / 1e6,
        "warm_vs_raw": memory["warm"] / raw_bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gate-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"{'rows':>11} {'file MB':>8} {'load s':>7} {'sklearn s':>9} {'gate s':>7} "
        f"{'naive boot s':>12} | {'gate/(load+sk)':>14} {'boot/gate':>9} "
        f"{'cold MB':>8} {'cold/raw':>8} {'warm MB':>8} {'warm/raw':>8}"
    )
    for rows in args.rows:
        r = bench(rows, workdir)
        print(
            f"{r['rows']:>11,} {r['file_mb']:>8.1f} {r['load_s']:>7.2f} {r['sklearn_s']:>9.2f} "
            f"{r['gate_s']:>7.2f} {r['bootstrap_s']:>12.0f} | "
            f"{r['gate_vs_load_plus_sklearn']:>13.2f}x {r['bootstrap_vs_gate']:>8.0f}x "
            f"{r['cold_peak_mb']:>8.0f} {r['cold_vs_raw']:>7.2f}x "
            f"{r['warm_peak_mb']:>8.0f} {r['warm_vs_raw']:>7.2f}x",
            flush=True,
        )
    print("targets: gate/(load+sklearn) <= 1.5x; boot/gate >= 100x; peak/raw <= 3x")
    print(
        "raw = rows x 16 bytes (int64 label + float64 score); peaks are RSS above the pre-run RSS"
    )


if __name__ == "__main__":
    main()
