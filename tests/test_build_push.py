"""build-push-ghcr for real: the example image is built by a Docker engine and pushed to an
authenticated local registry (the GHCR stand-in), through act and through the CLI."""

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import builder_env, run_cli, tool
from support.act_harness import REPO, export_tree, init_consumer_repo, run_workflow
from support.registry_client import Registry, logged_in_docker

pytestmark = pytest.mark.act

EXAMPLE = REPO / "example-project"
# The testbed registry outlives a test run: every run pushes to repositories of its own.
RUN = uuid.uuid4().hex[:8]
WORKFLOW = """
name: build
on: [push, pull_request]
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions: {contents: read, packages: write}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - id: build
        uses: org/mlops-actions/actions/build-push-ghcr@v1
        with:
          registry: "@REGISTRY_HOST@"
          build-args: BASE_IMAGE=local/python:3.11-bookworm
          username: mlops
          password: ${{ secrets.REGISTRY_PASSWORD }}
          cache: none
"""


def _consumer(tmp_path: Path, name: str = f"Fraud-Detector-{RUN}") -> Path:
    files = {}
    for path in [
        "Dockerfile",
        ".dockerignore",
        "requirements.txt",
        *[str(p.relative_to(EXAMPLE)) for p in (EXAMPLE / "src").glob("*.py")],
        "data/transactions.csv",
        "data/generate.py",
    ]:
        files[path] = (EXAMPLE / path).read_bytes()
    return init_consumer_repo(
        tmp_path / "consumer", files, remote=f"https://github.com/Acme/{name}.git"
    )


def _head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.parametrize("path", ["classic", "buildx"])
def test_push_under_act_gives_exact_tags_and_the_registry_digest(
    testbed, builder_configs, path, tmp_path_factory, tmp_path
):
    """The same checks on both build paths. On buildx here (no Docker Hub), the temporary
    container builder cannot start, so the default builder builds and the summary says so."""
    path_env = builder_env(builder_configs, path)
    registry = testbed["registry"]
    consumer = _consumer(tmp_path, f"Fraud-Detector-{RUN}-{path}")
    sha = _head(consumer)
    run = run_workflow(
        consumer,
        WORKFLOW.replace("@REGISTRY_HOST@", registry["host"]),
        action_tree=export_tree(tmp_path_factory.mktemp("tree")),
        cache_dir=tmp_path_factory.mktemp("act-cache"),
        event="push",
        payload={
            "ref": "refs/heads/main",
            "repository": {"default_branch": "main"},
        },
        secrets={"REGISTRY_PASSWORD": registry["password"]},
        env={"GITHUB_REF": "refs/heads/main", **path_env},
    )
    assert run.jobs.get("build") == "success", run.log[-5000:]
    outputs = run.outputs("build", "build")
    image = f"{registry['host']}/acme/fraud-detector-{RUN}-{path}"
    assert outputs["image"] == image
    client = Registry(registry["host"], registry["username"], registry["password"])
    assert client.tags(f"acme/fraud-detector-{RUN}-{path}") == sorted(
        [f"sha-{sha[:7]}", sha, "main", "latest"]
    )
    assert outputs["digest"] == client.digest(f"acme/fraud-detector-{RUN}-{path}", "latest")
    assert outputs["image-ref"] == f"{image}@{outputs['digest']}"
    assert json.loads(outputs["labels"])["org.opencontainers.image.revision"] == sha
    summary = run.summaries["build"]
    assert "Image pushed" in summary and outputs["builder"] in summary
    if path == "classic":
        assert "classic docker builder" in outputs["builder"]
    else:
        assert outputs["builder"] == "buildx builder 'default' (docker driver)"
        assert "could not start a docker-container builder from moby/buildkit" in summary
    assert "lost on this builder: provenance and SBOM attestations" in summary

    # A fresh client can pull exactly that digest.
    with logged_in_docker(registry) as docker:
        subprocess.run(["docker", "image", "rm", "-f", outputs["image-ref"]], capture_output=True)
        pulled = subprocess.run(
            [*docker, "pull", outputs["image-ref"]], capture_output=True, text=True
        )
        assert pulled.returncode == 0, pulled.stderr
        inspect = [
            "docker",
            "image",
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            outputs["image-ref"],
        ]
        labels = json.loads(
            subprocess.run(inspect, capture_output=True, text=True, check=True).stdout
        )
        assert (
            labels["org.opencontainers.image.source"]
            == f"https://github.com/Acme/Fraud-Detector-{RUN}-{path}"
        )


def _cli_build(
    testbed,
    tmp_path,
    consumer,
    password,
    event,
    ref,
    payload,
    image=f"acme/cli-test-{RUN}",
    extra=(),
    env_extra=None,
):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(payload))
    env = {
        "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
        "GITHUB_SHA": _head(consumer),
        "GITHUB_REF": ref,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_ACTOR": "mlops",
        "GITHUB_OUTPUT": str(tmp_path / "out.txt"),
        "PATH": f"{Path(tool('act')).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        **(env_extra or {}),
    }
    (tmp_path / "out.txt").write_text("")
    proc = run_cli(
        "build",
        "--registry",
        testbed["registry"]["host"],
        "--image",
        image,
        "--context",
        str(consumer),
        "--build-args",
        "BASE_IMAGE=local/python:3.11-bookworm",
        "--password",
        password,
        *extra,
        env=env,
    )
    outputs = dict(
        line.split("=", 1)
        for line in (tmp_path / "out.txt").read_text().splitlines()
        if "=" in line
    )
    return proc, outputs


