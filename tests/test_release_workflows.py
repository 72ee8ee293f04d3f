"""mlops-release.yml and mlops-rollback.yml, read as files: the release tag's check against the
default branch (its step's own script, run with bash against real git repositories), and what
each job may hold: the plan jobs (no approval) never get the store role or MLflow write
credentials; the environment job re-checks with the store role before the deploy role deploys;
promote names the staging record the plan captured; a failure puts production back and says what
runs. The workflows themselves run under act in test_release_e2e.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
TAG_STEP = "The release tag exists and its commit is on the default branch"


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _step(job: dict, name: str) -> dict:
    (step,) = [s for s in job["steps"] if s.get("name") == name]
    return step


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def clone(tmp_path):
    """A repository as checkout with fetch-depth 0 leaves it: origin/main, a side branch, tags
    on both."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "commit", "-q", "--allow-empty", "-m", "one")
    _git(origin, "tag", "v1.0.0")
    _git(origin, "switch", "-q", "-c", "side")
    _git(origin, "commit", "-q", "--allow-empty", "-m", "side")
    _git(origin, "tag", "v9.9.9")
    _git(origin, "switch", "-q", "main")
    _git(origin, "commit", "-q", "--allow-empty", "-m", "two")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    return work


def _check_tag(clone: Path, tag: str, default_branch: str = "main"):
    script = _step(_workflow("mlops-release.yml")["jobs"]["plan"], TAG_STEP)["run"]
    env = {**os.environ, "TAG": tag, "DEFAULT_BRANCH": default_branch}
    return subprocess.run(["bash", "-e", "-c", script], cwd=clone, env=env, capture_output=True,
                          text=True)  # fmt: skip


@pytest.mark.parametrize("tag", ["v1.0.0", "refs/tags/v1.0.0"])
def test_a_tag_on_the_default_branch_is_released(clone, tag):
    proc = _check_tag(clone, tag)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "release tag v1.0.0: commit" in proc.stdout and "is on main" in proc.stdout


@pytest.mark.parametrize(
    "tag, branch, message",
    [
        ("v9.9.9", "main", "release tag v9.9.9 (commit "),
        ("v2.0.0", "main", "release tag v2.0.0 does not exist in this repository"),
        ("v1.0.0", "", "the event names no default branch"),
        ("v1.0.0", "trunk", "the default branch trunk was not fetched"),
        ("-v1", "main", "release-tag: give the tag of a release"),
        ("v1;x", "main", "release-tag: give the tag of a release"),
    ],
)  # fmt: skip
def test_a_tag_off_the_default_branch_or_missing_is_refused_in_one_line(
    clone, tag, branch, message
):
    proc = _check_tag(clone, tag, branch)
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    assert line.startswith("::error title=mlops-release::") and message in line
    if tag == "v9.9.9":
        assert "is not on the default branch main; nothing is released" in line


