"""Local staging: ecs-deploy, talking only to the AWS emulator's API, deploys a serving image that
really runs on the local Docker engine. A healthy image completes the rollout and answers
/version; a broken one fails its rollout with the container's own reason and is rolled back,
while the champion keeps serving."""

import json
import subprocess
import sys
import urllib.request
import uuid

import boto3
import pytest

from conftest import REPO, run_cli
from support.ecs_sim import AWS_ENV, REGION, create_cluster_and_service, moto_server, network, reset
from support.registry_client import logged_in_docker

sys.path.insert(0, str(REPO / "scripts" / "dev"))
from local_staging import LocalStaging

pytestmark = pytest.mark.act

TASKDEF = REPO / "example-project" / "infrastructure" / "fraud-detector-task-def.json"


@pytest.fixture
def staging(images, tmp_path):
    _, _, _, registry = images
    with moto_server() as endpoint, logged_in_docker(registry) as docker:
        reset(endpoint)
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **keys)
        create_cluster_and_service(ecs, json.loads(TASKDEF.read_text()), network(ec2), desired=1)
        local = LocalStaging(docker_config=docker[2], health_timeout=60).install()
        try:
            yield local, endpoint, ecs
        finally:
            local.down()


def _deploy(endpoint, image, tmp_path, *args, timeout="120"):
    outputs = tmp_path / f"deploy-{uuid.uuid4().hex[:6]}.txt"
    outputs.write_text("")
    proc = run_cli(
        "deploy", "--cluster", "staging", "--service", "fraud-detector", "--task-definition",
        str(TASKDEF), "--containers", f"fraud-detector={image}", "--wait-timeout-seconds", timeout,
        "--poll-interval-seconds", "1", *args,
        env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "GITHUB_OUTPUT": str(outputs)},
    )  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def _version(local):
    url = local.url("fraud-detector")
    assert url, "no serving deployment"
    with urllib.request.urlopen(f"{url}/version", timeout=5) as response:
        return json.loads(response.read())


def test_a_healthy_image_completes_and_serves_its_model(images, staging, tmp_path):
    good, _, sha, _ = images
    local, endpoint, ecs = staging
    proc, out = _deploy(endpoint, good, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert out["rollout-state"] == "COMPLETED"
    assert _version(local)["model_sha256"] == sha
    service = ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][0]
    container = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    assert container["taskDefinition"]["containerDefinitions"][0]["image"] == good

    # A new deployment replaces the task (a new container on a new port); the service's URL
    # stays, as a load balancer's does, and answers from the new task.
    url, deployment = local.url("fraud-detector"), local.serving["staging/fraud-detector"]
    again, out = _deploy(endpoint, good, tmp_path, "--force-new-deployment", "true")
    assert again.returncode == 0 and out["rollout-state"] == "COMPLETED", again.stdout[-3000:]
    local.wait_idle()
    assert (
        local.serving["staging/fraud-detector"] != deployment and local.url("fraud-detector") == url
    )
    assert _version(local)["model_sha256"] == sha


def test_a_broken_image_fails_its_rollout_and_the_champion_keeps_serving(images, staging, tmp_path):
    good, broken, sha, _ = images
    local, endpoint, _ = staging
    first, out1 = _deploy(endpoint, good, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    url = local.url("fraud-detector")
    proc, out = _deploy(endpoint, broken, tmp_path)
    assert proc.returncode == 1
    assert out["rollout-state"] == "FAILED" and out["rolled-back"] == "true"
    assert out["current-task-definition-arn"] == out1["task-definition-arn"]
    # The failure output names what the container itself said.
    assert (
        "Essential container in task exited" in proc.stdout
        and "fraud-detector exit 3" in proc.stdout
    )
    assert "deployment failed: tasks failed to start" in proc.stdout  # the service's events
    assert (
        "console.aws.amazon.com/cloudwatch" in proc.stdout
        and "%252Fecs%252Ffraud-detector" in proc.stdout
    )
    local.wait_idle()
    assert _version(local)["model_sha256"] == sha  # the champion answers, at the same URL
    assert local.url("fraud-detector") == url
    running = subprocess.run(["docker", "ps", "--filter", f"label=dev.mlops-actions.stack={local.stack}",
                              "--format", "{{.Image}}"], capture_output=True, text=True).stdout  # fmt: skip
    assert broken.split("@")[1][:12] not in running


def _service_task_definition(ecs):
    service = ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][0]
    return service["taskDefinition"]


