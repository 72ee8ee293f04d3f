"""What a champion record says, and whether a promotion may happen. Pure: dicts in, dicts out.

A record names the version, the model's sha256 (from the stored card), the serving image by
digest, the gate's verdict and metrics, and what serves it (a task definition or an endpoint
config). It is written once per version and stage, and never changes. The stage's pointer
(the S3 `champion.json`, or the MLflow alias `champion`) is that record plus the move that
put it there: the version it replaced, when, and a sequence number, one up per move.

The rules every store follows:
- the pointer only moves forward: a version trained in an older run than the champion's is
  refused, unless `force` (a deliberate rollback);
- a version's record is immutable: promoting it again with another image, verdict or server is
  refused; the same promotion again changes nothing. In production the server (a task definition
  revision, an endpoint config) belongs to the move: each deploy registers a new one, so a
  re-release, or a re-run of a release, is judged on image, model and verdict alone;
- the pointer moves by compare-and-swap on what was read, so `previous_version` is the
  champion actually replaced; on a conflict the promotion reads again and decides again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlops_actions.aws.taskdef import TASK_DEFINITION_ARN
from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST

SCHEMA_VERSION = 1
# The pipeline names versions <run number>.<attempt>-<sha7>; older ones <run number>-<sha7>.
_VERSION_RUN = re.compile(r"^(?P<number>\d+)(?:\.(?P<attempt>\d+))?-[0-9a-f]{7,40}$")
# `release` (production only: the tag and the staging record) belongs to the move, so the same
# version released again under a new tag, or rolled back to, is no change of its record.
MOVE_FIELDS = ("previous_version", "promoted_at", "sequence", "source", "forced", "release")
# What serves a version: in production, part of the move (each deploy registers its own).
SERVER_FIELDS = ("task_definition_arn", "endpoint_config")
# What a production record fixes for good: the same version goes back with exactly these.
PRODUCTION_IMMUTABLE = ("serving_image", "model_sha256", "verdict")


def build(
    *,
    model_name: str,
    version: str,
    card: Mapping[str, Any],
    verdict: Mapping[str, Any],
    serving_image: str,
    task_definition_arn: str,
    promoted_at: str,
    source: Mapping[str, Any],
    endpoint_config: str = "",
) -> dict[str, Any]:
    model = card.get("model") if isinstance(card.get("model"), Mapping) else None
    if not model or not isinstance(model.get("sha256"), str):
        raise UserError(f"version {version}: its model card has no model.sha256")
    if serving_image and not IMAGE_BY_DIGEST.match(serving_image):
        raise UserError(
            f"serving-image-ref: {shown(serving_image)} must be the image by digest "
            "(repo@sha256:…), so the record names exactly what runs"
        )
    if task_definition_arn and not TASK_DEFINITION_ARN.match(task_definition_arn):
        raise UserError(
            f"task-definition-arn: {shown(task_definition_arn)} is not a task definition ARN"
        )
    record = {
        "schema_version": SCHEMA_VERSION,
        "model_name": model_name,
        "version": version,
        "model_sha256": model["sha256"],
        "serving_image": serving_image or None,
        "task_definition_arn": task_definition_arn or None,
        "promoted_at": promoted_at,
        "previous_version": None,
        "source": dict(source),
        "trained_from": {k: card.get(k) for k in ("source", "image", "data") if k in card},
        "order": order_of(version, card).as_dict(),
        "verdict": dict(verdict),
    }
    if endpoint_config:
        record["endpoint_config"] = endpoint_config
    return record


def same_promotion(a: Mapping[str, Any], b: Mapping[str, Any], stage: str = "champion") -> bool:
    """Equal but for the move (when, from which run, what it replaced): a re-run, not a change.
    `order` is derived from the stored card, so records written before it existed still match.
    In production only the image, the model and the verdict count: the server is the move's."""
    if stage == "production":
        return all(a.get(k) == b.get(k) for k in PRODUCTION_IMMUTABLE)
    ignored = (*MOVE_FIELDS, "order")
    return {k: v for k, v in a.items() if k not in ignored} == {
        k: v for k, v in b.items() if k not in ignored
    }


# --- ordering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    """When a version was trained, as its card tells: the workflow run (number, attempt) of a
    repository, and the training's start time."""

    repository: str | None = None
    run: tuple[int, int] | None = None
    trained_at: str | None = None  # ISO 8601
    workflow: str | None = None  # run numbers count per workflow file

    def as_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "run_number": self.run[0] if self.run else None,
            "run_attempt": self.run[1] if self.run else None,
            "trained_at": self.trained_at,
            "workflow": self.workflow,
        }

    def describe(self) -> str:
        if self.run:
            return f"run {self.run[0]} attempt {self.run[1]}"
        return f"trained at {self.trained_at}" if self.trained_at else "no run or time recorded"


