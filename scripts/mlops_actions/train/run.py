"""Train inside the exact image, verify the outputs, write the model card, publish atomically.

The container writes into a fresh staging directory. Only after the run succeeded and every
expected output is present and non-empty are the files moved into the artifacts directory,
the model card last. A failed, timed-out or incomplete run leaves no model behind.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_actions import safe_yaml
from mlops_actions.docker import job_docker_config, resolve_image
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.model_store import CARD_FILE, sha256
from mlops_actions.train import container, ecs_backend, lineage, outputs


@dataclass(frozen=True)
class TrainRequest:
    image: str
    command: str
    artifacts_dir: str = "artifacts"
    data: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    registry: str | None = None
    username: str = ""
    password: str = ""
    network: str | None = None
    cpus: str | None = None
    memory: str | None = None
    gpus: str | None = None
    user: str | None = None
    timeout_minutes: float = 60
    model_path: str = "model.skops"
    metrics_file: str = "metrics.json"
    predictions_file: str = "holdout-predictions.csv"
    # the holdout's feature rows with their ids: what the champion is scored on (score-champion)
    features_file: str = "holdout-features.csv"
    backend: str = "docker"  # docker | ecs
    ecs: ecs_backend.EcsSettings | None = None


@dataclass
class TrainResult:
    model_path: Path
    model_sha256: str
    card_path: Path
    card: dict[str, Any]
    image_ref: str
    metrics_path: Path | None = None
    predictions_path: Path | None = None
    features_path: Path | None = None
    warnings: list[str] = field(default_factory=list)


class TrainingFailed(Exception):
    """The training run itself failed (exit code, timeout, missing output): exit 1, not 2."""

    def __init__(self, message: str, tail: list[str]):
        super().__init__(message)
        self.message, self.tail = message, tail


def data_fingerprint(path: Path) -> dict[str, Any]:
    """sha256 of a file or a directory (over its sorted files), or DVC's own hash when a .dvc
    file describes it."""
    dvc = path.with_name(path.name + ".dvc")
    if dvc.is_file():
        try:
            parsed = safe_yaml.load(dvc.read_text(encoding="utf-8", errors="replace"), str(dvc))
        except UserError:
            parsed = None
        outs = (parsed.get("outs") if isinstance(parsed, dict) else None) or []
        outs = outs if isinstance(outs, list) else []
        if outs and isinstance(outs[0], dict):
            return {
                "dvc": {k: outs[0][k] for k in ("md5", "hash", "size", "nfiles") if k in outs[0]}
            }
    if path.is_file():
        return {"sha256": sha256(path)}
    lines = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        lines.append(f"{file.relative_to(path).as_posix()} {sha256(file)}")
    import hashlib

    return {"sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(), "files": len(lines)}


def _mounts(data: tuple[str, ...]) -> list[tuple[Path, str]]:
    mounts, seen = [], set()
    for item in data:
        host = Path(item).expanduser()
        if not host.exists():
            raise UserError(
                f"data: {shown(item)} does not exist; give existing files or directories"
            )
        target = f"/data/{host.resolve().name}"
        if target in seen:
            raise UserError(f"data: two inputs are both named {shown(host.name)}; rename one")
        seen.add(target)
        mounts.append((host.resolve(), target))
    return mounts


@dataclass(frozen=True)
class _Checked:
    """Everything train() needs, validated before anything on disk or in Docker is touched."""

    command: list[str]
    mounts: list[tuple[Path, str]]
    artifacts: Path
    model: Path
    metrics: Path
    predictions: Path
    features: Path


def _split_command(text: str) -> list[str]:
    try:
        command = shlex.split(text)
    except ValueError as exc:
        raise UserError(
            f"command: cannot split {shown(text)} into words ({exc}); check its quotes"
        ) from None
    if not command:
        raise UserError(
            "command: give the training command, e.g. python src/train.py --output-path "
            "/app/artifacts/model.skops"
        )
    return command


def check_request(request: TrainRequest) -> _Checked:
    image = request.image
    if not image:
        raise UserError("image: give the image to train in, ideally image@sha256:...")
    if image.startswith("-") or any(c.isspace() for c in image):
        raise UserError(
            f"image: {shown(image)} is not an image reference, e.g. ghcr.io/o/r@sha256:…"
        )
    if request.backend not in ("docker", "ecs"):
        raise UserError(f"backend: expected docker or ecs, got {shown(request.backend)}")
    if request.user and request.user.strip().split(":", 1)[0] in ("0", "root"):
        raise UserError("user: training never runs as root; give a non-root user or uid")
    minutes = request.timeout_minutes
    if not (math.isfinite(minutes) and minutes > 0):
        raise UserError(f"timeout-minutes: expected a positive number, got {shown(minutes)}")
    command = _split_command(request.command)
    artifacts = Path(request.artifacts_dir).expanduser().resolve()
    if artifacts.exists() and not artifacts.is_dir():
        raise UserError(f"artifacts-dir: {shown(request.artifacts_dir)} is not a directory")
    model = outputs.inside(artifacts, request.model_path, "model-path")
    metrics = outputs.inside(artifacts, request.metrics_file, "metrics-file")
    predictions = outputs.inside(artifacts, request.predictions_file, "predictions-file")
    features = outputs.inside(artifacts, request.features_file, "features-file")
    card = artifacts / CARD_FILE
    if model == card:
        raise UserError(f"model-path: {CARD_FILE} is the model card's name; choose another")
    if model.is_dir() and not model.is_symlink():
        raise UserError(
            f"model-path: {model} is a directory; name the model file inside artifacts-dir"
        )
    mounts = _mounts(request.data)
    if request.backend == "ecs" and request.data:
        raise UserError(
            "data: host paths cannot be mounted into an ECS task; give the task its data "
            "through S3 (env) or use backend docker"
        )
    if request.backend == "ecs" and request.ecs is None:
        raise UserError("backend ecs needs ecs-cluster, ecs-task-definition and s3-uri")
    return _Checked(command, mounts, artifacts, model, metrics, predictions, features)


def _clear_previous(checked: _Checked) -> None:
    # A model from an earlier run must not survive a failed run and look current. Only paths
    # already checked to lie inside artifacts; a symlink there is removed, never followed.
    for path in (checked.model, checked.artifacts / CARD_FILE):
        if path.is_symlink() or path.is_file():
            path.unlink()


def unchanged(request: TrainRequest, card: dict[str, Any]) -> str | None:
    """Why this run would repeat the one behind `card` (the champion's), or None. Only an image
    pinned by digest can be compared; the data is fingerprinted as the card records it."""
    checked = check_request(request)
    if not lineage.image_is_pinned(request.image):
        return None
    return lineage.unchanged_since(
        card,
        image_digest=request.image.rsplit("@", 1)[1],
        data=[
            {"path": str(request.data[i]), "mount": t, **data_fingerprint(h)}
            for i, (h, t) in enumerate(checked.mounts)
        ],
        command=checked.command,
        params=request.params,
    )


def train(
    request: TrainRequest, env: dict[str, str], event: dict[str, Any], *, github: bool
) -> TrainResult:
    checked = check_request(request)  # validate everything first: no side effect before this
    command, mounts, artifacts = checked.command, checked.mounts, checked.artifacts
    if artifacts.is_dir():
        _clear_previous(checked)
    artifacts.mkdir(parents=True, exist_ok=True)
    warnings = []
    if not lineage.image_is_pinned(request.image):
        warnings.append(
            f"image {shown(request.image)} is a mutable tag; pass image@sha256:... so training "
            "uses exactly the image that was built and tested"
        )
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=artifacts))  # mode 0700
    run_details: dict[str, Any] = {}
    model_rel = checked.model.relative_to(artifacts).as_posix()
    metrics_rel = checked.metrics.relative_to(artifacts).as_posix()
    predictions_rel = checked.predictions.relative_to(artifacts).as_posix()
    features_rel = checked.features.relative_to(artifacts).as_posix()
    try:
        if request.backend == "ecs":
            outcome, image, software, run_details = _run_on_ecs(request, command, staging)
        else:
            outcome, image, software = _run_in_docker(request, command, mounts, staging, github)
        if outcome.timed_out:
            raise TrainingFailed(
                f"training timed out after {request.timeout_minutes:g} minutes and was stopped",
                outcome.tail,
            )
        if outcome.exit_code != 0:
            raise TrainingFailed(
                f"training command exited with code {outcome.exit_code}", outcome.tail
            )
        try:
            produced = outputs.check_tree(staging)
        except outputs.UnsafeOutput as unsafe:
            raise TrainingFailed(unsafe.message, outcome.tail) from None
        model = staging / model_rel
        if model_rel not in produced or model.stat().st_size == 0:
            raise TrainingFailed(
                f"expected output {shown(model_rel)} is missing or empty in the "
                "artifacts directory "
                f"(found: {', '.join(produced) or 'nothing'}); check model-path and the "
                "command's --output-path",
                outcome.tail,
            )
        if lineage.model_format(model_rel) == "pickle":
            warnings.append(
                f"{model_rel} is a pickle/joblib file: loading it runs arbitrary code; "
                "save with skops (skops.io.dump) instead"
            )
        empty = [rel for rel in produced if (staging / rel).stat().st_size == 0]
        if empty:
            raise TrainingFailed(f"outputs are empty: {', '.join(empty)}", outcome.tail)
        files = {rel: outputs.sha256_no_follow(staging / rel) for rel in produced}
        metrics = None
        if metrics_rel in files:
            text = outputs.read_text_no_follow(staging / metrics_rel)
            try:
                metrics = json.loads(text) if text is not None else None
            except ValueError:
                metrics = None
            if not isinstance(metrics, dict):
                metrics = None
                warnings.append(
                    f"{metrics_rel} is not a JSON object under 1 MiB; left out of the model card"
                )
        started = datetime.fromtimestamp(outcome.started_at, timezone.utc)
        finished = datetime.fromtimestamp(outcome.finished_at, timezone.utc)
        card = lineage.build_card(
            model={
                "path": model_rel,
                "sha256": files[model_rel],
                "format": lineage.model_format(model_rel),
                "bytes": model.stat().st_size,
            },
            files=files,
            image={
                k: image[k] for k in ("requested", "ref", "digest", "image_id", "pinned_by_digest")
            },
            data=[
                {"path": str(request.data[i]), "mount": t, **data_fingerprint(h)}
                for i, (h, t) in enumerate(mounts)
            ],
            params=request.params,
            metrics=metrics,
            environment=software,
            run={
                "backend": request.backend,
                **run_details,
                "started_at": started.isoformat(),
                "finished_at": finished.isoformat(),
                "duration_seconds": round(outcome.finished_at - outcome.started_at, 3),
                "exit_code": 0,
                "network": request.network or "default",
                "cpus": request.cpus,
                "memory": request.memory,
                "gpus": request.gpus,
            },
            github=lineage.github_source(env, event),
            command=command,
        )
        # Publish: every output into place, then the card, which marks the set complete.
        for relative in files:
            target = artifacts / relative
            if not target.resolve().is_relative_to(artifacts):
                raise TrainingFailed(
                    f"output {shown(relative)} would land outside the artifacts directory "
                    "(a symlinked folder in artifacts-dir?)",
                    outcome.tail,
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / relative, target)
        card_path = artifacts / CARD_FILE
        tmp = artifacts / f".{CARD_FILE}.tmp"
        tmp.write_text(lineage.card_json(card))
        os.replace(tmp, card_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return TrainResult(
        model_path=checked.model,
        model_sha256=files[model_rel],
        card_path=card_path,
        card=card,
        image_ref=str(image["ref"]),
        metrics_path=checked.metrics if metrics_rel in files else None,
        predictions_path=checked.predictions if predictions_rel in files else None,
        features_path=checked.features if features_rel in files else None,
        warnings=warnings,
    )


def _run_in_docker(
    request: TrainRequest,
    command: list[str],
    mounts: list[tuple[Path, str]],
    staging: Path,
    github: bool,
) -> tuple[container.RunOutcome, dict[str, Any], dict[str, Any]]:
    with job_docker_config() as docker:
        image = resolve_image(
            docker, request.image, request.registry, request.username, request.password
        )
        software = container.versions(docker, str(image["ref"]))
        user = container.run_user(request.user, str(image["user"]))
        extra_group = container.grant_staging(docker, staging, user, str(image["ref"]))
        spec = container.ContainerSpec(
            image=request.image,
            command=command,
            artifacts_dir=str(staging),
            data=[(str(h), t) for h, t in mounts],
            env={**request.env, "MLOPS_PARAMS": json.dumps(request.params)},
            network=request.network,
            cpus=request.cpus,
            memory=request.memory,
            gpus=request.gpus,
            user=user,
            group_add=extra_group,
            timeout_seconds=request.timeout_minutes * 60,
        )
        return container.run(docker, spec, image, github=github), image, software


def _run_on_ecs(
    request: TrainRequest, command: list[str], staging: Path
) -> tuple[container.RunOutcome, dict[str, Any], dict[str, Any], dict[str, Any]]:
    assert request.ecs is not None  # check_request() made sure
    pinned = lineage.image_is_pinned(request.image)
    image = {
        "requested": request.image,
        "ref": request.image,
        "digest": request.image.split("@", 1)[1] if pinned else None,
        "image_id": None,
        "pinned_by_digest": pinned,
    }
    try:
        run = ecs_backend.run_task(
            request.ecs,
            request.image,
            command,
            {**request.env, "MLOPS_PARAMS": json.dumps(request.params)},
            staging,
            request.timeout_minutes * 60,
        )
    except ecs_backend.TaskFailed as failed:
        raise TrainingFailed(failed.message, failed.tail) from None
    software: dict[str, Any] = {"note": "not probed: the task ran on ECS"}
    try:  # the same digest runs the same software: probe it locally when Docker is here
        with job_docker_config() as docker:
            if pinned and docker.run("pull", request.image).returncode == 0:
                software = {
                    **container.versions(docker, request.image),
                    "probed": "locally, same digest",
                }
    except UserError:
        pass
    return run.outcome, image, software, ecs_backend.describe(run)


def summary(result: TrainResult) -> str:
    card = result.card
    metrics = card.get("metrics") or {}
    shown = (
        ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, int | float)) or "—"
    )
    rows = [
        (
            "Model",
            f"`{result.model_path.name}` ({card['model']['format']}) `{result.model_sha256[:16]}…`",
        ),
        ("Image", f"`{result.image_ref}`"),
        ("Duration", f"{card['run']['duration_seconds']:.1f}s"),
        ("Metrics", shown),
        (
            "Data",
            "<br>".join(
                f"`{d['path']}` `{(d.get('sha256') or json.dumps(d.get('dvc')))[:16]}…`"
                for d in card["data"]
            )
            or "—",
        ),
        ("Python in image", str(card["environment"].get("python"))),
    ]
    lines = [
        "## 🏋️ Training finished",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
    ]
    lines += [f"> ⚠️ {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def failure_summary(message: str, tail: list[str]) -> str:
    shown_tail = "\n".join(tail[-40:])
    fence = runner.code_fence(shown_tail)  # a log line must not close the block
    return "\n".join(
        [
            "## ❌ Training failed",
            "",
            message,
            "",
            "Last log lines:",
            "",
            fence,
            shown_tail,
            fence,
            "",
        ]
    )
