"""moto in server mode, plus a controllable ECS rollout.

moto answers the ECS API over real HTTP, but its rollouts never finish and UpdateService does
not start a deployment. `RolloutSim` drives moto's backend state in-process, the way ECS would:
UpdateService starts a new PRIMARY deployment, and after `after` seconds the deployment
completes or is rolled back by the circuit breaker. It can also throttle DescribeServices or
deny UpdateService. The code under test only ever talks HTTP to moto. Failed and timed-out
rollouts come from real containers instead (scripts/dev/local_staging.py).
"""

from __future__ import annotations

import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "dev"))
from local_staging import mark_completed, running_tasks, start_deployment, task_record

ACCOUNT = "123456789012"
REGION = "us-east-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))


def backend() -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][REGION]


def _error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException

    return ECSException(code, message)


@dataclass
class Scenario:
    outcome: str = "complete"  # complete | circuit_breaker
    after: float = 0.3  # seconds from UpdateService to the outcome
    throttle: int = 0  # DescribeServices calls to throttle once a deploy has started
    deny_update: bool = False


@dataclass
class RolloutSim:
    scenario: Scenario
    describe_calls: int = 0
    update_calls: int = 0
    throttled: int = 0
    deployments: list[dict[str, Any]] = field(default_factory=list)
    settled_at: dict[str, float] = field(default_factory=dict)  # deployment id -> monotonic time

    def install(self) -> RolloutSim:
        ecs = backend()
        self._update = ecs.update_service
        self._describe = ecs.describe_services
        ecs.update_service = self.update_service
        ecs.describe_services = self.describe_services
        return self

    # --- wrapped backend calls ---------------------------------------------------------
    def update_service(self, props: dict[str, Any]) -> Any:
        self.update_calls += 1
        if self.scenario.deny_update:
            raise _error(
                "AccessDeniedException",
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/gha-deploy/run is not authorized to "
                "perform: ecs:UpdateService",
            )
        service_name = props["service"].split("/")[-1]
        before = (
            backend()._get_service(props.get("cluster", "default"), service_name).task_definition
        )
        force = props.get("force_new_deployment", False)
        service = self._update(props)
        if service.task_definition != before or force:
            self._start(service, before)
        return service

    def describe_services(self, cluster: str, names: list[str]) -> Any:
        self.describe_calls += 1
        if self.deployments and self.throttled < self.scenario.throttle:
            self.throttled += 1
            raise _error("ThrottlingException", "Rate exceeded")
        self._advance()
        return self._describe(cluster, names)

    # --- ECS behaviour -----------------------------------------------------------------
    def _start(self, service: Any, previous: str) -> None:
        deployment = start_deployment(service)
        self.deployments.append(
            {
                "deployment": deployment,
                "service": service,
                "previous": previous,
                "started": time.monotonic(),
            }
        )
        self._event(service, f"(service {service.name}) has started {service.desired_count} tasks.")

    def _event(self, service: Any, message: str) -> None:
        service.events.insert(
            0,
            {"id": str(uuid.uuid4()), "createdAt": datetime.now(timezone.utc), "message": message},
        )

    def _advance(self) -> None:
        now = time.monotonic()
        for index, item in enumerate(self.deployments):
            deployment, service = item["deployment"], item["service"]
            if deployment["id"] in self.settled_at or now - item["started"] < self.scenario.after:
                continue
            # The first deployment follows the scenario; later ones (rollbacks) complete.
            outcome = self.scenario.outcome if index == 0 else "complete"
            self.settled_at[deployment["id"]] = item["started"] + self.scenario.after
            if outcome == "complete":
                self._complete(service, deployment)
            elif outcome == "circuit_breaker":
                self._fail(service, deployment, item)
                deployment["status"] = "ACTIVE"
                service.task_definition = item["previous"]
                self._event(
                    service, f"(service {service.name}) rolling back to {item['previous']}."
                )
                rollback = {
                    **deployment,
                    "id": f"ecs-svc/{uuid.uuid4().int % 10**19}",
                    "status": "PRIMARY",
                    "taskDefinition": item["previous"],
                }
                service.deployments.insert(0, rollback)
                self._complete(service, rollback)

    def _complete(self, service: Any, deployment: dict[str, Any]) -> None:
        mark_completed(deployment)
        service.deployments[:] = [
            d for d in service.deployments if d is deployment or d["rolloutState"] == "FAILED"
        ]
        service.running_count = deployment["desiredCount"]
        running_tasks(service, deployment)
        self._event(service, f"(service {service.name}) has reached a steady state.")

    def _fail(self, service: Any, deployment: dict[str, Any], item: dict[str, Any]) -> None:
        reason = f"ECS deployment {deployment['id']} failed: tasks failed to start."
        deployment.update(rolloutState="FAILED", rolloutStateReason=reason, failedTasks=3)
        self._event(
            service,
            f"(service {service.name}) (deployment {deployment['id']}) deployment failed: tasks failed to start.",
        )
        for _ in range(2):
            task = task_record(service.cluster_name, deployment["taskDefinition"],
                               f"service:{service.name}", deployment["id"])  # fmt: skip
            task.containers[0].exitCode = 1
            backend().stop_task(
                service.cluster_name, task.task_arn, "Essential container in task exited"
            )


