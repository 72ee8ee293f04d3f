"""The whole loop's time, and each stage's share, from the demo's own progress lines.

    bash scripts/benchmark.sh loop        # runs `bash scripts/demo.sh` (warm: run it once first)

The demo prints `[ elapsed ] <job>: <step>` as act starts each of our actions and finishes each
job; a step's time is the wall-clock gap to the next line (tests and build run in parallel,
so their gaps overlap). Prints the total, each stage's seconds and share, the dominant stage,
and the champion's scoring (score-champion) against the training it gates. Targets: the loop
within 5 minutes on 2 cores with a warm base image; scoring small next to training.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\[\s*([0-9.]+)s\] (.+?): (.+)$")


def main() -> int:
    proc = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], capture_output=True,
                          text=True, check=False)  # fmt: skip
    marks = [(float(m.group(1)), m.group(2), m.group(3))
             for m in map(LINE.match, proc.stdout.splitlines()) if m]  # fmt: skip
    if proc.returncode != 0 or not marks:
        print(proc.stdout[-3000:], proc.stderr[-2000:], file=sys.stderr)
        return 1
    total = marks[-1][0]
    print(f"whole loop: {total:.1f}s (target <= 300s: {total / 300:.2f}x of the budget)")
    stages: dict[str, float] = {}
    for (start, job, step), (end, _, _) in itertools.pairwise(marks):
        if step.startswith("Job"):
            continue
        key = f"{job}: {step}"
        stages[key] = stages.get(key, 0.0) + end - start
    for key, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:6.1f}s  {seconds / total:5.1%}  {key}")
    top = max(stages, key=stages.__getitem__)
    print(f"dominant: {top}")
    # The paired comparison's cost: the champion's serving image over the holdout, against
    # the training it gates (run the demo once first, so there is a champion to score).
    scoring = sum(v for k, v in stages.items() if "score-champion" in k)
    training = sum(v for k, v in stages.items() if "containerized-train" in k)
    if scoring and training:
        print(
            f"champion scoring {scoring:.1f}s = {scoring / training:.2f}x of training ({training:.1f}s)"
        )
    elif training:
        print("no champion was scored (the first run has none: run it again)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
