"""`mlops-actions deploy` where it used to claim too much or crash: rollbacks that did not
happen, task definitions AWS would reject, YAML and BOM files, reuse on re-run. Against moto in
server mode, some without the rollout simulator (moto as it is: rollouts never finish)."""

import copy
import json

import pytest

from conftest import run_cli
from support.ecs_fixtures import EXPORT, NEW_IMAGE, deploy, revisions, service_task_definition
from support.ecs_sim import AWS_ENV


def _register(aws, image):
    doc = copy.deepcopy(EXPORT)
    doc["containerDefinitions"][0]["image"] = image
    path = aws.tmp / f"td-{image.rsplit(':', 1)[-1]}.json"
    path.write_text(json.dumps(doc))
    return path


def _plain_moto_deploy(aws, path, *args):
    """deploy() without the rollout simulator: moto's own UpdateService, which lists no new
    deployment, like ECS in the moment after UpdateService."""
    outputs = aws.tmp / "plain-outputs.txt"
    outputs.write_text("")
    proc = run_cli(
        "deploy", "--cluster", "staging", "--service", "fraud-detector",
        "--poll-interval-seconds", "0.2", "--task-definition", str(path), *args,
        env={**AWS_ENV, "AWS_ENDPOINT_URL": aws.endpoint, "GITHUB_OUTPUT": str(outputs)},
    )  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def test_an_unlisted_deployment_is_never_reported_as_a_circuit_breaker_rollback(aws):
    # The reviewer's reproduction: revision 2 without waiting, then revision 3 with a wait.
    proc2, out2 = _plain_moto_deploy(aws, _register(aws, "app:2"), "--wait", "false")
    assert proc2.returncode == 0, proc2.stdout + proc2.stderr
    rev2 = out2["task-definition-arn"]
    proc, out = _plain_moto_deploy(
        aws, _register(aws, "app:3"), "--wait-timeout-seconds", "3", "--rollback", "false"
    )
    rev3 = out["task-definition-arn"]
    assert proc.returncode == 1
    assert out["rollout-state"] == "TIMED_OUT", out
    assert out["rolled-back"] == "false" and "circuit breaker" not in proc.stdout
    assert service_task_definition(aws) == rev3 == out["current-task-definition-arn"]
    assert rev2 != rev3


def test_our_rollback_is_reported_from_the_service_read_back(aws):
    _plain_moto_deploy(aws, _register(aws, "app:2"), "--wait", "false")
    rev2 = service_task_definition(aws)
    proc, out = _plain_moto_deploy(aws, _register(aws, "app:3"), "--wait-timeout-seconds", "2")
    assert proc.returncode == 1 and out["rollout-state"] == "TIMED_OUT"
    # moto never finishes the rollback's rollout either, but the service *is* on revision 2.
    assert service_task_definition(aws) == rev2 == out["current-task-definition-arn"]
    assert out["rolled-back"] == "true"
    assert "rollback deployment TIMED_OUT" in proc.stdout


