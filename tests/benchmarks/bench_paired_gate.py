"""The paired gate's cost: the gate with the champion scored on the same rows, against the same
gate without it, on the same files, in one process. Printed, never asserted.

    bash scripts/benchmark.sh paired [--rows 10000000]

Files: the challenger's predictions (id, label, score, region: fairness by region) and the
champion's (id, score), the ids in the same order, as score-champion writes them, and shuffled
(the join's general path). Checks: precision and recall thresholds, fairness on recall, and
baseline checks on precision, recall and roc_auc (paired). Target: paired <= 1.5x single.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from mlops_actions.gate.run import GateRequest, compute

CONFIG = """columns: {id: id, label: label, score: score}
metrics: {precision: {min: 0.3}, recall: {min: 0.3}}
baseline: {precision: {max_drop: 0.02}, recall: {max_drop: 0.02}, roc_auc: {max_drop: 0.01}}
fairness: {group_columns: [region], metrics: {recall: {max_difference: 0.2}}}
"""


def make(workdir: Path, rows: int) -> tuple[Path, Path, Path]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    y = (rng.random(rows) < 0.05).astype(np.int64)
    noise = rng.standard_normal(rows)
    ours = np.round(np.clip(0.3 + 0.4 * y + 0.15 * noise, 0, 1), 6)
    theirs = np.round(
        np.clip(0.3 + 0.4 * y + 0.15 * (0.95 * noise + 0.31 * rng.standard_normal(rows)), 0, 1), 6
    )
    ids = np.arange(rows, dtype=np.int64) * 7 + 3
    regions = pa.array(np.array(["north", "south", "east", "west"])[rng.integers(0, 4, rows)])
    challenger = workdir / "challenger.csv"
    pacsv.write_csv(pa.table({"id": ids, "label": y, "score": ours, "region": regions}), challenger)
    champion = workdir / "champion.csv"
    pacsv.write_csv(pa.table({"id": ids, "score": theirs}), champion)
    shuffled = workdir / "champion-shuffled.csv"
    order = rng.permutation(rows)
    pacsv.write_csv(pa.table({"id": ids[order], "score": theirs[order]}), shuffled)
    return challenger, champion, shuffled


def timed(request: GateRequest) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        compute(request)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="paired-bench-"))
    config = workdir / "gate.yml"
    config.write_text(CONFIG)
    print(
        f"{'rows':>11} {'single s':>9} {'paired s':>9} {'shuffled s':>10} | {'paired/single':>13} {'shuffled/single':>15}"
    )
    for rows in args.rows:
        challenger, champion, shuffled = make(workdir, rows)
        base = dict(
            output_dir=str(workdir / "out"), predictions=str(challenger), config=str(config)
        )
        single = timed(GateRequest(**base))
        same_order = timed(GateRequest(**base, champion_predictions=str(champion)))
        any_order = timed(GateRequest(**base, champion_predictions=str(shuffled)))
        print(
            f"{rows:>11,} {single:>9.2f} {same_order:>9.2f} {any_order:>10.2f} | "
            f"{same_order / single:>12.2f}x {any_order / single:>14.2f}x",
            flush=True,
        )
    print("target: paired/single <= 1.5x (ids in the same order, as score-champion writes them)")


if __name__ == "__main__":
    main()
