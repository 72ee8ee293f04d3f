"""Thin boto3 adapter for the ECS calls that deploy and train make, with readable errors.

Clients, retries, endpoints and error translation come from `mlops_actions.aws`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
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
