"""The actions' own run: scripts, run with bash as the runner runs them (no act)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, make_predictions, write_csv
from support.runner_files import action_steps, read_outputs


def test_monitor_performance_verdict_passes_through_the_helpers_output(tmp_path):
    """The performance step's script, run as the runner runs it: with a newline in output-dir
    its own `echo verdict=...` line broke; the gate writes verdict-path in the delimiter form."""
    steps, _ = action_steps("model-monitor")
    performance, monitor = steps["performance"], steps["monitor"]
    assert monitor["env"]["INPUT_PERFORMANCE_VERDICT"] == (
        "${{ steps.performance.outputs.verdict-path }}"
    )
    assert "GITHUB_OUTPUT" not in performance["run"]
    columns = make_predictions(400, seed=3)
    write_csv(tmp_path / "labelled.csv", columns)
    (tmp_path / "live.yml").write_text(
        "columns: {label: is_fraud, score: fraud_probability}\nmetrics: {recall: {min: 0.1}}\n"
    )
    output = tmp_path / "set_output"
    output.touch()
    out_dir = tmp_path / "odd\nname"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env |= {"GITHUB_ACTION_PATH": str(REPO / "actions" / "model-monitor"),
            "HELPER_PYTHON": sys.executable, "GITHUB_OUTPUT": str(output),
            "INPUT_CONFIG": str(tmp_path / "live.yml"), "PERFORMANCE_DATA": "",
            "CURRENT": str(tmp_path / "labelled.csv"), "OUTPUT_DIR": str(out_dir)}  # fmt: skip
    proc = subprocess.run(["bash", "-e", "-c", performance["run"]], env=env, cwd=tmp_path,
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    verdict = read_outputs(output)["verdict-path"]
    assert verdict == str((out_dir / "performance" / "verdict.json").resolve())
    assert Path(verdict).is_file()
