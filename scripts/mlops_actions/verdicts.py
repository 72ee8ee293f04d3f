"""The gate's verdict as the later stages take it: a verdict.json path or the model-gate
output `verdict` (its JSON text), and the one rule they share: only a passed verdict deploys
or becomes a champion. Shared by deploy, deploy-sagemaker and promote; imports no action
package."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_actions import safe_json
from mlops_actions.errors import UserError, shown


def read(value: str | None, field: str = "verdict") -> tuple[dict[str, Any], str]:
    """(the verdict, where it came from) from a path or from JSON text."""
    text = (value or "").strip()
    if not text:
        raise UserError(f"{field}: empty; give model-gate's verdict.json (or its verdict output)")
    source = f"{field} (JSON text)"
    if text.startswith("{"):
        verdict = safe_json.loads(text, source, "model-gate verdict")
    else:
        if not Path(text).is_file():
            raise UserError(f"{field}: {shown(text)} is not a file; give model-gate's verdict.json")
        source = text
        verdict = safe_json.read(text, "model-gate verdict.json")
    return check_passed(verdict, source), source


def check_passed(verdict: Any, source: str) -> dict[str, Any]:
    """Only a passed gate verdict, with the metrics the next gate compares against."""
    if not isinstance(verdict, Mapping) or not isinstance(verdict.get("passed"), bool):
        raise UserError(
            f"{source}: not a gate verdict (no 'passed'); give model-gate's verdict.json"
        )
    if not verdict["passed"]:
        raise UserError(
            f"{source}: the gate did not pass; a failed model is never deployed or promoted"
        )
    if not isinstance(verdict.get("metrics"), Mapping):
        raise UserError(f"{source}: the verdict has no metrics to compare the next model with")
    return dict(verdict)
