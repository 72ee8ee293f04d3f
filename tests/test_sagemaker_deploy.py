"""sagemaker-deploy against the AWS emulator's SageMaker API, with the endpoints really served by
the local SageMaker staging: the serving image (the example's, gated model inside) answers
/ping and /invocations. A new endpoint, an idempotent re-run, a blue/green update that fails its
health check and is rolled back (read back from the endpoint), and bad inputs as one line."""

import json
import sys
import urllib.request
import uuid

import boto3
import pytest

from conftest import REPO, run_cli
from support.ecs_sim import AWS_ENV, REGION, moto_server, reset
from support.registry_client import logged_in_docker

sys.path.insert(0, str(REPO / "scripts" / "dev"))
from local_sagemaker import LocalSageMaker

pytestmark = pytest.mark.act

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
ROW = {"amount": 950.0, "hour": 2, "merchant_category": "electronics", "is_international": 1,
       "account_age_days": 12, "distance_from_home_km": 70.0, "region": "north"}  # fmt: skip


@pytest.fixture
def sagemaker(images):
    _, _, _, registry = images
    with moto_server() as endpoint, logged_in_docker(registry) as docker:
        reset(endpoint)  # the emulator's state is per process, not per server
        local = LocalSageMaker(docker_config=docker[2], health_timeout=45).install()
        client = boto3.client("sagemaker", endpoint_url=endpoint, region_name=REGION,
                              aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        try:
            yield local, endpoint, client
        finally:
            local.down()


def _deploy(endpoint, tmp_path, image, version, *args):
    outputs = tmp_path / f"out-{uuid.uuid4().hex[:6]}.txt"
    outputs.write_text("")
    proc = run_cli(
        "deploy-sagemaker", "--endpoint-name", "fraud-detector", "--image", image, "--version",
        version, "--execution-role-arn", ROLE, "--image-repository-access", "vpc",
        "--vpc-subnets", "subnet-0abc", "--vpc-security-groups", "sg-0abc",
        "--wait-timeout-seconds", "120", *args,
        env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "GITHUB_OUTPUT": str(outputs)},
    )  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def _invoke(local):
    url = local.url("fraud-detector")
    assert url, "the endpoint serves nothing"
    request = urllib.request.Request(f"{url}/invocations", data=json.dumps([ROW]).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_new_endpoint_serves_the_model_and_a_rerun_changes_nothing(images, sagemaker, tmp_path):
    good, _, sha, _ = images
    local, endpoint, client = sagemaker
    proc, out = _deploy(endpoint, tmp_path, good, "7-abc1234")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert out["endpoint-config-name"] == out["model-name"] == "fraud-detector-7-abc1234"
    assert out["previous-config"] == "" and out["rolled-back"] == "false"
    assert out["endpoint-arn"].endswith(":endpoint/fraud-detector")
    described = client.describe_endpoint(EndpointName="fraud-detector")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == out["endpoint-config-name"]
    model = client.describe_model(ModelName=out["model-name"])
    assert model["PrimaryContainer"]["Image"] == good
    assert model["PrimaryContainer"]["ImageConfig"] == {"RepositoryAccessMode": "Vpc"}
    assert _invoke(local)["model_sha256"] == sha  # /invocations, answered by the gated model

    again, out2 = _deploy(endpoint, tmp_path, good, "7-abc1234")
    assert again.returncode == 0 and out2["endpoint-config-name"] == out["endpoint-config-name"]
    assert "already runs fraud-detector-7-abc1234: nothing to update" in again.stdout
    assert local.updates == [] and len(client.list_endpoint_configs()["EndpointConfigs"]) == 1

    # The same version with another spec is refused, never "already on this version".
    for args, field in (
        (["--instance-type", "ml.m5.xlarge"], "ProductionVariants[0].InstanceType"),
        (["--execution-role-arn", ROLE + "-2"], "ExecutionRoleArn"),
        (["--environment", "LOG_LEVEL=debug"], "PrimaryContainer.Environment"),
        (["--vpc-subnets", "subnet-0def"], "VpcConfig.Subnets"),
        (["--data-capture-uri", "s3://capture-bucket/fraud"], "DataCaptureConfig"),
    ):
        changed, _ = _deploy(endpoint, tmp_path, good, "7-abc1234", *args)
        assert changed.returncode == 2, changed.stdout[-2000:] + changed.stderr
        line = changed.stderr.strip().splitlines()
        assert len(line) == 1 and "already names another spec" in line[0], changed.stderr
        assert field in line[0] and "give this build a new version" in line[0], line[0]
    assert local.updates == [] and len(client.list_endpoint_configs()["EndpointConfigs"]) == 1

    # The next version with the default traffic mode (all-at-once): a blue/green update that
    # botocore accepts, served once healthy.
    third, out3 = _deploy(endpoint, tmp_path, good, "8-def5678")
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr
    assert out3["previous-config"] == "fraud-detector-7-abc1234"
    assert out3["endpoint-config-name"] == "fraud-detector-8-def5678"
    routing = local.updates[-1]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"]  # fmt: skip
    assert routing == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}
    described = client.describe_endpoint(EndpointName="fraud-detector")
    assert described["EndpointConfigName"] == "fraud-detector-8-def5678"
    assert _invoke(local)["model_sha256"] == sha


