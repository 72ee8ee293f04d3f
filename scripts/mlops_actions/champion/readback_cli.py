"""`mlops-actions release-readback`: what a service or endpoint runs now, read from ECS or
SageMaker, not what was asked for. ECS: the task definitions of the service's RUNNING tasks
(ListTasks, DescribeTasks), which must all be the one the service asks for, with its PRIMARY
deployment's rollout COMPLETED and no other deployment left, and their containers' images;
SageMaker: the endpoint's config and its models' images. With `expect-image` it fails (one line)
unless that image, by digest, is what runs, settled. The summary says what production runs.
With `after-failure` it only reports (a failed release or rollback: nothing was promoted)."""

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
    flag,
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
    add(p, "after-failure", "report what runs after a failed release or rollback (nothing was "
        "promoted); never fails", "false")  # fmt: skip
    add(p, "aws-region", "AWS region (default: AWS_REGION)")


def settled(service: dict[str, Any], tasks: list[dict[str, Any]]) -> tuple[str, str]:
    """(the task definition the service's RUNNING tasks run, what is unsettled or '') from
    DescribeServices and DescribeTasks: all tasks on the requested task definition, the PRIMARY
    deployment's rollout COMPLETED, and no other deployment left."""
    requested = str(service.get("taskDefinition") or "")
    running = sorted({str(t.get("taskDefinitionArn") or "") for t in tasks})
    deployments = [d for d in service.get("deployments") or [] if isinstance(d, dict)]
    primary = [d for d in deployments if d.get("status") == "PRIMARY"]
    state = str(primary[0].get("rolloutState") or "") if primary else ""
    others = [d for d in deployments if d.get("status") != "PRIMARY"]
    problems = []
    if not running:
        problems.append("no RUNNING task")
    elif running != [requested]:
        problems.append(f"RUNNING tasks on {', '.join(running)}, the service asks for {requested}")
    if not primary:
        problems.append("no PRIMARY deployment")
    elif state and state != "COMPLETED":
        problems.append(f"the PRIMARY deployment's rollout is {state}")
    if others:
        problems.append(f"{len(others)} other deployment(s) still {others[0].get('status')}")
    serving = running[0] if len(running) == 1 else requested
    return serving, "; ".join(problems)


def _ecs(region: str | None, cluster: str, service: str) -> tuple[str, list[str], str]:
    from mlops_actions.aws.ecs import Ecs

    ecs = Ecs(region)
    found = ecs.describe_service(cluster, service)
    tasks = ecs.running_tasks(cluster, str(found.get("serviceName") or service))
    arn, unsettled = settled(found, tasks)
    images: list[str] = []
    if arn:
        taskdef, _ = ecs.describe_task_definition(arn)
        images = [str(c.get("image")) for c in taskdef.get("containerDefinitions") or []]
    return arn, images, unsettled


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
    after_failure = flag(args.after_failure, "after-failure", False)
    region = aws_region(args.aws_region)
    unsettled = ""
    if endpoint:
        server, images = _sagemaker(region, endpoint)
        where, kind = f"SageMaker endpoint {endpoint}", "endpoint config"
    else:
        server, images, unsettled = _ecs(region, cluster, service)
        where, kind = f"ECS service {service} (cluster {cluster})", "task definition"
    runs = ", ".join(images) or "no image"
    runner.set_output("served-by", server)
    runner.set_output("images", "\n".join(images))
    runner.set_output("serving-image-ref", images[0] if len(images) == 1 else "")
    held = (not expect or expect in images) and not unsettled
    runner.set_output("matches", "true" if held else "false")
    name = args.environment or "production"
    line = f"{name} runs {runs} ({kind} {server}), read back from {where}"
    if unsettled:
        line += f"; not settled: {unsettled}"
    if expect and expect not in images:
        line += f"; expected {expect}"
    if after_failure:
        line = f"nothing was promoted; {line}"
    runner.print_untrusted(line)
    fence = runner.code_fence(line)
    title = "## 🚀 What runs now" if held else "## ❌ What runs now is not what was deployed"
    if after_failure:
        title = f"## ⛔ Failed: nothing promoted; what {name} runs now (read back)"
    runner.append_summary(f"{title}\n\n{fence}text\n{line}\n{fence}\n")
    if not held and not after_failure:
        wanted = f"not {expect}" if expect and expect not in images else "not settled"
        detail = f"; {unsettled}" if unsettled else ""
        runner.annotate(
            "error", f"{where} runs {runs}, {wanted} (read back){detail}", title="release-readback"
        )
        return EXIT_FAIL
    return EXIT_PASS
