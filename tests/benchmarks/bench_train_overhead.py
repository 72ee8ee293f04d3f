"""Container overhead of containerized-train: the example's training in the container against
the same training run directly on the host, in the same session.

    bash scripts/benchmark.sh train     # needs the testbed (python scripts/dev/testbed.py up)

Prints three times (best of N) and two ratios:
- direct:     python src/train.py on the host;
- container:  the training container's own run (start to exit), from the model card;
- action:     the whole `mlops-actions train` (pull/inspect, version probe, run, checks, card);
container/direct is the cost of running in Docker; action/direct adds the action's own work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example-project"
IMAGE = "mlops-actions-bench/fraud-detector:bench"
RUNS = 3


def best(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "--build-arg",
            "BASE_IMAGE=local/python:3.11-bookworm",
            "-t",
            IMAGE,
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    work = Path(tempfile.mkdtemp(prefix="train-bench-"))

    def direct() -> None:
        subprocess.run(
            [
                sys.executable,
                str(EXAMPLE / "src" / "train.py"),
                "--output-path",
                str(work / "direct" / "model.skops"),
            ],
            check=True,
            capture_output=True,
        )

    container_runs: list[float] = []

    def action() -> None:
        out = work / "action"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mlops_actions",
                "train",
                "--image",
                IMAGE,
                "--artifacts-dir",
                str(out),
                "--command",
                "python src/train.py --output-path /app/artifacts/model.skops",
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(REPO / "scripts")},
        )
        container_runs.append(
            json.loads((out / "model-card.json").read_text())["run"]["duration_seconds"]
        )

    direct_s = best(direct)
    action_s = best(action)
    container_s = min(container_runs)
    print(
        f"{'direct s':>9} {'container s':>12} {'action s':>9} | {'container/direct':>16} {'action/direct':>13}"
    )
    print(
        f"{direct_s:>9.2f} {container_s:>12.2f} {action_s:>9.2f} | {container_s / direct_s:>15.2f}x {action_s / direct_s:>12.2f}x"
    )


if __name__ == "__main__":
    main()
