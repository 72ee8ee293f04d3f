"""`mlops-actions deploy`: its options (each also an INPUT_* variable) and the glue from them to
the ECS deploy, the runner's files and the GitHub deployment record."""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

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

CONTAINER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("deploy", help="deploy a task definition to an ECS service, wait, roll back")
    add(p, "task-definition", "task definition JSON file (console export or Describe output works)")
    add(p, "verdict", "deploy only if this gate verdict passed (verdict.json, or its JSON)")
    add(p, "require-verdict", "refuse to deploy without a verdict", "false")
    add(p, "task-definition-arn", "deploy an existing task definition: ARN or family[:revision]")
    add(p, "containers", "'name=image' lines: the containers whose image to set")
    add(p, "container-name", "one container to update (with --image)")
    add(p, "image", "the image for --container-name")
    add(p, "environment", "'KEY=VALUE' or 'container:KEY=VALUE' lines to set")
    add(p, "secrets", "'NAME=ARN' or 'container:NAME=ARN' lines (Secrets Manager or SSM)")
    add(p, "env-files", "S3 ARNs of .env files, one per line (replace environmentFiles)")
    add(p, "docker-labels", "'key=value' lines merged into dockerLabels")
    add(p, "log-configuration-log-driver", "set the log driver (awslogs, fluentd, splunk, ...)")
    add(p, "log-configuration-options", "'key=value' lines merged into the log options")
    add(p, "command", "replace the deployed containers' command (split as a shell would)")
    add(p, "propagate-tags", "TASK_DEFINITION, SERVICE or NONE: tags the service's tasks get")
    add(p, "enable-ecs-managed-tags", "true/false: ECS-managed tags on the service's tasks")
    add(p, "run-task", "after a stable deploy, run one task of it; its exit code decides", "false")
    add(p, "run-task-container", "the container to run (default: the deployed one)")
    add(p, "run-task-command", "its command (default: the container's own)")
    add(p, "run-task-launch-type", "FARGATE, EC2 or EXTERNAL (default: the service's)")
    add(p, "run-task-subnets", "subnets, comma-separated (default: the service's network)")
    add(p, "run-task-security-groups", "security groups, comma-separated (default: the service's)")
    add(p, "run-task-assign-public-ip", "true/false (default: the service's)")
    add(p, "run-task-timeout-seconds", "how long the task may run before it is stopped", "600")
    add(p, "run-task-rollback", "a failed task rolls the service back", "true")
    add(p, "task-role-arn", "set the task role ARN")
    add(p, "execution-role-arn", "set the execution role ARN")
    add(p, "cluster", "ECS cluster name or ARN")
    add(p, "service", "ECS service name or ARN")
    add(p, "wait", "wait for the service to be stable", "true")
    add(p, "wait-timeout-seconds", "how long to wait for stability", "900")
    add(p, "poll-interval-seconds", "longest pause between DescribeServices polls", "15")
    add(p, "rollback", "on failure or timeout, go back to the previous task definition", "true")
    add(p, "force-new-deployment", "start a deployment even if nothing changed", "false")
    add(p, "desired-count", "set the service's desired count")
    add(
        p,
        "max-failed-tasks",
        "fail once this many tasks failed (default: ECS's circuit-breaker rule)",
    )
    add(
        p,
        "keep-null-value-keys",
        "comma-separated keys whose empty values are kept (others are dropped before registering)",
    )
    add(p, "aws-region", "AWS region (default: AWS_REGION)")
    add(p, "deployment-environment", "GitHub deployment environment name", "staging")
    add(p, "github-token", "token to record a GitHub Deployment (needs deployments: write)")


def _rendered_path() -> str:
    """Where the rendered task definition goes (written only once rendered): a new name in the
    runner's temp folder."""
    import tempfile
    import uuid

    folder = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    return os.path.join(folder, f"task-definition-{uuid.uuid4().hex[:12]}.json")


