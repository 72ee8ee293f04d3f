"""The build commands: buildx or the classic builder, finding or creating a buildx builder,
push, and what the build reports.

The Docker CLI itself (job-local config, login, registry errors) is the shared adapter in
`mlops_actions.docker`.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlops_actions.docker import Docker, registry_error
from mlops_actions.errors import UserError
from mlops_actions.image.capabilities import Builder, Features

DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")
DIGEST_LINE = re.compile(r"^Digest:\s+(sha256:[0-9a-f]{64})", re.M)  # buildx imagetools inspect


def has_buildx(docker: Docker) -> bool:
    """buildx is there and not switched off (DOCKER_BUILDKIT=0 is Docker's own switch to the
    classic builder, which also holds where buildx is installed system-wide)."""
    if os.environ.get("DOCKER_BUILDKIT") == "0":
        return False
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
    features: Features,
    cache_ref: str,
    push: bool,
    metadata_file: str,
) -> list[str]:
    tagged = [*refs, cache_ref] if features.cache_export == "inline" else list(refs)
    args = classic_build_args(
        dockerfile=dockerfile,
        context=context,
        refs=tagged,
        labels=labels,
        build_args=build_args,
        target=target,
        cache_from=None,
    )[:-1]
    args = ["buildx", *args, "--metadata-file", metadata_file]
    if features.platforms:
        args += ["--platform", ",".join(features.platforms)]
    if features.cache_import:
        args += ["--cache-from", f"type=registry,ref={cache_ref}"]
    if features.cache_export == "registry":
        args += ["--cache-to", f"type=registry,ref={cache_ref},mode=max"]
    elif features.cache_export == "gha":
        args += ["--cache-from", "type=gha", "--cache-to", "type=gha,mode=max"]
    elif features.cache_export == "inline":
        args += ["--cache-to", "type=inline"]
    if push:
        args += ["--push"]
    else:
        args += ["--load"] if len(features.platforms) <= 1 else []
    if features.attestations:
        args += ["--provenance=mode=max", "--sbom=true"]
    return [*args, context]


def on_builder(builder: Builder, args: Sequence[str]) -> list[str]:
    """A `buildx ...` command line run on `builder`. A docker-driver builder is a Docker context,
    which buildx reaches through `docker --context`, not `--builder`."""
    if builder.driver == "docker":
        return ["--context", builder.name, *args]
    return [args[0], "--builder", builder.name, *args[1:]]


def find_builder(docker: Docker, name: str | None = None) -> Builder | None:
    """The named buildx builder, or the one buildx would use now; None when there is none."""
    proc = docker.run("buildx", "inspect", *([name] if name else []))
    if proc.returncode != 0:
        return None
    fields: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("Name", "Driver") and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    if "Name" not in fields:
        return None
    return Builder("buildx", fields["Name"], fields.get("Driver", ""))


def create_container_builder(docker: Docker, buildkit_image: str) -> tuple[Builder | None, str]:
    """A temporary docker-container builder, started now; else (None, why not in one line)."""
    name = f"mlops-actions-{uuid.uuid4().hex[:8]}"
    args = ["buildx", "create", "--name", name, "--driver", "docker-container"]
    if buildkit_image:
        args += ["--driver-opt", f"image={buildkit_image}"]
    made = docker.run(*args, "--bootstrap")
    if made.returncode == 0:
        return Builder("buildx", name, "docker-container", temporary=True), ""
    docker.run("buildx", "rm", name)  # a failed --bootstrap leaves the instance registered
    lines = [ln.strip() for ln in (made.stderr + made.stdout).splitlines() if ln.strip()]
    return None, (lines[-1] if lines else f"exit {made.returncode}")[:300]


def host_platform(docker: Docker) -> str:
    proc = docker.run("version", "--format", "{{.Server.Os}}/{{.Server.Arch}}")
    platform = proc.stdout.strip()
    return platform if proc.returncode == 0 and "/" in platform else "linux/amd64"


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
