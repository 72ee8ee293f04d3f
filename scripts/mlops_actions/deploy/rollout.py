"""Judge an ECS rollout from one DescribeServices answer. Pure: a service dict in, a verdict out.

- COMPLETED: our deployment is PRIMARY, its rolloutState is COMPLETED (or, without rollout
  states, it is the only deployment) and running equals desired.
- FAILED: our deployment's rolloutState is FAILED, or too many of its tasks failed.
- ROLLED_BACK: the circuit breaker rolled back, and there is evidence of it: the service is on
  another revision and either our deployment is listed as FAILED, or ours is gone and a
  service event since the deploy began says it rolled back.
- REPLACED: someone else deployed over us (the service is on another task definition, ours is
  not failed and no rollback event explains it).
- IN_PROGRESS: none of the above yet. Not seeing our deployment is not a verdict: ECS is
  eventually consistent, and a DescribeServices right after UpdateService may not list it. While
  the service points at our task definition we keep waiting; otherwise only for a grace period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

IN_PROGRESS, COMPLETED, FAILED, ROLLED_BACK, REPLACED = (
    "IN_PROGRESS",
    "COMPLETED",
    "FAILED",
    "ROLLED_BACK",
    "REPLACED",
)
DONE = (COMPLETED, FAILED, ROLLED_BACK, REPLACED)


@dataclass(frozen=True)
class Assessment:
    state: str
    detail: str
    deployment_id: str | None = None
    running: int = 0
    desired: int = 0
    failed_tasks: int = 0

    @property
    def done(self) -> bool:
        return self.state in DONE


def failed_task_limit(desired: int) -> int:
    """ECS's own circuit-breaker threshold: half the desired count, at least 3, at most 200."""
    return min(200, max(3, math.ceil(desired / 2)))


def _ours(
    deployments: list[Mapping[str, Any]], task_definition_arn: str, deployment_id: str | None
) -> Mapping[str, Any] | None:
    if deployment_id:
        for d in deployments:
            if d.get("id") == deployment_id:
                return d
    candidates = [d for d in deployments if d.get("taskDefinition") == task_definition_arn]
    primary = [d for d in candidates if d.get("status") == "PRIMARY"]
    found = primary or candidates
    return found[0] if found else None


_ROLLBACK_WORDS = ("rolling back", "rolled back", "circuit breaker")


def _rollback_event(service: Mapping[str, Any], since: datetime | None) -> str | None:
    for event in service.get("events") or []:
        created = event.get("createdAt")
        if isinstance(created, datetime) and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        if since is not None and isinstance(created, datetime) and created < since:
            continue
        message = str(event.get("message", ""))
        if any(word in message.lower() for word in _ROLLBACK_WORDS):
            return message
    return None


def assess(
    service: Mapping[str, Any],
    task_definition_arn: str,
    *,
    deployment_id: str | None = None,
    max_failed_tasks: int | None = None,
    since: datetime | None = None,
    grace_over: bool = True,
) -> Assessment:
    deployments: list[Mapping[str, Any]] = list(service.get("deployments") or [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    ours = _ours(deployments, task_definition_arn, deployment_id)
    if primary is None:
        return Assessment(IN_PROGRESS, "no PRIMARY deployment yet")
    current = service.get("taskDefinition") or primary.get("taskDefinition")
    if ours is None and primary.get("taskDefinition") == task_definition_arn:
        ours = primary  # ECS replaced the deployment id (e.g. a forced redeploy)
    if ours is None:
        if current == task_definition_arn:
            return Assessment(
                IN_PROGRESS,
                "the service uses our task definition; its deployment is not listed yet",
            )
        event = _rollback_event(service, since)
        if event is not None:
            return Assessment(ROLLED_BACK, f"the service is back on {current}: {event}")
        if not grace_over:
            return Assessment(IN_PROGRESS, "our deployment is not listed yet")
        return Assessment(
            REPLACED,
            f"the service is on {current}, not ours, and no event says it rolled back",
        )
    if ours is not primary:
        if primary.get("taskDefinition") == task_definition_arn:
            ours = primary
        elif ours.get("rolloutState") == FAILED and current != task_definition_arn:
            reason = ours.get("rolloutStateReason") or "our deployment FAILED"
            return Assessment(
                ROLLED_BACK,
                f"the circuit breaker rolled back to {current}: {reason}",
                ours.get("id"),
            )
        elif ours.get("rolloutState") == FAILED:
            return Assessment(
                FAILED, ours.get("rolloutStateReason") or "rolloutState is FAILED", ours.get("id")
            )
        else:
            return Assessment(
                REPLACED,
                f"another deployment ({primary.get('taskDefinition')}) replaced ours",
                ours.get("id"),
            )
    running = int(ours.get("runningCount") or 0)
    desired = int(ours.get("desiredCount") or 0)
    failed = int(ours.get("failedTasks") or 0)
    deployment = ours.get("id")

    def verdict(state: str, detail: str) -> Assessment:
        return Assessment(state, detail, deployment, running, desired, failed)

    rollout = ours.get("rolloutState")
    reason = ours.get("rolloutStateReason") or ""
    if rollout == FAILED:
        return verdict(FAILED, reason or "rolloutState is FAILED")
    limit = failed_task_limit(desired) if max_failed_tasks is None else max_failed_tasks
    if limit > 0 and failed >= limit:
        return verdict(FAILED, f"{failed} tasks failed to start (limit {limit})")
    finished = rollout == COMPLETED if rollout else len(deployments) == 1
    if finished and running == desired:
        return verdict(COMPLETED, reason or f"{running}/{desired} tasks running")
    return verdict(
        IN_PROGRESS, f"{running}/{desired} tasks running, rollout {rollout or 'pending'}"
    )
