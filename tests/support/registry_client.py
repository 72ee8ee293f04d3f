"""Read a registry over its HTTP API (tags, manifest digests) with basic auth, as a check."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


class Registry:
    def __init__(self, host: str, username: str, password: str):
        self.base = f"http://{host}/v2"
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def _request(
        self, path: str, method: str = "GET", accept: str | None = None
    ) -> tuple[int, dict, bytes]:
        headers = dict(self.headers, **({"Accept": accept} if accept else {}))
        request = urllib.request.Request(f"{self.base}/{path}", headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def tags(self, repository: str) -> list[str]:
        status, _, body = self._request(f"{repository}/tags/list")
        if status == 404:
            return []
        return sorted(json.loads(body).get("tags") or [])

    def digest(self, repository: str, tag: str) -> str:
        status, headers, _ = self._request(f"{repository}/manifests/{tag}", "HEAD", MANIFEST_TYPES)
        assert status == 200, status
        return headers["Docker-Content-Digest"]


@contextmanager
def logged_in_docker(registry: dict) -> Iterator[list[str]]:
    """A `docker --config <temp>` command prefix logged in to the testbed registry."""
    config = tempfile.mkdtemp()
    try:
        docker = ["docker", "--config", config]
        subprocess.run(
            [*docker, "login", registry["host"], "-u", registry["username"], "--password-stdin"],
            input=registry["password"],
            text=True,
            check=True,
            capture_output=True,
        )
        yield docker
    finally:
        shutil.rmtree(config, ignore_errors=True)
