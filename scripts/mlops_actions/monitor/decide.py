"""What the monitor decides: which features drifted, whether the dataset did, and whether the
model is degraded (drift, or live performance failing the gate's checks). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.monitor.config import MonitorConfig
from mlops_actions.monitor.drift import FeatureDrift


@dataclass(frozen=True)
class FeatureVerdict:
    drift: FeatureDrift
    status: str  # ok | warn | drifted
    method: str  # psi | ks | jensen_shannon
    score: float  # the value the method judged (PSI, KS p-value, JS distance)
    threshold: float
    why: str


@dataclass(frozen=True)
class MonitorDecision:
    features: tuple[FeatureVerdict, ...]
    drift_share: float
    dataset_drifted: bool
    degraded: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    performance: Mapping[str, Any] | None = None  # the gate's verdict on live data, if any

    @property
    def drifted(self) -> list[FeatureVerdict]:
        return [f for f in self.features if f.status == "drifted"]


def judge_feature(d: FeatureDrift, config: MonitorConfig) -> FeatureVerdict:
    method = config.numeric_method if d.kind == "numeric" else config.categorical_method
    warned = d.psi >= config.psi_warn
    if method == "ks":
        p = d.ks_pvalue if d.ks_pvalue is not None else 1.0
        drifted = p < config.ks_alpha
        why = f"KS p={p:.3g} {'<' if drifted else '≥'} {config.ks_alpha:g}"
        return FeatureVerdict(
            d, "drifted" if drifted else ("warn" if warned else "ok"), method, p,
            config.ks_alpha, why,
        )  # fmt: skip
    if method == "jensen_shannon":
        js = d.js_distance or 0.0
        drifted = js >= config.js_threshold
        why = f"JS distance {js:.3f} {'≥' if drifted else '<'} {config.js_threshold:g}"
        return FeatureVerdict(
            d, "drifted" if drifted else ("warn" if warned else "ok"), method, js,
            config.js_threshold, why,
        )  # fmt: skip
    limit = config.psi_drifted
    drifted = d.psi >= limit
    level = "major" if d.psi >= config.psi_major else "warn" if warned else "stable"
    why = f"PSI {d.psi:.3f} ({level})"
    status = "drifted" if drifted else ("warn" if warned else "ok")
    return FeatureVerdict(d, status, "psi", d.psi, limit, why)


def _performance_reasons(verdict: Mapping[str, Any]) -> list[str]:
    reasons = []
    for check in verdict.get("checks") or []:
        if isinstance(check, Mapping) and check.get("status") == "fail":
            reasons.append(f"performance: {check.get('message') or check.get('metric')}")
    if not reasons and verdict.get("passed") is False:
        reasons.append("performance: the live-data gate failed")
    return reasons


def decide(
    drifts: Sequence[FeatureDrift],
    config: MonitorConfig,
    performance: Mapping[str, Any] | None = None,
) -> MonitorDecision:
    """Degraded when the share of drifted features reaches `dataset_share`, or when the gate's
    checks on labelled live data failed. Too few current rows are reported, not judged."""
    notes: list[str] = []
    verdicts = tuple(judge_feature(d, config) for d in drifts)
    rows = max((d.current_rows for d in drifts), default=0)
    judged = bool(verdicts) and rows >= config.min_rows
    if verdicts and not judged:
        notes.append(
            f"only {rows} current rows (drift.min_rows is {config.min_rows}): drift not judged"
        )
    drifted = [v for v in verdicts if v.status == "drifted"]
    share = len(drifted) / len(verdicts) if verdicts else 0.0
    dataset_drifted = judged and share >= config.dataset_share and bool(drifted)
    reasons: list[str] = []
    if dataset_drifted:
        names = ", ".join(f"{v.drift.name} ({v.why})" for v in drifted[:10])
        reasons.append(
            f"drift: {len(drifted)} of {len(verdicts)} features drifted "
            f"({share:.0%} ≥ {config.dataset_share:.0%}): {names}"
        )
    if performance is not None:
        reasons += _performance_reasons(performance)
    return MonitorDecision(
        verdicts,
        share if judged else 0.0,
        dataset_drifted,
        bool(reasons),
        tuple(reasons),
        tuple(notes),
        performance,
    )
