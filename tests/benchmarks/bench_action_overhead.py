"""The fixed cost our actions add to a job, against the same job written by hand with plain
`docker` and `aws` commands, in the same session.

    bash scripts/benchmark.sh overhead     # needs the testbed (python scripts/dev/testbed.py up)

For each action: the helper environment (setup-helper.sh, cold in an empty tool cache and warm
when reused), and the action's own command against the hand-written one (best of N each):
- build-push-ghcr: `mlops-actions build` | docker login, build, push
- package-model:   `mlops-actions package` | docker build FROM the image + COPY model, push
- ecs-deploy:      `mlops-actions deploy` | aws ecs register-task-definition, update-service,
                   describe-services (moto in server mode, a rollout that completes at once)
- promote-model:   `mlops-actions promote` | aws s3 cp of the record, twice

overhead = setup + (ours - by hand). Targets: <= 3 s warm, <= 15 s cold per action. Printed
as ratios to the target, and ours / by hand. Never asserted: these machines are noisy.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "scripts" / "dev")]

import boto3

from support.ecs_sim import (
    AWS_ENV,
    REGION,
    RolloutSim,
    Scenario,
    create_cluster_and_service,
    moto_server,
    network,
)

RUNS = 3
WARM_TARGET, COLD_TARGET = 3.0, 15.0
TASKDEF = REPO / "example-project" / "infrastructure" / "fraud-detector-task-def.json"
SETUP = {  # action -> requirements set of its helper environment (none: standard library only)
    "build-push-ghcr": None,
    "package-model": None,
    "ecs-deploy": "deploy",
    "promote-model": "champion",
}


def best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    proc = subprocess.run(
        args, capture_output=True, text=True, input=stdin, env={**os.environ, **(env or {})}
    )
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[:4])}... failed: {(proc.stderr or proc.stdout)[-1500:]}")
    return proc.stdout


def ours(*args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    out = Path(tempfile.mkstemp(suffix=".out")[1])
    run(sys.executable, "-m", "mlops_actions", *args,
        env={"PYTHONPATH": str(REPO / "scripts"), "GITHUB_OUTPUT": str(out), **(env or {})})  # fmt: skip
    return dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)


def setup_times(name: str, *, uv: bool = True) -> tuple[float, float]:
    """(cold, warm) seconds of setup-helper.sh for one requirements set, with uv or pip."""
    cache = Path(tempfile.mkdtemp(prefix="tool-cache-"))
    uv_cache = Path(tempfile.mkdtemp(prefix="uv-cache-"))  # cold: no wheel cache either
    env = {"RUNNER_TOOL_CACHE": str(cache), "UV_CACHE_DIR": str(uv_cache), "GITHUB_OUTPUT": ""}
    if not uv:  # the helper falls back to pip when uv is not on PATH
        uv_dir = str(Path(shutil.which("uv") or "/nonexistent").parent)
        env["PATH"] = os.pathsep.join(
            d for d in os.environ["PATH"].split(os.pathsep) if d != uv_dir
        )
        env["PIP_NO_CACHE_DIR"] = "1"
    script = str(REPO / "scripts" / "setup-helper.sh")
    start = time.perf_counter()
    run("bash", script, name, env=env)
    cold = time.perf_counter() - start
    warm = best(lambda: run("bash", script, name, env=env))
    shutil.rmtree(cache)
    shutil.rmtree(uv_cache)
    return cold, warm


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    status = json.loads(
        run(sys.executable, str(REPO / "scripts/dev/testbed.py"), "status", "--json")
    )
    registry = status["registry"]
    if not registry["running"]:
        sys.exit("the testbed is not up: python scripts/dev/testbed.py up")
    host, user, password = registry["host"], registry["username"], registry["password"]
    work = Path(tempfile.mkdtemp(prefix="overhead-bench-"))
    config = work / "docker-config"
    docker = ["docker", "--config", str(config)]
    context = work / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.txt /app/\n")
    (context / "app.txt").write_text("hello\n")
    run("git", "-C", str(context), "init", "-q")
    repository = f"{host}/bench/overhead-{uuid.uuid4().hex[:6]}"
    github = {
        "GITHUB_REPOSITORY": "Acme/Fraud-Detector", "GITHUB_SHA": "a" * 40,
        "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push", "GITHUB_ACTOR": user,
        "GITHUB_EVENT_PATH": str(work / "event.json"),
    }  # fmt: skip
    (work / "event.json").write_text(json.dumps({"repository": {"default_branch": "main"}}))
    base = "BASE_IMAGE=local/python:3.11-bookworm"

    def build_ours() -> dict[str, str]:
        return ours("build", "--registry", host, "--image", repository, "--context", str(context),
                    "--build-args", base, "--password", password, "--cache", "none", env=github)  # fmt: skip

    def build_by_hand() -> None:
        run(*docker, "login", host, "-u", user, "--password-stdin", stdin=password)
        run(*docker, "build", "-q", "--build-arg", base, "-t", f"{repository}:hand", str(context),
            env={"DOCKER_BUILDKIT": "0"})  # fmt: skip
        run(*docker, "push", "-q", f"{repository}:hand")

    image = build_ours()["image-ref"]
    model = work / "model.skops"
    model.write_bytes(os.urandom(1 << 20))
    digest = __import__("hashlib").sha256(model.read_bytes()).hexdigest()
    (work / "model-card.json").write_text(json.dumps({"model": {"sha256": digest}}))

    def package_ours() -> None:
        ours("package", "--image", image, "--model", str(model), "--version", "1-bench",
             "--username", user, "--password", password)  # fmt: skip

    def package_by_hand() -> None:
        hand = work / "hand-context"
        hand.mkdir(exist_ok=True)
        shutil.copy(model, hand / "model.skops")
        (hand / "Dockerfile").write_text(f"FROM {image}\nCOPY model.skops /app/artifacts/\n")
        run(*docker, "login", host, "-u", user, "--password-stdin", stdin=password)
        run(*docker, "build", "-q", "-t", f"{repository}:model-hand", str(hand),
            env={"DOCKER_BUILDKIT": "0"})  # fmt: skip
        run(*docker, "push", "-q", f"{repository}:model-hand")

    timings: dict[str, tuple[float, float]] = {
        "build-push-ghcr": (best(build_ours), best(build_by_hand)),
        "package-model": (best(package_ours), best(package_by_hand)),
    }

    with moto_server() as endpoint:
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **keys)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **keys)
        create_cluster_and_service(ecs, json.loads(TASKDEF.read_text()), network(ec2))
        RolloutSim(Scenario(after=0)).install()
        aws_env = {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}
        aws = ["aws", "--endpoint-url", endpoint, "--output", "json"]

        def deploy_ours() -> None:
            ours("deploy", "--cluster", "staging", "--service", "fraud-detector",
                 "--task-definition", str(TASKDEF), "--containers",
                 f"fraud-detector={repository}:{uuid.uuid4().hex[:8]}",
                 "--poll-interval-seconds", "0.2", env=aws_env)  # fmt: skip

        def deploy_by_hand() -> None:
            definition = json.loads(TASKDEF.read_text())
            definition["containerDefinitions"][0]["image"] = f"{repository}:{uuid.uuid4().hex[:8]}"
            path = work / "hand-taskdef.json"
            path.write_text(json.dumps(definition))
            registered = run(*aws, "ecs", "register-task-definition", "--cli-input-json",
                             f"file://{path}", env=aws_env)  # fmt: skip
            arn = json.loads(registered)["taskDefinition"]["taskDefinitionArn"]
            run(*aws, "ecs", "update-service", "--cluster", "staging", "--service",
                "fraud-detector", "--task-definition", arn, env=aws_env)  # fmt: skip
            run(*aws, "ecs", "describe-services", "--cluster", "staging", "--services",
                "fraud-detector", env=aws_env)  # fmt: skip

        s3.create_bucket(Bucket="models")
        s3.put_object(Bucket="models", Key="ci/fraud/1-bench/model-card.json",
                      Body=(work / "model-card.json").read_bytes())  # fmt: skip
        verdict = work / "verdict.json"
        verdict.write_text(json.dumps({"passed": True, "metrics": {}}))
        arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-detector:2"

        def promote_ours() -> None:
            ours("promote", "--model-store", "s3://models/ci", "--model-name", "fraud",
                 "--version", "1-bench", "--verdict", str(verdict), "--serving-image-ref", image,
                 "--task-definition-arn", arn, env=aws_env)  # fmt: skip

        def promote_by_hand() -> None:
            record = work / "champion.json"
            record.write_text(json.dumps({"version": "1-bench", "serving_image": image}))
            for key in ("ci/fraud/champions/1-bench.json", "ci/fraud/champion.json"):
                run(*aws, "s3", "cp", "--quiet", str(record), f"s3://models/{key}", env=aws_env)

        timings["ecs-deploy"] = (best(deploy_ours), best(deploy_by_hand))
        timings["promote-model"] = (best(promote_ours), best(promote_by_hand))

    setups = {name: setup_times(name) for name in sorted({s for s in SETUP.values() if s})}
    names = sorted({s for s in SETUP.values() if s})
    with_pip = (
        {name: setup_times(name, uv=False)[0] for name in names} if shutil.which("uv") else {}
    )
    uv = "uv" if shutil.which("uv") else "pip (no uv on PATH)"
    print(f"action overhead, best of {RUNS}; helper environments installed with {uv}")
    for name, seconds in with_pip.items():
        cold = setups[name][0]
        print(f"  {name} environment cold: {cold:.2f}s with uv, {seconds:.2f}s with pip "
              f"(pip/uv {seconds / cold:.1f}x)")  # fmt: skip
    print(f"{'action':16} {'by hand':>8} {'ours':>7} {'ours/hand':>9} {'setup warm':>11} "
          f"{'setup cold':>11} {'overhead warm':>14} {'/3s':>5} {'overhead cold':>14} {'/15s':>5}")  # fmt: skip
    for action, (mine, hand) in timings.items():
        cold, warm = setups[SETUP[action]] if SETUP[action] else (0.0, 0.0)
        extra = max(mine - hand, 0.0)
        over_warm, over_cold = warm + extra, cold + extra
        print(f"{action:16} {hand:7.2f}s {mine:6.2f}s {mine / hand:9.2f} {warm:10.2f}s "
              f"{cold:10.2f}s {over_warm:13.2f}s {over_warm / WARM_TARGET:5.2f} "
              f"{over_cold:13.2f}s {over_cold / COLD_TARGET:5.2f}")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
