"""`mlops-actions release-readback`: what a service or endpoint runs now, read from ECS or
SageMaker, not what was asked for. ECS: the service's task definition and its containers'
images; SageMaker: the endpoint's config and its models' images. With `expect-image` it fails
(one line) unless that image, by digest, is what runs. The summary says what production runs."""

from __future__ import annotations

import argparse
from typing import Any

from mlops_actions import aws
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import (
    EXIT_FAIL,
    EXIT_PASS,
    IMAGE_BY_DIGEST,
    Parser,
    Subparsers,
    add,
    aws_region,
)


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser(
        "release-readback", help="read back what an ECS service or SageMaker endpoint runs now"
    )
    add(p, "cluster", "ECS cluster (with --service)")
    add(p, "service", "ECS service")
    add(p, "endpoint-name", "SageMaker endpoint (instead of cluster and service)")
    add(p, "expect-image", "fail unless this image, by digest, is what runs")
    add(p, "environment", "the name the summary gives what it reads", "production")
    add(p, "aws-region", "AWS region (default: AWS_REGION)")


def _ecs(region: str | None, cluster: str, service: str) -> tuple[str, list[str]]:
    from mlops_actions.aws.ecs import Ecs

    ecs = Ecs(region)
    found = ecs.describe_service(cluster, service)
    arn = str(found.get("taskDefinition") or "")
    taskdef, _ = ecs.describe_task_definition(arn)
    images = [str(c.get("image")) for c in taskdef.get("containerDefinitions") or []]
    return arn, images


def _sagemaker(region: str | None, endpoint: str) -> tuple[str, list[str]]:
    client = aws.client("sagemaker", region)

    def call(action: str, method: Any, **kwargs: Any) -> Any:
        with aws.errors(action, service="sagemaker"):
            return method(**kwargs)

    config = str(call("DescribeEndpoint", client.describe_endpoint, EndpointName=endpoint)
                 .get("EndpointConfigName") or "")  # fmt: skip
    spec = call("DescribeEndpointConfig", client.describe_endpoint_config,
                EndpointConfigName=config)  # fmt: skip
    images = []
    for variant in spec.get("ProductionVariants") or []:
        model = call("DescribeModel", client.describe_model, ModelName=variant["ModelName"])
        containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
        images += [str(c["Image"]) for c in containers if c.get("Image")]
    return config, images


def run(args: argparse.Namespace) -> int:
    cluster, service = (args.cluster or "").strip(), (args.service or "").strip()
    endpoint = (args.endpoint_name or "").strip()
    expect = (args.expect_image or "").strip()
    if bool(cluster and service) == bool(endpoint) or bool(cluster) != bool(service):
        raise UserError(
            "cluster, service, endpoint-name: give an ECS cluster and service, or a SageMaker "
            "endpoint-name, not both"
        )
    if expect and not IMAGE_BY_DIGEST.match(expect):
        raise UserError(f"expect-image: {shown(expect)} must be an image by digest (repo@sha256:…)")
    region = aws_region(args.aws_region)
    if endpoint:
        server, images = _sagemaker(region, endpoint)
        where, kind = f"SageMaker endpoint {endpoint}", "endpoint config"
    else:
        server, images = _ecs(region, cluster, service)
        where, kind = f"ECS service {service} (cluster {cluster})", "task definition"
    runs = ", ".join(images) or "no image"
    runner.set_output("served-by", server)
    runner.set_output("images", "\n".join(images))
    runner.set_output("serving-image-ref", images[0] if len(images) == 1 else "")
    held = not expect or expect in images
    runner.set_output("matches", "true" if held else "false")
    name = args.environment or "production"
    line = f"{name} runs {runs} ({kind} {server}), read back from {where}"
    if not held:
        line += f"; expected {expect}"
    runner.print_untrusted(line)
    fence = runner.code_fence(line)
    title = "## 🚀 What runs now" if held else "## ❌ What runs now is not what was deployed"
    runner.append_summary(f"{title}\n\n{fence}text\n{line}\n{fence}\n")
    if not held:
        runner.annotate(
            "error", f"{where} runs {runs}, not {expect} (read back)", title="release-readback"
        )
        return EXIT_FAIL
    return EXIT_PASS
