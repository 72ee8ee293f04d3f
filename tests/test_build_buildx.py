"""build-push-ghcr on the real buildx plugin, next to a Docker engine without Docker Hub: the
builders a job already has (BUILDX_BUILDER, the `builder` input), the fallback when a container
builder cannot start, and features the chosen builder lacks, each said aloud or refused."""

import json
import subprocess
import uuid

import pytest

from conftest import builder_env
from support.registry_client import Registry, logged_in_docker
from test_build_push import RUN, _cli_build, _consumer, _head

pytestmark = pytest.mark.act

MAIN = ("push", "refs/heads/main", {"repository": {"default_branch": "main"}})


@pytest.fixture
def buildx(builder_configs):
    return builder_env(builder_configs, "buildx")["DOCKER_CONFIG"]


@pytest.fixture(scope="module")
def named_builder(builder_configs):
    """A docker context, which buildx lists as a builder of its own (docker driver)."""
    config = builder_env(builder_configs, "buildx")["DOCKER_CONFIG"]
    name = f"mlops-ctx-{uuid.uuid4().hex[:6]}"
    host = subprocess.run(["docker", "context", "inspect", "--format",
                           "{{.Endpoints.docker.Host}}"], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip
    subprocess.run(["docker", "--config", config, "context", "create", name, "--docker",
                    f"host={host}"], check=True, capture_output=True)  # fmt: skip
    yield name
    subprocess.run(["docker", "--config", config, "context", "rm", "-f", name], capture_output=True)


def _checked_push(testbed, consumer, outputs, repository):
    """What both paths must give: the registry's tags and digest, and labels on a pulled image."""
    reg = testbed["registry"]
    client = Registry(reg["host"], reg["username"], reg["password"])
    sha = _head(consumer)
    assert {sha, f"sha-{sha[:7]}", "main", "latest"} <= set(client.tags(repository))
    assert outputs["digest"] == client.digest(repository, sha)
    with logged_in_docker(reg) as docker:
        subprocess.run(["docker", "image", "rm", "-f", outputs["image-ref"]], capture_output=True)
        assert (
            subprocess.run([*docker, "pull", outputs["image-ref"]], capture_output=True).returncode
            == 0
        )
        labels = json.loads(subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", outputs["image-ref"]],
            capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert labels["org.opencontainers.image.revision"] == sha
    return client.tags(repository)


@pytest.mark.parametrize("how", ["BUILDX_BUILDER", "builder input"])
def test_the_jobs_own_builder_is_used(testbed, buildx, named_builder, how, tmp_path):
    consumer = _consumer(tmp_path)
    image = f"acme/named-{how.split()[0].lower()}-{RUN}"
    extra = ("--builder", named_builder) if how == "builder input" else ()
    env = {"DOCKER_CONFIG": buildx}
    if how == "BUILDX_BUILDER":
        env["BUILDX_BUILDER"] = named_builder
    proc, outputs = _cli_build(testbed, tmp_path, consumer, testbed["registry"]["password"],
                               *MAIN, image=image, extra=extra, env_extra=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert outputs["builder"] == f"buildx builder '{named_builder}' (docker driver)"
    assert "could not start" not in proc.stdout  # a named builder is used as it is
    tags = _checked_push(testbed, tmp_path / "consumer", outputs, image)
    # The docker driver cannot export a registry cache: the cache goes inline, and says so.
    assert "buildcache" in tags
    assert "lost on this builder: registry cache mode=max" in proc.stdout


def test_a_container_builder_that_cannot_start_falls_back_and_leaves_nothing(
    testbed, buildx, tmp_path
):
    consumer = _consumer(tmp_path)
    mirror = f"{testbed['registry']['host']}/mirror/buildkit:missing-{RUN}"
    image = f"acme/fallback-{RUN}"
    proc, outputs = _cli_build(testbed, tmp_path, consumer, testbed["registry"]["password"],
                               *MAIN, image=image, extra=("--buildkit-image", mirror),
                               env_extra={"DOCKER_CONFIG": buildx})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert f"could not start a docker-container builder from {mirror}" in proc.stdout
    assert outputs["builder"] == "buildx builder 'default' (docker driver)"
    _checked_push(testbed, consumer, outputs, image)
    listed = subprocess.run(["docker", "--config", buildx, "buildx", "ls"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    assert "mlops-actions-" not in listed  # the half-made builder was removed
    assert (
        subprocess.run(
            ["docker", "--config", buildx, "buildx", "version"], capture_output=True
        ).returncode
        == 0
    )  # the job's plugin link survived


def test_an_unknown_builder_is_one_line_and_nothing_is_pushed(testbed, buildx, tmp_path):
    consumer = _consumer(tmp_path)
    image = f"acme/unknown-builder-{RUN}"
    proc, _ = _cli_build(testbed, tmp_path, consumer, testbed["registry"]["password"], *MAIN,
                         image=image, env_extra={"DOCKER_CONFIG": buildx,
                                                 "BUILDX_BUILDER": "no-such-builder"})  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and "BUILDX_BUILDER: no buildx builder named 'no-such-builder'" in lines[0]
    )
    reg = testbed["registry"]
    assert Registry(reg["host"], reg["username"], reg["password"]).tags(image) == []


def test_a_builder_input_without_buildx_is_one_line(testbed, builder_configs, tmp_path):
    proc, _ = _cli_build(testbed, tmp_path, _consumer(tmp_path), "x", *MAIN,
                         image=f"acme/no-buildx-{RUN}", extra=("--builder", "mine"),
                         env_extra=builder_env(builder_configs, "classic"))  # fmt: skip
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "builder: 'mine' is a buildx builder, but DOCKER_BUILDKIT=0" in proc.stderr


@pytest.mark.parametrize("path", ["classic", "buildx"])
def test_platforms_the_builder_lacks_warn_or_fail(testbed, builder_configs, path, tmp_path):
    env = builder_env(builder_configs, path)
    # On buildx a container builder is tried first (it could build arm64), so the refusal comes
    # after login, from the fallback; on the classic path it comes before anything happens.
    password = testbed["registry"]["password"] if path == "buildx" else "not-needed"
    refused, _ = _cli_build(testbed, tmp_path, _consumer(tmp_path), password, *MAIN,
                            image=f"acme/arm-only-{path}-{RUN}", extra=("--platforms", "linux/arm64"),
                            env_extra=env)  # fmt: skip
    assert refused.returncode == 2
    assert "platforms: linux/arm64 cannot be built by the" in refused.stderr
    assert "only for the host (linux/amd64)" in refused.stderr
    image = f"acme/multi-{path}-{RUN}"
    proc, outputs = _cli_build(testbed, tmp_path, tmp_path / "consumer", testbed["registry"]["password"],
                               *MAIN, image=image, extra=("--platforms", "linux/amd64,linux/arm64", "--cache", "none"),
                               env_extra=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "multi-platform: built for linux/amd64 only, not linux/arm64" in proc.stdout
    _checked_push(testbed, tmp_path / "consumer", outputs, image)