def test_without_rollback_the_failed_revision_stays_on_the_service(images, staging, tmp_path):
    good, broken, sha, _ = images
    local, endpoint, ecs = staging
    assert _deploy(endpoint, good, tmp_path)[0].returncode == 0
    proc, out = _deploy(endpoint, broken, tmp_path, "--rollback", "false")
    assert proc.returncode == 1
    assert out["rollout-state"] == "FAILED" and out["rolled-back"] == "false"
    assert _service_task_definition(ecs) == out["task-definition-arn"]
    assert out["current-task-definition-arn"] == out["task-definition-arn"]
    local.wait_idle()
    assert _version(local)["model_sha256"] == sha  # ECS keeps the old tasks while the new fail


def test_a_rollout_slower_than_the_wait_is_timed_out_and_rolled_back(images, staging, tmp_path):
    """A healthy image needs a few seconds to pass its health check; a 1 s wait times out."""
    good, _, sha, _ = images
    local, endpoint, ecs = staging
    first, out1 = _deploy(endpoint, good, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    proc, out = _deploy(endpoint, good, tmp_path, "--environment", "SLOW=1", timeout="1")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert out["rollout-state"] == "TIMED_OUT" and out["rolled-back"] == "true"
    assert "not stable after 1s" in proc.stdout
    assert (
        _service_task_definition(ecs)
        == out1["task-definition-arn"]
        == out["current-task-definition-arn"]
    )
    local.wait_idle()
    assert _version(local)["model_sha256"] == sha


def test_down_leaves_no_container_behind(images, staging, tmp_path):
    good, _, _, _ = images
    local, endpoint, _ = staging
    assert _deploy(endpoint, good, tmp_path)[0].returncode == 0

    def mine() -> list[str]:  # this driver's containers: others may run beside it
        return subprocess.run(["docker", "ps", "-aq", "--filter", f"label=dev.mlops-actions.stack={local.stack}"],
                              capture_output=True, text=True).stdout.split()  # fmt: skip

    assert mine(), "the service's containers carry the driver's stack label"
    local.down()
    assert mine() == []


def test_run_task_smoke_test_passes_on_its_exit_code(images, staging, tmp_path):
    good, _, _, _ = images
    _, endpoint, _ = staging
    proc, out = _deploy(endpoint, good, tmp_path, "--run-task", "true", "--run-task-command",
                        "python -c \"print('smoke ok')\"")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert out["rollout-state"] == "COMPLETED" and out["run-task-exit-code"] == "0"
    assert out["run-task-arn"].startswith("arn:aws:ecs:") and "Run-task" in proc.stdout


def test_a_failing_run_task_fails_the_step_and_rolls_the_service_back(images, staging, tmp_path):
    good, _, sha, _ = images
    local, endpoint, ecs = staging
    first, out1 = _deploy(endpoint, good, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    proc, out = _deploy(endpoint, good, tmp_path, "--environment", "MIGRATION=2", "--run-task",
                        "true", "--run-task-command", "python -c 'import sys; sys.exit(4)'")  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert out["rollout-state"] == "COMPLETED" and out["run-task-exit-code"] == "4"
    assert "the run-task task exited with code 4" in proc.stdout
    assert out["rolled-back"] == "true"
    assert (
        _service_task_definition(ecs)
        == out1["task-definition-arn"]
        == out["current-task-definition-arn"]
    )
    local.wait_idle()
    assert _version(local)["model_sha256"] == sha
