"""Run a workflow through nektos/act on this machine (self-hosted mode, no Docker).

`org/mlops-actions@v1` is mapped to a clean export of this working tree with
`--local-repository`, so a consumer-style `uses: org/mlops-actions/actions/model-gate@v1` runs
our code. A capture step appended to every job records `toJSON(steps)` (outcomes and outputs)
and act's log gives the job summary; `ActRun` returns them.

    run = run_workflow(consumer_dir, WORKFLOW, event="pull_request", payload={...})
    assert run.jobs["gate"] == "success"
    assert run.steps["gate"]["gate"]["outputs"]["passed"] == "true"
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conftest import tool

REPO = Path(__file__).resolve().parents[2]
ACTION_REF = "org/mlops-actions@v1"
SHIMS = REPO / "scripts" / "dev" / "act-shims"


def pinned_shims() -> dict[str, Path]:
    """Every pinned remote action that has a test shim (scripts/dev/act-shims/), mapped to it:
    act cannot fetch remote actions here. The one list, scripts/dev/act_pins.json, is the
    demo's too. A local actions/checkout (this repo) is still act's own: act skips it before it
    looks for the action."""
    pins = json.loads((REPO / "scripts" / "dev" / "act_pins.json").read_text())
    return {ref: SHIMS / shim for ref, shim in pins.items()}


CONSUMER_REMOTE = "https://github.com/Acme/Fraud-Detector.git"

_CAPTURE_STEP = {
    "name": "act-harness capture",
    "if": "always()",
    "shell": "bash",
    "env": {"STEPS_JSON": "${{ toJSON(steps) }}", "JOB_ID": "${{ github.job }}"},
    "run": 'printf "%s" "$STEPS_JSON" > "$ACT_CAPTURE_DIR/$JOB_ID.steps.json"',
}
_LINE_PREFIX = re.compile(r"^\[[^/\]]+/([^\]]+)\]")
_SUMMARY = re.compile(r"^\[[^/\]]+/([^\]]+)\]\s+⚙\s+Summary - (.*)$")


def _summaries(log: str) -> dict[str, str]:
    """act prints each step's summary as `[wf/job]   ⚙  Summary - <markdown...>`."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in log.splitlines():
        start = _SUMMARY.match(line)
        if start:
            current = start.group(1)
            out.setdefault(current, []).append(start.group(2))
        elif _LINE_PREFIX.match(line) or line.startswith("time="):
            current = None
        elif current is not None:
            out[current].append(line)
    return {job: "\n".join(lines) for job, lines in out.items()}


@dataclass
class ActRun:
    returncode: int
    log: str
    jobs: dict[str, str]  # job id -> success | failure
    steps: dict[str, dict[str, Any]]  # job id -> toJSON(steps)
    summaries: dict[str, str]
    capture: Path  # $ACT_CAPTURE_DIR: steps may copy files here, since act removes the workspace
    # (the upload-artifact shim puts each artifact in capture / "artifacts" / <name>)

    def outputs(self, job: str, step: str) -> dict[str, str]:
        return dict(self.steps[job][step]["outputs"])


def export_tree(dest: Path) -> Path:
    """Copy the files git sees (tracked and untracked-not-ignored) to dest: what a clone has."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def init_consumer_repo(
    path: Path, files: dict[str, str | bytes] | None = None, remote: str = CONSUMER_REMOTE
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, content in (files or {}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    git = ["git", "-C", str(path), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "remote", "add", "origin", remote], check=False)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "consumer", "--allow-empty"], check=True)
    return path


def run_workflow(
    consumer: Path,
    workflow: str,
    *,
    action_tree: Path,
    cache_dir: Path,
    event: str = "push",
    payload: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    repositories: dict[str, Path] | None = None,
    timeout: int = 600,
) -> ActRun:
    doc = yaml.safe_load(workflow)
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    for job in doc["jobs"].values():
        if "steps" in job:
            job["steps"].append(dict(_CAPTURE_STEP))
    workflow_dir = consumer / ".github" / "workflows"
    workflow_dir.mkdir(parents=True, exist_ok=True)
    workflow_file = workflow_dir / "under-test.yml"
    workflow_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    capture = consumer.parent / f"{consumer.name}-capture"
    shutil.rmtree(capture, ignore_errors=True)
    capture.mkdir()
    event_file = consumer.parent / f"{consumer.name}-event.json"
    event_file.write_text(json.dumps(payload or {}))
    command = [
        tool("act"),
        event,
        "-W",
        str(workflow_file),
        "-e",
        str(event_file),
        "-P",
        "ubuntu-latest=-self-hosted",
        "--local-repository",
        f"{ACTION_REF}={action_tree}",
        "--action-cache-path",
        str(cache_dir),
        "--no-cache-server",
        "--env",
        f"ACT_CAPTURE_DIR={capture}",
        "--env",  # where the upload-artifact shim puts artifacts: kept, as the capture is
        f"ACT_ARTIFACT_DIR={capture / 'artifacts'}",
        "--env",  # the setup-python shim's venvs, kept with the act cache across runs
        f"MLOPS_ACT_PYTHON_VENVS={cache_dir / 'python-venvs'}",
    ]
    # every pinned remote action's shim, and any other the test maps
    for ref, path in {**pinned_shims(), **(repositories or {})}.items():
        command += ["--local-repository", f"{ref}={path}"]
    for key, value in (env or {}).items():
        command += ["--env", f"{key}={value}"]
    for key, value in (secrets or {}).items():
        command += ["-s", f"{key}={value}"]
    proc = subprocess.run(
        command,
        cwd=consumer,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ACT_DISABLE_VERSION_CHECK": "1"},
    )
    log = proc.stdout + proc.stderr
    # The whole log beside the consumer, for a failure whose message shows only its tail.
    (consumer.parent / f"{consumer.name}-act.log").write_text(log)
    jobs = {
        m.group(1): "success" if m.group(2) == "succeeded" else "failure"
        for m in re.finditer(r"^\[[^/\]]+/([^\]]+)\]\s+🏁\s+Job (succeeded|failed)", log, re.M)
    }
    steps = {
        f.name.removesuffix(".steps.json"): json.loads(f.read_text() or "{}")
        for f in capture.glob("*.steps.json")
    }
    return ActRun(proc.returncode, log, jobs, steps, _summaries(log), capture)