def _whole(value: Any) -> int | None:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isdigit() else None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def order_of(version: str, card: Mapping[str, Any]) -> Order:
    """The card's run number and attempt (else the pipeline's version name), and its start."""
    source = card.get("source") if isinstance(card.get("source"), Mapping) else {}
    assert isinstance(source, Mapping)
    number, attempt = _whole(source.get("run_number")), _whole(source.get("run_attempt"))
    if number is None:
        named = _VERSION_RUN.match(version)
        if named:
            number, attempt = int(named["number"]), int(named["attempt"] or 1)
    run = card.get("run") if isinstance(card.get("run"), Mapping) else {}
    assert isinstance(run, Mapping)
    started = run.get("started_at")
    repository, workflow = source.get("repository"), source.get("workflow")
    return Order(
        repository if isinstance(repository, str) else None,
        (number, attempt or 1) if number is not None else None,
        started if _instant(started) else None,
        workflow if isinstance(workflow, str) else None,
    )


def compare(a: Order, b: Order) -> int | None:
    """-1 when a was trained before b, 1 after, 0 in the same run; None when the cards cannot
    tell. Runs of one workflow of one repository are compared by number and attempt (a re-run
    of an old run is still old); otherwise, or in the same run, by the training's start time."""

    def same(x: str | None, y: str | None) -> bool:
        return x is None or y is None or x == y

    comparable = same(a.repository, b.repository) and same(a.workflow, b.workflow)
    if a.run and b.run and comparable and a.run != b.run:
        return -1 if a.run < b.run else 1
    at, bt = _instant(a.trained_at), _instant(b.trained_at)
    if at and bt and at != bt:
        return -1 if at < bt else 1
    if a.run and b.run and a.run == b.run:
        return 0
    return None


@dataclass(frozen=True)
class Decision:
    move: bool  # False: the pointer already names this version
    rollback: bool = False  # moving to an older version, because `force` was given
    note: str = ""


def decide(
    current: Mapping[str, Any] | None,
    current_order: Order | None,
    version: str,
    order: Order,
    *,
    stage: str,
    force: bool,
) -> Decision:
    """May `version` (trained as `order`) replace the stage's current pointer?"""
    if current is None:
        return Decision(True, note=f"the first {stage}")
    if current.get("version") == version:
        return Decision(False, note=f"{version} is already the {stage}")
    theirs = str(current.get("version"))
    direction = compare(order, current_order) if current_order is not None else None
    if direction == 1:
        return Decision(True, note=f"{version} ({order.describe()}) replaces {theirs}")
    if force:
        return Decision(True, rollback=True, note=f"forced: {version} replaces {theirs}")
    if direction is None:
        raise UserError(
            f"version: cannot tell whether {version} ({order.describe()}) is newer than the "
            f"{stage} {theirs}; their model cards record no comparable run or time. Set force: "
            "true to move it anyway"
        )
    raise UserError(
        f"version: {version} ({order.describe()}) is older than the {stage} {theirs} "
        f"({current_order.describe() if current_order else '?'}); the {stage} only moves "
        "forward. Set force: true (--force true) for a deliberate rollback"
    )


def moved(
    record: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    decision: Decision,
    *,
    promoted_at: str,
    source: Mapping[str, Any],
    release: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The pointer after this move: the version's record, what it replaced, one up in sequence
    (and, for production, the release this move made)."""
    sequence = current.get("sequence") if current else 0
    pointer = {
        **{k: v for k, v in record.items() if k != "release"},
        "previous_version": current.get("version") if current else None,
        "promoted_at": promoted_at,
        "sequence": (sequence if isinstance(sequence, int) else 0) + 1,
        "source": dict(source),
        "forced": decision.rollback,
    }
    if release is not None:
        pointer["release"] = dict(release)
    return pointer


def history_entry(pointer: Mapping[str, Any]) -> dict[str, Any]:
    """One line of a stage's history: the move and the gate's summary, without the verdict's
    bulk (groups, intervals)."""
    verdict = pointer.get("verdict") if isinstance(pointer.get("verdict"), Mapping) else {}
    assert isinstance(verdict, Mapping)
    checks = [c for c in verdict.get("checks") or [] if isinstance(c, Mapping)]
    metrics = verdict.get("metrics") if isinstance(verdict.get("metrics"), Mapping) else {}
    assert isinstance(metrics, Mapping)
    headline = {}
    for name in ("precision", "recall", "f1", "roc_auc"):
        value = metrics.get(name)
        value = value.get("value") if isinstance(value, Mapping) else value
        if isinstance(value, int | float) and not isinstance(value, bool):
            headline[name] = value
    return {
        "sequence": pointer.get("sequence"),
        "version": pointer.get("version"),
        "promoted_at": pointer.get("promoted_at"),
        "previous_version": pointer.get("previous_version"),
        "forced": bool(pointer.get("forced")),
        "serving_image": pointer.get("serving_image"),
        "task_definition_arn": pointer.get("task_definition_arn"),
        "endpoint_config": pointer.get("endpoint_config"),
        "model_sha256": pointer.get("model_sha256"),
        "gate": {
            "passed": verdict.get("passed"),
            "checks_passed": sum(1 for c in checks if c.get("status") == "pass"),
            "checks_failed": sum(1 for c in checks if c.get("status") == "fail"),
            "metrics": headline,
        },
        "source": pointer.get("source") or {},
        **({"release": pointer["release"]} if isinstance(pointer.get("release"), Mapping) else {}),
    }
