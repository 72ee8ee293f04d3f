"""Rollout judgement from DescribeServices answers (pure)."""

from mlops_actions.deploy import rollout

OURS = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"


def dep(id_, td, status="PRIMARY", state="IN_PROGRESS", running=0, desired=2, failed=0, reason=""):
    return {
        "id": id_,
        "taskDefinition": td,
        "status": status,
        "rolloutState": state,
        "runningCount": running,
        "desiredCount": desired,
        "failedTasks": failed,
        "rolloutStateReason": reason,
    }


def test_in_progress_then_completed():
    service = {"deployments": [dep("d2", OURS), dep("d1", OLD, "ACTIVE", "COMPLETED", 2)]}
    assert rollout.assess(service, OURS, deployment_id="d2").state == rollout.IN_PROGRESS
    service = {"deployments": [dep("d2", OURS, state="COMPLETED", running=2)]}
    assert rollout.assess(service, OURS, deployment_id="d2").state == rollout.COMPLETED


def test_completed_needs_running_equal_desired():
    service = {"deployments": [dep("d2", OURS, state="COMPLETED", running=1)]}
    assert rollout.assess(service, OURS).state == rollout.IN_PROGRESS


def test_failed_rollout_state():
    service = {"deployments": [dep("d2", OURS, state="FAILED", reason="tasks failed to start")]}
    verdict = rollout.assess(service, OURS, deployment_id="d2")
    assert verdict.state == rollout.FAILED and verdict.detail == "tasks failed to start"


def test_too_many_failed_tasks_fails_fast():
    service = {"deployments": [dep("d2", OURS, failed=3)]}
    assert rollout.assess(service, OURS).state == rollout.FAILED
    assert rollout.assess(service, OURS, max_failed_tasks=0).state == rollout.IN_PROGRESS
    assert rollout.failed_task_limit(2) == 3 and rollout.failed_task_limit(1000) == 200


def test_circuit_breaker_rollback_is_detected():
    service = {
        "deployments": [
            dep("d3", OLD, state="COMPLETED", running=2),
            dep("d2", OURS, "ACTIVE", "FAILED", reason="circuit breaker"),
        ]
    }
    verdict = rollout.assess(service, OURS, deployment_id="d2")
    assert verdict.state == rollout.ROLLED_BACK and "circuit breaker" in verdict.detail


def test_another_deploy_replacing_ours():
    other = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3"
    service = {"deployments": [dep("d3", other), dep("d2", OURS, "ACTIVE")]}
    assert rollout.assess(service, OURS, deployment_id="d2").state == rollout.REPLACED


def test_without_rollout_states_a_single_deployment_at_desired_is_done():
    d = dep("d2", OURS, running=2)
    d.pop("rolloutState")
    assert rollout.assess({"deployments": [d]}, OURS).state == rollout.COMPLETED
