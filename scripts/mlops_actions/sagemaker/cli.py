"""`mlops-actions deploy-sagemaker` (the sagemaker-deploy action): its options (each also an
INPUT_* variable) and the glue to the deploy, the outputs and the job summary."""

from __future__ import annotations

import argparse
import os

from mlops_actions import verdicts
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import (
    EXIT_FAIL,
    EXIT_PASS,
    MAX_WAIT_SECONDS,
    Parser,
    Subparsers,
    add,
    flag,
    number,
    split_list,
)


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("deploy-sagemaker", help="deploy the serving image to a SageMaker endpoint")
    add(p, "endpoint-name", "the endpoint to create or update")
    add(p, "image", "the serving image by digest, in ECR (or a VPC-reached private registry)")
    add(p, "execution-role-arn", "the IAM role SageMaker runs the model as")
    add(p, "version", "the model version: model and config are named <endpoint>-<version>")
    add(p, "model-data-url", "an s3:// model artifact (ModelDataUrl), when not in the image")
    add(p, "environment", "KEY=VALUE lines for the container")
    add(p, "instance-type", "instance type, e.g. ml.m5.large", "ml.m5.large")
    add(p, "instance-count", "instances", "1")
    add(p, "serverless-memory", "serverless instead: memory in MB (1024 to 6144, by 1024)")
    add(p, "serverless-concurrency", "serverless: the most concurrent invocations", "5")
    add(p, "data-capture-uri", "capture requests and responses to this s3:// prefix")
    add(p, "data-capture-percent", "the share of requests captured", "100")
    add(p, "traffic", "all-at-once, canary or linear (blue/green traffic shifting)", "all-at-once")
    add(p, "traffic-percent", "canary size, or linear step, in % of capacity", "10")
    add(p, "bake-seconds", "wait between traffic steps and before the old fleet goes", "300")
    add(p, "alarms", "CloudWatch alarm names that roll the update back, one per line")
    add(p, "image-repository-access", "platform (ECR) or vpc (a private registry)", "platform")
    add(p, "vpc-subnets", "subnets, comma-separated (VpcConfig)")
    add(p, "vpc-security-groups", "security groups, comma-separated (VpcConfig)")
    add(p, "wait-timeout-seconds", "how long to wait for InService", "1800")
    add(p, "rollback", "when SageMaker did not roll a failed update back, do it", "true")
    add(p, "aws-region", "AWS region (default: AWS_REGION)")
    add(p, "verdict", "deploy only if this gate verdict passed (verdict.json, or its JSON)")
    add(p, "require-verdict", "refuse to deploy without a verdict", "false")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.aws.taskdef import parse_environment
    from mlops_actions.sagemaker import plan
    from mlops_actions.sagemaker.run import SageMaker, deploy, summary

    # Before anything else: a model the gate did not pass never deploys.
    if args.verdict or flag(args.require_verdict, "require-verdict", False):
        verdicts.read(args.verdict)
    access = (args.image_repository_access or "platform").strip().lower()
    if access not in ("platform", "vpc"):
        raise UserError(f"image-repository-access: expected platform or vpc, got {shown(access)}")
    environment = parse_environment(args.environment or "").get("*", {})

    def whole(value: str | None, name: str, low: int, high: int, default: int) -> int:
        given = number(value, name, minimum=low, maximum=high, integer=True)
        return int(given) if given is not None else default

    memory = number(
        args.serverless_memory, "serverless-memory", minimum=1, maximum=10240, integer=True
    )
    request = plan.SageMakerRequest(
        endpoint=(args.endpoint_name or "").strip(),
        image=(args.image or "").strip(),
        role_arn=(args.execution_role_arn or "").strip(),
        version=(args.version or "").strip(),
        model_data_url=(args.model_data_url or "").strip(),
        environment=environment,
        instance_type=(args.instance_type or "ml.m5.large").strip(),
        instance_count=whole(args.instance_count, "instance-count", 1, 100, 1),
        serverless_memory=int(memory) if memory else None,
        serverless_concurrency=whole(
            args.serverless_concurrency, "serverless-concurrency", 1, 200, 5
        ),
        data_capture_uri=(args.data_capture_uri or "").strip(),
        data_capture_percent=whole(args.data_capture_percent, "data-capture-percent", 1, 100, 100),
        traffic=(args.traffic or "all-at-once").strip().lower(),
        traffic_percent=whole(args.traffic_percent, "traffic-percent", 1, 99, 10),
        bake_seconds=whole(args.bake_seconds, "bake-seconds", 0, 3600, 300),
        alarms=split_list(args.alarms),
        vpc_subnets=split_list(args.vpc_subnets),
        vpc_security_groups=split_list(args.vpc_security_groups),
        private_registry=access == "vpc",
        wait_timeout_seconds=whole(
            args.wait_timeout_seconds, "wait-timeout-seconds", 1, MAX_WAIT_SECONDS, 1800
        ),
        rollback=flag(args.rollback, "rollback", True),
    )  # fmt: skip
    plan.check(request)  # before a region or a client is needed
    region = args.aws_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise UserError("aws-region: no region given; set the aws-region input or AWS_REGION")
    result = deploy(request, SageMaker(region), log=lambda line: print(runner.defuse(line)))
    text = summary(result, request)
    runner.print_untrusted(text)  # quotes SageMaker's FailureReason
    runner.append_summary(text)
    runner.set_output("endpoint-arn", result.endpoint_arn)
    runner.set_output("endpoint-config-name", result.config_name)
    runner.set_output("model-name", result.model_name)
    runner.set_output("previous-config", result.previous_config or "")
    runner.set_output("rolled-back", "true" if result.rolled_back else "false")
    runner.set_output("endpoint-status", result.status)
    if not result.succeeded:
        runner.annotate(
            "error",
            f"SageMaker endpoint {request.endpoint}: {result.status} on {result.config_name}"
            + (f": {result.failure_reason}" if result.failure_reason else ""),
            title="sagemaker-deploy",
        )
        return EXIT_FAIL
    return EXIT_PASS
