"""Reading the gate's small input files: config YAML, metrics and baseline JSON.

Predictions files are read by `predictions.py`. Everything that can be wrong in a user's file
becomes a UserError naming the file, the field and the fix.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_actions import safe_json, safe_yaml
from mlops_actions.errors import UserError, shown
from mlops_actions.gate.config import GateConfig, parse_config
from mlops_actions.gate.metrics import METRICS, Estimate


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: {what} file not found; check the path (relative to {Path.cwd()})")
    if p.is_dir():
        raise UserError(f"{path}: is a directory; give the {what} file inside it")
    if p.stat().st_size == 0:
        raise UserError(f"{path}: {what} file is empty", file=path)
    return p


def load_config(path: str) -> GateConfig:
    _require_file(path, "config")
    return parse_config(safe_yaml.read(path, "gate config"), path)


def _load_json(path: str, what: str) -> Any:
    _require_file(path, what)
    return safe_json.read(path, what)


def _as_estimate(path: str, key: str, raw: Any, intervals: Mapping[str, Any]) -> Estimate:
    ci = intervals.get(key)
    if isinstance(raw, Mapping):
        ci = raw.get("ci", ci)
        raw = raw.get("value")
    if raw is None:
        return Estimate.undefined("not computed in the metrics file")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise UserError(
            f"{path}: field '{key}': expected a finite number, got {shown(raw)}", file=path
        )
    value = float(raw)
    high = math.inf if key == "log_loss" else 1.0
    if not 0.0 <= value <= high:
        raise UserError(
            f"{path}: field '{key}': {value} is outside [0, {high:g}]; {key} is a rate", file=path
        )
    low_ci = high_ci = None
    if isinstance(ci, Mapping):
        ci = [ci.get("low"), ci.get("high")]
    if (
        isinstance(ci, list | tuple)
        and len(ci) == 2
        and all(isinstance(v, int | float) for v in ci)
    ):
        low_ci, high_ci = float(ci[0]), float(ci[1])
    return Estimate(value, low_ci, high_ci, "given" if low_ci is not None else "")


def load_metrics_file(path: str, what: str = "metrics") -> dict[str, Estimate]:
    """A plain metrics JSON ({"precision": 0.91, ...}) or a previous verdict.json."""
    data = _load_json(path, what)
    shape_hint = (
        f'expected a {what} JSON object like {{"precision": 0.91, "recall": 0.84}} '
        "or a verdict.json from a previous gate run"
    )
    if not isinstance(data, Mapping):
        raise UserError(f"{path}: {shape_hint}, got a JSON {type(data).__name__}", file=path)
    intervals: Mapping[str, Any] = {}
    if isinstance(data.get("metrics"), Mapping):
        intervals = data.get("intervals") if isinstance(data.get("intervals"), Mapping) else {}  # type: ignore[assignment]
        data = data["metrics"]
    found = {k: _as_estimate(path, k, v, intervals) for k, v in data.items() if k in METRICS}
    if not found:
        raise UserError(
            f"{path}: no known metric found; {shape_hint} (known: {', '.join(METRICS)})", file=path
        )
    return found


def load_baseline(path: str) -> dict[str, Estimate]:
    """The champion's stored metrics (a verdict.json, or plain metrics), with their intervals
    where the file has them: an unpaired bound check compares bound to bound."""
    document = _load_json(path, "baseline")
    if isinstance(document, Mapping) and document.get("passed") is False:
        # A champion is a model that passed its gate: a failed verdict is the wrong file.
        raise UserError(
            f"{path}: field 'passed' is false: this verdict failed its own gate, so it is no "
            "champion to compare with; give the verdict of the promoted model",
            file=path,
        )
    estimates = load_metrics_file(path, "baseline")
    return {k: e for k, e in estimates.items() if e.value is not None}
