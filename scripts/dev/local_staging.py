"""Local staging: the ECS control plane from the emulator (moto), the data plane from Docker.

moto answers the ECS API but never runs anything: UpdateService starts no deployment and
rollouts never finish. `LocalStaging` runs in the same process as a moto server and watches its
services. When UpdateService gives a service a new task definition, it starts that definition's
containers on the local Docker engine (image by digest, pulled from the authenticated local
registry as ECS pulls with repositoryCredentials; environment; port mappings; the container
health check) and reports the deployment as ECS would:

- every container healthy: a PRIMARY deployment COMPLETED, runningCount = desiredCount, the
  old deployment drained and its containers stopped;
- a container that exits, or fails its health check: the task STOPPED with a stoppedReason
  and the container's exit code, counted as a failed task; rolloutState FAILED. The old
  deployment's containers keep serving, as they do on ECS until something replaces them;
- a deployment superseded by a later UpdateService (a rollback, say) is no longer watched; the
  later one drains its containers when it completes;
- RunTask (a one-off task, e.g. ecs-deploy's run-task) runs the container with the command
  override until it exits; DescribeTasks then reports it STOPPED with its exit code;
- a completed deployment's tasks are RUNNING in ListTasks/DescribeTasks (moto keeps no task of a
  service), the older deployments' tasks STOPPED, so a read-back of what a service runs works;
- each service (per cluster: a staging and a production service may share a name) has one
  local URL from its first healthy rollout on, as a load balancer gives: a loopback port that
  forwards each connection to the task serving at that moment, so a `curl` keeps working across
  deploys and rollbacks.

The deploy action never sees any of this: it talks to moto over the AWS API, as to AWS.
Test and demo infrastructure only; not part of the actions.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shlex
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

ACCOUNT = "123456789012"
REGION = "us-east-1"
LABEL = "dev.mlops-actions.local-staging"
# Every container a driver starts also carries its driver's own id, so drivers that run at the
# same time on one engine (parallel tests, a demo beside them) clean up only their own.
STACK_LABEL = "dev.mlops-actions.stack"


def backend() -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][REGION]


def docker_cli(config: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """The Docker CLI, with a DOCKER_CONFIG logged in to the registry when given."""
    base = ["docker"] + (["--config", config] if config else [])
    return subprocess.run([*base, *args], capture_output=True, text=True)


class Forwarder:
    """A load balancer's stable address, on loopback: every connection goes to the port that
    `target()` names when it is made (the task serving then), or is closed when none serves."""

    def __init__(self, target: Callable[[], int | None]):
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        port = self.target()
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10) if port else None
        except OSError:
            upstream = None
        if upstream is None:
            client.close()
            return
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.server.close()


@dataclass
class ContainerDriver:
    """What the local control planes (ECS here, SageMaker in local_sagemaker.py) share: the
    Docker CLI, rollouts in background threads, a stable URL per service or endpoint, and
    clean-up of their own containers by label."""

    label: ClassVar[str]
    docker_config: str | None = None  # a DOCKER_CONFIG logged in to the registry, for pulls
    stack: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _threads: list[threading.Thread] = field(default_factory=list)
    _forwarders: dict[str, Forwarder] = field(default_factory=dict)

    def _stable_url(self, name: str, target: Callable[[], int | None]) -> str:
        """The one URL of `name`, made on first use; it follows whatever `target()` names."""
        if name not in self._forwarders:
            self._forwarders[name] = Forwarder(target)
        return f"http://127.0.0.1:{self._forwarders[name].port}"

    def _docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return docker_cli(self.docker_config, *args)

    def _run_args(self, name: str, role: str, *more: str) -> list[str]:
        """`docker run` with the container's name and this driver's labels."""
        labels = ["--label", f"{self.label}={role}", "--label", f"{STACK_LABEL}={self.stack}"]
        return ["run", *more, "--name", name, *labels]

    def _in_background(self, work: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=work, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def wait_idle(self, timeout: float = 120.0) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def down(self) -> None:
        """Stop every container this driver started, and only those, and their URLs."""
        mine = f"label={STACK_LABEL}={self.stack}"
        names = self._docker("ps", "-aq", "--filter", mine).stdout.split()
        if names:
            self._docker("rm", "--force", *names)
        for forwarder in self._forwarders.values():
            forwarder.close()
        self._forwarders.clear()
        self._forget()

    def _forget(self) -> None:
        """Drop what the driver remembers of the containers `down` removed."""


def start_deployment(service: Any) -> dict[str, Any]:
    """What UpdateService does on ECS and not in moto: a new PRIMARY deployment, IN_PROGRESS."""
    now = datetime.now(timezone.utc)
    for d in service.deployments:
        if d["status"] == "PRIMARY":
            d["status"] = "ACTIVE"
    deployment = {
        "id": f"ecs-svc/{uuid.uuid4().int % 10**19}",
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": service.desired_count,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "launchType": "FARGATE",
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment in progress.",
    }
    service.deployments.insert(0, deployment)
    return deployment


def mark_completed(deployment: dict[str, Any]) -> None:
    """A deployment's rollout COMPLETED, all its tasks running, as DescribeServices says it."""
    deployment.update(
        rolloutState="COMPLETED",
        rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
        runningCount=deployment["desiredCount"],
        pendingCount=0,
        updatedAt=datetime.now(timezone.utc),
    )


