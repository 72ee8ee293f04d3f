"""Shared set-up for the containerized-train tests: the example image pushed to the
authenticated local registry (its local copy removed, so training must pull it by digest), and
`train_cli()` running `mlops-actions train` as a user would."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import run_cli
from support.registry_client import Registry, logged_in_docker

EXAMPLE = Path(__file__).resolve().parents[2] / "example-project"
TRAIN = "python src/train.py --output-path /app/artifacts/model.skops"


@pytest.fixture(scope="session")
def pushed(testbed):
    """The example image in the local registry; returns (image@digest, registry info)."""
    registry = testbed["registry"]
    name = f"acme/train-{uuid.uuid4().hex[:8]}"  # the registry outlives a test run
    repo = f"{registry['host']}/{name}"
    built = subprocess.run(
        [
            "docker",
            "build",
            "--build-arg",
            "BASE_IMAGE=local/python:3.11-bookworm",
            "-t",
            f"{repo}:train-test",
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    with logged_in_docker(registry) as docker:
        subprocess.run([*docker, "push", f"{repo}:train-test"], check=True, capture_output=True)
    digest = Registry(registry["host"], registry["username"], registry["password"]).digest(
        name, "train-test"
    )
    # Drop the local copy so the action has to pull it by digest, with credentials.
    subprocess.run(
        ["docker", "image", "rm", "-f", f"{repo}:train-test", f"{repo}@{digest}"],
        capture_output=True,
    )
    return f"{repo}@{digest}", registry


def train_cli(pushed, tmp_path, *args, command=TRAIN, env=None):
    image, registry = pushed
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "model.skops").write_text("a stale model from an earlier run")
    proc = run_cli(
        "train",
        "--image",
        image,
        "--command",
        command,
        "--artifacts-dir",
        str(artifacts),
        "--registry",
        registry["host"],
        "--username",
        registry["username"],
        "--password",
        registry["password"],
        *args,
        env=env,
    )
    return proc, artifacts
