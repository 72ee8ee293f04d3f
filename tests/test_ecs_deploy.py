"""`mlops-actions deploy` against moto in server mode, with a controllable rollout.

Rollouts that fail or time out run on real containers in test_local_staging.py; the simulated
rollout here covers task-definition handling and what a real container cannot produce on demand
(throttling, AccessDenied, a circuit-breaker rollback)."""

import copy
import json

import pytest

from support.ecs_fixtures import (
    NEW_IMAGE,
    deploy,
    deploy_new_image,
    revisions,
    service_task_definition,
)
from support.ecs_sim import Scenario
from support.fake_github import FakeGitHub


def test_console_export_registers_only_the_named_image_and_reruns_idempotently(aws):
    proc, out, _ = deploy(
        aws,
        "--task-definition",
        str(aws.export),
        "--container-name",
        "fraud-detector",
        "--image",
        NEW_IMAGE,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        out["registered"] == "true"
        and out["rollout-state"] == "COMPLETED"
        and out["rolled-back"] == "false"
    )
    assert out["previous-task-definition-arn"] == aws.base
    assert out["task-definition-arn"].endswith("fraud-detector:2") and out[
        "deployment-id"
    ].startswith("ecs-svc/")
    containers = aws.ecs.describe_task_definition(taskDefinition=out["task-definition-arn"])[
        "taskDefinition"
    ]["containerDefinitions"]
    assert {c["name"]: c["image"] for c in containers} == {
        "fraud-detector": NEW_IMAGE,
        "otel-collector": "otel/opentelemetry-collector:0.100.0",
    }
    assert service_task_definition(aws) == out["task-definition-arn"]

    again, out2, _ = deploy_new_image(
        aws,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert (
        out2["registered"] == "false" and out2["task-definition-arn"] == out["task-definition-arn"]
    )
    assert len(revisions(aws)) == 2
    assert "unchanged, reused" in again.stdout


def test_existing_task_definition_arn_is_deployed_without_registering(aws):
    proc, out, _ = deploy(aws, "--task-definition-arn", aws.base, "--force-new-deployment", "true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["task-definition-arn"] == aws.base and out["registered"] == "false"
    assert out["rollout-state"] == "COMPLETED" and len(revisions(aws)) == 1


def test_circuit_breaker_rollback_is_reported_not_repeated(aws):
    proc, out, sim = deploy_new_image(
        aws,
        scenario=Scenario(outcome="circuit_breaker"),
    )
    assert proc.returncode == 1
    assert out["rollout-state"] == "ROLLED_BACK" and out["rolled-back"] == "true"
    assert service_task_definition(aws) == aws.base
    assert sim.update_calls == 1
    assert "rolled back (by the ECS circuit breaker)" in proc.stdout


def test_throttling_while_polling_is_retried(aws):
    proc, out, sim = deploy_new_image(
        aws,
        scenario=Scenario(throttle=3),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sim.throttled == 3 and out["rollout-state"] == "COMPLETED"
    assert "Throttl" not in proc.stdout + proc.stderr


def test_access_denied_is_one_line_with_the_fix(aws):
    proc, _, _ = deploy_new_image(
        aws,
        scenario=Scenario(deny_update=True),
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert (
        len(errors) == 1
        and "AWS denied ecs:UpdateService" in errors[0]
        and "IAM policy" in errors[0]
    )
    assert "Traceback" not in proc.stderr
    assert service_task_definition(aws) == aws.base


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--cluster", "nope"], "cluster 'nope' not found"),
        (["--service", "nope"], "service 'nope' not found in cluster 'staging'"),
    ],
)
def test_missing_cluster_or_service(aws, args, expected):
    proc, _, _ = deploy(aws, "--task-definition-arn", aws.base, *args)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def _bad_json(aws):
    path = aws.tmp / "bad.json"
    path.write_text('{"family": "x",\n  "containerDefinitions": [\n')
    return ["--task-definition", str(path)]


@pytest.mark.parametrize(
    "make_args,env,expected",
    [
        (_bad_json, {}, "bad.json: line 3: malformed JSON"),
        (
            lambda a: ["--task-definition", str(a.export), "--containers", "api=x:1"],
            {},
            "no container named 'api'",
        ),
        (
            lambda a: [
                "--task-definition",
                str(a.export),
                "--task-role-arn",
                "arn:aws:iam::1:role/x",
            ],
            {},
            "task-role-arn: 'arn:aws:iam::1:role/x' is not an IAM role ARN",
        ),
        (
            lambda a: ["--task-definition-arn", "arn:aws:ecs:us-east-1:1:taskdef/x"],
            {},
            "task-definition-arn: 'arn:aws:ecs:us-east-1:1:taskdef/x' is not a task definition ARN",
        ),
        (
            lambda a: ["--task-definition-arn", a.base],
            {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""},
            "aws-region: no region given",
        ),
        (
            lambda a: ["--task-definition", str(a.export), "--task-definition-arn", a.base],
            {},
            "exactly one of task-definition",
        ),
        (
            lambda a: ["--task-definition", str(a.export), "--container-name", "web"],
            {},
            "container-name and image go together",
        ),
        (
            lambda a: ["--task-definition", str(a.export), "--wait-timeout-seconds", "soon"],
            {},
            "wait-timeout-seconds: expected a number",
        ),
        (
            lambda a: ["--task-definition", str(a.tmp / "missing.json")],
            {},
            "task definition file not found",
        ),
    ],
)
def test_bad_input(aws, make_args, env, expected):
    proc, _, sim = deploy(aws, *make_args(aws), env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], proc.stderr
    assert sim.update_calls == 0
    assert len(revisions(aws)) == 1


def test_github_deployment_record(aws):
    with FakeGitHub() as github:
        env = {
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
            "GITHUB_SHA": "a" * 40,
            "GITHUB_RUN_ID": "42",
        }
        proc, _, _ = deploy_new_image(
            aws,
            "--github-token",
            "test-token",
            env=env,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [record] = github.state.deployments
    assert record["environment"] == "staging" and record["ref"] == "a" * 40
    assert [s["state"] for s in record["statuses"]] == ["in_progress", "success"]
    assert "console.aws.amazon.com/ecs" in record["statuses"][-1]["environment_url"]
    assert record["statuses"][-1]["target_url"].endswith("/Acme/Fraud-Detector/actions/runs/42")


def test_github_deployment_failure_is_a_warning(aws):
    with FakeGitHub() as github:
        github.state.deny_writes = True
        env = {
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
            "GITHUB_SHA": "a" * 40,
        }
        proc, out, _ = deploy_new_image(
            aws,
            "--github-token",
            "test-token",
            env=env,
        )
    assert proc.returncode == 0 and out["rollout-state"] == "COMPLETED"
    assert "warning: could not create the GitHub deployment: HTTP 403" in proc.stderr


def test_no_wait_returns_after_the_update(aws):
    proc, out, sim = deploy_new_image(
        aws,
        "--wait",
        "false",
        scenario=Scenario(after=600),  # the rollout would take minutes
    )
    assert proc.returncode == 0 and out["rollout-state"] == "NOT_WAITED"
    assert sim.describe_calls == 1  # only the read of the current service


def test_environment_is_set_on_the_deployed_container(aws):
    env_lines = "MODEL_VERSION=7\notel-collector:MODE=agent"
    proc, out, _ = deploy_new_image(
        aws,
        "--environment",
        env_lines,
    )
    assert proc.returncode == 0, proc.stderr
    containers = aws.ecs.describe_task_definition(taskDefinition=out["task-definition-arn"])[
        "taskDefinition"
    ]["containerDefinitions"]
    by_name = {
        c["name"]: {e["name"]: e["value"] for e in c.get("environment", [])} for c in containers
    }
    assert by_name == {
        "fraud-detector": {"MODEL_VERSION": "7"},
        "otel-collector": {"MODE": "agent"},
    }


def test_copy_of_export_is_untouched(aws):
    before = copy.deepcopy(json.loads(aws.export.read_text()))
    deploy_new_image(
        aws,
    )
    assert json.loads(aws.export.read_text()) == before


def test_desired_count_is_set(aws):
    proc, out, _ = deploy(
        aws,
        "--task-definition-arn",
        aws.base,
        "--desired-count",
        "3",
        "--force-new-deployment",
        "true",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    service = aws.ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][
        0
    ]
    assert service["desiredCount"] == 3 and out["rollout-state"] == "COMPLETED"
