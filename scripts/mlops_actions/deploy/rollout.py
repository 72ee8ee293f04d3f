"""Judge an ECS rollout from one DescribeServices answer. Pure: a service dict in, a verdict out.

- COMPLETED: our deployment is PRIMARY, its rolloutState is COMPLETED (or, without rollout
  states, it is the only deployment) and running equals desired.
- FAILED: our deployment's rolloutState is FAILED, or too many of its tasks failed.
- ROLLED_BACK: the circuit breaker rolled back: the PRIMARY deployment is no longer ours and
  ours is FAILED or gone.
- REPLACED: someone else deployed over us (PRIMARY is another task definition, ours not failed).
- IN_PROGRESS: none of the above yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
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


def assess(
    service: Mapping[str, Any],
    task_definition_arn: str,
    *,
    deployment_id: str | None = None,
    max_failed_tasks: int | None = None,
) -> Assessment:
    deployments: list[Mapping[str, Any]] = list(service.get("deployments") or [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    ours = _ours(deployments, task_definition_arn, deployment_id)
    if primary is None:
        return Assessment(IN_PROGRESS, "no PRIMARY deployment yet")
    if ours is None or ours is not primary:
        if primary.get("taskDefinition") == task_definition_arn:
            ours = primary  # ECS replaced the deployment id (e.g. a forced redeploy)
        else:
            ours_failed = ours is None or ours.get("rolloutState") == FAILED
            state = ROLLED_BACK if ours_failed else REPLACED
            reason = (ours or {}).get("rolloutStateReason") or "our deployment is gone"
            detail = (
                f"the circuit breaker rolled back to {primary.get('taskDefinition')}: {reason}"
                if state == ROLLED_BACK
                else f"another deployment ({primary.get('taskDefinition')}) replaced ours"
            )
            return Assessment(state, detail, (ours or {}).get("id"))
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
