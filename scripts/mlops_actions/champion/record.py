"""What a champion record says, and whether a promotion may happen. Pure: dicts in, dicts out.

A record names the version, the model's sha256 (from the stored card), the serving image by
digest, the gate's verdict and metrics, and the task definition that serves it. It is written
once per version (`champions/<version>.json`, immutable) and copied to the moving pointer
`champion.json`, which the next gate fetches as its baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_actions.aws.taskdef import TASK_DEFINITION_ARN
from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST

SCHEMA_VERSION = 1


def check_verdict(verdict: Any, source: str) -> Mapping[str, Any]:
    """Only a passed gate verdict can make a champion."""
    if not isinstance(verdict, Mapping) or not isinstance(verdict.get("passed"), bool):
        raise UserError(
            f"{source}: not a gate verdict (no 'passed'); give model-gate's verdict.json"
        )
    if not verdict["passed"]:
        raise UserError(f"{source}: the gate did not pass; a failed model is never promoted")
    if not isinstance(verdict.get("metrics"), Mapping):
        raise UserError(f"{source}: the verdict has no metrics to compare the next model with")
    return verdict


def build(
    *,
    model_name: str,
    version: str,
    card: Mapping[str, Any],
    verdict: Mapping[str, Any],
    serving_image: str,
    task_definition_arn: str,
    previous: Mapping[str, Any] | None,
    promoted_at: str,
    source: Mapping[str, Any],
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
    return {
        "schema_version": SCHEMA_VERSION,
        "model_name": model_name,
        "version": version,
        "model_sha256": model["sha256"],
        "serving_image": serving_image or None,
        "task_definition_arn": task_definition_arn or None,
        "promoted_at": promoted_at,
        "previous_version": (previous or {}).get("version"),
        "source": dict(source),
        "trained_from": {k: card.get(k) for k in ("source", "image", "data") if k in card},
        "verdict": dict(verdict),
    }


def same_promotion(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal but for when and from which run it was promoted: a re-run, not a change."""
    ignored = ("promoted_at", "source", "previous_version")
    return {k: v for k, v in a.items() if k not in ignored} == {
        k: v for k, v in b.items() if k not in ignored
    }