def test_empty_values_are_dropped_like_the_aws_deploy_action(aws):
    doc = copy.deepcopy(EXPORT)
    doc["ipcMode"] = None
    doc["pidMode"] = ""
    doc["containerDefinitions"][0]["logConfiguration"] = {}
    doc["containerDefinitions"][0]["environment"] = []
    path = aws.tmp / "nulls.json"
    path.write_text(json.dumps(doc))
    proc, out, _ = deploy(
        aws, "--task-definition", str(path), "--containers", f"fraud-detector={NEW_IMAGE}"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    registered = aws.ecs.describe_task_definition(taskDefinition=out["task-definition-arn"])
    assert "ipcMode" not in registered["taskDefinition"]


def test_a_field_of_the_wrong_type_is_one_line_not_a_traceback(aws):
    doc = copy.deepcopy(EXPORT)
    doc["containerDefinitions"][0]["portMappings"] = [{"containerPort": "eighty"}]
    path = aws.tmp / "typed.json"
    path.write_text(json.dumps(doc))
    proc, _, _ = deploy(aws, "--task-definition", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        "portMappings[0].containerPort" in proc.stderr and "does not fit the AWS API" in proc.stderr
    )


def test_environment_entry_without_a_name(aws):
    doc = copy.deepcopy(EXPORT)
    doc["containerDefinitions"][0]["environment"] = [{"value": "orphan"}]
    path = aws.tmp / "env.json"
    path.write_text(json.dumps(doc))
    proc, _, _ = deploy(aws, "--task-definition", str(path), "--environment", "fraud-detector:A=1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "containerDefinitions[0].environment[0] has no name" in proc.stderr


def test_a_definition_without_network_mode_is_reused_on_rerun(aws):
    doc = copy.deepcopy(EXPORT)
    for key in ("networkMode", "requiresCompatibilities", "cpu", "memory"):
        doc.pop(key)
    for container in doc["containerDefinitions"]:
        container["memory"] = 512
    doc["containerDefinitions"][0]["healthCheck"] = {"command": ["CMD", "true"]}
    doc["containerDefinitions"][0]["portMappings"] = [{"containerPort": 8080, "hostPort": 8080}]
    path = aws.tmp / "bridge.json"
    path.write_text(json.dumps(doc))
    first, out1, _ = deploy(aws, "--task-definition", str(path))
    again, out2, _ = deploy(aws, "--task-definition", str(path))
    assert first.returncode == 0 and again.returncode == 0, again.stdout + again.stderr
    assert out1["registered"] == "true" and out2["registered"] == "false"
    assert out2["task-definition-arn"] == out1["task-definition-arn"]


def test_several_names_in_container_name_say_what_is_wrong(aws):
    proc, _, _ = deploy(
        aws,
        "--task-definition",
        str(aws.export),
        "--container-name",
        "web,sidecar",
        "--image",
        NEW_IMAGE,
    )
    assert proc.returncode == 2
    assert "container-name: 'web,sidecar' is not one container name" in proc.stderr
    assert "containers input" in proc.stderr


@pytest.mark.parametrize("form", ["yaml", "bom-json"])
def test_yaml_and_byte_order_mark_files(aws, form):
    import yaml

    if form == "yaml":
        path = aws.tmp / "task-def.yaml"
        path.write_text(yaml.safe_dump(EXPORT))
    else:
        path = aws.tmp / "task-def-bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(EXPORT).encode())
    proc, out, _ = deploy(
        aws, "--task-definition", str(path), "--containers", f"fraud-detector={NEW_IMAGE}"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out["rollout-state"] == "COMPLETED" and len(revisions(aws)) == 2


def test_keep_null_value_keys_must_name_keys(aws):
    proc, _, _ = deploy(aws, "--task-definition", str(aws.export), "--keep-null-value-keys", "a b")
    assert proc.returncode == 2 and "keep-null-value-keys" in proc.stderr


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        ('{"passed": false, "metrics": {}}', "the gate did not pass; a failed model is never"),
        ('{"metrics": {}}', "not a gate verdict (no 'passed')"),
        ("missing-verdict.json", "verdict: 'missing-verdict.json' is not a file"),
        ("{not json", "verdict (JSON text): line 1: not JSON"),
    ],
)
def test_a_failed_verdict_deploys_nothing(aws, verdict, message):
    """The deploy stage workflow is called with the gate's verdict: a failed or missing one is
    refused before any AWS call, in ECS and SageMaker alike."""
    before = revisions(aws)
    proc, out = _plain_moto_deploy(aws, _register(aws, "app:9"), "--verdict", verdict)
    assert proc.returncode == 2 and not out, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert message in line
    assert revisions(aws) == before  # nothing registered
    sagemaker = run_cli(
        "deploy-sagemaker", "--verdict", verdict, "--endpoint-name", "fraud", "--version", "1",
        "--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/f@sha256:" + "b" * 64,
        "--execution-role-arn", "arn:aws:iam::123456789012:role/sm",
        env={**AWS_ENV, "AWS_ENDPOINT_URL": aws.endpoint},
    )  # fmt: skip
    assert sagemaker.returncode == 2 and message in sagemaker.stderr, sagemaker.stderr


def test_an_empty_verdict_is_refused_where_one_is_required(aws):
    """mlops-deploy.yml requires its verdict input: a caller's typo that hands in '' must not
    deploy an ungated image."""
    before = revisions(aws)
    proc, out = _plain_moto_deploy(aws, _register(aws, "app:10"), "--verdict", "",
                                   "--require-verdict", "true")  # fmt: skip
    assert proc.returncode == 2 and not out
    assert "verdict: empty; give model-gate's verdict.json" in proc.stderr
    assert revisions(aws) == before