def test_bad_credentials_fail_in_one_line_and_push_nothing(testbed, tmp_path):
    consumer = _consumer(tmp_path)
    proc, _ = _cli_build(
        testbed,
        tmp_path,
        consumer,
        "wrong-password",
        "push",
        "refs/heads/main",
        {"repository": {"default_branch": "main"}},
        image=f"acme/bad-creds-{RUN}",
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "rejected the credentials of 'mlops' (401)" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    reg = testbed["registry"]
    assert (
        Registry(reg["host"], reg["username"], reg["password"]).tags(f"acme/bad-creds-{RUN}") == []
    )


def test_fork_pull_request_builds_but_does_not_push(testbed, tmp_path):
    consumer = _consumer(tmp_path)
    payload = {
        "pull_request": {
            "number": 9,
            "head": {"sha": _head(consumer), "repo": {"full_name": "someone/Fraud-Detector"}},
        }
    }
    proc, outputs = _cli_build(
        testbed,
        tmp_path,
        consumer,
        "unused",
        "pull_request",
        "refs/pull/9/merge",
        payload,
        image=f"acme/fork-pr-{RUN}",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert outputs["pushed"] == "false" and outputs["digest"] == ""
    assert "pr-9" in json.loads(outputs["tags"])[2]
    reg = testbed["registry"]
    assert Registry(reg["host"], reg["username"], reg["password"]).tags(f"acme/fork-pr-{RUN}") == []


def test_registry_cache_tag_is_pushed(testbed, tmp_path):
    consumer = _consumer(tmp_path)
    reg = testbed["registry"]
    proc, _ = _cli_build(
        testbed,
        tmp_path,
        consumer,
        reg["password"],
        "push",
        "refs/heads/dev",
        {"repository": {"default_branch": "main"}},
        image=f"acme/cached-{RUN}",
        extra=("--tags", "nightly"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    tags = Registry(reg["host"], reg["username"], reg["password"]).tags(f"acme/cached-{RUN}")
    sha = _head(consumer)
    assert tags == sorted(["buildcache", "dev", "nightly", sha, f"sha-{sha[:7]}"])
    assert "latest" not in tags

    # Built again on this daemon (the classic builder here): its own layer cache serves every
    # stage, the dependency install included; --cache-from would have limited it to the
    # cache image's history (the final stage) and reinstalled the dependencies.
    def build_again():
        proc, _ = _cli_build(testbed, tmp_path, consumer, reg["password"], "push",
                             "refs/heads/dev", {"repository": {"default_branch": "main"}},
                             image=f"acme/cached-{RUN}")  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        lines = proc.stdout.splitlines()
        step = next(i for i, line in enumerate(lines) if "RUN pip install" in line)
        return proc.stdout, "Using cache" in lines[step + 1]

    out, cached = build_again()
    assert "registry cache: this daemon's own layer cache" in out and cached, out[-3000:]
    # A daemon without the cache image pulls it and builds with --cache-from.
    cache_ref = f"{reg['host']}/acme/cached-{RUN}:buildcache"
    subprocess.run(["docker", "rmi", cache_ref], check=True, capture_output=True)
    out, _ = build_again()
    assert f"registry cache: reused {cache_ref}" in out, out[-3000:]


def test_dockerfile_is_clean_under_hadolint():
    proc = subprocess.run(
        [tool("hadolint"), str(EXAMPLE / "Dockerfile")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_dispatch_reuses_the_commits_pushed_image_and_a_push_rebuilds(testbed, tmp_path):
    """repository_dispatch / schedule / workflow_dispatch: the code did not change, so the image
    pushed for this commit is used as it is (digest read back from the registry)."""
    consumer = _consumer(tmp_path)
    reg = testbed["registry"]
    image = f"acme/reuse-{RUN}"
    payload = {"repository": {"default_branch": "main"}}
    common = (testbed, tmp_path, consumer, reg["password"])
    first, out1 = _cli_build(
        *common, "push", "refs/heads/main", payload, image=image, extra=("--cache", "none")
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    again, out2 = _cli_build(
        *common, "repository_dispatch", "refs/heads/main", payload, image=image
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    assert out2["digest"] == out1["digest"] and out2["pushed"] == "true"
    assert out2["builder"].startswith("reused:") and "Step 1/" not in again.stdout
    client = Registry(reg["host"], reg["username"], reg["password"])
    assert out2["digest"] == client.digest(image, _head(consumer))
    forced, out3 = _cli_build(*common, "repository_dispatch", "refs/heads/main", payload, image=image,
                              extra=("--reuse-existing", "false", "--cache", "none"))  # fmt: skip
    assert forced.returncode == 0 and not out3["builder"].startswith("reused")
