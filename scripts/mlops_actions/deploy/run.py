"""Deploy to ECS end to end: render, register (or reuse), update the service, wait, explain,
roll back. The decisions live in taskdef.py and rollout.py; this module sequences the calls."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlops_actions import aws, outputs, safe_yaml
from mlops_actions.aws import taskdef
from mlops_actions.aws.ecs import Ecs, registrable_keys
from mlops_actions.deploy import rollout
from mlops_actions.errors import UserError, shown

TIMED_OUT = "TIMED_OUT"
NOT_WAITED = "NOT_WAITED"
VISIBILITY_GRACE_SECONDS = 30.0  # ECS may not list a new deployment right after UpdateService


@dataclass(frozen=True)
class RunTaskSpec:
    """A one-off task from the deployed definition after a stable deploy (a smoke test, a
    migration): its exit code decides the step."""

    container: str | None = None  # default: the deployed container (or the first)
    command: tuple[str, ...] | None = None  # default: the container's own
    launch_type: str | None = None  # default: the service's
    subnets: tuple[str, ...] = ()  # default (with security groups): the service's network
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool | None = None
    timeout_seconds: float = 600
    rollback: bool = True  # a failed task rolls the service back


@dataclass(frozen=True)
class DeployRequest:
    cluster: str
    service: str
    task_definition: str | None = None  # a JSON file
    task_definition_arn: str | None = None  # an ARN, or family[:revision]
    changes: taskdef.Changes = field(default_factory=taskdef.Changes)
    wait: bool = True
    timeout_seconds: float = 900
    poll_interval_seconds: float = 15
    rollback: bool = True
    force_new_deployment: bool = False
    desired_count: int | None = None
    max_failed_tasks: int | None = None
    keep_empty_keys: frozenset[str] = frozenset()
    propagate_tags: str | None = None  # TASK_DEFINITION | SERVICE | NONE
    enable_ecs_managed_tags: bool | None = None
    rendered_path: str | None = None  # where the rendered task definition is written
    run_task: RunTaskSpec | None = None


@dataclass
class Wait:
    state: str
    detail: str
    polls: int
    seconds: float
    service: dict[str, Any]
    deployment_id: str | None = None


@dataclass
class DeployResult:
    task_definition_arn: str
    previous_task_definition_arn: str | None
    registered: bool
    images: dict[str, str]
    rollout_state: str
    detail: str
    deployment_id: str | None = None
    rolled_back: bool = False
    rollback_state: str | None = None
    current_task_definition_arn: str | None = None  # read back from the service at the end
    events: list[str] = field(default_factory=list)
    stopped_tasks: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    polls: int = 0
    run_task_arn: str | None = None
    run_task_exit_code: int | None = None
    run_task_detail: str | None = None  # why the task failed; None when it passed or never ran

    @property
    def succeeded(self) -> bool:
        return self.rollout_state in (rollout.COMPLETED, NOT_WAITED) and not self.run_task_detail


def load_task_definition_file(path: str) -> dict[str, Any]:
    """A task definition from JSON, or YAML for .yml/.yaml files; a UTF-8 BOM is fine."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{path}: task definition file not found; check the task-definition input")
    text = p.read_text(encoding="utf-8-sig", errors="replace")
    if p.suffix.lower() in (".yml", ".yaml"):
        document = safe_yaml.load(text, path)
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{path}: line {exc.lineno}: malformed JSON: {exc.msg}", file=path, line=exc.lineno
            ) from None
    inner = taskdef.unwrap(document, path)
    if "tags" not in inner and isinstance(document.get("tags"), list) and document["tags"]:
        inner["tags"] = document["tags"]
    return inner


def _check_reference(value: str) -> str:
    if value.startswith("arn:"):
        if not taskdef.TASK_DEFINITION_ARN.match(value):
            raise UserError(
                f"task-definition-arn: {shown(value)} is not a task definition ARN; expected "
                "arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>"
            )
    elif not taskdef.FAMILY.match(value):
        raise UserError(
            f"task-definition-arn: {shown(value)} is neither an ARN nor a family[:revision]"
        )
    return value


