"""The build commands: buildx or the classic builder, push, and what the build reports.

The Docker CLI itself (job-local config, login, registry errors) is the shared adapter in
`mlops_actions.docker`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlops_actions.docker import Docker, registry_error
from mlops_actions.errors import UserError

DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


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
