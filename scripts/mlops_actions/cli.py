"""`mlops-actions <command>`: one subcommand per action, usable outside GitHub too.

Each option falls back to an `INPUT_<NAME>` environment variable (dashes as underscores), which
is how the composite actions pass their inputs: through `env:`, never pasted into a script.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Sequence

from mlops_actions import __version__
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MAX_WAIT_SECONDS = 5 * 24 * 3600  # the longest a self-hosted job may run
DOCKER_MEMORY = re.compile(r"[0-9]+(\.[0-9]+)?[bkmgBKMG]?")
CONTAINER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
REPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see --help)")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"INPUT_{name.upper().replace('-', '_')}")
    return value if value not in (None, "") else default


def _add(
    parser: argparse.ArgumentParser, name: str, help_text: str, default: str | None = None
) -> None:
    parser.add_argument(f"--{name}", default=_env(name, default), help=help_text)


def _flag(value: str | None, option: str, default: bool) -> bool:
    if value in (None, ""):
        return default
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise UserError(f"{option}: expected true or false, got {shown(value)}")


def _gate_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("gate", help="judge a model's predictions or metrics against a quality bar")
    _add(p, "predictions", "CSV/Parquet of labels and scores (or predicted labels)")
    _add(p, "metrics", "JSON of pre-computed metrics, instead of --predictions")
    _add(p, "config", "gate config YAML (e.g. .mlops/gate.yml)")
    _add(p, "thresholds", "inline value checks, e.g. 'precision>=0.85,recall>=0.8'")
    _add(p, "baseline", "the champion's verdict.json or metrics JSON")
    _add(p, "label-column", "label column (default: label, or the config's)")
    _add(p, "score-column", "score column: probability of the positive class")
    _add(p, "prediction-column", "predicted-label column")
    _add(p, "group-columns", "comma-separated columns for fairness checks")
    _add(p, "positive-label", "the label value of the positive class (default 1)")
    _add(p, "decision-threshold", "score >= threshold predicts positive (default 0.5)")
    _add(p, "output-dir", "where verdict.json and report.md go (default: ./model-gate)")
    _add(p, "fail-on", "failure (exit 1 when the gate fails) or never (report only)", "failure")
    _add(p, "name", "report name; keys the sticky PR comment", "model-gate")
    _add(p, "comment-on-pr", "on pull requests, keep one sticky comment with the report", "true")
    p.add_argument(
        "--github-token", default=None, help="token for the PR comment (env: GITHUB_TOKEN)"
    )
    p.add_argument("--quiet", action="store_true", help="do not print the report")


def _gate(args: argparse.Namespace) -> int:
    from mlops_actions.gate.report import marker
    from mlops_actions.gate.run import GateRequest, run
    from mlops_actions.github import pr_comment

    fail_on = (args.fail_on or "failure").strip().lower()
    if fail_on not in ("failure", "never"):
        raise UserError(f"fail-on: expected 'failure' or 'never', got {shown(args.fail_on)}")
    comment = _flag(args.comment_on_pr, "comment-on-pr", True)
    groups = tuple(
        g.strip() for g in (args.group_columns or "").replace("\n", ",").split(",") if g.strip()
    )
    if not REPORT_NAME.fullmatch(args.name or ""):
        raise UserError(
            f"name: {shown(args.name)} must be 1-100 letters, digits, '.', '_' or '-' (it names "
            "a folder and keys the PR comment), e.g. model-gate"
        )
    output_dir = args.output_dir
    if not output_dir:
        temp = os.environ.get("RUNNER_TEMP")
        output_dir = os.path.join(temp, "model-gate", args.name) if temp else "model-gate"
    request = GateRequest(
        output_dir=output_dir,
        predictions=args.predictions,
        metrics=args.metrics,
        config=args.config,
        thresholds=args.thresholds,
        baseline=args.baseline,
        label_column=args.label_column,
        score_column=args.score_column,
        prediction_column=args.prediction_column,
        group_columns=groups,
        positive_label=args.positive_label,
        decision_threshold=args.decision_threshold,
        name=args.name,
    )
    started = time.perf_counter()
    outcome = run(request)
    elapsed = time.perf_counter() - started
    decision = outcome.result.decision

    if not args.quiet:
        # The hidden marker is for the PR comment; a terminal needs only the report. Group
        # names and columns in it come from the predictions file: untrusted.
        runner.print_untrusted(outcome.report.removeprefix(marker(args.name) + "\n"))
    print(
        f"gate {'passed' if decision.passed else 'FAILED'} in {elapsed:.2f}s; "
        f"verdict: {outcome.verdict_path}",
        file=sys.stderr,
    )

    runner.set_output("passed", "true" if decision.passed else "false")
    runner.set_output("verdict-path", str(outcome.verdict_path.resolve()))
    runner.set_output("report-path", str(outcome.report_path.resolve()))
    runner.set_output("metrics", json.dumps(outcome.verdict["metrics"], separators=(",", ":")))
    runner.set_output("failed-checks", str(len(decision.failed)))
    runner.append_summary(outcome.report)
    config_file = args.config if args.config else None
    level = "error" if fail_on == "failure" else "warning"
    for check in decision.failed:
        if runner.in_actions():
            runner.annotate(
                level, check.message, file=config_file, title=f"model gate: {check.kind} check"
            )

    if comment and runner.in_actions():
        number = pr_comment.pull_request_number()
        token = args.github_token or os.environ.get("GITHUB_TOKEN") or _env("github-token")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        if number is not None and token and repository:
            result = pr_comment.upsert_sticky_comment(
                token=token,
                repository=repository,
                number=number,
                body=outcome.report,
                marker=marker(args.name),
            )
            if result.action == "failed":
                runner.annotate("warning", result.detail, title="model gate: PR comment")
            else:
                print(result.detail, file=sys.stderr)
        elif number is not None:
            runner.annotate(
                "warning", "no github-token: skipped the PR comment", title="model gate"
            )
    if decision.passed or fail_on == "never":
        return EXIT_PASS
    return EXIT_FAIL


def _number(
    value: str | None,
    option: str,
    *,
    minimum: float = 0,
    maximum: float = 1e9,
    integer: bool = False,
) -> float | None:
    """A numeric input within [minimum, maximum]; nan, inf and junk are one-line errors."""
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip()) if integer else float(str(value).strip())
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and minimum <= number <= maximum):
        kind = "a whole number" if integer else "a number"
        raise UserError(
            f"{option}: expected {kind} from {minimum:g} to {maximum:g}, got {shown(value)}"
        )
    return number


def _deploy_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("deploy", help="deploy a task definition to an ECS service, wait, roll back")
    _add(
        p, "task-definition", "task definition JSON file (console export or Describe output works)"
    )
    _add(p, "task-definition-arn", "deploy an existing task definition: ARN or family[:revision]")
    _add(p, "containers", "'name=image' lines: the containers whose image to set")
    _add(p, "container-name", "one container to update (with --image)")
    _add(p, "image", "the image for --container-name")
    _add(p, "environment", "'KEY=VALUE' or 'container:KEY=VALUE' lines to set")
    _add(p, "task-role-arn", "set the task role ARN")
    _add(p, "execution-role-arn", "set the execution role ARN")
    _add(p, "cluster", "ECS cluster name or ARN")
    _add(p, "service", "ECS service name or ARN")
    _add(p, "wait", "wait for the service to be stable", "true")
    _add(p, "wait-timeout-seconds", "how long to wait for stability", "900")
    _add(p, "poll-interval-seconds", "longest pause between DescribeServices polls", "15")
    _add(p, "rollback", "on failure or timeout, go back to the previous task definition", "true")
    _add(p, "force-new-deployment", "start a deployment even if nothing changed", "false")
    _add(p, "desired-count", "set the service's desired count")
    _add(
        p,
        "max-failed-tasks",
        "fail once this many tasks failed (default: ECS's circuit-breaker rule)",
    )
    _add(
        p,
        "keep-null-value-keys",
        "comma-separated keys whose empty values are kept (others are dropped before registering)",
    )
    _add(p, "aws-region", "AWS region (default: AWS_REGION)")
    _add(p, "deployment-environment", "GitHub deployment environment name", "staging")
    _add(p, "github-token", "token to record a GitHub Deployment (needs deployments: write)")


def _deploy(args: argparse.Namespace) -> int:
    from mlops_actions.deploy import report as deploy_report
    from mlops_actions.deploy import taskdef
    from mlops_actions.deploy.ecs import Ecs
    from mlops_actions.deploy.run import DeployRequest, deploy
    from mlops_actions.github.deployments import DeploymentRecord

    if not args.cluster or not args.service:
        raise UserError(
            "cluster and service are required: name the ECS cluster and service to update"
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
    )
    for arn, name in (
        (changes.task_role_arn, "task-role-arn"),
        (changes.execution_role_arn, "execution-role-arn"),
    ):
        if arn:
            taskdef.check_role_arn(arn, name)
    desired = _number(args.desired_count, "desired-count", integer=True, maximum=100_000)
    max_failed = _number(args.max_failed_tasks, "max-failed-tasks", integer=True, maximum=100_000)
    request = DeployRequest(
        cluster=args.cluster,
        service=args.service,
        task_definition=args.task_definition or None,
        task_definition_arn=args.task_definition_arn or None,
        changes=changes,
        wait=_flag(args.wait, "wait", True),
        timeout_seconds=_number(
            args.wait_timeout_seconds, "wait-timeout-seconds", minimum=1, maximum=MAX_WAIT_SECONDS
        )
        or 900,
        poll_interval_seconds=_number(
            args.poll_interval_seconds, "poll-interval-seconds", minimum=0.01, maximum=3600
        )
        or 15,
        rollback=_flag(args.rollback, "rollback", True),
        force_new_deployment=_flag(args.force_new_deployment, "force-new-deployment", False),
        desired_count=None if desired is None else int(desired),
        max_failed_tasks=None if max_failed is None else int(max_failed),
        keep_empty_keys=taskdef.parse_keep_keys(args.keep_null_value_keys or ""),
    )
    region = args.aws_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
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
    runner.set_output("previous-task-definition-arn", result.previous_task_definition_arn or "")
    runner.set_output("deployment-id", result.deployment_id or "")
    runner.set_output("rollout-state", result.rollout_state)
    runner.set_output("rolled-back", "true" if result.rolled_back else "false")
    runner.set_output("current-task-definition-arn", result.current_task_definition_arn or "")
    runner.set_output("registered", "true" if result.registered else "false")
    runner.append_summary(text)
    if not result.succeeded:
        message = f"ECS deploy of {args.service} {result.rollout_state}: {result.detail}"
        if result.rolled_back:
            message += f"; the service is back on {result.current_task_definition_arn}"
        runner.annotate("error", message, title="ecs-deploy")
    if record is not None:
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        run_url = f"{server}/{repository}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}"
        record.finish(
            "success" if result.succeeded else "failure",
            f"{result.rollout_state}: {result.detail}",
            environment_url=result.links.get("service", ""),
            log_url=run_url,
        )
        if record.warning:
            runner.annotate("warning", record.warning, title="ecs-deploy")
    return EXIT_PASS if result.succeeded else EXIT_FAIL


def _build_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("build", help="build an image and push it with SHA/branch/PR/semver tags")
    _add(p, "registry", "registry host", "ghcr.io")
    _add(p, "image", "image name (default: <registry>/<owner>/<repo>, lower-cased)")
    _add(p, "context", "build context directory", ".")
    _add(p, "dockerfile", "Dockerfile path (default: <context>/Dockerfile)")
    _add(p, "build-args", "KEY=VALUE lines passed as --build-arg")
    _add(p, "target", "build stage to stop at")
    _add(p, "push", "auto (not on fork PRs), true or false", "auto")
    _add(p, "username", "registry user (default: GITHUB_ACTOR)")
    _add(p, "password", "registry password or token (env: INPUT_PASSWORD)")
    _add(p, "tags", "extra tags, one per line")
    _add(p, "labels", "extra labels, key=value lines")
    _add(p, "cache", "registry, gha or none", "registry")
    _add(p, "platforms", "comma-separated target platforms (buildx only)")


def _build(args: argparse.Namespace) -> int:
    from mlops_actions.build import run as build_run
    from mlops_actions.build import tags as tg

    event = runner.event_payload()
    ctx = tg.context_from(os.environ, event)
    build_args = tg.parse_labels(args.build_args or "", "build-args")
    request = build_run.BuildRequest(
        registry=args.registry or "ghcr.io",
        image=args.image or "",
        context=args.context or ".",
        dockerfile=args.dockerfile or "",
        build_args=build_args,
        target=args.target or None,
        push=args.push or "auto",
        username=args.username or os.environ.get("GITHUB_ACTOR", ""),
        password=args.password or "",
        extra_tags=tuple(tg.parse_lines(args.tags or "", "tags")),
        extra_labels=tg.parse_labels(args.labels or ""),
        cache=(args.cache or "registry").strip().lower(),
        platforms=tuple(tg.parse_lines(args.platforms or "", "platforms")),
    )
    result = build_run.build(request, ctx)
    text = build_run.summary(result)
    print(text)
    refs = result.plan.refs
    runner.set_output("image", result.plan.image)
    runner.set_output("digest", result.digest or "")
    runner.set_output("image-ref", result.image_ref)
    runner.set_output("tags", json.dumps(refs))
    runner.set_output("labels", json.dumps(result.plan.labels))
    runner.set_output("pushed", "true" if result.digest else "false")
    runner.set_output("builder", result.builder)
    runner.append_summary(text)
    for note in result.notes:
        runner.annotate("notice", note, title="build-push-ghcr")
    return EXIT_PASS


def _train_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("train", help="train inside an image (by digest) and write a model card")
    _add(p, "image", "image to train in, ideally image@sha256:...")
    _add(p, "command", "training command run in the container")
    _add(p, "artifacts-dir", "host directory for outputs (mounted at /app/artifacts)", "artifacts")
    _add(p, "data", "host paths mounted read-only at /data/<name>, one per line")
    _add(p, "env", "KEY=VALUE lines for the container")
    _add(p, "params", "a JSON/YAML file or KEY=VALUE lines; given to the command as MLOPS_PARAMS")
    _add(p, "registry", "registry to log in to for the pull")
    _add(p, "username", "registry user")
    _add(p, "password", "registry password or token")
    _add(p, "network", "container network, e.g. none")
    _add(p, "cpus", "CPU limit, e.g. 2")
    _add(p, "memory", "memory limit, e.g. 4g")
    _add(p, "gpus", "GPUs, e.g. all")
    _add(p, "user", "user to run as (default: the image's, or nobody if that is root)")
    _add(p, "timeout-minutes", "stop the training after this long", "60")
    _add(p, "model-path", "expected model file, relative to the artifacts directory", "model.skops")
    _add(p, "s3-uri", "upload the version to s3://bucket/prefix/<model-name>/<version>/")
    _add(p, "model-name", "model name in S3 (default: the repository name)")
    _add(p, "version", "version in S3 (default: <run number>-<sha7>)")
    _add(p, "aws-region", "AWS region for S3 and ECS (default: AWS_REGION)")
    _add(p, "backend", "docker (on this runner) or ecs (a Fargate task)", "docker")
    _add(p, "ecs-cluster", "ECS cluster for backend ecs")
    _add(p, "ecs-task-definition", "training task definition (family[:revision] or ARN)")
    _add(p, "ecs-container-name", "the training container in that task definition")
    _add(p, "ecs-subnets", "comma-separated subnets (awsvpc)")
    _add(p, "ecs-security-groups", "comma-separated security groups (awsvpc)")
    _add(p, "ecs-assign-public-ip", "give the task a public IP (to reach the registry)", "false")
    _add(p, "ecs-secrets", "NAME=<Secrets Manager or SSM ARN> lines, set in the task definition")


def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlops_actions.train import lineage, store
    from mlops_actions.train import run as train_run

    params_text = args.params or ""
    if (
        params_text.strip()
        and "\n" not in params_text.strip()
        and Path(params_text.strip()).is_file()
    ):
        source = params_text.strip()
        params = lineage.parse_params(Path(source).read_text(encoding="utf-8"), source)
    else:
        params = lineage.parse_params(params_text)
    timeout = (
        _number(
            args.timeout_minutes, "timeout-minutes", minimum=0.01, maximum=MAX_WAIT_SECONDS / 60
        )
        or 60
    )
    backend = (args.backend or "docker").strip().lower()
    if backend not in ("docker", "ecs"):
        raise UserError(f"backend: expected docker or ecs, got {shown(args.backend)}")
    ecs = None
    if args.ecs_secrets and backend != "ecs":
        raise UserError(
            "ecs-secrets is for backend ecs; with backend docker pass secrets in env (an env "
            "file, never the command line)"
        )
    if backend == "ecs":
        from mlops_actions.deploy.taskdef import parse_secrets
        from mlops_actions.train.ecs_backend import EcsSettings

        missing = [
            n
            for n, v in (
                ("ecs-cluster", args.ecs_cluster),
                ("ecs-task-definition", args.ecs_task_definition),
                ("ecs-container-name", args.ecs_container_name),
                ("s3-uri", args.s3_uri),
            )
            if not v
        ]
        if missing:
            raise UserError(
                f"backend ecs needs {', '.join(missing)} (the task's outputs travel through S3)"
            )
        region = (
            args.aws_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        )
        if not region:
            raise UserError("aws-region: no region given; set the aws-region input or AWS_REGION")

        def split(text: str | None) -> tuple[str, ...]:
            return tuple(p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip())

        ecs = EcsSettings(
            cluster=args.ecs_cluster,
            task_definition=args.ecs_task_definition,
            container=args.ecs_container_name,
            s3_uri=args.s3_uri,
            subnets=split(args.ecs_subnets),
            security_groups=split(args.ecs_security_groups),
            assign_public_ip=_flag(args.ecs_assign_public_ip, "ecs-assign-public-ip", False),
            region=region,
            secrets=parse_secrets(args.ecs_secrets or "", "ecs-secrets"),
        )
    cpus = _number(args.cpus, "cpus", minimum=0.01, maximum=4096)
    if args.memory and not DOCKER_MEMORY.fullmatch(args.memory.strip()):
        raise UserError(f"memory: {shown(args.memory)} is not a size; use e.g. 512m or 4g")
    upload = None
    if args.s3_uri:  # checked now: an upload target found wrong after training is too late
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        sha = os.environ.get("GITHUB_SHA", "")
        number = os.environ.get("GITHUB_RUN_NUMBER")
        default_version = f"{number}-{sha[:7]}" if number and sha else time.strftime("%Y%m%d%H%M%S")
        upload = (
            store.Location.parse(args.s3_uri),
            store.check_name(args.model_name or repository.split("/")[-1] or "model", "model-name"),
            store.check_name(args.version or default_version, "version"),
        )
    request = train_run.TrainRequest(
        image=(args.image or "").strip(),
        command=args.command or "",
        artifacts_dir=args.artifacts_dir or "artifacts",
        data=tuple(line.strip() for line in (args.data or "").splitlines() if line.strip()),
        env=lineage.parse_env_lines(args.env or ""),
        params=params,
        registry=args.registry or None,
        username=args.username or "",
        password=args.password or "",
        network=args.network or None,
        cpus=f"{cpus:g}" if cpus else None,
        memory=(args.memory or "").strip() or None,
        gpus=args.gpus or None,
        user=args.user or None,
        timeout_minutes=timeout,
        model_path=args.model_path or "model.skops",
        backend=backend,
        ecs=ecs,
    )
    event = runner.event_payload()
    try:
        result = train_run.train(request, dict(os.environ), event, github=runner.in_actions())
    except train_run.TrainingFailed as failed:
        report = train_run.failure_summary(failed.message, failed.tail)
        runner.append_summary(report)
        runner.print_untrusted(report)  # the tail is the container's text
        runner.annotate("error", failed.message, title="containerized-train")
        return EXIT_FAIL
    for warning in result.warnings:
        runner.annotate("warning", warning, title="containerized-train")
    uploaded = None
    if upload is not None:
        location, model_name, version = upload
        files = [p for p in (result.model_path, result.metrics_path, result.predictions_path) if p]
        uploaded = store.upload_version(
            location, model_name, version, files, result.card_path, region=args.aws_region or None
        )
        print(f"S3: {uploaded['status']} {uploaded['uri']}", file=sys.stderr)
    text = train_run.summary(result)
    runner.print_untrusted(text)  # metric names come from the container's metrics.json
    runner.append_summary(text)
    runner.set_output("model-path", str(result.model_path))
    runner.set_output("model-sha256", result.model_sha256)
    runner.set_output("model-card", str(result.card_path))
    runner.set_output("metrics-path", str(result.metrics_path or ""))
    runner.set_output("predictions-path", str(result.predictions_path or ""))
    runner.set_output("image-ref", result.image_ref)
    runner.set_output("s3-uri", uploaded["uri"] if uploaded else "")
    return EXIT_PASS


def build_parser() -> _Parser:
    parser = _Parser(prog="mlops-actions", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"mlops-actions {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=_Parser)
    _gate_parser(sub)
    _deploy_parser(sub)
    _build_parser(sub)
    _train_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    handlers = {"gate": _gate, "deploy": _deploy, "build": _build, "train": _train}
    try:
        args = build_parser().parse_args(argv)
        return handlers[args.subcommand](args)
    except UserError as exc:
        runner.annotate("error", exc.message, file=exc.file, line=exc.line)
        if runner.in_actions():
            runner.append_summary(f"### ❌ mlops-actions could not run\n\n{exc.message}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