def render(request: DeployRequest, ecs: Ecs | None) -> tuple[dict[str, Any], str | None]:
    """The task definition to register, rendered; with the ARN to deploy as it is when an
    existing definition is deployed without changes (then nothing is registered)."""
    if bool(request.task_definition) == bool(request.task_definition_arn):
        raise UserError("give exactly one of task-definition (a JSON file) or task-definition-arn")
    changes = request.changes
    if request.task_definition:
        source = request.task_definition
        base = load_task_definition_file(source)
    else:
        if ecs is None:
            raise UserError("task-definition-arn needs AWS access to read it; give aws-region")
        reference = _check_reference(str(request.task_definition_arn))
        base, tags = ecs.describe_task_definition(reference)
        if not changes.any():
            return base, str(base["taskDefinitionArn"])
        source = reference
        if tags:
            base["tags"] = tags
    keys = registrable_keys()
    return taskdef.for_registration(base, changes, source, keys, request.keep_empty_keys), None


def write_rendered(rendered: dict[str, Any], path: str) -> None:
    """The rendered JSON, for other tools (as aws-actions' render action writes it)."""
    target = outputs.file(path, "rendered-task-definition")
    outputs.write_atomic(target, json.dumps(rendered, indent=2, default=str) + "\n")


def prepare(
    request: DeployRequest, ecs: Ecs, log: Callable[[str], None]
) -> tuple[str, bool, dict[str, str]]:
    """The ARN to deploy: registered from the rendered definition, or reused when unchanged."""
    rendered, existing = render(request, ecs)
    if request.rendered_path:
        write_rendered(rendered, request.rendered_path)
    if existing:
        log(f"deploying the existing task definition {existing}")
        return existing, False, taskdef.images_of(rendered)
    keys = registrable_keys()
    current = ecs.latest_revision(rendered["family"])
    if current is not None and taskdef.same_definition(rendered, current, keys):
        log(f"task definition unchanged: reusing {current['taskDefinitionArn']}")
        return str(current["taskDefinitionArn"]), False, taskdef.images_of(rendered)
    arn = ecs.register(rendered)
    log(f"registered {arn}")
    return arn, True, taskdef.images_of(rendered)


def _primary_id(service: dict[str, Any], arn: str) -> str | None:
    for d in service.get("deployments") or []:
        if d.get("status") == "PRIMARY" and d.get("taskDefinition") == arn:
            return str(d.get("id"))
    return None


