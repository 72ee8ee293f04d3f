"""release-plan, promote --stage production, rollback-plan and release-readback against moto in
server mode: a release takes the staging champion as its record says (image by digest, verdict,
model), the production move names the tag and the staging record, a rollback names the previous
production champion as it was served and moves the pointer back, and every refusal is one line
with nothing written."""

import json
from pathlib import Path

import boto3
import pytest

from conftest import run_cli
from support.ecs_sim import AWS_ENV, REGION, moto_server, reset

STORE = ["--model-store", "s3://models/ci", "--model-name", "fraud"]
IMAGES = {v: f"ghcr.io/acme/fraud-detector-serving@sha256:{c * 64}"
          for v, c in (("7.1-aaaaaaa", "a"), ("8.1-bbbbbbb", "b"))}  # fmt: skip
STAGING_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-staging:{}"
VERDICT = {"passed": True, "metrics": {"recall": {"value": 0.9}}, "checks": [{"status": "pass"}]}


def card(version):
    number = int(version.split(".")[0])
    return {
        "model": {"sha256": version[0] * 64, "path": "model.skops"},
        "source": {"repository": "Acme/Fraud-Detector", "run_number": str(number),
                   "run_attempt": "1"},
        "run": {"started_at": f"2026-11-01T{number:02d}:00:00+00:00"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(endpoint):
    reset(endpoint)
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    client.create_bucket(Bucket="models")
    for version in IMAGES:
        client.put_object(Bucket="models", Key=f"ci/fraud/{version}/model-card.json",
                          Body=json.dumps(card(version)))  # fmt: skip
    return client, endpoint


def _cli(endpoint, tmp_path, *args):
    outputs, summary = tmp_path / "outputs.txt", tmp_path / "summary.md"
    outputs.write_text("")
    summary.write_text("")
    env = {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "GITHUB_OUTPUT": str(outputs),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true",
           "RUNNER_TEMP": str(tmp_path)}  # fmt: skip
    proc = run_cli(*args, env=env)
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out, summary.read_text()


def _verdict(tmp_path, passed=True):
    path = tmp_path / f"verdict-{passed}.json"
    path.write_text(json.dumps({**VERDICT, "passed": passed}))
    return str(path)


def _stage(endpoint, tmp_path, version, n):
    proc, out, _ = _cli(endpoint, tmp_path, "promote", *STORE, "--version", version,
                        "--verdict", _verdict(tmp_path), "--serving-image-ref", IMAGES[version],
                        "--task-definition-arn", STAGING_TD.format(n))  # fmt: skip
    assert proc.returncode == 0 and out["status"] == "promoted", proc.stdout + proc.stderr


def _plan(endpoint, tmp_path, tag, *extra):
    return _cli(endpoint, tmp_path, "release-plan", *STORE, "--release-tag", tag, *extra)


def _release(endpoint, tmp_path, version, tag, taskdef, *extra, staging=None):
    """promote --stage production, as the release job runs it: with the staging record the plan
    captured (planned here unless given)."""
    if staging is None:
        proc, out, _ = _plan(endpoint, tmp_path, tag)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        staging = out["staging-record-path"]
    return _cli(endpoint, tmp_path, "promote", *STORE, "--stage", "production", "--release-tag",
                tag, "--version", version, "--verdict", _verdict(tmp_path), "--serving-image-ref",
                IMAGES[version], "--task-definition-arn", taskdef, "--staging-record", staging,
                *extra)  # fmt: skip


def _rollback(endpoint, tmp_path, taskdef=None):
    """rollback-plan, then the forced promotion, as the rollback job runs them."""
    proc, plan, _ = _cli(endpoint, tmp_path, "rollback-plan", *STORE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc, out, _ = _cli(endpoint, tmp_path, "promote", *STORE, "--stage", "production",
                        "--force", "true", "--release-tag", plan["release-tag"], "--version",
                        plan["version"], "--verdict", plan["verdict-path"], "--serving-image-ref",
                        plan["serving-image-ref"], "--task-definition-arn",
                        taskdef or plan["task-definition-arn"])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return plan, out


def _get(client, key):
    return json.loads(client.get_object(Bucket="models", Key=f"ci/fraud/{key}")["Body"].read())


def _errors(proc):
    return [line for line in proc.stdout.splitlines() if line.startswith("::error")]


PROD_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-production:{}"


def test_release_then_rollback_through_the_records(s3, tmp_path):
    client, endpoint = s3
    # No staging champion: refused in one line, nothing written.
    proc, out, summary = _cli(endpoint, tmp_path, "release-plan", *STORE, "--release-tag", "v1")
    assert proc.returncode == 1
    (line,) = _errors(proc)
    assert "no staging champion in s3://models/ci/fraud/champion.json" in line
    assert out["refused"] and "nothing deployed" in summary
    assert not (tmp_path / "release").exists()

    _stage(endpoint, tmp_path, "7.1-aaaaaaa", 1)
    proc, out, summary = _cli(endpoint, tmp_path, "release-plan", *STORE, "--release-tag",
                              "refs/tags/v1.0.0")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out["version"], out["serving-image-ref"]) == ("7.1-aaaaaaa", IMAGES["7.1-aaaaaaa"])
    assert out["model-sha256"] == "7" * 64 and out["release-tag"] == "v1.0.0"
    assert out["staging-sequence"] == "1" and out["refused"] == ""
    assert out["staging-record-uri"] == "s3://models/ci/fraud/champion.json"
    assert json.loads(Path(out["verdict-path"]).read_text())["passed"] is True
    assert "Release plan" in summary

    # Too soon after staging: refused.
    proc, _, _ = _cli(endpoint, tmp_path, "release-plan", *STORE, "--min-staging-minutes", "60",
                      "--release-tag", "v1")  # fmt: skip
    assert proc.returncode == 1 and "less than min-staging-minutes (60)" in _errors(proc)[0]

    proc, out, summary = _release(endpoint, tmp_path, "7.1-aaaaaaa", "v1.0.0", PROD_TD.format(1))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["champion-version"] == "7.1-aaaaaaa" and out["release-tag"] == "v1.0.0"
    assert out["record-uri"] == "s3://models/ci/fraud/production.json"
    pointer = _get(client, "production.json")
    assert pointer["release"] == {"tag": "v1.0.0", "staging": {
        "version": "7.1-aaaaaaa", "sequence": 1,
        "where": "s3://models/ci/fraud/champion.json",
        "promoted_at": _get(client, "champion.json")["promoted_at"]}}  # fmt: skip
    assert pointer["serving_image"] == IMAGES["7.1-aaaaaaa"]
    assert _get(client, "production/7.1-aaaaaaa.json")["release"]["tag"] == "v1.0.0"
    assert "Promoted to production" in summary and "v1.0.0" in summary

    # Only the staging record the plan captured goes to production (unless forced, a rollback).
    proc, _, _ = _release(endpoint, tmp_path, "8.1-bbbbbbb", "v1.1.0", PROD_TD.format(2),
                          staging=str(tmp_path / "release" / "staging.json"))  # fmt: skip
    assert proc.returncode == 2
    assert "staging-record: it names '7.1-aaaaaaa', not version 8.1-bbbbbbb" in _errors(proc)[0]

    _stage(endpoint, tmp_path, "8.1-bbbbbbb", 2)
    proc, out, _ = _release(endpoint, tmp_path, "8.1-bbbbbbb", "v1.1.0", PROD_TD.format(2))
    assert proc.returncode == 0 and out["previous-version"] == "7.1-aaaaaaa", proc.stderr

    proc, out, summary = _cli(endpoint, tmp_path, "rollback-plan", *STORE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out["current-version"], out["version"]) == ("8.1-bbbbbbb", "7.1-aaaaaaa")
    assert out["current-serving-image-ref"] == IMAGES["8.1-bbbbbbb"]
    assert out["serving-image-ref"] == IMAGES["7.1-aaaaaaa"]
    assert out["task-definition-arn"] == PROD_TD.format(1) and out["release-tag"] == "v1.0.0"
    assert json.loads(Path(out["verdict-path"]).read_text()) == {**VERDICT, "passed": True}

    proc, out, _ = _cli(endpoint, tmp_path, "promote", *STORE, "--stage", "production",
                        "--force", "true", "--release-tag", out["release-tag"], "--version",
                        out["version"], "--verdict", out["verdict-path"], "--serving-image-ref",
                        out["serving-image-ref"], "--task-definition-arn",
                        out["task-definition-arn"])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["champion-version"] == "7.1-aaaaaaa" and out["previous-version"] == "8.1-bbbbbbb"
    pointer = _get(client, "production.json")
    assert pointer["forced"] and pointer["sequence"] == 3
    assert pointer["release"]["rollback"] and pointer["release"]["tag"] == "v1.0.0"
    assert pointer["release"]["staging"]["version"] == "7.1-aaaaaaa"  # where it first came from
    # The staging champion did not move.
    assert _get(client, "champion.json")["version"] == "8.1-bbbbbbb"

    proc = run_cli("champions", *STORE, "--stage", "production", "--json", "true",
                   env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint})  # fmt: skip
    moves = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(m["version"], m["release"]["tag"]) for m in moves] == [
        ("7.1-aaaaaaa", "v1.0.0"), ("8.1-bbbbbbb", "v1.1.0"), ("7.1-aaaaaaa", "v1.0.0")]  # fmt: skip


