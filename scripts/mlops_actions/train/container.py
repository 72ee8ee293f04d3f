"""Run the training command inside the image with Docker (the local backend).

- The image is pulled (with a job-local login when credentials are given) and resolved to its
  registry digest; that digest is what runs and what the model card records.
- The container runs as a non-root user, with data mounted read-only and the artifacts
  directory read-write, optional `--network none`, CPU/memory/GPU limits, and a timeout that
  stops it.
- Logs stream into a collapsible `::group::`; the last lines are kept for the job summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.docker import Docker
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner

FALLBACK_USER = "65534:65534"  # nobody, when the image itself would run as root
_VERSIONS = (
    "import json, sys, importlib.metadata as m\n"
    "print(json.dumps({'python': sys.version.split()[0], 'packages': "
    "dict(sorted({d.metadata['Name'].lower(): d.version for d in m.distributions() if "
    "d.metadata['Name']}.items()))}))"
)


@dataclass
class ContainerSpec:
    image: str
    command: list[str]
    artifacts_dir: str  # host directory mounted at /app/artifacts
    data: list[tuple[str, str]] = field(default_factory=list)  # (host path, container path)
    env: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    cpus: str | None = None
    memory: str | None = None
    gpus: str | None = None
    user: str | None = None  # None: the image's user, or nobody if that is root
    group_add: str | None = None  # a supplementary group that may write the staging directory
    timeout_seconds: float = 3600


@dataclass
class RunOutcome:
    exit_code: int | None
    timed_out: bool
    tail: list[str]
    started_at: float
    finished_at: float


def run_user(spec_user: str | None, image_user: str) -> str:
    """Never root: the given user; else the runner's own (non-root) uid, so the outputs belong
    to the job; else the image's user when it is not root; else nobody."""
    if spec_user:
        if spec_user.split(":", 1)[0] in ("0", "root"):
            raise UserError("user: training never runs as root; give a non-root user or uid")
        return spec_user
    if hasattr(os, "getuid") and os.getuid() != 0:
        return f"{os.getuid()}:{os.getgid()}"
    if image_user and image_user.split(":", 1)[0] not in ("0", "root"):
        return image_user
    return FALLBACK_USER


def _numeric_ids(docker: Docker, user: str, image_ref: str) -> tuple[int, int]:
    """uid and gid of `user` (a name or uid[:gid]) as the image sees them."""
    name, _, group = user.partition(":")
    if name.isdigit() and (group.isdigit() or not group):
        return int(name), int(group) if group else int(name)
    ids = []
    for flag in ("-u", "-g"):
        proc = docker.run(
            "run", "--rm", "--network", "none", "--user", user, "--entrypoint", "id",
            image_ref, flag,
        )  # fmt: skip
        if proc.returncode != 0 or not proc.stdout.strip().isdigit():
            raise UserError(
                f"user: cannot find the uid of {shown(user)} in the image; give a numeric uid[:gid]"
            )
        ids.append(int(proc.stdout.strip()))
    return ids[0], ids[1]


def grant_staging(docker: Docker, staging: Path, user: str, image_ref: str) -> str | None:
    """Let the container user write the staging directory without making it world-writable.

    As root: hand the directory to that uid (mode 0700). As the runner's own uid: nothing to
    do. As another user on a non-root runner: mode 0770 and the runner's group added to the
    container user. Returns that group, if any.
    """
    staging.chmod(0o700)
    if not hasattr(os, "getuid"):
        return None
    if os.getuid() == 0:
        uid, gid = _numeric_ids(docker, user, image_ref)
        os.chown(staging, uid, gid)
        return None
    if user.split(":", 1)[0] == str(os.getuid()):
        return None
    staging.chmod(0o770)
    return str(os.getgid())


def docker_run_args(
    spec: ContainerSpec, image_ref: str, image_user: str, name: str, env_file: str
) -> list[str]:
    args = [
        "run",
        "--detach",
        "--name",
        name,
        "--user",
        spec.user or run_user(None, image_user),
        "--env-file",
        env_file,
        "--volume",
        f"{spec.artifacts_dir}:/app/artifacts:rw",
    ]
    for host, container in spec.data:
        args += ["--volume", f"{host}:{container}:ro"]
    if spec.group_add:
        args += ["--group-add", spec.group_add]
    if spec.network:
        args += ["--network", spec.network]
    if spec.cpus:
        args += ["--cpus", spec.cpus]
    if spec.memory:
        args += ["--memory", spec.memory]
    if spec.gpus:
        args += ["--gpus", spec.gpus]
    return [*args, image_ref, *spec.command]


def run(docker: Docker, spec: ContainerSpec, image: dict[str, Any], *, github: bool) -> RunOutcome:
    name = f"mlops-train-{uuid.uuid4().hex[:10]}"
    fd, env_file = tempfile.mkstemp(prefix="mlops-train-env-")
    with os.fdopen(fd, "w") as handle:  # an env file keeps values off the process list
        handle.writelines(f"{k}={v}\n" for k, v in spec.env.items())
    tail: deque[str] = deque(maxlen=60)
    started = time.time()
    try:
        created = docker.run(
            *docker_run_args(spec, str(image["ref"]), str(image["user"]), name, env_file)
        )
        if created.returncode != 0:
            raise UserError(
                "could not start the training container: "
                f"{created.stderr.strip().splitlines()[-1:]}"
            )
        follower = threading.Thread(target=_follow, args=(docker, name, tail, github), daemon=True)
        follower.start()
        timed_out, exit_code = False, None
        try:
            waited = subprocess.run(
                [docker.binary, "--config", docker.config_dir, "wait", name],
                capture_output=True,
                text=True,
                timeout=spec.timeout_seconds,
            )
            exit_code = int(waited.stdout.strip() or "1")
        except subprocess.TimeoutExpired:
            timed_out = True
            docker.run("stop", "--time", "10", name)
        follower.join(timeout=15)
        return RunOutcome(exit_code, timed_out, list(tail), started, time.time())
    finally:
        Path(env_file).unlink(missing_ok=True)
        docker.run("rm", "--force", name)


def _follow(docker: Docker, name: str, tail: deque[str], github: bool) -> None:
    if github:
        print("::group::training logs", flush=True)
    proc = subprocess.Popen(
        [docker.binary, "--config", docker.config_dir, "logs", "--follow", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None
    # The training command's output is the image's, not ours: no line of it may act as a
    # workflow command (set-output, add-mask, error...).
    with runner.untrusted_output():
        for line in proc.stdout:
            print(runner.defuse(line), end="", flush=True)
            tail.append(line.rstrip("\n"))
        proc.wait()
    if github:
        print("::endgroup::", flush=True)


def versions(docker: Docker, image_ref: str) -> dict[str, Any]:
    """Python and package versions as the image reports them (not the runner's)."""
    for python in ("python", "python3"):
        proc = docker.run(
            "run", "--rm", "--network", "none", "--entrypoint", python, image_ref, "-c", _VERSIONS
        )
        if proc.returncode == 0:
            try:
                return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                break
    return {"python": None, "packages": {}, "note": "no python in the image to report versions"}