def test_a_failed_blue_green_update_leaves_the_previous_config_and_says_so(
    images, sagemaker, tmp_path
):
    good, broken, sha, _ = images
    local, endpoint, client = sagemaker
    first, out1 = _deploy(endpoint, tmp_path, good, "7-abc1234")
    assert first.returncode == 0, first.stdout[-3000:]
    proc, out = _deploy(endpoint, tmp_path, broken, "8-def5678", "--traffic", "canary",
                        "--traffic-percent", "20", "--bake-seconds", "60", "--alarms", "fraud-5xx")  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert out["rolled-back"] == "true" and out["previous-config"] == out1["endpoint-config-name"]
    assert out["endpoint-config-name"] == out1["endpoint-config-name"]  # read back, not assumed
    assert "rolled back" not in out["endpoint-status"] and out["endpoint-status"] == "InService"
    assert "did not pass the ping health check" in proc.stdout and "by SageMaker" in proc.stdout
    sent = local.updates[-1]["DeploymentConfig"]
    assert sent["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "CANARY", "WaitIntervalInSeconds": 60,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 20},
    }  # fmt: skip
    assert sent["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "fraud-5xx"}]}
    assert (
        client.describe_endpoint(EndpointName="fraud-detector")["EndpointConfigName"]
        == (out1["endpoint-config-name"])
    )
    assert _invoke(local)["model_sha256"] == sha  # the previous model still answers


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--image", "ghcr.io/acme/fraud@sha256:" + "a" * 64, "--image-repository-access", "platform"],
         "image: 'ghcr.io/acme/fraud' is not in ECR; SageMaker hosting pulls only from ECR"),
        (["--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:latest"],
         "is not pinned by digest"),
        (["--execution-role-arn", ""], "execution-role-arn: '(empty)' is not an IAM role ARN"),
        (["--instance-type", "m5.large"], "instance-type: 'm5.large' is not a SageMaker instance type"),
        (["--serverless-memory", "1000"], "serverless-memory: 1000 MB is not one of 1024"),
        (["--serverless-memory", "2048", "--traffic", "canary"], "traffic: canary needs instances"),
        (["--traffic", "rolling"], "traffic: expected all-at-once, canary, linear"),
        (["--endpoint-name", "bad_name"], "endpoint-name: 'bad_name' is not an endpoint name"),
        (["--image-repository-access", "vpc", "--vpc-subnets", ""], "needs vpc-subnets"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_touches_nothing(args, expected):
    base = {"--endpoint-name": "fraud-detector", "--image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud@sha256:" + "b" * 64,
            "--execution-role-arn": ROLE, "--version": "1", "--image-repository-access": "platform",
            "--vpc-subnets": "", "--vpc-security-groups": "sg-1"}  # fmt: skip
    for key, value in zip(args[::2], args[1::2], strict=True):
        base[key] = value
    proc = run_cli("deploy-sagemaker", *[x for kv in base.items() for x in kv],
                   env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", **AWS_ENV})  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr


ACT_WORKFLOW = """
name: deploy
on: [push]
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {contents: read, id-token: write}
    steps:
      - id: deploy
        uses: org/mlops-actions/actions/sagemaker-deploy@v1
        with:
          endpoint-name: fraud-detector
          image: IMAGE
          execution-role-arn: arn:aws:iam::123456789012:role/sagemaker-execution
          version: VERSION
          image-repository-access: vpc
          vpc-subnets: subnet-0abc
          vpc-security-groups: sg-0abc
          traffic: linear
          traffic-percent: "25"
          wait-timeout-seconds: "120"
"""


def test_sagemaker_deploy_under_act_creates_then_updates(
    images, sagemaker, tmp_path_factory, tmp_path
):
    """Consumer-style: the action.yml itself, a new endpoint, then a blue/green update to a new
    version (a second build of the same serving image: the same contract, a new model name)."""
    from support.act_harness import export_tree, init_consumer_repo, run_workflow

    good, _, sha, _ = images
    local, endpoint, client = sagemaker
    tree = export_tree(tmp_path_factory.mktemp("tree"))
    cache = tmp_path_factory.mktemp("act-cache")
    consumer = init_consumer_repo(tmp_path / "consumer", {"README.md": "consumer\n"})
    outs = []
    for version in ("7-abc1234", "8-def5678"):
        run = run_workflow(consumer, ACT_WORKFLOW.replace("IMAGE", good).replace("VERSION", version),
                           action_tree=tree, cache_dir=cache, event="push",
                           payload={"ref": "refs/heads/main"},
                           env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint})  # fmt: skip
        assert run.jobs.get("deploy") == "success", run.log[-4000:]
        outs.append(run.outputs("deploy", "deploy"))
    first, second = outs
    assert (
        first["previous-config"] == "" and second["previous-config"] == "fraud-detector-7-abc1234"
    )
    assert second["endpoint-config-name"] == "fraud-detector-8-def5678" == second["model-name"]
    assert second["rolled-back"] == "false" and second["endpoint-status"] == "InService"
    assert local.updates[-1]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"]["LinearStepSize"] == {"Type": "CAPACITY_PERCENT", "Value": 25}  # fmt: skip
    assert client.describe_endpoint(EndpointName="fraud-detector")["EndpointConfigName"] == (
        "fraud-detector-8-def5678"
    )
    assert _invoke(local)["model_sha256"] == sha