def test_a_failed_verdict_or_an_undigested_image_in_staging_is_refused(s3, tmp_path):
    client, endpoint = s3
    pointer = {"version": "7.1-aaaaaaa", "serving_image": IMAGES["7.1-aaaaaaa"],
               "model_sha256": "7" * 64, "verdict": {"passed": False}, "sequence": 1}  # fmt: skip
    client.put_object(Bucket="models", Key="ci/fraud/champion.json", Body=json.dumps(pointer))
    proc, _, _ = _cli(endpoint, tmp_path, "release-plan", *STORE, "--release-tag", "v1")
    assert proc.returncode == 1 and "verdict did not pass" in _errors(proc)[0]
    pointer.update(verdict={"passed": True}, serving_image="ghcr.io/acme/serving:latest")
    client.put_object(Bucket="models", Key="ci/fraud/champion.json", Body=json.dumps(pointer))
    proc, _, _ = _cli(endpoint, tmp_path, "release-plan", *STORE, "--release-tag", "v1")
    assert proc.returncode == 1 and "not pinned by digest" in _errors(proc)[0]
    assert "production.json" not in str(client.list_objects_v2(Bucket="models"))


def test_a_rollback_without_a_previous_production_champion_is_refused(s3, tmp_path):
    _, endpoint = s3
    proc, _, _ = _cli(endpoint, tmp_path, "rollback-plan", *STORE)
    assert proc.returncode == 1 and "no production champion" in _errors(proc)[0]
    _stage(endpoint, tmp_path, "7.1-aaaaaaa", 1)
    proc, _, _ = _release(endpoint, tmp_path, "7.1-aaaaaaa", "v1.0.0", PROD_TD.format(1))
    assert proc.returncode == 0, proc.stderr
    proc, _, _ = _cli(endpoint, tmp_path, "rollback-plan", *STORE)
    assert proc.returncode == 1 and "no previous production champion" in _errors(proc)[0]


