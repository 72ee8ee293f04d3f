"""package-model for real: the serving image is built FROM the trained image by digest with the
gated model, pushed to the authenticated local registry, and serves exactly that model."""

import json
import subprocess
import time
import uuid

import pytest

from conftest import builder_env, run_cli
from support.registry_client import Registry, logged_in_docker
from support.train_fixtures import TRAIN, train_cli

pytestmark = pytest.mark.act


@pytest.fixture(scope="module")
def trained(pushed, tmp_path_factory):
    """A model and card from a real training run in the pushed image."""
    tmp = tmp_path_factory.mktemp("trained")
    proc, artifacts = train_cli(pushed, tmp, command=TRAIN)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return artifacts


def _package(pushed, artifacts, *args, env=None):
    image, registry = pushed
    outputs = artifacts.parent / f"out-{uuid.uuid4().hex[:6]}.txt"
    outputs.write_text("")
    proc = run_cli(
        "package", "--image", image, "--model", str(artifacts / "model.skops"),
        "--username", registry["username"], "--password", registry["password"], *args,
        env={"GITHUB_OUTPUT": str(outputs), **(env or {})},
    )  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


@pytest.mark.parametrize("path", ["classic", "buildx"])
def test_the_serving_image_holds_exactly_the_gated_model(pushed, trained, builder_configs, path):
    image, registry = pushed
    version = f"7-{uuid.uuid4().hex[:7]}"
    env = builder_env(builder_configs, path)
    proc, out = _package(pushed, trained, "--version", version, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    expected = "classic docker builder" if path == "classic" else "buildx builder 'default'"
    assert expected in proc.stdout
    card = json.loads((trained / "model-card.json").read_text())
    repository = image.split("@", 1)[0]
    name = repository.split("/", 1)[1]
    client = Registry(registry["host"], registry["username"], registry["password"])
    assert out["digest"] == client.digest(name, f"model-{version}")
    ref = out["serving-image-ref"]
    assert ref == f"{repository}@{out['digest']}" and out["model-sha256"] == card["model"]["sha256"]

    with logged_in_docker(registry) as docker:
        subprocess.run(["docker", "image", "rm", "-f", ref], capture_output=True)
        pulled = subprocess.run([*docker, "pull", ref], capture_output=True, text=True)
        assert pulled.returncode == 0, pulled.stderr
    inside = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sha256sum", ref,
         "/app/artifacts/model.skops"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    assert inside == card["model"]["sha256"]  # byte-identical to what the card (and gate) saw
    labels = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", ref],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert labels["org.opencontainers.image.base.digest"] == image.split("@", 1)[1]
    assert labels["dev.mlops-actions.model.version"] == version

    # It serves that model, and says so.
    name = f"serve-{uuid.uuid4().hex[:6]}"
    subprocess.run(["docker", "run", "-d", "--name", name, ref], check=True, capture_output=True)
    try:
        ask = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/version').read().decode())"
        for _ in range(60):
            got = subprocess.run(
                ["docker", "exec", name, "python", "-c", ask], capture_output=True, text=True
            )
            if got.returncode == 0:
                break
            time.sleep(0.5)
        live = json.loads(got.stdout)
        assert live["model_version"] == version and live["verified"] is True
        assert live["model_sha256"] == card["model"]["sha256"]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_only_the_cards_model_can_be_packaged(pushed, trained, tmp_path):
    other = tmp_path / "artifacts"
    other.mkdir()
    (other / "model.skops").write_bytes((trained / "model.skops").read_bytes() + b"tampered")
    (other / "model-card.json").write_text((trained / "model-card.json").read_text())
    version = f"bad-{uuid.uuid4().hex[:7]}"
    proc, out = _package(pushed, other, "--version", version)
    assert proc.returncode == 2 and "package only the model the card" in proc.stderr
    assert "Traceback" not in proc.stderr and not out
    image, registry = pushed
    client = Registry(registry["host"], registry["username"], registry["password"])
    assert f"model-{version}" not in client.tags(image.split("@", 1)[0].split("/", 1)[1])


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ("--version", "v1", "--image", "registry.invalid/acme/app:latest"),
            "must be the trained image by digest",
        ),
        (("--version", "a b"), "version: 'a b' must be"),
        (
            ("--version", "v1", "--model-dir", "relative/dir"),
            "model-dir: 'relative/dir' must be an absolute path",
        ),
    ],
)
def test_bad_input_is_one_line(pushed, trained, args, message):
    proc, _ = _package(pushed, trained, *args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
