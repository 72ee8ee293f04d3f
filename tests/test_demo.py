"""The README's main command, run as a user runs it: `bash scripts/demo.sh` ends with a local
service answering /version with the sha256 that the model card records, and the registry, the
model store and the ECS service's task definition agree, checked independently. Each scenario,
the release of a staging champion to production and a rollback, end as CONTRIBUTING.md says,
read from the services, ECS and the store. `down` leaves no process or container of the demo's
behind."""

import json
import os
import re
import subprocess
import urllib.request

import boto3
import pytest

from conftest import REPO
from support.registry_client import Registry

pytestmark = pytest.mark.act


def _demo(home, *args):
    env = {**os.environ, "MLOPS_DEMO_DIR": str(home)}
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh"), *args],
        capture_output=True, text=True, env=env, timeout=1500,
    )  # fmt: skip


def _live(state_file, cluster="staging") -> dict:
    url = json.loads(state_file.read_text())["services"][f"{cluster}/fraud-detector"]
    with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
        return json.loads(response.read())


def _record(s3, name) -> dict:
    key = f"fraud-detector/Fraud-Detector/{name}"
    return json.loads(s3.get_object(Bucket="models", Key=key)["Body"].read())


def _image(ecs, cluster) -> str:
    service = ecs.describe_services(cluster=cluster, services=["fraud-detector"])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return definition["taskDefinition"]["containerDefinitions"][0]["image"]


def test_the_main_command_ends_with_a_live_service_that_everything_agrees_on(testbed, tmp_path):
    home = tmp_path / "demo"
    run = _demo(home)
    stack = None
    try:
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        state = json.loads((home / "stack.json").read_text())
        stack = state["stack"]  # the label its containers carry (other tests may run beside it)
        url = state["services"]["staging/fraud-detector"]
        with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
            live = json.loads(response.read())
        assert live["verified"] is True and "/version" in run.stdout

        keys = {
            "aws_access_key_id": "demo",
            "aws_secret_access_key": "demo",
            "region_name": "us-east-1",
        }
        s3 = boto3.client("s3", endpoint_url=state["endpoint"], **keys)
        ecs = boto3.client("ecs", endpoint_url=state["endpoint"], **keys)
        prefix = f"fraud-detector/Fraud-Detector/{live['model_version']}/"
        card = json.loads(
            s3.get_object(Bucket="models", Key=prefix + "model-card.json")["Body"].read()
        )
        assert live["model_sha256"] == card["model"]["sha256"]  # the store agrees
        champion = json.loads(
            s3.get_object(Bucket="models", Key="fraud-detector/Fraud-Detector/champion.json")[
                "Body"
            ].read()
        )
        service = ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][
            0
        ]
        image = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
            "taskDefinition"]["containerDefinitions"][0]["image"]  # fmt: skip
        assert image == champion["serving_image"]  # ECS runs what the champion record names
        registry = testbed["registry"]
        client = Registry(registry["host"], registry["username"], registry["password"])
        repository, digest = image.split("/", 1)[1].split("@")
        assert client.digest(repository, f"model-{live['model_version']}") == digest
        assert re.search(r"the loop finished", run.stdout)

        # A release: production gets the staging champion's serving image, by digest, and
        # answers with the same model; the production record names the tag.
        released = _demo(home, "--release")
        assert released.returncode == 0, released.stdout[-4000:] + released.stderr[-2000:]
        assert _live(home / "stack.json", "production") == live
        assert _image(ecs, "production") == champion["serving_image"]
        production = _record(s3, "production.json")
        assert (production["version"], production["release"]["tag"]) == (
            live["model_version"], "v1.0.0")  # fmt: skip
        assert "Staging and production serve the same model" in released.stdout
        jobs = set(
            re.findall(r"^\[\s*[\d.]+s\] (.+?): Job (?:succeeded|failed)$", released.stdout, re.M)
        )
        assert jobs == {"plan the release (staging champion)", "release to production", "report"}
        first_image = champion["serving_image"]  # nothing built or trained: these jobs alone

        # Each scenario ends as the README says, checked from the outside, at the service's one
        # URL (it follows the rollouts, as a load balancer's does).
        worse = _demo(home, "--worse-model")
        assert worse.returncode == 0, worse.stdout[-3000:] + worse.stderr[-2000:]
        assert "model gate" in worse.stdout and _live(state_file=home / "stack.json") == live

        broken = _demo(home, "--broken-image")
        assert broken.returncode == 0, broken.stdout[-3000:] + broken.stderr[-2000:]
        assert "Essential container in task exited" in broken.stdout
        assert _live(state_file=home / "stack.json") == live  # rolled back: the champion answers

        changed = _demo(home, "--data-changed")
        assert changed.returncode == 0, changed.stdout[-3000:] + changed.stderr[-2000:]
        new = _live(state_file=home / "stack.json")
        assert new["model_version"] != live["model_version"] and new["verified"] is True
        champion = json.loads(
            s3.get_object(Bucket="models", Key="fraud-detector/Fraud-Detector/champion.json")[
                "Body"
            ].read()
        )
        assert champion["version"] == new["model_version"]
        assert (
            json.loads((home / "stack.json").read_text())["services"]["staging/fraud-detector"]
            == url
        )
        with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
            assert json.loads(response.read())["model_version"] == new["model_version"]

        # The new champion released, then rolled back: production is on the first again, read
        # from the service and ECS, and the production record moved back; staging did not move.
        second = _demo(home, "--release")
        assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
        assert _live(home / "stack.json", "production") == new
        assert _image(ecs, "production") == champion["serving_image"]
        assert _record(s3, "production.json")["release"]["tag"] == "v1.0.1"
        back = _demo(home, "--rollback")
        assert back.returncode == 0, back.stdout[-4000:] + back.stderr[-2000:]
        assert _live(home / "stack.json", "production") == live
        assert _image(ecs, "production") == first_image  # what ECS runs, not only what answers
        assert _live(home / "stack.json") == new
        production = _record(s3, "production.json")
        assert (production["version"], production["previous_version"]) == (
            live["model_version"], new["model_version"])  # fmt: skip
        assert production["forced"] and production["release"]["rollback"]
        assert (
            f"Production is back on {live['model_version']}, the production champion before "
            in (back.stdout)
        )
    finally:
        down = _demo(home, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert stack, "the demo's stack never started"
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=dev.mlops-actions.stack={stack}"],
                          capture_output=True, text=True).stdout.split()  # fmt: skip
    assert left == [] and not (home / "stack.json").exists()

    # The main command again, after the scenarios and down: it starts clean (the data batch
    # --data-changed appended is gone, so the example's data tests pass) and ends as the first.
    again = _demo(home)
    try:
        assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
        second = _live(state_file=home / "stack.json")
        assert second["verified"] is True and "the loop finished" in again.stdout
    finally:
        assert _demo(home, "down").returncode == 0