def wait_for(
    ecs: Ecs,
    request: DeployRequest,
    arn: str,
    deployment_id: str | None,
    *,
    log: Callable[[str], None],
    since: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Wait:
    """Poll DescribeServices with backoff (starting small, capped at the poll interval)."""
    started = clock()
    deadline = started + request.timeout_seconds
    pauses = aws.backoff(2.0, request.poll_interval_seconds)
    polls, last_detail = 0, ""
    while True:
        service = ecs.describe_service(request.cluster, request.service)
        polls += 1
        verdict = rollout.assess(
            service,
            arn,
            deployment_id=deployment_id,
            max_failed_tasks=request.max_failed_tasks,
            since=since,
            grace_over=clock() - started > VISIBILITY_GRACE_SECONDS,
        )
        if verdict.detail != last_detail:
            log(f"[{clock() - started:6.1f}s] {verdict.state}: {verdict.detail}")
            last_detail = verdict.detail
        if verdict.done:
            return Wait(
                verdict.state,
                verdict.detail,
                polls,
                clock() - started,
                service,
                verdict.deployment_id,
            )
        remaining = deadline - clock()
        if remaining <= 0:
            detail = f"not stable after {request.timeout_seconds:g}s ({verdict.detail})"
            return Wait(TIMED_OUT, detail, polls, clock() - started, service, verdict.deployment_id)
        sleep(min(next(pauses), remaining))


def _events_since(service: dict[str, Any], since: datetime) -> list[str]:
    out = []
    for event in reversed(service.get("events") or []):
        created = event.get("createdAt")
        if isinstance(created, datetime) and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        if isinstance(created, datetime) and created < since:
            continue
        stamp = created.strftime("%H:%M:%S") if isinstance(created, datetime) else "?"
        out.append(f"{stamp} {event.get('message', '')}")
    return out


def _stopped(ecs: Ecs, request: DeployRequest, arn: str, since: datetime) -> list[str]:
    lines = []
    for task in ecs.stopped_tasks(request.cluster, request.service, arn, since)[:10]:
        task_id = str(task.get("taskArn", "")).rsplit("/", 1)[-1]
        codes = ", ".join(
            f"{c.get('name')} exit {c.get('exitCode', '?')}"
            + (f" ({c['reason']})" if c.get("reason") else "")
            for c in task.get("containers") or []
        )
        lines.append(
            f"task {task_id}: {task.get('stoppedReason') or 'stopped'}"
            + (f"; {codes}" if codes else "")
        )
    return lines


def links(region: str, request: DeployRequest, log_groups: list[str]) -> dict[str, str]:
    path = f"ecs/v2/clusters/{quote(request.cluster)}/services/{quote(request.service)}"
    out = {"service": aws.console_url(region, f"{path}/deployments?region={region}")}
    for group in log_groups:
        out[f"logs {group}"] = aws.log_group_url(region, group)
    return out


def _log_groups(ecs: Ecs, arn: str) -> list[str]:
    try:
        definition, _ = ecs.describe_task_definition(arn)
    except UserError:
        return []
    groups = []
    for container in definition.get("containerDefinitions", []):
        config = container.get("logConfiguration") or {}
        group = (config.get("options") or {}).get("awslogs-group")
        if config.get("logDriver") == "awslogs" and group and group not in groups:
            groups.append(group)
    return groups


def _roll_back(
    ecs: Ecs, request: DeployRequest, result: DeployResult, previous: str, since: datetime,
    log: Callable[[str], None], clock: Callable[[], float], sleep: Callable[[float], None],
) -> None:  # fmt: skip
    log(f"rolling back {request.service} to {previous}")
    back = ecs.update_service(request.cluster, request.service, taskDefinition=previous)
    again = wait_for(
        ecs, request, previous, _primary_id(back, previous), log=log, since=since, clock=clock,
        sleep=sleep,
    )  # fmt: skip
    result.rollback_state = f"rollback deployment {again.state}"
    result.polls += again.polls


def run_smoke_task(
    ecs: Ecs, request: DeployRequest, spec: RunTaskSpec, result: DeployResult,
    service: dict[str, Any], log: Callable[[str], None], clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:  # fmt: skip
    """Run one task of the deployed definition, like the service's own (launch type or capacity
    providers, network), and let its exit code decide."""
    definition, _ = ecs.describe_task_definition(result.task_definition_arn)
    names = [c["name"] for c in definition.get("containerDefinitions") or []]
    container = spec.container or next(iter(result.images), None) or (names[0] if names else "")
    if container not in names:
        raise UserError(
            f"run-task-container: {shown(container)} is not a container of "
            f"{result.task_definition_arn} (containers: {', '.join(names)})"
        )
    task: dict[str, Any] = {
        "cluster": request.cluster,
        "taskDefinition": result.task_definition_arn,
        "count": 1,
        "startedBy": "mlops-actions-ecs-deploy",
    }
    if spec.launch_type:
        task["launchType"] = spec.launch_type
    elif service.get("capacityProviderStrategy"):
        task["capacityProviderStrategy"] = service["capacityProviderStrategy"]
    elif service.get("launchType"):
        task["launchType"] = service["launchType"]
    network = dict((service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {})
    if spec.subnets:
        network["subnets"] = list(spec.subnets)
    if spec.security_groups:
        network["securityGroups"] = list(spec.security_groups)
    if spec.assign_public_ip is not None:
        network["assignPublicIp"] = "ENABLED" if spec.assign_public_ip else "DISABLED"
    if network:
        task["networkConfiguration"] = {"awsvpcConfiguration": network}
    if spec.command is not None:
        task["overrides"] = {
            "containerOverrides": [{"name": container, "command": list(spec.command)}]
        }
    stopped = ecs.run_task_and_wait(
        task, container, timeout_seconds=spec.timeout_seconds,
        poll_seconds=request.poll_interval_seconds, what="run-task", log=log, clock=clock,
        sleep=sleep,
    )  # fmt: skip
    result.run_task_arn, result.run_task_exit_code = stopped.arn, stopped.exit_code
    if stopped.timed_out:
        result.run_task_detail = f"the run-task task {stopped.reason}; it was stopped"
    elif stopped.exit_code is None:
        result.run_task_detail = f"the run-task task stopped without an exit code: {stopped.reason}"
    elif stopped.exit_code != 0:
        result.run_task_detail = (
            f"the run-task task exited with code {stopped.exit_code}: {stopped.reason}"
        )
    log(f"run-task {stopped.arn}: " + (result.run_task_detail or "exited with code 0"))


def check_controller(service: dict[str, Any], name: str) -> None:
    """Only the ECS rolling-update controller takes a new task definition by UpdateService."""
    kind = str((service.get("deploymentController") or {}).get("type") or "ECS")
    if kind == "CODE_DEPLOY":
        raise UserError(
            f"service {name} uses the CODE_DEPLOY controller (blue/green), which this action "
            "does not drive: AWS rejects its task definition in UpdateService. Use "
            "aws-actions/amazon-ecs-deploy-task-definition with codedeploy-appspec, or move the "
            "service to the ECS controller (rolling update with the circuit breaker)"
        )
    if kind != "ECS":
        raise UserError(
            f"service {name} uses the {kind} deployment controller; this action deploys only "
            "services with the ECS (rolling update) controller"
        )


def deploy(
    request: DeployRequest,
    ecs: Ecs,
    *,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployResult:
    began = clock()
    before = ecs.describe_service(request.cluster, request.service)
    check_controller(before, request.service)  # before anything is registered
    arn, registered, images = prepare(request, ecs, log)
    previous = before.get("taskDefinition")
    since = datetime.now(timezone.utc)
    update: dict[str, Any] = {
        "taskDefinition": arn,
        "forceNewDeployment": request.force_new_deployment,
    }
    if request.desired_count is not None:
        update["desiredCount"] = request.desired_count
    if request.propagate_tags is not None:
        update["propagateTags"] = request.propagate_tags
    if request.enable_ecs_managed_tags is not None:
        update["enableECSManagedTags"] = request.enable_ecs_managed_tags
    updated = ecs.update_service(request.cluster, request.service, **update)
    deployment_id = _primary_id(updated, arn)
    log(
        f"updated {request.service}: {previous} -> {arn}"
        + (f" ({deployment_id})" if deployment_id else "")
    )
    result = DeployResult(
        arn, previous, registered, images, NOT_WAITED, "not waited", deployment_id
    )
    result.links = links(ecs.region, request, [])
    result.current_task_definition_arn = updated.get("taskDefinition")
    if not request.wait:
        result.seconds = clock() - began
        return result

    waited = wait_for(
        ecs, request, arn, deployment_id, log=log, since=since, clock=clock, sleep=sleep
    )
    result.rollout_state, result.detail, result.polls = waited.state, waited.detail, waited.polls
    result.deployment_id = waited.deployment_id or deployment_id
    rollback_target = None
    if waited.state != rollout.COMPLETED:
        result.events = _events_since(waited.service, since)
        result.stopped_tasks = _stopped(ecs, request, arn, since)
        result.links = links(ecs.region, request, _log_groups(ecs, arn))
        if waited.state == rollout.ROLLED_BACK:
            result.rollback_state = "by the ECS circuit breaker"
        elif (
            request.rollback
            and waited.state in (rollout.FAILED, TIMED_OUT)
            and previous
            and previous != arn
        ):
            rollback_target = previous
            _roll_back(ecs, request, result, previous, since, log, clock, sleep)
    elif request.run_task is not None:
        run_smoke_task(ecs, request, request.run_task, result, waited.service, log, clock, sleep)
        if result.run_task_detail and request.run_task.rollback and previous and previous != arn:
            rollback_target = previous
            _roll_back(ecs, request, result, previous, since, log, clock, sleep)
    # Say what the service is, not what we think happened: read it back.
    now_on = ecs.describe_service(request.cluster, request.service).get("taskDefinition")
    result.current_task_definition_arn = str(now_on) if now_on else None
    if result.rollback_state is not None:
        expected_back = rollback_target or now_on
        result.rolled_back = bool(now_on) and now_on != arn and now_on == expected_back
        if not result.rolled_back:
            result.rollback_state += f"; the service is still on {now_on}"
    result.seconds = clock() - began
    return result
