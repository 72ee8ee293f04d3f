"""Local staging for SageMaker endpoints: the control plane from the emulator (moto), the
serving containers from Docker.

moto answers CreateModel, CreateEndpointConfig, CreateEndpoint and DescribeEndpoint, reports
every endpoint InService at once, runs nothing and has no UpdateEndpoint. `LocalSageMaker` runs
in the same process as a moto server and does what SageMaker hosting does:

- CreateEndpoint / UpdateEndpoint (added here, over the emulator's own API): the endpoint is
  Creating / Updating while the model's container (its image, `serve` as SageMaker starts it,
  its environment, port 8080) starts on the local engine and answers GET /ping;
- healthy: InService on the new endpoint config, the old container stopped;
- unhealthy (the container exits, or /ping never answers): a new endpoint is Failed, with a
  FailureReason; an update rolls back, as SageMaker does: InService on the previous config, the
  previous container still serving, FailureReason set.

Like local_staging.py (whose Docker helper and account it shares), test and demo
infrastructure only.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from local_staging import ACCOUNT, REGION, ContainerDriver

LABEL = "dev.mlops-actions.local-sagemaker"


def backend() -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


@dataclass
class LocalSageMaker(ContainerDriver):
    label: ClassVar[str] = LABEL
    health_timeout: float = 60.0
    serving: dict[str, tuple[str, int]] = field(default_factory=dict)  # endpoint -> container, port
    updates: list[dict[str, Any]] = field(default_factory=list)  # UpdateEndpoint requests

    def install(self) -> LocalSageMaker:
        from moto.core.responses import ActionResult
        from moto.sagemaker.responses import SageMakerResponse

        sm = backend()
        create = sm.create_endpoint
        staging = self

        def create_endpoint(endpoint_name: str, endpoint_config_name: str, tags: Any) -> Any:
            endpoint = create(endpoint_name, endpoint_config_name, tags)
            staging._start(endpoint, endpoint_config_name, previous=None)
            return endpoint

        def update_endpoint(self: Any) -> Any:  # SageMakerResponse method: the API shape
            name = self._get_param("EndpointName")
            config = self._get_param("EndpointConfigName")
            endpoint = staging._endpoint(name)
            keys = ("EndpointName", "EndpointConfigName", "DeploymentConfig")
            staging.updates.append({k: self._get_param(k) for k in keys})
            staging._start(endpoint, config, previous=endpoint.endpoint_config_name)
            return ActionResult({"EndpointArn": endpoint.arn})

        sm.create_endpoint = create_endpoint
        SageMakerResponse.update_endpoint = update_endpoint
        return self

    def _endpoint(self, name: str) -> Any:
        from moto.sagemaker.exceptions import ValidationError

        endpoint = backend().endpoints.get(name)
        if endpoint is None:
            raise ValidationError(message=f'Could not find endpoint "{name}".')
        if endpoint.endpoint_status in ("Creating", "Updating"):
            raise ValidationError(message=f'Cannot update in-progress endpoint "{name}".')
        return endpoint

    def _start(self, endpoint: Any, config_name: str, previous: str | None) -> None:
        endpoint.endpoint_status = "Updating" if previous else "Creating"
        endpoint.failure_reason = None
        self._in_background(self._roll_out, endpoint, config_name, previous)

    def _roll_out(self, endpoint: Any, config_name: str, previous: str | None) -> None:
        sm = backend()
        config = sm.describe_endpoint_config(config_name)
        variant = config["ProductionVariants"][0]
        model = sm.describe_model(variant["ModelName"])
        image = model.primary_container["Image"]
        env = model.primary_container.get("Environment") or {}
        name = f"sagemaker-{endpoint.endpoint_name}-{uuid.uuid4().hex[:6]}"
        args = self._run_args(name, endpoint.endpoint_name, "--detach")
        args += ["--publish", "127.0.0.1::8080"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        self._docker("pull", "--quiet", image)
        started = self._docker(*args, image, "serve")
        port = None
        if started.returncode == 0:
            mapped = self._docker("port", name, "8080").stdout.strip().splitlines()
            port = int(mapped[0].rsplit(":", 1)[1]) if mapped else None
        healthy, why = self._ping(name, port)
        if healthy:
            old = self.serving.get(endpoint.endpoint_name)
            if old:
                self._docker("rm", "--force", old[0])
            assert port is not None
            self.serving[endpoint.endpoint_name] = (name, port)
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(
                config["ProductionVariants"]
            )
            endpoint.endpoint_status = "InService"
        else:
            logs = self._docker("logs", "--tail", "3", name)
            self._docker("rm", "--force", name)
            reason = f"{why}: {' '.join((logs.stdout + logs.stderr).split())[-300:]}"
            endpoint.failure_reason = (
                f"The primary container for production variant {variant['VariantName']} did "
                f"not pass the ping health check. {reason}"
            )
            endpoint.endpoint_status = "InService" if previous else "Failed"  # rolled back
        from moto.core.utils import utcnow

        endpoint.last_modified_time = utcnow()

    def _ping(self, container: str, port: int | None) -> tuple[bool, str]:
        deadline = time.monotonic() + self.health_timeout
        while time.monotonic() < deadline:
            state = self._docker("inspect", "--format", "{{json .State}}", container)
            if state.returncode != 0:
                return False, "the container could not be started"
            status = json.loads(state.stdout)
            if status.get("Status") == "exited":
                return False, f"the container exited with code {status.get('ExitCode')}"
            if port:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                        if r.status == 200:
                            return True, ""
                except OSError:
                    pass
            time.sleep(1.0)
        return False, f"/ping did not answer 200 within {self.health_timeout:g}s"

    def url(self, endpoint: str) -> str | None:
        """The endpoint's one local URL: it follows the serving container across updates."""
        if endpoint not in self.serving:
            return None

        def port() -> int | None:
            served = self.serving.get(endpoint)
            return served[1] if served else None

        return self._stable_url(endpoint, port)

    def _forget(self) -> None:
        self.serving.clear()
