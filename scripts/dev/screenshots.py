"""Regenerate the report screenshots the README shows: docs/gate-report.png and
docs/monitor-report.png.

    python scripts/dev/screenshots.py

It makes fresh synthetic data in a temporary folder (a challenger and its champion on the same
rows, with a group column; a reference and a drifted current feed, with two earlier monitor
runs as history), runs `mlops-actions gate` and `mlops-actions monitor` on it, and has headless
Chromium (Debian's `chromium`) take a screenshot of each report.html. Nothing but the two PNGs
is written into the repository. Emoji in the headings need a colour-emoji font
(Debian: fonts-noto-color-emoji); without one they show as boxes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chromium

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
WORK = Path(tempfile.mkdtemp(prefix="mlops-screenshots-"))


def _cli(*args: str) -> None:
    """Run the CLI in the temporary folder, so the reports name the files as a user would."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    args = tuple(os.path.relpath(a, WORK) if a.startswith(str(WORK)) else a for a in args)
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_actions", *args, "--quiet"]
        if args[0] == "gate"
        else [sys.executable, "-m", "mlops_actions", *args],
        env=env,
        cwd=WORK,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        sys.exit(f"mlops-actions {args[0]} failed:\n{proc.stderr}")


def _gate(tmp: Path) -> Path:
    rng = np.random.default_rng(42)
    n = 5000
    y = (rng.random(n) < 0.12).astype(int)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    challenger = np.clip(rng.beta(2 + 5 * y, 6 - 3 * y), 0, 1).round(5)
    champion = np.clip(rng.beta(2 + 4 * y, 6 - 2.5 * y), 0, 1).round(5)
    rows = zip(range(n), y, challenger, region, strict=True)
    (tmp / "holdout.csv").write_text(
        "id,is_fraud,score,region\n" + "".join(f"{i},{a},{b},{c}\n" for i, a, b, c in rows)
    )
    (tmp / "champion.csv").write_text(
        "id,is_fraud,score\n"
        + "".join(f"{i},{a},{b}\n" for i, a, b in zip(range(n), y, champion, strict=True))
    )
    (tmp / "gate.yml").write_text(
        "columns: {id: id, label: is_fraud, score: score}\n"
        "metrics:\n  precision: {min: 0.5}\n  recall: {min: 0.6}\n"
        "baseline:\n  recall: {max_drop: 0.03}\n  roc_auc: {max_drop: 0.01}\n"
        "  log_loss: {max_drop: 0.02}\n"
        "fairness:\n  group_columns: [region]\n  metrics: {recall: {max_difference: 0.15}}\n"
    )
    out = tmp / "gate"
    _cli(
        "gate",
        "--predictions",
        str(tmp / "holdout.csv"),
        "--champion-predictions",
        str(tmp / "champion.csv"),
        "--config",
        str(tmp / "gate.yml"),
        "--output-dir",
        str(out),
        "--fail-on",
        "never",
    )
    return out / "report.html"


def _feed(path: Path, rng: np.random.Generator, shift: float, new_share: float) -> None:
    n = 4000
    amount = rng.lognormal(4 + shift, 0.5, n)
    kinds = ["card", "transfer", "cash", "crypto"]
    p = (
        np.array([0.6, 0.25, 0.15 - new_share / 2, new_share / 2])
        if new_share
        else np.array([0.6, 0.25, 0.15, 0.0])
    )
    kind = rng.choice(kinds, n, p=p / p.sum())
    age = rng.integers(18, 80, n)
    path.write_text(
        "amount,kind,age\n"
        + "".join(f"{a:.2f},{k},{g}\n" for a, k, g in zip(amount, kind, age, strict=True))
    )


def _monitor(tmp: Path) -> Path:
    rng = np.random.default_rng(7)
    _feed(tmp / "reference.csv", rng, 0.0, 0.0)
    for i, (shift, new) in enumerate(((0.0, 0.0), (0.05, 0.02), (0.12, 0.06))):
        _feed(tmp / f"week-{i}.csv", rng, shift, new)
        _cli(
            "monitor",
            "--reference",
            str(tmp / "reference.csv"),
            "--current",
            str(tmp / f"week-{i}.csv"),
            "--output-dir",
            str(tmp / "history" / f"week-{i}"),
        )
    _feed(tmp / "now.csv", rng, 0.25, 0.12)
    out = tmp / "monitor"
    _cli(
        "monitor",
        "--reference",
        str(tmp / "reference.csv"),
        "--current",
        str(tmp / "now.csv"),
        "--output-dir",
        str(out),
        "--history",
        str(tmp / "history"),
    )
    return out / "report.html"


def _screenshot(page: Path, png: Path, height: int) -> None:
    try:
        chromium.screenshot(page, png, width=1020, height=height)
    except chromium.Missing as missing:
        sys.exit(str(missing))
    print(f"wrote {png.relative_to(REPO)} ({png.stat().st_size // 1024} KiB)")


def main() -> None:
    try:
        _screenshot(_gate(WORK), DOCS / "gate-report.png", 3400)
        _screenshot(_monitor(WORK), DOCS / "monitor-report.png", 2300)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