def _run_task_spec(args: argparse.Namespace) -> Any:
    from mlops_actions.aws import taskdef
    from mlops_actions.deploy.run import RunTaskSpec

    if not flag(args.run_task, "run-task", False):
        return None
    launch = (args.run_task_launch_type or "").strip().upper() or None
    if launch not in (None, "FARGATE", "EC2", "EXTERNAL"):
        raise UserError(
            f"run-task-launch-type: expected FARGATE, EC2 or EXTERNAL, got {shown(launch)}"
        )
    public = args.run_task_assign_public_ip
    return RunTaskSpec(
        container=(args.run_task_container or "").strip() or None,
        command=taskdef.parse_command(args.run_task_command or "", "run-task-command"),
        launch_type=launch,
        subnets=split_list(args.run_task_subnets),
        security_groups=split_list(args.run_task_security_groups),
        assign_public_ip=flag(public, "run-task-assign-public-ip", False) if public else None,
        timeout_seconds=number(
            args.run_task_timeout_seconds, "run-task-timeout-seconds", minimum=1,
            maximum=MAX_WAIT_SECONDS,
        ) or 600,
        rollback=flag(args.run_task_rollback, "run-task-rollback", True),
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from mlops_actions.aws import taskdef
    from mlops_actions.aws.ecs import Ecs
    from mlops_actions.deploy import report as deploy_report
    from mlops_actions.deploy.run import DeployRequest, deploy
    from mlops_actions.github.deployments import DeploymentRecord

    # Before anything else: a model the gate did not pass never deploys.
    if args.verdict or flag(args.require_verdict, "require-verdict", False):
        verdicts.read(args.verdict)
    render_only = not args.cluster and not args.service
    if bool(args.cluster) != bool(args.service):
        raise UserError(
            "cluster and service go together: name both to deploy, or neither to only render "
            "the task definition"
        )
    images = taskdef.parse_images(args.containers or "")
    if args.container_name or args.image:
        if not (args.container_name and args.image):
            raise UserError("container-name and image go together: give both, or use containers")
        if not CONTAINER_NAME.fullmatch(args.container_name.strip()):
            raise UserError(
                f"container-name: {shown(args.container_name)} is not one container name "
                "(letters, digits, '-', '_'); for several containers use the containers input, "
                "one 'name=image' per line"
            )
        images.update(
            taskdef.parse_images(f"{args.container_name}={args.image}", "container-name/image")
        )
    changes = taskdef.Changes(
        images=images,
        environment=taskdef.parse_environment(args.environment or ""),
        task_role_arn=args.task_role_arn or None,
        execution_role_arn=args.execution_role_arn or None,
        secrets=taskdef.parse_prefixed_secrets(args.secrets or ""),
        env_files=taskdef.parse_env_files(args.env_files or ""),
        docker_labels=taskdef.parse_pairs(args.docker_labels or "", "docker-labels"),
        log_driver=taskdef.parse_log_driver(args.log_configuration_log_driver or ""),
        log_options=taskdef.parse_pairs(
            args.log_configuration_options or "", "log-configuration-options"
        ),
        command=taskdef.parse_command(args.command or ""),
    )
    propagate = (args.propagate_tags or "").strip().upper() or None
    if propagate not in (None, "TASK_DEFINITION", "SERVICE", "NONE"):
        raise UserError(
            "propagate-tags: expected TASK_DEFINITION, SERVICE or NONE, got "
            f"{shown(args.propagate_tags)}"
        )
    managed = (
        flag(args.enable_ecs_managed_tags, "enable-ecs-managed-tags", False)
        if args.enable_ecs_managed_tags
        else None
    )
    for arn, name in (
        (changes.task_role_arn, "task-role-arn"),
        (changes.execution_role_arn, "execution-role-arn"),
    ):
        if arn:
            taskdef.check_role_arn(arn, name)
    desired = number(args.desired_count, "desired-count", integer=True, maximum=100_000)
    max_failed = number(args.max_failed_tasks, "max-failed-tasks", integer=True, maximum=100_000)
    request = DeployRequest(
        cluster=args.cluster,
        service=args.service,
        task_definition=args.task_definition or None,
        task_definition_arn=args.task_definition_arn or None,
        changes=changes,
        wait=flag(args.wait, "wait", True),
        timeout_seconds=number(
            args.wait_timeout_seconds, "wait-timeout-seconds", minimum=1, maximum=MAX_WAIT_SECONDS
        )
        or 900,
        poll_interval_seconds=number(
            args.poll_interval_seconds, "poll-interval-seconds", minimum=0.01, maximum=3600
        )
        or 15,
        rollback=flag(args.rollback, "rollback", True),
        force_new_deployment=flag(args.force_new_deployment, "force-new-deployment", False),
        desired_count=None if desired is None else int(desired),
        max_failed_tasks=None if max_failed is None else int(max_failed),
        keep_empty_keys=taskdef.parse_keep_keys(args.keep_null_value_keys or ""),
        propagate_tags=propagate,
        enable_ecs_managed_tags=managed,
        rendered_path=_rendered_path(),
        run_task=_run_task_spec(args),
    )
    region = args.aws_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if render_only:
        from mlops_actions.deploy.run import render, write_rendered

        rendered, _ = render(
            request, Ecs(region) if region and request.task_definition_arn else None
        )
        assert request.rendered_path is not None
        write_rendered(rendered, request.rendered_path)
        where = request.rendered_path
        print(f"rendered {rendered.get('family')} to {where} (no cluster or service: render only)")
        runner.set_output("rendered-task-definition", request.rendered_path)
        return EXIT_PASS
    if not region:
        raise UserError("aws-region: no region given; set the aws-region input or AWS_REGION")
    ecs = Ecs(region)

    record = None
    token = args.github_token
    repository, sha = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_SHA")
    if token and repository and sha:
        record = DeploymentRecord(
            token=token,
            repository=repository,
            environment=args.deployment_environment or "staging",
            ref=sha,
        )
        record.start(f"ECS {args.cluster}/{args.service}")

    def log(line: str) -> None:
        print(runner.defuse(line), flush=True)  # may quote AWS's reasons and events

    result = deploy(request, ecs, log=log)
    text = deploy_report.render(request, result)
    runner.print_untrusted(text)
    runner.set_output("task-definition-arn", result.task_definition_arn)
    written = request.rendered_path
    runner.set_output(
        "rendered-task-definition", written if written and os.path.isfile(written) else ""
    )
    runner.set_output("previous-task-definition-arn", result.previous_task_definition_arn or "")
    runner.set_output("deployment-id", result.deployment_id or "")
    runner.set_output("rollout-state", result.rollout_state)
    runner.set_output("rolled-back", "true" if result.rolled_back else "false")
    runner.set_output("current-task-definition-arn", result.current_task_definition_arn or "")
    runner.set_output("registered", "true" if result.registered else "false")
    runner.set_output("run-task-arn", result.run_task_arn or "")
    runner.set_output(
        "run-task-exit-code",
        "" if result.run_task_exit_code is None else str(result.run_task_exit_code),
    )
    runner.append_summary(text)
    if not result.succeeded:
        message = f"ECS deploy of {args.service} {result.rollout_state}: {result.detail}"
        if result.rolled_back:
            message += f"; the service is back on {result.current_task_definition_arn}"
        runner.annotate("error", message, title="ecs-deploy")
    if record is not None:
        run_url = runner.run_url() or ""
        record.finish(
            "success" if result.succeeded else "failure",
            f"{result.rollout_state}: {result.detail}",
            environment_url=result.links.get("service", ""),
            log_url=run_url,
        )
        if record.warning:
            runner.annotate("warning", record.warning, title="ecs-deploy")
    return EXIT_PASS if result.succeeded else EXIT_FAIL
