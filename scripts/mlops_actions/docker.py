"""The Docker CLI adapter that the image and training actions share.

All commands run with `--config <temp dir>`, so a registry password lives only in a job-local
DOCKER_CONFIG that is deleted afterwards, on every path; the job's plugins, builders and
contexts stay visible through links. The password goes in on stdin, never
on a command line. Streamed output (builds) is untrusted text: it is printed with workflow
commands suspended and defused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.aws import ecr as ecr_api
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner


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
        _share_job_setup(Path(directory))
        yield Docker(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _share_job_setup(directory: Path) -> None:
    """Keep what the job set up visible under the job-local config: CLI plugins (buildx
    installed by docker/setup-buildx-action), buildx builders and Docker contexts, and the
    current context. Credentials are the only thing that is not shared."""
    user = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    for name in ("cli-plugins", "buildx", "contexts"):
        if (user / name).is_dir():
            (directory / name).symlink_to(user / name, target_is_directory=True)
    try:
        current = json.loads((user / "config.json").read_text()).get("currentContext")
    except (OSError, ValueError, AttributeError):
        current = None
    if isinstance(current, str) and current:
        (directory / "config.json").write_text(json.dumps({"currentContext": current}))


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


def login_to_registry(
    docker: Docker, host: str, username: str, password: str, *, ecr: bool = False
) -> str | None:
    """Log in to one registry: an ECR host (or one the caller says is ECR) with a token from the
    ECR API (GetAuthorizationToken, so OIDC credentials are enough), others with username and
    password. Returns a note for the log when the token path was taken."""
    if ecr or ecr_api.is_ecr_host(host):
        token = ecr_api.login_for(host)
        login(docker, host, token.username, token.password)
        return f"logged in to {host} with an ECR token (GetAuthorizationToken)"
    login(docker, host, username, password)
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


def resolve_image(
    docker: Docker, image: str, registry: str | None, username: str, password: str
) -> dict[str, Any]:
    """Pull the image (logged in when credentials are given) and return its digest reference
    and configured user. Shared by training and champion scoring."""
    if registry and username and password:
        login(docker, registry, username, password)
    pulled = docker.run("pull", image)
    if pulled.returncode != 0:
        error = registry_error(
            registry or image.split("/", 1)[0], username or "anonymous", pulled.stderr
        )
        local = docker.run("image", "inspect", image).returncode == 0
        if not local:
            if error:
                raise error
            reason = (pulled.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise UserError(
                f"image: cannot pull {shown(image)}: {reason}; check the image name and the "
                "registry credentials"
            )
    inspect = docker.run("image", "inspect", "--format", "{{json .}}", image)
    if inspect.returncode != 0:
        raise UserError(f"image: {shown(image)} does not exist locally or in the registry")
    info = json.loads(inspect.stdout)
    repository = (
        image.split("@", 1)[0].rsplit(":", 1)[0] if "@" not in image else image.split("@", 1)[0]
    )
    digests = [d for d in info.get("RepoDigests") or [] if d.split("@", 1)[0] == repository]
    ref = digests[0] if digests else (image if "@" in image else "")
    return {
        "requested": image,
        "ref": ref or info["Id"],
        "digest": ref.split("@", 1)[1] if ref else None,
        "image_id": info["Id"],
        "pinned_by_digest": "@sha256:" in image,
        "user": (info.get("Config") or {}).get("User") or "",
    }
