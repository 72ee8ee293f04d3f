"""How soon does ecs-deploy notice a finished rollout, and how many calls does waiting cost?

    bash scripts/benchmark.sh deploy      # or: python tests/benchmarks/bench_deploy_wait.py

Against moto in server mode with the rollout simulator, a rollout completes `after` seconds
after UpdateService. For each poll interval P it prints the detection latency (the moment the
waiter reports COMPLETED minus the moment the rollout completed) as a ratio of P (target <= 1),
and the DescribeServices calls made while waiting against the polls the backoff schedule needs
(target: equal, no extra calls).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]

import boto3

from mlops_actions.aws.ecs import Ecs, registrable_keys
from mlops_actions.aws.taskdef import Changes, registrable
from mlops_actions.deploy.run import DeployRequest, deploy
from support.ecs_sim import (
    AWS_ENV,
    REGION,
    RolloutSim,
    Scenario,
    create_cluster_and_service,
    moto_server,
    network,
    reset,
)

TASKDEF = {
    "family": "bench",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{"name": "app", "image": "app:1"}],
}


def schedule_polls(after: float, interval: float) -> int:
    """Polls the backoff schedule makes until the first one at or after `after`."""
    t, step, polls = 0.0, min(2.0, interval), 1
    while t < after:
        t += step
        step = min(step * 1.5, interval)
        polls += 1
    return polls


def one(endpoint: str, after: float, interval: float, path: Path) -> tuple[float, int, int]:
    reset(endpoint)
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **keys)
    TASKDEF["family"] = "bench"
    create_cluster_and_service(client, registrable(TASKDEF, registrable_keys()), network(ec2))
    sim = RolloutSim(Scenario(outcome="complete", after=after)).install()
    noticed: list[float] = []

    def log(line: str) -> None:
        if "COMPLETED" in line:
            noticed.append(time.monotonic())

    request = DeployRequest(
        cluster="staging",
        service="fraud-detector",
        task_definition=str(path),
        changes=Changes(images={"app": f"app:{time.time_ns()}"}),
        poll_interval_seconds=interval,
    )
    calls_before = sim.describe_calls
    result = deploy(request, Ecs(REGION, client), log=log)
    assert result.rollout_state == "COMPLETED", result.detail
    settled = next(iter(sim.settled_at.values()))
    waiting_calls = sim.describe_calls - calls_before - 1  # minus the read before the update
    return noticed[0] - settled, waiting_calls, schedule_polls(after, interval)


def main() -> None:
    import json
    import tempfile

    os.environ.update(AWS_ENV)
    path = Path(tempfile.mkdtemp()) / "td.json"
    path.write_text(json.dumps(TASKDEF))
    print(
        f"{'interval s':>10} {'after s':>8} {'latency s':>9} {'latency/interval':>16} {'calls':>6} {'needed':>6}"
    )
    with moto_server() as endpoint:
        for interval, after in ((0.5, 1.3), (0.5, 3.1), (1.0, 3.7), (2.0, 6.1), (2.0, 9.3)):
            latency, calls, needed = one(endpoint, after, interval, path)
            print(
                f"{interval:>10.1f} {after:>8.1f} {latency:>9.3f} {latency / interval:>15.2f}x {calls:>6} {needed:>6}"
            )
    print(
        "targets: latency/interval <= 1; calls == needed (one DescribeServices per poll, nothing else)"
    )


if __name__ == "__main__":
    main()
