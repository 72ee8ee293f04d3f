"""`mlops-actions train` (the containerized-train action): its options (each also an INPUT_*
variable) and the glue from them to the training run, the S3 upload and the runner's files."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

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
from mlops_actions.mlflow_store import is_mlflow

DOCKER_MEMORY = re.compile(r"[0-9]+(\.[0-9]+)?[bkmgBKMG]?")


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("train", help="train inside an image (by digest) and write a model card")
    add(p, "image", "image to train in, ideally image@sha256:...")
    add(p, "command", "training command run in the container")
    add(p, "artifacts-dir", "host directory for outputs (mounted at /app/artifacts)", "artifacts")
    add(p, "data", "host paths mounted read-only at /data/<name>, one per line")
    add(p, "env", "KEY=VALUE lines for the container")
    add(p, "params", "a JSON/YAML file or KEY=VALUE lines; given to the command as MLOPS_PARAMS")
    add(p, "registry", "registry to log in to for the pull")
    add(p, "username", "registry user")
    add(p, "password", "registry password or token")
    add(p, "network", "container network, e.g. none")
    add(p, "cpus", "CPU limit, e.g. 2")
    add(p, "memory", "memory limit, e.g. 4g")
    add(p, "gpus", "GPUs, e.g. all")
    add(p, "user", "user to run as (default: the image's, or nobody if that is root)")
    add(p, "timeout-minutes", "stop the training after this long", "60")
    add(p, "model-path", "expected model file, relative to the artifacts directory", "model.skops")
    add(p, "s3-uri", "upload the version to s3://bucket/prefix/<model-name>/<version>/")
    add(p, "model-name", "model name in S3 (default: the repository name)")
    add(p, "version", "version in S3 (default: <run number>-<sha7>)")
    add(
        p,
        "skip-if-unchanged-card",
        "a model card (the champion's): skip training when image, data, command and parameters "
        "are all the same as its run",
    )
    add(p, "aws-region", "AWS region for S3 and ECS (default: AWS_REGION)")
    add(p, "backend", "docker (on this runner) or ecs (a Fargate task)", "docker")
    add(p, "ecs-cluster", "ECS cluster for backend ecs")
    add(p, "ecs-task-definition", "training task definition (family[:revision] or ARN)")
    add(p, "ecs-container-name", "the training container in that task definition")
    add(p, "ecs-subnets", "comma-separated subnets (awsvpc)")
    add(p, "ecs-security-groups", "comma-separated security groups (awsvpc)")
    add(p, "ecs-assign-public-ip", "give the task a public IP (to reach the registry)", "false")
    add(p, "ecs-secrets", "NAME=<Secrets Manager or SSM ARN> lines, set in the task definition")


def _read_card(path: str) -> dict[str, Any]:
    from mlops_actions import safe_json

    return safe_json.read_object(path, "model card (skip-if-unchanged-card)")


def default_version(env: dict[str, str] | os._Environ[str]) -> str:
    """The pipeline's version scheme, <run number>.<attempt>-<sha7>: unique per run and
    attempt, and ordered by them (promotion refuses an older run's version)."""
    number, attempt, sha = (env.get(k, "") for k in
                            ("GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_SHA"))  # fmt: skip
    if number and sha:
        return f"{number}.{attempt or 1}-{sha[:7]}"
    return time.strftime("%Y%m%d%H%M%S")


def run(args: argparse.Namespace) -> int:

    from mlops_actions import model_store as store
    from mlops_actions.train import lineage
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
        number(args.timeout_minutes, "timeout-minutes", minimum=0.01, maximum=MAX_WAIT_SECONDS / 60)
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
        from mlops_actions.aws.taskdef import parse_secrets
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

        ecs = EcsSettings(
            cluster=args.ecs_cluster,
            task_definition=args.ecs_task_definition,
            container=args.ecs_container_name,
            s3_uri=args.s3_uri,
            subnets=split_list(args.ecs_subnets),
            security_groups=split_list(args.ecs_security_groups),
            assign_public_ip=flag(args.ecs_assign_public_ip, "ecs-assign-public-ip", False),
            region=region,
            secrets=parse_secrets(args.ecs_secrets or "", "ecs-secrets"),
        )
    cpus = number(args.cpus, "cpus", minimum=0.01, maximum=4096)
    if args.memory and not DOCKER_MEMORY.fullmatch(args.memory.strip()):
        raise UserError(f"memory: {shown(args.memory)} is not a size; use e.g. 512m or 4g")
    target: Any = None  # the model store the version goes to (model_store.ModelStore)
    mlflow_uri = args.s3_uri if args.s3_uri and is_mlflow(args.s3_uri) else ""
    if mlflow_uri and backend == "ecs":
        raise UserError("backend ecs passes outputs through S3: s3-uri must be s3://, not MLflow")
    if args.s3_uri:  # checked now: a wrong upload target is found too late
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        label = store.check_name(args.version or default_version(os.environ), "version")
        name = store.check_name(
            args.model_name or repository.split("/")[-1] or "model", "model-name"
        )
        if not mlflow_uri:
            store.Location.parse(args.s3_uri)
        target = store.open_store(args.s3_uri, name, args.aws_region or None)
        if mlflow_uri and target.card(label) is not None:
            raise UserError(
                f"MLflow model {name} already has version {label}; give this run a new version"
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
    if args.skip_if_unchanged_card:
        reason = train_run.unchanged(request, _read_card(args.skip_if_unchanged_card))
        if reason:
            text = f"## ⏭️ Training skipped\n\nNothing changed since the champion: {reason}.\n"
            print(text)
            runner.append_summary(text)
            runner.annotate("notice", f"training skipped: {reason}", title="containerized-train")
            runner.set_output("skipped", "true")
            runner.set_output("skip-reason", reason)
            return EXIT_PASS
    runner.set_output("skipped", "false")
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
    if target is not None:
        files = [p for p in (result.model_path, result.metrics_path, result.predictions_path) if p]
        metrics = json.loads(result.metrics_path.read_text()) if result.metrics_path else None
        uploaded = target.register(label, files, result.card_path, metrics)
        kind = "MLflow" if mlflow_uri else "S3"
        print(f"{kind}: {uploaded['status']} {uploaded['uri']}", file=sys.stderr)
    text = train_run.summary(result)
    runner.print_untrusted(text)  # metric names come from the container's metrics.json
    runner.append_summary(text)
    runner.set_output("model-path", str(result.model_path))
    runner.set_output("model-sha256", result.model_sha256)
    runner.set_output("model-card", str(result.card_path))
    runner.set_output("metrics-path", str(result.metrics_path or ""))
    runner.set_output("predictions-path", str(result.predictions_path or ""))
    runner.set_output("holdout-features-path", str(result.features_path or ""))
    runner.set_output("image-ref", result.image_ref)
    runner.set_output("s3-uri", uploaded["uri"] if uploaded else "")
    runner.set_output("version", label if uploaded else "")
    return EXIT_PASS
