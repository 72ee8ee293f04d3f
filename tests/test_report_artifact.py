"""report.html as a workflow artifact, without act: the model-gate and model-monitor actions'
upload and link steps (their YAML, and their scripts run with bash as the runner would), the
artifact name the commands give, and the upload-artifact shim every act run maps."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, make_predictions, run_cli, write_csv
from support.act_harness import SHIMS, pinned_shims
from support.runner_files import action_steps as _steps
from support.runner_files import read_outputs

UPLOAD = "actions/upload-artifact@"
ACTIONS = {"model-gate": "gate", "model-monitor": "monitor"}


def _release_pin() -> str:
    text = (REPO / ".github" / "workflows" / "release.yml").read_text()
    return re.search(r"uses: (actions/upload-artifact@[0-9a-f]{40})\s+#\s*(v[\d.]+)", text).groups()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_action_uploads_report_html_and_links_it_from_the_summary(action):
    steps, doc = _steps(action)
    main = ACTIONS[action]
    assert doc["inputs"]["upload-html"]["default"] == "true"
    upload = steps["upload-html"]
    pin, version = _release_pin()
    assert upload["uses"] == pin  # the SHA release.yml pins, with its version comment
    text = (REPO / "actions" / action / "action.yml").read_text()
    assert re.search(rf"uses: {re.escape(pin)}\s+# {re.escape(version)}\n", text)
    assert upload["if"] == (
        f"always() && inputs.upload-html == 'true' && steps.{main}.outputs.html-path != ''"
    )
    assert upload["with"]["name"] == f"${{{{ steps.{main}.outputs.artifact-name }}}}"
    assert upload["with"]["path"] == f"${{{{ steps.{main}.outputs.html-path }}}}"
    link = next(s for s in steps.values() if s.get("name", "").startswith("Link report.html"))
    assert link["if"] == "always() && steps.upload-html.outputs.artifact-url != ''"
    assert link["env"]["ARTIFACT_URL"] == "${{ steps.upload-html.outputs.artifact-url }}"
    assert doc["outputs"]["html-url"]["value"] == "${{ steps.upload-html.outputs.artifact-url }}"


def test_the_link_step_writes_one_line_to_the_summary(tmp_path):
    steps, _ = _steps("model-gate")
    link = next(s for s in steps.values() if s.get("name", "").startswith("Link report.html"))
    summary = tmp_path / "summary.md"
    url = "https://github.com/o/r/actions/runs/1/artifacts/2"
    env = {"PATH": os.environ["PATH"], "GITHUB_STEP_SUMMARY": str(summary),
           "ARTIFACT_URL": url, "ARTIFACT_NAME": "model-gate-report-gate-abc"}  # fmt: skip
    subprocess.run(["bash", "-e", "-c", link["run"]], env=env, check=True)
    assert summary.read_text() == (
        f"📎 [report.html]({url}): every chart of this report "
        "(artifact model-gate-report-gate-abc).\n\n"
    )


def test_every_pinned_third_party_action_of_the_actions_has_a_shim_act_maps():
    mapped = pinned_shims()
    for path in [REPO / "action.yml", *REPO.glob("actions/*/action.yml")]:
        for ref in re.findall(r"^\s*-?\s*uses:\s*(\S+)", path.read_text(), re.M):
            if ref.startswith(("./", "$/", "org/mlops-actions/")):
                continue
            assert ref in mapped, f"{path}: {ref} has no act shim in scripts/dev/act_pins.json"
            assert (mapped[ref] / "action.yml").is_file()
    assert set(p.name for p in SHIMS.iterdir()) == {p.name for p in mapped.values()}


def test_the_upload_artifact_shim_has_the_real_actions_inputs_and_outputs():
    shim = yaml.safe_load((SHIMS / "upload-artifact" / "action.yml").read_text())
    assert set(shim["inputs"]) == {"name", "path", "if-no-files-found", "retention-days",
                                   "compression-level", "overwrite", "include-hidden-files"}  # fmt: skip
    assert set(shim["outputs"]) == {"artifact-id", "artifact-url", "artifact-digest"}


def _shim(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    step = yaml.safe_load((SHIMS / "upload-artifact" / "action.yml").read_text())["runs"]["steps"][
        0
    ]
    out = tmp_path / f"output-{len(list(tmp_path.glob('output-*')))}"
    out.touch()
    defaults = {"name": "artifact", "if-no-files-found": "warn", "overwrite": "false"}
    given = defaults | inputs
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), "RUNNER_TEMP": str(tmp_path),
           "ACT_ARTIFACT_DIR": str(tmp_path / "artifacts"), "NAME": given["name"],
           "SOURCE": given["path"], "IF_NO_FILES_FOUND": given["if-no-files-found"],
           "OVERWRITE": given["overwrite"]}  # fmt: skip
    assert set(step["env"]) <= set(env)
    proc = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True)
    return proc, out


def test_the_upload_artifact_shim_copies_the_file_and_gives_its_url(tmp_path):
    page = tmp_path / "report.html"
    page.write_text("<!DOCTYPE html>")
    proc, out = _shim(tmp_path, name="model-gate-report-gate-1", path=str(page))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = read_outputs(out)
    folder = tmp_path / "artifacts" / "model-gate-report-gate-1"
    assert outputs["url"] == f"file://{folder}" and outputs["id"] == "1"
    assert (folder / "report.html").read_text() == "<!DOCTYPE html>"
    assert re.fullmatch(r"[0-9a-f]{64}", outputs["digest"])
    again, _ = _shim(tmp_path, name="model-gate-report-gate-1", path=str(page))
    assert again.returncode == 1 and "exists in this run" in again.stdout  # as v4 refuses
    missing, _ = _shim(
        tmp_path, name="x", path=str(tmp_path / "nope"), **{"if-no-files-found": "error"}
    )
    assert missing.returncode == 1 and "no files found" in missing.stdout


def test_the_commands_name_the_artifact_per_step(tmp_path):
    write_csv(tmp_path / "p.csv", make_predictions(300, seed=2))
    args = ["gate", "--predictions", str(tmp_path / "p.csv"), "--label-column", "is_fraud",
            "--score-column", "fraud_probability", "--thresholds", "recall>=0.1", "--fail-on", "never"]  # fmt: skip
    names = []
    # GitHub's runner gives each step its own GITHUB_OUTPUT; act gives a job's steps one (c)
    for step, file in (("a", "a"), ("b", "b"), ("c", "a")):
        output = tmp_path / f"set_output_{file}"
        output.touch()
        env = {"GITHUB_OUTPUT": str(output), "GITHUB_JOB": "model/gate"}
        proc = run_cli(*args, "--output-dir", str(tmp_path / step), env=env)
        assert proc.returncode == 0, proc.stderr
        names.append(read_outputs(output)["artifact-name"])
    assert len(set(names)) == 3, names
    for name in names:
        assert re.fullmatch(r"model-gate-report-model-gate-[0-9a-f]{10}", name), name
