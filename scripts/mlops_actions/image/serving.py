"""The serving image's recipe: FROM the trained image by digest, plus exactly the gated model
and its card. Pure: the inputs in, a Dockerfile text, tags and labels out.

Code and model then deploy, and roll back, as one immutable unit: the serving image's digest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST
from mlops_actions.model_store import CARD_FILE

VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


@dataclass(frozen=True)
class ServingPlan:
    base: str  # repo@sha256:...
    repository: str  # where the serving image goes (no tag)
    version: str
    model_name: str  # file name inside model_dir
    model_sha256: str
    model_dir: str = "/app/artifacts"

    @property
    def tag(self) -> str:
        return f"model-{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"

    @property
    def model_path(self) -> str:
        return str(PurePosixPath(self.model_dir) / self.model_name)


def plan(
    base: str,
    repository: str,
    version: str,
    model_name: str,
    model_sha256: str,
    model_dir: str = "/app/artifacts",
) -> ServingPlan:
    match = IMAGE_BY_DIGEST.match(base.strip())
    if not match:
        raise UserError(
            f"image: {shown(base)} must be the trained image by digest (repo@sha256:…), so the "
            "serving image starts from exactly what was trained and tested"
        )
    if not VERSION.match(version):
        raise UserError(
            f"version: {shown(version)} must be 1-101 letters, digits, '.', '_' or '-' (it "
            "becomes the tag model-<version>)"
        )
    repository = (repository.strip() or match.group("repo")).lower()
    if "@" in repository or ":" in repository.rsplit("/", 1)[-1]:
        raise UserError(
            f"serving-image: {shown(repository)} must be a repository without tag or digest"
        )
    if not PurePosixPath(model_dir).is_absolute() or ".." in PurePosixPath(model_dir).parts:
        raise UserError(f"model-dir: {shown(model_dir)} must be an absolute path in the image")
    return ServingPlan(base.strip(), repository, version, model_name, model_sha256, model_dir)


def dockerfile(p: ServingPlan) -> str:
    """COPY exactly the two files; ENV tells serve.py where the model is and what it must hash
    to; labels say where it came from. JSON strings keep every value one token."""
    card_path = str(PurePosixPath(p.model_dir) / CARD_FILE)
    env = {
        "MODEL_PATH": p.model_path,
        "MODEL_CARD": card_path,
        "MODEL_VERSION": p.version,
        "MODEL_SHA256": p.model_sha256,
    }
    return "\n".join(
        [
            f"FROM {p.base}",
            f"COPY {json.dumps(['model.bin', p.model_path])}",
            f"COPY {json.dumps([CARD_FILE, card_path])}",
            *(f"ENV {k}={json.dumps(v)}" for k, v in env.items()),
            "",
        ]
    )


def labels(p: ServingPlan) -> dict[str, str]:
    repository, digest = p.base.split("@", 1)
    return {
        "org.opencontainers.image.base.name": repository,
        "org.opencontainers.image.base.digest": digest,
        "org.opencontainers.image.version": p.tag,
        "dev.mlops-actions.model.version": p.version,
        "dev.mlops-actions.model.sha256": p.model_sha256,
    }
