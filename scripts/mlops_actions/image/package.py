"""Package the gated model: build the serving image FROM the trained image by digest, with
exactly the model the gate judged and its card, push it, and report its digest.

validate (the model is the card's, the base is pinned) → build → push → the registry's digest.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import docker as dk
from mlops_actions import safe_json
from mlops_actions.aws.ecr import is_ecr_host
from mlops_actions.errors import UserError, shown
from mlops_actions.image import builders, capabilities, serving
from mlops_actions.model_store import CARD_FILE, sha256


@dataclass(frozen=True)
class PackageRequest:
    image: str  # the trained image, repo@sha256:...
    model: str
    version: str
    model_card: str = ""  # default: model-card.json beside the model
    serving_image: str = ""  # repository; default the trained image's
    model_dir: str = "/app/artifacts"
    registry: str = ""
    username: str = ""
    password: str = ""
    push: bool = True


@dataclass
class PackageResult:
    plan: serving.ServingPlan
    builder: str
    digest: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.plan.repository}@{self.digest}" if self.digest else ""


def _regular_file(path: Path, field_name: str) -> Path:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise UserError(f"{field_name}: {path} not found") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{field_name}: {path} must be a regular file (not a link or folder)")
    return path


def check(request: PackageRequest) -> tuple[serving.ServingPlan, Path, Path]:
    model = _regular_file(Path(request.model), "model")
    card_path = _regular_file(
        Path(request.model_card) if request.model_card else model.with_name(CARD_FILE),
        "model-card",
    )
    try:
        card = safe_json.read_object(card_path, "model card")
        expected = card["model"]["sha256"]
    except (KeyError, TypeError):
        raise UserError(
            f"model-card: {card_path} is not a model card with model.sha256 (write it with "
            "containerized-train)",
            file=str(card_path),
        ) from None
    actual = sha256(model)
    if actual != expected:
        raise UserError(
            f"model: {model} has sha256 {actual[:16]}…, its card says {shown(expected)}: package "
            "only the model the card (and the gate) describe"
        )
    if not serving.VERSION.match(model.name):
        raise UserError(f"model: file name {shown(model.name)} must be letters, digits, . _ -")
    plan = serving.plan(
        request.image, request.serving_image, request.version, model.name, actual,
        request.model_dir,
    )  # fmt: skip
    return plan, model, card_path


def package(request: PackageRequest) -> PackageResult:
    plan, model, card = check(request)  # nothing is built or pushed before this passes
    registry = request.registry or plan.repository.split("/", 1)[0]
    context = Path(tempfile.mkdtemp(prefix="mlops-serving-"))
    try:
        shutil.copyfile(model, context / "model.bin")
        shutil.copyfile(card, context / CARD_FILE)
        (context / "Dockerfile").write_text(serving.dockerfile(plan))
        with dk.job_docker_config() as docker:
            # ECR (where SageMaker pulls from) takes a token, needed to pull the base too.
            if request.push or (request.username and request.password) or is_ecr_host(registry):
                dk.login_to_registry(docker, registry, request.username, request.password)
            started = time.monotonic()
            result = _build(docker, plan, context, registry, request)
            result.seconds = time.monotonic() - started
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return result


def _build(
    docker: dk.Docker,
    plan: serving.ServingPlan,
    context: Path,
    registry: str,
    request: PackageRequest,
) -> PackageResult:
    inputs: dict[str, Any] = {
        "dockerfile": str(context / "Dockerfile"),
        "context": str(context),
        "refs": [plan.ref],
        "labels": serving.labels(plan),
        "build_args": {},
        "target": None,
    }
    builder = builders.find_builder(docker) if builders.has_buildx(docker) else None
    if builder:  # the job's builder (BUILDX_BUILDER or the current one): FROM + COPY needs no more
        metadata = Path(docker.config_dir) / "package-metadata.json"
        wanted = capabilities.features(builder, push=request.push, cache="none", platforms=(),
                                       host="")  # fmt: skip
        args = builders.buildx_build_args(
            **inputs, features=wanted, cache_ref="", push=request.push,
            metadata_file=str(metadata),
        )  # fmt: skip
        proc = docker.run(*builders.on_builder(builder, args), stream=True)
        if proc.returncode != 0:
            raise dk.registry_error(registry, request.username, proc.stdout) or UserError(
                f"building the serving image FROM {plan.base} failed; see the log above"
            )
        result = PackageResult(plan, builder.describe())
        if request.push:
            result.digest = builders.read_metadata(str(metadata)).get("containerimage.digest")
            if not result.digest:
                raise UserError(f"docker buildx build pushed {plan.ref} but reported no digest")
        return result
    args = builders.classic_build_args(**inputs, cache_from=None)
    proc = docker.run(*args, env={"DOCKER_BUILDKIT": "0"}, stream=True)
    if proc.returncode != 0:
        raise dk.registry_error(registry, request.username, proc.stdout) or UserError(
            f"building the serving image FROM {plan.base} failed; see the log above"
        )
    result = PackageResult(plan, capabilities.Builder("classic").describe())
    if request.push:
        result.digest = builders.push(docker, plan.ref, registry, request.username)
    return result


def summary(result: PackageResult) -> str:
    plan = result.plan
    rows = [
        ("Serving image", f"`{result.ref or plan.ref + ' (not pushed)'}`"),
        ("Built FROM", f"`{plan.base}`"),
        ("Model", f"`{plan.model_path}` sha256 `{plan.model_sha256[:16]}…`"),
        ("Model version", f"`{plan.version}` (tag `{plan.tag}`)"),
        ("Builder", result.builder),
        ("Build time", f"{result.seconds:.1f}s"),
    ]
    lines = ["## 📦 Model packaged", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n"
