"""Serving images for the local stagings (ECS and SageMaker), as a pytest plugin: the trained
image with its gated model (package-model), and a broken one that refuses to start."""

import json
import subprocess
import uuid

import pytest

from conftest import run_cli
from support.registry_client import logged_in_docker
from support.train_fixtures import TRAIN, train_cli


@pytest.fixture(scope="module")
def images(pushed, tmp_path_factory):
    """A good serving image (the trained image plus its gated model) and a broken one."""
    image, registry = pushed
    tmp = tmp_path_factory.mktemp("staging")
    proc, artifacts = train_cli(pushed, tmp, command=TRAIN)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp / "out.txt"
    out.write_text("")
    version = f"s-{uuid.uuid4().hex[:6]}"
    packaged = run_cli(
        "package", "--image", image, "--model", str(artifacts / "model.skops"), "--version", version,
        "--username", registry["username"], "--password", registry["password"],
        env={"GITHUB_OUTPUT": str(out)},
    )  # fmt: skip
    assert packaged.returncode == 0, packaged.stderr[-2000:]
    good = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    card = json.loads((artifacts / "model-card.json").read_text())
    # Broken: the same image told to expect other bytes, so serve.py refuses to start.
    repository = image.split("@", 1)[0]
    broken_tag = f"{repository}:broken-{version}"
    context = tmp / "broken"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {good['serving-image-ref']}\nENV MODEL_SHA256={'0' * 64}\n"
    )
    with logged_in_docker(registry) as docker:
        subprocess.run([*docker, "build", "-q", "-t", broken_tag, str(context)], check=True,
                       capture_output=True, env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"})  # fmt: skip
        pushed_out = subprocess.run(
            [*docker, "push", broken_tag], check=True, capture_output=True, text=True
        )
    digest = pushed_out.stdout.split("digest: ")[1].split()[0]
    return good["serving-image-ref"], f"{repository}@{digest}", card["model"]["sha256"], registry