def test_readback_reads_the_running_tasks_and_the_rollout(aws, tmp_path):
    """What runs is what the service's RUNNING tasks run, settled; not the task definition the
    service asks for."""
    from support.ecs_fixtures import NEW_IMAGE, deploy_new_image
    from support.ecs_sim import backend, running_tasks

    where = ["--cluster", "staging", "--service", "fraud-detector", "--aws-region", REGION]
    # Created, asked for revision 1, nothing running yet: not what runs.
    proc, out, summary = _cli(aws.endpoint, tmp_path, "release-readback", *where)
    assert proc.returncode == 1 and out["matches"] == "false", proc.stdout + proc.stderr
    assert "not settled: no RUNNING task" in summary and len(_errors(proc)) == 1

    proc, deployed, _ = deploy_new_image(aws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc, out, summary = _cli(aws.endpoint, tmp_path, "release-readback", *where,
                              "--expect-image", NEW_IMAGE)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["served-by"] == deployed["task-definition-arn"] and out["matches"] == "true"
    assert f"production runs {NEW_IMAGE}" in summary
    proc, out, summary = _cli(aws.endpoint, tmp_path, "release-readback", *where,
                              "--expect-image", IMAGES["7.1-aaaaaaa"])  # fmt: skip
    assert proc.returncode == 1 and out["matches"] == "false"
    assert "not what was deployed" in summary and len(_errors(proc)) == 1

    # A task still RUNNING revision 1 beside the new ones: not settled, whatever is requested.
    service = backend()._get_service("staging", "fraud-detector")
    old = {"id": "ecs-svc/1", "taskDefinition": aws.base, "desiredCount": 1}
    running_tasks(service, old, replace=False)
    proc, out, summary = _cli(aws.endpoint, tmp_path, "release-readback", *where,
                              "--expect-image", NEW_IMAGE)  # fmt: skip
    assert proc.returncode == 1 and out["matches"] == "false"
    assert f"RUNNING tasks on {aws.base}, {deployed['task-definition-arn']}" in summary

    # After a failed release: it reports, says nothing was promoted, and does not fail again.
    proc, out, summary = _cli(aws.endpoint, tmp_path, "release-readback", *where,
                              "--after-failure", "true")  # fmt: skip
    assert proc.returncode == 0 and not _errors(proc), proc.stdout + proc.stderr
    assert "nothing promoted" in summary and "nothing was promoted; production runs" in summary


def test_staging_moving_during_the_rollout_does_not_stop_the_promotion(s3, tmp_path):
    """Promote checks the staging record the plan captured, not the staging pointer after the
    rollout: a staging promotion meanwhile must not leave production deployed but unrecorded."""
    client, endpoint = s3
    _stage(endpoint, tmp_path, "7.1-aaaaaaa", 1)
    proc, plan, _ = _plan(endpoint, tmp_path, "v1.0.0")
    assert proc.returncode == 0 and plan["deploy"] == "true", proc.stdout + proc.stderr
    _stage(endpoint, tmp_path, "8.1-bbbbbbb", 2)  # while production rolls out
    proc, _, _ = _release(endpoint, tmp_path, "7.1-aaaaaaa", "v1.0.0", PROD_TD.format(1),
                          staging=plan["staging-record-path"])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pointer = _get(client, "production.json")
    assert pointer["version"] == "7.1-aaaaaaa"
    assert (
        pointer["release"]["staging"]["version"],
        pointer["release"]["staging"]["sequence"],
    ) == ("7.1-aaaaaaa", 1)
    # The re-check in the approval job names the planned move: a staging move refuses it there,
    # before the deploy.
    proc, _, _ = _plan(endpoint, tmp_path, "v1.0.0", "--expect-version", "7.1-aaaaaaa",
                       "--expect-sequence", "1")  # fmt: skip
    assert proc.returncode == 1 and "moved from '7.1-aaaaaaa' to '8.1-bbbbbbb'" in _errors(proc)[0]


def test_a_version_released_again_after_a_rollback_on_a_new_revision(s3, tmp_path):
    """Each deploy registers a new task definition revision: release 7.1, release 8.1, roll back
    to 7.1, release 8.1 again (revision 4) is a forward move, not an immutability conflict."""
    client, endpoint = s3
    _stage(endpoint, tmp_path, "7.1-aaaaaaa", 1)
    assert _release(endpoint, tmp_path, "7.1-aaaaaaa", "v1", PROD_TD.format(1))[0].returncode == 0
    _stage(endpoint, tmp_path, "8.1-bbbbbbb", 2)
    assert _release(endpoint, tmp_path, "8.1-bbbbbbb", "v2", PROD_TD.format(2))[0].returncode == 0
    plan, _ = _rollback(endpoint, tmp_path)
    assert plan["task-definition-arn"] == PROD_TD.format(1)
    proc, out, _ = _plan(endpoint, tmp_path, "v3")
    assert proc.returncode == 0 and out["deploy"] == "true", proc.stdout + proc.stderr
    assert out["production-version"] == "7.1-aaaaaaa"
    assert out["production-serving-image-ref"] == IMAGES["7.1-aaaaaaa"]
    proc, out, _ = _release(endpoint, tmp_path, "8.1-bbbbbbb", "v3", PROD_TD.format(4),
                            staging=out["staging-record-path"])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pointer = _get(client, "production.json")
    assert (pointer["version"], pointer["task_definition_arn"]) == (
        "8.1-bbbbbbb",
        PROD_TD.format(4),
    )
    assert pointer["release"]["tag"] == "v3"
    # The version's record keeps its first server; the move names the one that serves it now.
    assert _get(client, "production/8.1-bbbbbbb.json")["task_definition_arn"] == PROD_TD.format(2)
    # A rollback now goes to the revision 7.1 was last served by.
    proc, out, _ = _cli(endpoint, tmp_path, "rollback-plan", *STORE)
    assert (out["version"], out["task-definition-arn"]) == ("7.1-aaaaaaa", PROD_TD.format(1))
    # The plan again: production already runs 8.1 with that image; nothing to deploy, success.
    proc, out, summary = _plan(endpoint, tmp_path, "v3.0.1")
    assert proc.returncode == 0 and out["deploy"] == "false", proc.stdout + proc.stderr
    assert "production already runs 8.1-bbbbbbb" in proc.stdout
    assert "Production already runs it" in summary and not _errors(proc)


def test_a_staging_champion_rolled_back_below_production_is_refused_in_the_plan(s3, tmp_path):
    _, endpoint = s3
    _stage(endpoint, tmp_path, "7.1-aaaaaaa", 1)
    _stage(endpoint, tmp_path, "8.1-bbbbbbb", 2)
    assert _release(endpoint, tmp_path, "8.1-bbbbbbb", "v2", PROD_TD.format(2))[0].returncode == 0
    proc, out, _ = _cli(endpoint, tmp_path, "promote", *STORE, "--version", "7.1-aaaaaaa",
                        "--verdict", _verdict(tmp_path), "--serving-image-ref",
                        IMAGES["7.1-aaaaaaa"], "--task-definition-arn", STAGING_TD.format(1),
                        "--force", "true")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc, out, summary = _plan(endpoint, tmp_path, "v3")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = _errors(proc)
    assert (
        "staging champion 7.1-aaaaaaa (run 7 attempt 1) is not newer than the production "
        "champion 8.1-bbbbbbb" in line
    )
    assert "nothing deployed" in summary and "deploy" not in out