@dataclass
class Task:
    container: str  # docker container name
    port: int | None = None  # host port of the first port mapping


@dataclass
class LocalStaging(ContainerDriver):
    label: ClassVar[str] = LABEL
    health_timeout: float = 90.0
    tasks: dict[str, list[Task]] = field(default_factory=dict)  # deployment id -> its tasks
    serving: dict[str, str] = field(default_factory=dict)  # "cluster/service" -> deployment id
    events: list[str] = field(default_factory=list)

    # --- the emulator side ------------------------------------------------------------------
    def install(self) -> LocalStaging:
        ecs = backend()
        self._update = ecs.update_service
        ecs.update_service = self._update_service
        ecs.run_task = self._run_task
        return self

    def _run_task(
        self, cluster_str: str, task_definition_str: str, count: int, overrides: Any,
        started_by: str, tags: Any, launch_type: str | None, *rest: Any, **more: Any,
    ) -> list[Any]:  # fmt: skip
        """One task, really run: the container with its command override, until it exits."""
        definition = backend().describe_task_definition(task_definition_str)
        record = task_record(cluster_str, task_definition_str, "family:" + definition.family,
                             started_by or "", launch_type or "", overrides or {})  # fmt: skip
        record.last_status = "PENDING"
        record.containers[0].exitCode = None
        override = next(iter((overrides or {}).get("containerOverrides") or []), {})
        self._in_background(self._one_off, record, definition, override)
        return [record]

    def _one_off(self, record: Any, definition: Any, override: dict[str, Any]) -> None:
        spec = next(
            (c for c in definition.container_definitions if c["name"] == override.get("name")),
            definition.container_definitions[0],
        )
        name = f"staging-task-{record.task_arn.rsplit('/', 1)[-1][:12]}"
        args = self._run_args(name, "task")
        for env in spec.get("environment") or []:
            args += ["--env", f"{env['name']}={env.get('value', '')}"]
        command = override.get("command") or spec.get("command") or []
        self._docker("pull", "--quiet", spec["image"])
        record.last_status = "RUNNING"
        ran = self._docker(*args, spec["image"], *command)
        logs = (ran.stdout + ran.stderr).strip().splitlines()[-1:]
        self._docker("rm", "--force", name)
        record.containers[0].exitCode = ran.returncode
        record.stopped_reason = "Essential container in task exited"
        self.events.append(f"task {name} exited {ran.returncode}: {logs}")
        record.last_status = "STOPPED"
        record.desired_status = "STOPPED"

    def _update_service(self, props: dict[str, Any]) -> Any:
        name = props["service"].split("/")[-1]
        before = backend()._get_service(props.get("cluster", "default"), name).task_definition
        force = props.get("force_new_deployment")  # read first: moto pops it from props
        service = self._update(props)
        if service.task_definition != before or force:
            deployment = self._start_deployment(service)
            self._in_background(self._roll_out, service, deployment)
        return service

    def _start_deployment(self, service: Any) -> dict[str, Any]:
        deployment = start_deployment(service)
        self._event(service, f"(service {service.name}) has started {service.desired_count} tasks.")
        return deployment

    def _event(self, service: Any, message: str) -> None:
        self.events.append(message)
        service.events.insert(
            0,
            {"id": str(uuid.uuid4()), "createdAt": datetime.now(timezone.utc), "message": message},
        )

    # --- the data plane ---------------------------------------------------------------------
    def _run_container(self, service: Any, deployment: dict[str, Any], index: int) -> Task:
        definition = backend().describe_task_definition(deployment["taskDefinition"])
        spec = definition.container_definitions[0]
        name = f"staging-{service.name}-{deployment['id'].rsplit('/', 1)[-1][-8:]}-{index}"
        args = self._run_args(name, service.name, "--detach")
        for env in spec.get("environment") or []:
            args += ["--env", f"{env['name']}={env.get('value', '')}"]
        ports = [p["containerPort"] for p in spec.get("portMappings") or [] if "containerPort" in p]
        for port in ports[:1]:
            args += ["--publish", f"127.0.0.1::{port}"]
        check = spec.get("healthCheck") or {}
        command = check.get("command") or []
        if command[:1] == ["CMD-SHELL"]:
            args += ["--health-cmd", command[1]]
        elif command[:1] == ["CMD"]:
            args += ["--health-cmd", shlex.join(command[1:])]
        if command:  # faster than ECS's defaults, so a demo does not wait minutes
            args += ["--health-interval", "2s", "--health-timeout", "5s", "--health-retries", "3"]
            args += ["--health-start-period", f"{min(int(check.get('startPeriod', 0)), 30)}s"]
        self._docker("pull", "--quiet", spec["image"])
        started = self._docker(*args, spec["image"])
        task = Task(name)
        if started.returncode != 0:
            return task
        if ports:
            mapped = self._docker("port", name, str(ports[0])).stdout.strip().splitlines()
            task.port = int(mapped[0].rsplit(":", 1)[1]) if mapped else None
        return task

    def _state(self, task: Task) -> tuple[str, str, int | None]:
        """(running|healthy|failed, reason, exit code) of one container."""
        inspect = self._docker("inspect", "--format", "{{json .State}}", task.container)
        if inspect.returncode != 0:
            return "failed", "CannotPullContainerError: the image could not be started", None
        state = json.loads(inspect.stdout)
        health = (state.get("Health") or {}).get("Status")
        if state.get("Status") == "exited":
            return "failed", "Essential container in task exited", state.get("ExitCode")
        if health == "unhealthy":
            return "failed", "Task failed container health checks", None
        if health in ("healthy", None) and state.get("Status") == "running":
            return "healthy", "", None
        return "running", "", None

    def _roll_out(self, service: Any, deployment: dict[str, Any]) -> None:
        tasks = [self._run_container(service, deployment, i) for i in range(service.desired_count)]
        self.tasks[deployment["id"]] = tasks
        deadline = time.monotonic() + self.health_timeout
        while True:
            if deployment["status"] != "PRIMARY":
                return  # superseded by a later UpdateService; its completion drains these tasks
            states = [self._state(t) for t in tasks]
            failed = [(t, s) for t, s in zip(tasks, states, strict=True) if s[0] == "failed"]
            if failed:
                self._fail(service, deployment, failed)
                return
            if all(s[0] == "healthy" for s in states):
                self._complete(service, deployment)
                return
            if time.monotonic() > deadline:
                self._fail(
                    service,
                    deployment,
                    [(t, ("failed", "Task failed to start", None)) for t in tasks],
                )
                return
            time.sleep(1.0)

    def _complete(self, service: Any, deployment: dict[str, Any]) -> None:
        # The old deployments drained, the tasks listed and the URL moved before the rollout
        # says COMPLETED: a deploy that sees COMPLETED reads back what runs at once.
        old = [
            d for d in service.deployments if d is not deployment and d["rolloutState"] != "FAILED"
        ]
        service.deployments[:] = [d for d in service.deployments if d not in old]
        for d in old:  # drained: ECS stops the old tasks once the new ones are healthy
            self._stop(d["id"])
        running_tasks(service, deployment)
        self.serving[f"{service.cluster_name}/{service.name}"] = deployment["id"]
        service.running_count = deployment["desiredCount"]
        mark_completed(deployment)
        self._event(service, f"(service {service.name}) has reached a steady state.")

    def _fail(
        self, service: Any, deployment: dict[str, Any], failed: list[tuple[Task, Any]]
    ) -> None:
        for task, (_, reason, exit_code) in failed:
            record = task_record(service.cluster_name, deployment["taskDefinition"],
                                 f"service:{service.name}", deployment["id"])  # fmt: skip
            record.containers[0].exitCode = exit_code
            backend().stop_task(service.cluster_name, record.task_arn, reason)
            logs = self._docker("logs", "--tail", "5", task.container)
            self._event(service, f"(service {service.name}) (task {task.container}) {reason}: "
                        f"{(logs.stdout + logs.stderr).strip().splitlines()[-1:]}")  # fmt: skip
        self._stop(deployment["id"])
        deployment.update(
            rolloutState="FAILED",
            rolloutStateReason=f"ECS deployment {deployment['id']} failed: tasks failed to start.",
            failedTasks=len(failed),
            updatedAt=datetime.now(timezone.utc),
        )
        self._event(
            service,
            f"(service {service.name}) (deployment {deployment['id']}) deployment failed: "
            "tasks failed to start.",
        )

    def _stop(self, deployment_id: str) -> None:
        for task in self.tasks.pop(deployment_id, []):
            self._docker("rm", "--force", task.container)

    # --- what a user (or test) asks -------------------------------------------------------------
    def _serving_key(self, service: str) -> str | None:
        """`cluster/service`, or a service name that one cluster alone serves."""
        if "/" in service:
            return service if service in self.serving else None
        found = [key for key in self.serving if key.split("/", 1)[1] == service]
        if len(found) > 1:
            raise ValueError(f"{service} is served in {sorted(found)}: name it cluster/service")
        return found[0] if found else None

    def task_port(self, service: str) -> int | None:
        """The host port of the service's serving deployment (its first task), right now."""
        key = self._serving_key(service)
        tasks = self.tasks.get(self.serving[key], []) if key else []
        return tasks[0].port if tasks and tasks[0].port else None

    def url(self, service: str) -> str | None:
        """The service's one local URL (None until a rollout first completed): it follows the
        serving deployment across deploys and rollbacks, as a load balancer does. `service` is
        `cluster/service`, or its name alone when one cluster has it."""
        key = self._serving_key(service)
        if key is None:
            return None
        return self._stable_url(key, lambda: self.task_port(key))

    def _forget(self) -> None:
        self.tasks.clear()
        self.serving.clear()


