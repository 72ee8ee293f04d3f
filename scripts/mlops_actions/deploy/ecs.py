"""Thin boto3 adapter for the ECS calls the deploy needs, with AWS errors made readable.

Credentials and endpoints are boto3's own: the default chain (in workflows, the OIDC role from
aws-actions/configure-aws-credentials) and `AWS_ENDPOINT_URL(_ECS)` (tests point it at moto).
Retries use botocore's adaptive mode, so throttling is retried and never surfaces as failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from mlops_actions.errors import UserError

IAM_HINT = "see the minimal IAM policy in actions/ecs-deploy/README.md"


@functools.lru_cache(maxsize=1)
def registrable_keys() -> frozenset[str]:
    """RegisterTaskDefinition's input members, from botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs")
    return frozenset(model.operation_model("RegisterTaskDefinition").input_shape.members)


@contextmanager
def aws_errors(action: str, **names: str) -> Iterator[None]:
    """Turn the AWS errors a user can fix into one-line UserErrors."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
    )

    try:
        yield
    except ParamValidationError as exc:
        # botocore checked the request against the API's shapes before sending it.
        problems = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        raise UserError(
            f"ecs:{action}: the request does not fit the AWS API: "
            f"{'; '.join(problems[:3]) or str(exc)}; fix that field in the task definition"
        ) from None
    except NoCredentialsError:
        raise UserError(
            "no AWS credentials: add aws-actions/configure-aws-credentials with role-to-assume "
            "(OIDC) before this step"
        ) from None
    except NoRegionError:
        raise UserError(
            "aws-region: no region given; set the aws-region input or AWS_REGION"
        ) from None
    except EndpointConnectionError as exc:
        raise UserError(f"cannot reach the ECS endpoint ({exc}); check aws-region") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", str(exc))
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
            raise UserError(
                f"AWS denied ecs:{action}: {message}; grant ecs:{action} to the deploy role "
                f"({IAM_HINT})"
            ) from None
        if code == "ClusterNotFoundException":
            raise UserError(
                f"cluster '{names.get('cluster', '?')}' not found in this account/region; check "
                "the cluster and aws-region inputs"
            ) from None
        if code == "ServiceNotFoundException":
            raise UserError(
                f"service '{names.get('service', '?')}' not found in cluster "
                f"'{names.get('cluster', '?')}'; check the service input"
            ) from None
        raise UserError(f"ecs:{action} failed: {code}: {message}") from None


class Ecs:
    def __init__(self, region: str | None, client: Any = None):
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "adaptive", "max_attempts": 10},
                user_agent_extra="mlops-actions/ecs-deploy",
            )
            with aws_errors("DescribeServices"):
                client = boto3.client("ecs", region_name=region or None, config=config)
        self.client = client
        self.region: str = client.meta.region_name

    def _call(
        self, action: str, method: Callable[..., Any], names: dict[str, str], **kwargs: Any
    ) -> Any:
        with aws_errors(action, **names):
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
        with aws_errors("DescribeTaskDefinition"):
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
        names = {"cluster": cluster, "service": service}
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
        names = {"cluster": cluster, "service": service}
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
        names = {"cluster": cluster, "service": service}
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
