"""The ecs-deploy action, consumer-style through nektos/act, against moto in server mode."""

import json

import boto3
import pytest

from mlops_actions.aws.ecs import registrable_keys
from mlops_actions.aws.taskdef import registrable
from support.act_harness import export_tree, init_consumer_repo, run_workflow
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

pytestmark = pytest.mark.act

IMAGE = "ghcr.io/acme/fraud-detector@sha256:" + "d" * 64
WORKFLOW = """
name: deploy
on: [push]
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - id: deploy
        uses: org/mlops-actions/actions/ecs-deploy@v1
        with:
          task-definition: example-project/infrastructure/fraud-detector-task-def.json
          containers: fraud-detector=IMAGE
          environment: MODEL_VERSION=7
          cluster: staging
          service: fraud-detector
          poll-interval-seconds: "0.2"
"""


def test_ecs_deploy_under_act(tmp_path_factory, tmp_path):
    tree = export_tree(tmp_path_factory.mktemp("mlops-actions"))
    example = json.loads(
        (tree / "example-project/infrastructure/fraud-detector-task-def.json").read_text()
    )
    consumer = init_consumer_repo(
        tmp_path / "consumer",
        {
            "example-project/infrastructure/fraud-detector-task-def.json": json.dumps(example),
        },
    )
    with moto_server() as endpoint:
        reset(endpoint)
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **keys)
        base = create_cluster_and_service(
            ecs, registrable(example, registrable_keys()), network(ec2)
        )
        RolloutSim(Scenario(outcome="complete", after=0.5)).install()
        run = run_workflow(
            consumer,
            WORKFLOW.replace("IMAGE", IMAGE),
            action_tree=tree,
            cache_dir=tmp_path_factory.mktemp("act-cache"),
            event="push",
            payload={"ref": "refs/heads/main"},
            env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint},
        )
        assert run.jobs.get("deploy") == "success", run.log[-4000:]
        service = ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][
            0
        ]
    outputs = run.outputs("deploy", "deploy")
    assert outputs["previous-task-definition-arn"] == base
    assert outputs["task-definition-arn"].endswith("fraud-detector:2") == (
        service["taskDefinition"] == outputs["task-definition-arn"]
    )
    assert service["taskDefinition"] == outputs["task-definition-arn"]
    assert outputs["rollout-state"] == "COMPLETED" and outputs["rolled-back"] == "false"
    assert outputs["registered"] == "true" and outputs["deployment-id"].startswith("ecs-svc/")
    assert "ECS deploy succeeded" in run.summaries["deploy"]
