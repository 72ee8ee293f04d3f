"""Shared set-up for the ECS deploy tests: moto in server mode, a cluster and service on
revision 1 of a console export, and `deploy()` running the CLI as a user would."""

import json
from types import SimpleNamespace

import boto3
import pytest

from conftest import run_cli
from mlops_actions.aws.ecs import registrable_keys
from mlops_actions.aws.taskdef import registrable
from support.ecs_sim import (
    AWS_ENV,
    REGION,
    RolloutSim,
    Scenario,
    create_cluster_and_service,
    moto_server,
    network,
    reset,
)

NEW_IMAGE = "ghcr.io/acme/fraud-detector@sha256:" + "c" * 64
EXPORT = {  # as exported from the console: read-only fields included, two containers
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-detector:1",
    "family": "fraud-detector",
    "revision": 1,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2026-10-01T12:00:00.000Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/admin/someone",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "512",
    "memory": "1024",
    "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
    "containerDefinitions": [
        {
            "name": "fraud-detector",
            "image": "ghcr.io/acme/fraud-detector:old",
            "essential": True,
            "portMappings": [{"containerPort": 8080}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/fraud-detector",
                    "awslogs-region": REGION,
                    "awslogs-stream-prefix": "app",
                },
            },
        },
        {
            "name": "otel-collector",
            "image": "otel/opentelemetry-collector:0.100.0",
            "essential": False,
        },
    ],
}


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(endpoint, tmp_path):
    reset(endpoint)
    ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **_keys())
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **_keys())
    base = create_cluster_and_service(ecs, registrable(EXPORT, registrable_keys()), network(ec2))
    export = tmp_path / "task-def.json"
    export.write_text(json.dumps(EXPORT, indent=2))
    return SimpleNamespace(endpoint=endpoint, ecs=ecs, base=base, export=export, tmp=tmp_path)


def _keys():
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def deploy(aws, *args, scenario=None, env=None):
    sim = RolloutSim(scenario or Scenario()).install()
    outputs = aws.tmp / "outputs.txt"
    outputs.write_text("")
    full_env = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "GITHUB_OUTPUT": str(outputs),
        **(env or {}),
    }
    proc = run_cli(
        "deploy",
        "--cluster",
        "staging",
        "--service",
        "fraud-detector",
        "--poll-interval-seconds",
        "0.1",
        *args,
        env=full_env,
    )
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, parsed, sim


def deploy_new_image(aws, *args, **kwargs):
    """Deploy the console export with NEW_IMAGE on the fraud-detector container."""
    return deploy(
        aws,
        "--task-definition",
        str(aws.export),
        "--containers",
        f"fraud-detector={NEW_IMAGE}",
        *args,
        **kwargs,
    )


def service_task_definition(aws):
    return aws.ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][0][
        "taskDefinition"
    ]


def revisions(aws):
    return aws.ecs.list_task_definitions(familyPrefix="fraud-detector")["taskDefinitionArns"]
