"""Train on ECS (Fargate) when the runner is too small: the same image, run by ECS.

- The training task definition gets the image (ideally by digest) set on the training
  container; an unchanged definition is reused, not registered again.
- RunTask overrides the command and passes `MLOPS_PARAMS` and `MLOPS_ARTIFACTS_URI`, an S3
  prefix for this run; the training writes its outputs there (the example's train.py does).
- The task is polled until it stops; the container's exit code and the task's stoppedReason
  decide the outcome. Then the outputs are downloaded and go through the same checks, model
  card and publishing as the Docker backend.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import aws
from mlops_actions.aws import taskdef
from mlops_actions.aws.ecs import Ecs, registrable_keys
from mlops_actions.errors import shown
from mlops_actions.model_store import Location
from mlops_actions.train.container import RunOutcome
from mlops_actions.train.outputs import clean_relative_key

STARTED_BY = "mlops-actions-train"


@dataclass(frozen=True)
class EcsSettings:
    cluster: str
    task_definition: str  # family[:revision] or ARN of the training task definition
    container: str
    s3_uri: str
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool = False
    launch_type: str = "FARGATE"
    region: str | None = None
    poll_seconds: float = 10.0
    # NAME -> Secrets Manager/SSM ARN: set in the task definition, so values never appear in
    # RunTask's containerOverrides (which anyone allowed ecs:DescribeTasks can read).
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass
class EcsRun:
    outcome: RunOutcome
    task_arn: str
    task_definition_arn: str
    stopped_reason: str
    details: dict[str, Any] = field(default_factory=dict)


class TaskFailed(Exception):
    def __init__(self, message: str, tail: list[str]):
        super().__init__(message)
        self.message, self.tail = message, tail


def _task_definition(ecs: Ecs, settings: EcsSettings, image: str) -> str:
    base, tags = ecs.describe_task_definition(settings.task_definition)
    rendered = taskdef.for_registration(
        base,
        taskdef.Changes(
            images={settings.container: image},
            secrets={settings.container: settings.secrets} if settings.secrets else {},
        ),
        settings.task_definition,
        registrable_keys(),
    )
    if tags:
        rendered["tags"] = tags
    current = ecs.latest_revision(rendered["family"])
    if current is not None and taskdef.same_definition(rendered, current, registrable_keys()):
        return str(current["taskDefinitionArn"])
    return ecs.register(rendered)


def run_task(
    settings: EcsSettings,
    image: str,
    command: list[str],
    environment: dict[str, str],
    staging: Path,
    timeout_seconds: float,
    *,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> EcsRun:
    location = Location.parse(settings.s3_uri)
    run_prefix = location.key("_runs", uuid.uuid4().hex)
    artifacts_uri = f"s3://{location.bucket}/{run_prefix}/"
    ecs = Ecs(settings.region)
    arn = _task_definition(ecs, settings, image)
    env = [
        {"name": k, "value": v}
        for k, v in {**environment, "MLOPS_ARTIFACTS_URI": artifacts_uri}.items()
    ]
    request: dict[str, Any] = {
        "cluster": settings.cluster,
        "taskDefinition": arn,
        "count": 1,
        "launchType": settings.launch_type,
        "startedBy": STARTED_BY,
        "overrides": {
            "containerOverrides": [
                {"name": settings.container, "command": command, "environment": env}
            ]
        },
    }
    if settings.subnets:
        request["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(settings.subnets),
                "securityGroups": list(settings.security_groups),
                "assignPublicIp": "ENABLED" if settings.assign_public_ip else "DISABLED",
            }
        }
    started_wall = time.time()
    stopped = ecs.run_task_and_wait(
        request, settings.container, timeout_seconds=timeout_seconds,
        poll_seconds=settings.poll_seconds, what="training",
        log=lambda line: log(f"{line} ({arn}); outputs go to {artifacts_uri}"),
        clock=clock, sleep=sleep,
    )  # fmt: skip
    task_arn, reason, exit_code = stopped.arn, stopped.reason, stopped.exit_code
    if stopped.timed_out:
        raise TaskFailed(
            f"training timed out after {timeout_seconds / 60:g} minutes; the ECS task was stopped",
            [],
        )
    if exit_code is None:
        raise TaskFailed(
            f"the ECS task stopped before the training finished: {reason or 'no reason given'}", []
        )
    if exit_code != 0:
        raise TaskFailed(f"training command exited with code {exit_code} on ECS: {reason}", [])
    _download(aws.client("s3", settings.region), location.bucket, run_prefix, staging, log)
    outcome = RunOutcome(0, False, [], started_wall, time.time())
    return EcsRun(
        outcome,
        task_arn,
        arn,
        reason,
        {"artifacts_uri": artifacts_uri, "cluster": settings.cluster},
    )


def _download(
    s3: Any, bucket: str, prefix: str, staging: Path, log: Callable[[str], None] = print
) -> None:
    skipped: list[str] = []
    with aws.errors("ListObjectsV2", service="s3"):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        for page in pages:
            for item in page.get("Contents") or []:
                # The task wrote these keys: a key like <prefix>//tmp/x or <prefix>/../x must
                # never become a path outside staging.
                relative = clean_relative_key(item["Key"][len(prefix) + 1 :])
                if relative is None:
                    skipped.append(item["Key"])
                    continue
                target = staging / relative
                if not target.resolve().is_relative_to(staging.resolve()):
                    skipped.append(item["Key"])
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
    if skipped:
        log(
            f"skipped {len(skipped)} output key(s) that are not clean relative paths: "
            + ", ".join(shown(k) for k in skipped[:5])
        )


def describe(run: EcsRun) -> dict[str, Any]:
    return {
        "task_arn": run.task_arn,
        "task_definition": run.task_definition_arn,
        "stopped_reason": run.stopped_reason,
        **run.details,
    }
