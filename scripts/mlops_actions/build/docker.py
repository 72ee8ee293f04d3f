"""Thin adapter over the Docker CLI: login, build (buildx or the classic builder), push.

All commands run with `--config <temp dir>`, so the registry password lives only in a job-local
DOCKER_CONFIG that is deleted afterwards. The password goes in on stdin, never on a command
line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner

DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class Docker:
    config_dir: str
    binary: str = "docker"

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        command = [self.binary, "--config", self.config_dir, *args]
        full_env = {**os.environ, **(env or {})}
        if stream:  # show build output live in the job log, keep it for error messages
            proc = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                env=full_env,
            )
            assert proc.stdout is not None
            lines = []
            # Build output comes from the Dockerfile (a fork's, on pull requests): untrusted.
            with runner.untrusted_output():
                for line in proc.stdout:
                    print(runner.defuse(line), end="", flush=True)
                    lines.append(line)
                proc.wait()
            return subprocess.CompletedProcess(command, proc.returncode, "".join(lines), "")
        return subprocess.run(command, input=stdin, capture_output=True, text=True, env=full_env)


@contextmanager
def job_docker_config() -> Iterator[Docker]:
    """A DOCKER_CONFIG for this job only; removed afterwards."""
    if not shutil.which("docker"):
        raise UserError("docker is not installed on this runner; use a runner with Docker")
    directory = tempfile.mkdtemp(prefix="mlops-docker-config-")
    try:
        yield Docker(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def registry_error(registry: str, username: str, output: str) -> UserError | None:
    text = output.lower()
    if "403" in text or ("denied" in text and "unauthorized" not in text):
        return UserError(
            f"{registry} denied {shown(username)} (403): the job needs "
            "`permissions: packages: write`, and an existing package must grant this "
            "repository access (package settings, Manage Actions access)"
        )
    if "401" in text or "unauthorized" in text or "incorrect username or password" in text:
        return UserError(
            f"{registry} rejected the credentials of {shown(username)} (401): check "
            f"username/password "
            "(for GHCR: github.actor and github.token)"
        )
    return None


def login(docker: Docker, registry: str, username: str, password: str) -> None:
    if not username or not password:
        raise UserError(
            "username and password are needed to push; for GHCR they default to "
            "github.actor and github.token"
        )
    proc = docker.run("login", registry, "--username", username, "--password-stdin", stdin=password)
    if proc.returncode != 0:
        error = registry_error(registry, username, proc.stderr + proc.stdout)
        if error:
            raise error
        first = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["unknown error"]
        raise UserError(f"docker login to {registry} failed: {first[0]}")


def has_buildx(docker: Docker) -> bool:
    return docker.run("buildx", "version").returncode == 0


def classic_build_args(
    *,
    dockerfile: str,
    context: str,
    refs: Sequence[str],
    labels: Mapping[str, str],
    build_args: Mapping[str, str],
    target: str | None,
    cache_from: str | None,
) -> list[str]:
    args = ["build", "--file", dockerfile]
    for ref in refs:
        args += ["--tag", ref]
    for key, value in labels.items():
        args += ["--label", f"{key}={value}"]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    if target:
        args += ["--target", target]
    if cache_from:
        args += ["--cache-from", cache_from]
    return [*args, context]


def buildx_build_args(
    *,
    dockerfile: str,
    context: str,
    refs: Sequence[str],
    labels: Mapping[str, str],
    build_args: Mapping[str, str],
    target: str | None,
    cache: str,
    cache_ref: str,
    platforms: Sequence[str],
    push: bool,
    metadata_file: str,
) -> list[str]:
    args = classic_build_args(
        dockerfile=dockerfile,
        context=context,
        refs=refs,
        labels=labels,
        build_args=build_args,
        target=target,
        cache_from=None,
    )[:-1]
    args = ["buildx", *args, "--metadata-file", metadata_file]
    if platforms:
        args += ["--platform", ",".join(platforms)]
    if cache == "registry":
        args += ["--cache-from", f"type=registry,ref={cache_ref}"]
        if push:
            args += ["--cache-to", f"type=registry,ref={cache_ref},mode=max"]
    elif cache == "gha":
        args += ["--cache-from", "type=gha", "--cache-to", "type=gha,mode=max"]
    if push:
        args += ["--push", "--provenance=mode=max", "--sbom=true"]
    else:
        args += ["--load"] if len(platforms) <= 1 else []
    return [*args, context]


def push(docker: Docker, ref: str, registry: str, username: str) -> str:
    proc = docker.run("push", ref)
    if proc.returncode != 0:
        error = registry_error(registry, username, proc.stderr + proc.stdout)
        if error:
            raise error
        raise UserError(
            f"docker push {ref} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1]}"
        )
    match = DIGEST.search(proc.stdout)
    if not match:
        raise UserError(f"docker push {ref} printed no digest")
    return match.group(1)


def image_size(docker: Docker, ref: str) -> int | None:
    proc = docker.run("image", "inspect", "--format", "{{.Size}}", ref)
    return (
        int(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None
    )


def read_metadata(path: str) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}