def network(ec2_client: Any) -> dict[str, Any]:
    vpc = ec2_client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2_client.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2_client.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)[
        "GroupId"
    ]
    return {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}


def create_cluster_and_service(
    ecs_client: Any, taskdef: dict[str, Any], net: dict[str, Any], *, desired: int = 2
) -> str:
    """A cluster `staging` with service `fraud-detector` running revision 1 of taskdef."""
    ecs_client.create_cluster(clusterName="staging")
    arn = ecs_client.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
    ecs_client.create_service(
        cluster="staging",
        serviceName="fraud-detector",
        taskDefinition=arn,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": net},
    )
    return str(arn)


@dataclass
class TaskSim:
    """RunTask/DescribeTasks like ECS for one-off tasks (containerized-train's ecs backend).

    moto forces awsvpc on Fargate task definitions and then cannot attach an ENI, so the task is
    created here from a bridge-mode copy of the definition (the request is recorded as sent).
    After `after` seconds the task stops: `success` first puts the outputs where the container
    would have uploaded them (MLOPS_ARTIFACTS_URI), `exit` sets a non-zero exit code, `stopped`
    stops it before the container ran, `stuck` never stops.
    """

    outcome: str = "success"
    after: float = 0.3
    exit_code: int = 2
    outputs: dict[str, bytes] = field(default_factory=dict)
    s3_endpoint: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)
    _started: dict[str, tuple[float, Any, str]] = field(default_factory=dict)

    def install(self) -> TaskSim:
        ecs = backend()
        self._describe = ecs.describe_tasks
        self._stop = ecs.stop_task
        ecs.run_task = self.run_task
        ecs.describe_tasks = self.describe_tasks
        ecs.stop_task = self.stop_task
        return self

    def run_task(
        self,
        cluster_str: str,
        task_definition_str: str,
        count: int,
        overrides: Any,
        started_by: str,
        tags: Any,
        launch_type: str,
        networking_configuration: Any = None,
        *rest: Any,
    ) -> list[Any]:
        self.requests.append(
            {
                "cluster": cluster_str,
                "taskDefinition": task_definition_str,
                "count": count,
                "overrides": overrides,
                "startedBy": started_by,
                "launchType": launch_type,
                "networkConfiguration": networking_configuration,
            }
        )
        task = task_record(cluster_str, task_definition_str, "family:train", started_by or "",
                           launch_type or "", overrides or {})  # fmt: skip
        task.containers[0].exitCode = None
        env = {
            e["name"]: e["value"]
            for o in (overrides or {}).get("containerOverrides", [])
            for e in o.get("environment", [])
        }
        self._started[task.task_arn] = (time.monotonic(), task, env.get("MLOPS_ARTIFACTS_URI", ""))
        return [task]

    def describe_tasks(self, cluster_str: str, tasks: list[str]) -> Any:
        found = self._describe(cluster_str, tasks)
        for task in found:
            if task.task_arn not in self._started:
                continue
            began, _, uri = self._started[task.task_arn]
            if task.task_arn in self.stops or (
                self.outcome != "stuck" and time.monotonic() - began >= self.after
            ):
                if task.last_status != "STOPPED":
                    self._finish(task, uri)
            else:
                task.last_status = "RUNNING"
        return found

    def stop_task(self, cluster_str: str, task_str: str, reason: str) -> Any:
        self.stops.append(
            next(arn for arn in self._started if arn.endswith(task_str.split("/")[-1]))
        )
        return self._stop(cluster_str, task_str, reason)

    def _finish(self, task: Any, uri: str) -> None:
        if task.task_arn in self.stops:
            task.last_status, task.stopped_reason = "STOPPED", "Task stopped by user"
            return
        if self.outcome == "success":
            import boto3

            s3 = boto3.client(
                "s3",
                endpoint_url=self.s3_endpoint,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            for name, body in self.outputs.items():
                s3.put_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{name}", Body=body)
            task.containers[0].exitCode = 0
            task.stopped_reason = "Essential container in task exited"
        elif self.outcome == "exit":
            task.containers[0].exitCode = self.exit_code
            task.stopped_reason = "Essential container in task exited"
        elif self.outcome == "stopped":
            task.containers[0].exitCode = None
            task.stopped_reason = (
                "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
            )
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
