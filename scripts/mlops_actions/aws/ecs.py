"""Thin boto3 adapter for the ECS calls that deploy and train make, with readable errors.

Clients, retries, endpoints and error translation come from `mlops_actions.aws`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlops_actions import aws
from mlops_actions.errors import UserError

IAM_HINT = "see the minimal IAM policy in actions/ecs-deploy/README.md"


@functools.lru_cache(maxsize=1)
def registrable_keys() -> frozenset[str]:
    """RegisterTaskDefinition's input members, from botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs")
    return frozenset(model.operation_model("RegisterTaskDefinition").input_shape.members)


def ecs_errors(action: str, **names: str) -> AbstractContextManager[None]:
    """aws.errors() for ECS calls, pointing access-denied messages at the IAM docs."""
    return aws.errors(action, service="ecs", hint=IAM_HINT, **names)


@dataclass(frozen=True)
class StoppedTask:
    """A one-off task once it stopped (or was stopped at the timeout), as ECS reports it."""

    arn: str
    exit_code: int | None  # the container's; None when it never ran to the end
    reason: str  # stoppedReason, with the container's own reason when there is one
    timed_out: bool = False


class Ecs:
    def __init__(self, region: str | None, client: Any = None):
        self.client = client if client is not None else aws.client("ecs", region)
        self.region: str = self.client.meta.region_name

    def _call(
        self, action: str, method: Callable[..., Any], names: dict[str, str], **kwargs: Any
    ) -> Any:
        with ecs_errors(action, **names):
            return method(**kwargs)

    def describe_task_definition(self, name: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        out = self._call(
            "DescribeTaskDefinition",
            self.client.describe_task_definition,
            {},
            taskDefinition=name,
            include=["TAGS"],
        )
        return out["taskDefinition"], out.get("tags") or []

    def latest_revision(self, family: str) -> dict[str, Any] | None:
        """The family's newest ACTIVE revision, or None when the family does not exist yet."""
        from botocore.exceptions import ClientError

        missing = (
            "ClientException",
            "InvalidParameterException",
        )  # ECS's answer for no such family
        with ecs_errors("DescribeTaskDefinition"):
            try:
                out = self.client.describe_task_definition(taskDefinition=family)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in missing:
                    return None
                raise
        return dict(out["taskDefinition"])

    def register(self, taskdef: dict[str, Any]) -> str:
        out = self._call(
            "RegisterTaskDefinition", self.client.register_task_definition, {}, **taskdef
        )
        return str(out["taskDefinition"]["taskDefinitionArn"])

    def describe_service(self, cluster: str, service: str) -> dict[str, Any]:
        names = {"cluster": cluster, "service_name": service}
        out = self._call(
            "DescribeServices",
            self.client.describe_services,
            names,
            cluster=cluster,
            services=[service],
        )
        services = [s for s in out.get("services", []) if s.get("status") != "INACTIVE"]
        if not services:
            reason = (out.get("failures") or [{}])[0].get("reason", "MISSING")
            raise UserError(
                f"service '{service}' not found in cluster '{cluster}' ({reason}); check the "
                "service and cluster inputs"
            )
        return dict(services[0])

    def update_service(self, cluster: str, service: str, **kwargs: Any) -> dict[str, Any]:
        names = {"cluster": cluster, "service_name": service}
        out = self._call(
            "UpdateService",
            self.client.update_service,
            names,
            cluster=cluster,
            service=service,
            **kwargs,
        )
        return dict(out["service"])

    def running_tasks(self, cluster: str, service: str) -> list[dict[str, Any]]:
        """The service's tasks that run now (ListTasks RUNNING, DescribeTasks), by its group."""
        names = {"cluster": cluster, "service_name": service}
        arns: list[str] = []
        token = ""
        while True:
            page = self._call(
                "ListTasks", self.client.list_tasks, names, cluster=cluster, serviceName=service,
                desiredStatus="RUNNING", **({"nextToken": token} if token else {}),
            )  # fmt: skip
            arns += page.get("taskArns", [])
            token = page.get("nextToken") or ""
            if not token:
                break
        name = service.rsplit("/", 1)[-1]
        out = []
        for start in range(0, len(arns), 100):
            tasks = self._call(
                "DescribeTasks", self.client.describe_tasks, names, cluster=cluster,
                tasks=arns[start : start + 100],
            )  # fmt: skip
            out += [
                t for t in tasks.get("tasks", [])
                if t.get("lastStatus") == "RUNNING" and t.get("group") == f"service:{name}"
            ]  # fmt: skip
        return out

    def stopped_tasks(
        self, cluster: str, service: str, task_definition_arn: str, since: datetime
    ) -> list[dict[str, Any]]:
        """Stopped tasks of this task definition since the deploy began, newest first."""
        names = {"cluster": cluster, "service_name": service}
        arns = self._call(
            "ListTasks",
            self.client.list_tasks,
            names,
            cluster=cluster,
            serviceName=service,
            desiredStatus="STOPPED",
        ).get("taskArns", [])
        if not arns:
            return []
        tasks = self._call(
            "DescribeTasks", self.client.describe_tasks, names, cluster=cluster, tasks=arns[:100]
        )
        out = []
        for task in tasks.get("tasks", []):
            stopped_at = task.get("stoppedAt") or task.get("createdAt")
            if task.get("taskDefinitionArn") != task_definition_arn:
                continue
            if isinstance(stopped_at, datetime) and stopped_at < since:
                continue
            out.append(task)
        return out

    def run_task_and_wait(
        self,
        request: dict[str, Any],
        container: str,
        *,
        timeout_seconds: float,
        poll_seconds: float,
        what: str,
        log: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> StoppedTask:
        """RunTask (one task), then DescribeTasks with backoff until it stops; at the timeout
        the task is stopped. Shared by the training backend and the deploy's run-task."""
        cluster = str(request["cluster"])
        response = self._call("RunTask", self.client.run_task, {"cluster": cluster}, **request)
        if response.get("failures") or not response.get("tasks"):
            failure = (response.get("failures") or [{}])[0]
            why = f"{failure.get('reason', 'no task')} {failure.get('detail', '')}".strip()
            raise UserError(f"ECS could not start the {what} task: {why}")
        arn = str(response["tasks"][0]["taskArn"])
        log(f"started the {what} task {arn}")
        started, pauses = clock(), aws.backoff(2.0, poll_seconds)
        while True:
            described = self._call(
                "DescribeTasks", self.client.describe_tasks, {"cluster": cluster},
                cluster=cluster, tasks=[arn],
            )  # fmt: skip
            task = (described.get("tasks") or [{}])[0]
            if task.get("lastStatus") == "STOPPED":
                break
            if clock() - started > timeout_seconds:
                self._call(
                    "StopTask", self.client.stop_task, {"cluster": cluster}, cluster=cluster,
                    task=arn, reason=f"mlops-actions: the {what} task timed out",
                )  # fmt: skip
                return StoppedTask(arn, None, f"timed out after {timeout_seconds:g}s", True)
            sleep(next(pauses))
        containers = {c.get("name"): c for c in task.get("containers") or []}
        ours = containers.get(container) or (next(iter(containers.values())) if containers else {})
        reason = str(task.get("stoppedReason") or "")
        if ours.get("reason"):
            reason += f" ({ours['reason']})"
        code = ours.get("exitCode")
        return StoppedTask(arn, int(code) if isinstance(code, int) else None, reason)
