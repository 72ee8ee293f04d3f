"""The example image does both of its jobs: it trains, and it serves with a working health check."""

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.act

EXAMPLE = Path(__file__).resolve().parents[1] / "example-project"
TAG = "mlops-actions-test/fraud-detector:test"


def docker(*args, **kwargs):
    return subprocess.run(["docker", *args], capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def image(testbed):
    proc = docker(
        "build",
        "--build-arg",
        "BASE_IMAGE=local/python:3.11-bookworm",
        "-t",
        TAG,
        str(EXAMPLE),
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return TAG


@pytest.fixture(scope="module")
def trained(image, tmp_path_factory):
    """The image trains the model into a host directory: the training role of the image."""
    artifacts = tmp_path_factory.mktemp("artifacts")
    artifacts.chmod(0o777)
    proc = docker(
        "run",
        "--rm",
        "-v",
        f"{artifacts}:/app/artifacts",
        image,
        "python",
        "src/train.py",
        "--output-path",
        "/app/artifacts/model.skops",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return artifacts


def test_image_runs_as_non_root_and_trains(image, trained):
    assert docker("run", "--rm", image, "id", "-u").stdout.strip() == "10001"
    assert {p.name for p in trained.iterdir()} >= {
        "model.skops",
        "holdout-predictions.csv",
        "metrics.json",
        "params.json",
    }
    assert json.loads((trained / "metrics.json").read_text())["precision"] > 0.85


def test_image_serves_predictions_and_becomes_healthy(image, trained):
    artifacts = trained
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = f"fraud-serve-{port}"
    # No card beside this model: the digest says which model the service must refuse all but.
    digest = hashlib.sha256((artifacts / "model.skops").read_bytes()).hexdigest()
    started = docker(
        "run",
        "-d",
        "--name",
        name,
        "-e",
        f"MODEL_SHA256={digest}",
        "-v",
        f"{artifacts}:/app/artifacts:ro",
        "--health-interval",
        "1s",
        "-p",
        f"127.0.0.1:{port}:8080",
        image,
    )
    assert started.returncode == 0, started.stderr
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                health = json.loads(
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                )
                break
            except OSError:
                time.sleep(0.5)
        assert health == {"status": "ok", "model": "/app/artifacts/model.skops"}, docker(
            "logs", name
        ).stderr[-2000:]
        body = json.dumps(
            [
                {
                    "amount": 950.0,
                    "hour": 2,
                    "merchant_category": "electronics",
                    "is_international": 1,
                    "account_age_days": 10,
                    "distance_from_home_km": 75.0,
                    "region": "north",
                }
            ]
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=5).read())
        assert answer["is_fraud"] == [True]
        for _ in range(30):
            status = docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            if status == "healthy":
                break
            time.sleep(1)
        assert status == "healthy"
    finally:
        docker("rm", "-f", name)
