"""A release and a rollback with an MLflow model registry as the store, against the real
`mlflow server` of test_mlflow_store.py: the production champion is the alias `production`
(`production-previous` for the one before), its move names the release tag and the staging
record, and a rollback moves the alias back (forced) with the release it was first made by."""

import json

import pytest

from test_mlflow_store import VERDICT, _cli, _model_alias, _register, helper_python, tracking

pytestmark = pytest.mark.act
__all__ = ["helper_python", "tracking"]  # the fixtures, shared with test_mlflow_store.py

IMAGE = "ghcr.io/acme/x@sha256:"
TASKDEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-production:{}"


def test_release_and_rollback_move_the_production_alias(helper_python, tracking, tmp_path):
    _register(helper_python, tracking, tmp_path, "released", ["7", "8"])
    store = ["--model-store", tracking, "--model-name", "released"]

    def stage(version, digest):
        proc, _ = _cli(helper_python, "promote", *store, "--version", version, "--verdict",
                       json.dumps(VERDICT), "--serving-image-ref", IMAGE + digest * 64,
                       tmp=tmp_path)  # fmt: skip
        assert proc.returncode == 0, proc.stderr

    def release(version, digest, tag, n, *extra):
        """promote --stage production, as the release job runs it: with the staging record the
        plan captured (a rollback, forced, names none)."""
        if "--force" not in extra:
            plan, out = _cli(helper_python, "release-plan", *store, "--release-tag", tag,
                             "--output-dir", str(tmp_path / f"plan-{tag}"), tmp=tmp_path)  # fmt: skip
            assert plan.returncode == 0 and out["deploy"] == "true", plan.stdout + plan.stderr
            extra = (*extra, "--staging-record", out["staging-record-path"])
        return _cli(helper_python, "promote", *store, "--stage", "production", "--release-tag",
                    tag, "--version", version, "--verdict", json.dumps(VERDICT),
                    "--serving-image-ref", IMAGE + digest * 64, "--task-definition-arn",
                    TASKDEF.format(n), *extra, tmp=tmp_path)  # fmt: skip

    stage("7.1-abcdef0", "a")
    plan, out = _cli(helper_python, "release-plan", *store, "--release-tag", "v1.0.0",
                     "--output-dir", str(tmp_path / "plan"), tmp=tmp_path)  # fmt: skip
    assert plan.returncode == 0 and out["version"] == "7.1-abcdef0", plan.stdout + plan.stderr
    assert out["staging-record-uri"] == "models:/released@champion"
    proc, out = release("7.1-abcdef0", "a", "v1.0.0", 1)
    assert proc.returncode == 0 and out["release-tag"] == "v1.0.0", proc.stderr
    stage("8.1-abcdef0", "b")
    proc, out = release("8.1-abcdef0", "b", "v1.1.0", 2)
    assert proc.returncode == 0 and out["previous-version"] == "7.1-abcdef0", proc.stderr
    assert _model_alias(tracking, "released", "production") == "8.1-abcdef0"
    assert _model_alias(tracking, "released", "production-previous") == "7.1-abcdef0"

    back, out = _cli(helper_python, "rollback-plan", *store, "--output-dir",
                     str(tmp_path / "back"), tmp=tmp_path)  # fmt: skip
    assert back.returncode == 0, back.stdout + back.stderr
    assert (out["version"], out["release-tag"]) == ("7.1-abcdef0", "v1.0.0")
    assert out["task-definition-arn"] == TASKDEF.format(1)
    proc, out = release("7.1-abcdef0", "a", out["release-tag"], 1, "--force", "true")
    assert proc.returncode == 0 and out["previous-version"] == "8.1-abcdef0", proc.stderr
    assert _model_alias(tracking, "released", "production") == "7.1-abcdef0"
    assert _model_alias(tracking, "released", "champion") == "8.1-abcdef0"  # staging stays
    listed, _ = _cli(helper_python, "champions", *store, "--stage", "production", "--json",
                     "true", tmp=tmp_path)  # fmt: skip
    moves = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(m["version"], m["release"]["tag"], m["forced"]) for m in moves] == [
        ("7.1-abcdef0", "v1.0.0", True), ("8.1-abcdef0", "v1.1.0", False),
        ("7.1-abcdef0", "v1.0.0", False)]  # fmt: skip
    assert moves[1]["release"]["staging"]["version"] == "8.1-abcdef0"