def running_tasks(service: Any, deployment: dict[str, Any], replace: bool = True) -> list[Any]:
    """What ECS does and moto does not: a completed deployment's tasks RUNNING in the service's
    group (ListTasks, DescribeTasks), the older deployments' tasks stopped (unless not
    `replace`: a task left behind)."""
    ecs = backend()
    group = f"service:{service.name}"
    for task in list(ecs.tasks.get(service.cluster_name, {}).values()):
        if replace and task.group == group and task.desired_status == "RUNNING":
            ecs.stop_task(service.cluster_name, task.task_arn, "Replaced by a newer deployment")
    made = []
    for _ in range(int(deployment.get("desiredCount") or 0)):
        task = task_record(service.cluster_name, deployment["taskDefinition"], group,
                           deployment["id"])  # fmt: skip
        task.advance = lambda: None  # moto's managed state would stop it on DescribeTasks
        made.append(task)
    return made


def task_record(
    cluster_name: str, task_definition: str, group: str, started_by: str,
    launch_type: str = "FARGATE", overrides: dict[str, Any] | None = None,
) -> Any:  # fmt: skip
    """A task in moto's ListTasks/DescribeTasks that the local staging (not moto) runs."""
    from moto.ecs.models import Task as MotoTask

    ecs = backend()
    cluster = ecs._get_cluster(cluster_name)
    # moto cannot attach an ENI to a task it did not place; the record needs none.
    definition = copy.copy(ecs.describe_task_definition(task_definition))
    definition.network_mode = "bridge"
    record = MotoTask(cluster, definition, None, {}, ecs, group, launch_type=launch_type,
                      overrides=overrides or {}, started_by=started_by)  # fmt: skip
    ecs.tasks.setdefault(cluster.name, {})[record.task_arn] = record
    return record