def test_the_release_plan_checks_out_every_branch_and_tag_without_keeping_the_token():
    plan = _workflow("mlops-release.yml")["jobs"]["plan"]
    checkout = plan["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    names = [s.get("name") for s in plan["steps"]]
    assert names.index(TAG_STEP) < [s.get("id") for s in plan["steps"]].index("plan")
    env = _step(plan, TAG_STEP)["env"]
    assert env["DEFAULT_BRANCH"] == "${{ github.event.repository.default_branch }}"


@pytest.mark.parametrize("name", ["mlops-release.yml", "mlops-rollback.yml"])
def test_the_plan_job_reads_with_read_only_credentials(name):
    doc = _workflow(name)
    plan = doc["jobs"]["plan"]
    text = yaml.safe_dump(plan)
    assert "aws-store-role-arn" not in text  # the plan role falls back to aws-role-arn only
    assert "mlflow-tracking-" not in text  # the write credentials go to the environment job
    (role,) = [s for s in plan["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert (
        role["with"]["role-to-assume"] == "${{ inputs.aws-plan-role-arn || inputs.aws-role-arn }}"
    )
    assert _step(plan, "The staging champion, checked for production" if "release" in name
                 else "The previous production champion")["env"] == {
        "MLFLOW_TRACKING_TOKEN": "${{ secrets.mlflow-read-token }}",
        "MLFLOW_TRACKING_USERNAME": "${{ secrets.mlflow-read-username }}",
        "MLFLOW_TRACKING_PASSWORD": "${{ secrets.mlflow-read-password }}",
    }  # fmt: skip
    secrets = doc[True]["workflow_call"]["secrets"]  # YAML 1.1 reads `on` as true
    assert {"mlflow-read-token", "mlflow-read-username", "mlflow-read-password"} <= set(secrets)


def _roles(job: dict) -> list[tuple[str, str]]:
    """(role input, the step after it) for each switch of credentials, in order."""
    out, steps = [], job["steps"]
    for index, step in enumerate(steps):
        if "configure-aws-credentials" in step.get("uses", ""):
            role = step["with"]["role-to-assume"].split("||")[0].strip(" ${}").split(".")[-1]
            after = steps[index + 1]
            out.append((role, after.get("id") or after.get("name")))
    return out


@pytest.mark.parametrize("name, job", [("mlops-release.yml", "deploy-production"),
                                       ("mlops-rollback.yml", "rollback-production")])  # fmt: skip
def test_the_environment_job_reads_with_the_store_role_deploys_with_the_deploy_role(name, job):
    steps = _workflow(name)["jobs"][job]
    roles = _roles(steps)
    # the re-check reads the store with the store role; the deploy role only deploys and reads
    # the service back; the store role promotes; on a failure the deploy role puts back.
    assert roles[0] == ("aws-store-role-arn", "plan")
    assert [r for r, _ in roles] == ["aws-store-role-arn", "aws-deploy-role-arn",
                                     "aws-store-role-arn", "aws-deploy-role-arn"]  # fmt: skip
    assert roles[2][1] == "promote"
    ids = [s.get("id") for s in steps["steps"]]
    assert ids.index("plan") < ids.index("ecs") < ids.index("readback") < ids.index("promote")


@pytest.mark.parametrize("name, job", [("mlops-release.yml", "deploy-production"),
                                       ("mlops-rollback.yml", "rollback-production")])  # fmt: skip
def test_a_failure_after_the_deploy_puts_production_back_and_says_what_runs(name, job):
    steps = _workflow(name)["jobs"][job]["steps"]
    after = steps[[s.get("id") for s in steps].index("promote") + 1 :]
    ecs = [s for s in after if s.get("uses", "").endswith("actions/ecs-deploy")]
    assert len(ecs) == 1 and "failure()" in ecs[0]["if"]
    assert "steps.ecs.outcome == 'success'" in ecs[0]["if"]
    assert "steps.promote.outcome != 'success'" in ecs[0]["if"]
    assert ecs[0]["with"]["task-definition-arn"] == (
        "${{ steps.ecs.outputs.previous-task-definition-arn }}"
    )
    sagemaker = [s for s in after if s.get("uses", "").endswith("actions/sagemaker-deploy")]
    assert len(sagemaker) == 1 and "steps.sagemaker.outcome == 'success'" in sagemaker[0]["if"]
    last = steps[-1]
    assert last["if"] == "failure()" and last["with"]["plan"] == "readback"
    assert last["with"]["after-failure"] == "true"


def test_promote_names_the_staging_record_the_plan_captured():
    doc = _workflow("mlops-release.yml")
    job = doc["jobs"]["deploy-production"]
    assert job["if"] == "needs.plan.outputs.deploy == 'true'"
    recheck = next(s for s in job["steps"] if s.get("id") == "plan")["with"]
    assert recheck["expect-version"] == "${{ needs.plan.outputs.version }}"
    assert recheck["expect-sequence"] == "${{ needs.plan.outputs.staging-sequence }}"
    promote = next(s for s in job["steps"] if s.get("id") == "promote")["with"]
    assert promote["staging-record"] == "${{ steps.plan.outputs.staging-record-path }}"
