"""Assemble the verdict document (what verdict.json holds) from the gate's results. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions import __version__
from mlops_actions.gate.config import GateConfig
from mlops_actions.gate.decide import Decision, Groups, PairedComparison
from mlops_actions.gate.metrics import Confusion, Estimate

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class GateResult:
    config: GateConfig
    metrics: Mapping[str, Estimate]
    decision: Decision
    confusion: Confusion | None = None
    groups: Groups | None = None
    baseline: Mapping[str, Estimate] | None = None  # the champion's stored metrics (unpaired)
    inputs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rows: int | None = None
    paired: PairedComparison | None = None  # the champion on these rows
    # gate/curves.py's points per model ("challenger", and "champion" when paired with scores)
    curves: Mapping[str, Mapping[str, Any]] | None = None


def _number(x: float | None) -> float | None:
    return None if x is None else float(x)


def _estimate(e: Estimate) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _number(e.value)}
    if e.low is not None:
        out["ci"] = [_number(e.low), _number(e.high)]
        out["method"] = e.method
    if e.reason:
        out["reason"] = e.reason
    return out


def build_verdict(result: GateResult) -> dict[str, Any]:
    config = result.config
    decision = result.decision
    verdict: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mlops-actions model-gate", "version": __version__},
        "passed": decision.passed,
        "summary": {
            "checks": len(decision.checks),
            "failed": len(decision.failed),
            "skipped": sum(c.status == "skipped" for c in decision.checks),
        },
        "settings": {
            "decision_threshold": config.decision_threshold,
            "positive_label": config.positive_label,
            "confidence_level": config.confidence_level,
            "gate_on": config.gate_on,
        },
        "metrics": {k: _number(e.value) for k, e in result.metrics.items()},
        "intervals": {
            k: {"low": _number(e.low), "high": _number(e.high), "method": e.method}
            for k, e in result.metrics.items()
            if e.low is not None
        },
        "undefined": {k: e.reason for k, e in result.metrics.items() if e.value is None},
        "checks": [
            {
                "kind": c.kind,
                "metric": c.metric,
                "rule": c.op,
                "observed": _number(c.observed),
                "bound": c.bound,
                "ci": list(c.ci) if c.ci else None,
                "baseline": _number(c.baseline),
                "group_column": c.group_column,
                "comparison": c.comparison,
                "difference": _number(c.difference),
                "difference_ci": list(c.difference_ci) if c.difference_ci else None,
                "detectable": _number(c.detectable),
                "limit": _number(c.limit),
                "status": c.status,
                "passed": c.passed,
                "message": c.message,
            }
            for c in decision.checks
        ],
        "notes": list(decision.notes),
        "baseline": None
        if result.baseline is None
        else {k: _number(e.value) for k, e in result.baseline.items()},
        "inputs": {k: dict(v) for k, v in result.inputs.items()},
    }
    if result.paired is not None:
        p = result.paired
        verdict["champion"] = {
            "comparison": "paired",
            "rows": p.rows,
            "positives": p.positives,
            "metrics": {k: _estimate(e) for k, e in p.champion.items()},
            "differences": {k: _estimate(e) for k, e in p.differences.items()},
        }
    if result.confusion is not None:
        c = result.confusion
        verdict["confusion_matrix"] = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn}
        verdict["support"] = {"rows": c.rows, "positives": c.positives, "negatives": c.negatives}
    if result.groups is not None:
        verdict["groups"] = {
            column: {
                name: {
                    "rows": g.rows,
                    "positives": g.positives,
                    "metrics": {k: _estimate(e) for k, e in g.metrics.items()},
                }
                for name, g in sorted(groups.items())
            }
            for column, groups in result.groups.items()
        }
    if result.curves is not None:
        verdict["curves"] = {name: dict(c) for name, c in result.curves.items()}
    return verdict
