"""Deploy to a SageMaker endpoint: the model and endpoint config (created once per version, so
a re-run changes nothing), then CreateEndpoint or a blue/green UpdateEndpoint, a wait with
backoff, our own rollback when SageMaker did not roll back, and the endpoint read back at the
end: what the outputs say is what DescribeEndpoint says."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_actions import aws
from mlops_actions.charts import cell
from mlops_actions.errors import UserError
from mlops_actions.sagemaker import plan

IAM_HINT = "see the minimal IAM policy in actions/sagemaker-deploy/README.md"
BUSY = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed")
SETTLED = ("InService", "Failed", "OutOfService")


@dataclass
class SageMakerResult:
    endpoint_arn: str
    model_name: str
    wanted_config: str
    config_name: str  # read back
    status: str  # read back
    previous_config: str | None
    action: str  # created | updated | unchanged
    rolled_back: bool = False
    rollback: str | None = None  # who rolled back, and how it ended
    failure_reason: str | None = None
    log_url: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "InService" and self.config_name == self.wanted_config


class SageMaker:
    def __init__(self, region: str | None, client: Any = None):
        self.client = client if client is not None else aws.client("sagemaker", region)
        self.region: str = self.client.meta.region_name

    def call(self, action: str, method: str, **kwargs: Any) -> Any:
        with aws.errors(action, service="sagemaker", hint=IAM_HINT):
            return getattr(self.client, method)(**kwargs)

    def find(self, action: str, method: str, **kwargs: Any) -> dict[str, Any] | None:
        """A Describe* answer, or None when the resource does not exist."""
        from botocore.exceptions import ClientError

        with aws.errors(action, service="sagemaker", hint=IAM_HINT):
            try:
                return dict(getattr(self.client, method)(**kwargs))
            except ClientError as exc:
                error = exc.response.get("Error", {})
                message = str(error.get("Message", ""))
                if error.get("Code") == "ValidationException" and (
                    "Could not find" in message or "does not exist" in message
                ):
                    return None
                raise


def _ensure(
    sm: SageMaker, kind: str, name: str, spec: dict[str, Any], log: Callable[[str], None]
) -> None:
    """Create the model or endpoint config once; an existing one must be what we would create."""
    what, key = {
        "model": ("Model", "ModelName"),
        "config": ("EndpointConfig", "EndpointConfigName"),
    }[kind]
    snake = "model" if kind == "model" else "endpoint_config"
    existing = sm.find(f"Describe{what}", f"describe_{snake}", **{key: name})
    if existing is None:
        sm.call(f"Create{what}", f"create_{snake}", **spec)
        log(f"created {kind} {name}")
        return
    # A version names one spec: the image, role, VPC and environment of the model; the
    # instances, serverless settings and data capture of the config.
    difference = plan.spec_difference(kind, spec, existing)
    if difference:
        raise UserError(
            f"version: {kind} {name} already names another spec ({difference}); give this "
            "build a new version"
        )
    log(f"{kind} {name} exists with this spec: reused")


def wait_settled(
    sm: SageMaker, endpoint: str, timeout: float, log: Callable[[str], None],
    clock: Callable[[], float], sleep: Callable[[float], None],
) -> dict[str, Any]:  # fmt: skip
    started, pauses, last = clock(), aws.backoff(5.0, 30.0), ""
    while True:
        described = sm.call("DescribeEndpoint", "describe_endpoint", EndpointName=endpoint)
        status = str(described.get("EndpointStatus"))
        if status != last:
            log(f"[{clock() - started:6.1f}s] {endpoint}: {status}")
            last = status
        if status in SETTLED or clock() - started > timeout:
            return dict(described)
        sleep(next(pauses))


def deploy(
    request: plan.SageMakerRequest,
    sm: SageMaker,
    *,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SageMakerResult:
    plan.check(request)  # every input, before any call
    name = plan.resource_name(request.endpoint, request.version)
    current = sm.find("DescribeEndpoint", "describe_endpoint", EndpointName=request.endpoint)
    if current and current.get("EndpointStatus") in BUSY:
        raise UserError(
            f"endpoint {request.endpoint} is {current['EndpointStatus']}; wait until it settles"
        )
    previous = str(current["EndpointConfigName"]) if current else None
    _ensure(sm, "model", name, plan.model_spec(request, name), log)
    _ensure(sm, "config", name, plan.config_spec(request, name, name), log)
    if current is None:
        sm.call("CreateEndpoint", "create_endpoint", EndpointName=request.endpoint,
                EndpointConfigName=name)  # fmt: skip
        action = "created"
    elif previous == name:
        action = "unchanged"
        log(f"{request.endpoint} already runs {name}: nothing to update")
    else:
        update: dict[str, Any] = {"EndpointName": request.endpoint, "EndpointConfigName": name}
        if request.serverless_memory is None:
            update["DeploymentConfig"] = plan.deployment_config(request)
        sm.call("UpdateEndpoint", "update_endpoint", **update)
        action = "updated"
    after = wait_settled(sm, request.endpoint, request.wait_timeout_seconds, log, clock, sleep)
    result = SageMakerResult(
        str(after.get("EndpointArn", "")), name, name, str(after.get("EndpointConfigName", "")),
        str(after.get("EndpointStatus", "")), previous, action,
        failure_reason=after.get("FailureReason"),
        log_url=aws.log_group_url(sm.region, f"/aws/sagemaker/Endpoints/{request.endpoint}"),
    )  # fmt: skip
    if result.succeeded or action == "unchanged":
        return result
    if previous and result.config_name == previous and result.status == "InService":
        result.rollback = "by SageMaker (the update failed; the endpoint kept its config)"
    elif previous and request.rollback and result.status in ("InService", "Failed"):
        log(f"rolling {request.endpoint} back to {previous}")
        sm.call("UpdateEndpoint", "update_endpoint", EndpointName=request.endpoint,
                EndpointConfigName=previous)  # fmt: skip
        again = wait_settled(sm, request.endpoint, request.wait_timeout_seconds, log, clock, sleep)
        result.rollback = f"by this action: {again.get('EndpointStatus')}"
    # Say what the endpoint is, not what we think happened: read it back.
    final = sm.call("DescribeEndpoint", "describe_endpoint", EndpointName=request.endpoint)
    result.config_name = str(final.get("EndpointConfigName", ""))
    result.status = str(final.get("EndpointStatus", ""))
    result.failure_reason = result.failure_reason or final.get("FailureReason")
    result.rolled_back = bool(previous) and result.config_name == previous
    if result.rollback and not result.rolled_back:
        result.rollback += f"; the endpoint is on {result.config_name or '?'} ({result.status})"
    return result


def summary(result: SageMakerResult, request: plan.SageMakerRequest) -> str:
    ok = result.succeeded
    title = "✅ SageMaker endpoint deployed" if ok else "❌ SageMaker deploy failed"
    if result.action == "unchanged" and ok:
        title = "✅ SageMaker endpoint already on this version"
    rows = [
        ("Endpoint", f"`{request.endpoint}` ({result.action})"),
        ("Model", f"`{result.model_name}` from `{request.image}`"),
        ("Config now", f"`{result.config_name}` ({result.status}, read back)"),
        ("Previous config", f"`{result.previous_config or '—'}`"),
        ("Traffic", request.traffic if request.serverless_memory is None else "serverless"),
    ]
    if result.rollback:
        rows.append(("Rollback", result.rollback))
    if result.failure_reason:
        rows.append(("Failure reason", cell(result.failure_reason, 500)))
    lines = [f"## {title}", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    if not ok:
        lines += ["", f"- [Endpoint logs]({result.log_url})"]
    return "\n".join(lines) + "\n"
