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
    status: str  # ok | warn | drifted | not_judged
    method: str  # ks | chi_square | psi | jensen_shannon
    score: float | None  # the value the method judged (a p-value, PSI, JS distance)
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
    not_judged: tuple[str, ...] = ()  # why drift could not be judged (empty: it was)

    @property
    def drifted(self) -> list[FeatureVerdict]:
        return [f for f in self.features if f.status == "drifted"]

    @property
    def outcome(self) -> str:
        """degraded | not-judged | ok. Not judged is no all-clear: fail-on treats it as failing."""
        if self.degraded:
            return "degraded"
        return "not-judged" if self.not_judged else "ok"


def _tested(d: FeatureDrift, config: MonitorConfig, method: str) -> FeatureVerdict:
    """A test's p-value against alpha; warn below 5·alpha. `ks` forces KS on a numeric
    feature of few values too (where `auto` takes chi-square: KS is conservative on ties)."""
    if method == "ks" and d.test != "ks":
        test, p = "ks", d.ks_pvalue
    else:
        test, p = d.test, d.pvalue
    if p is None:
        if not (d.current_rows and d.reference_rows):
            why = "no rows to test"
        elif test == "chi_square":
            why = ("every value too rare to test: an id, a timestamp or free text? "
                   "list it under columns.exclude")  # fmt: skip
        else:
            why = "no values present to test"
        return FeatureVerdict(d, "not_judged", test, None, config.alpha, why)
    drifted = p < config.alpha
    status = "drifted" if drifted else ("warn" if p < min(0.5, 5 * config.alpha) else "ok")
    name = "KS" if test == "ks" else "χ²"
    why = f"{name} p={p:.3g} {'<' if drifted else '≥'} {config.alpha:g}"
    return FeatureVerdict(d, status, test, p, config.alpha, why)


def judge_feature(d: FeatureDrift, config: MonitorConfig) -> FeatureVerdict:
    method = config.numeric_method if d.kind == "numeric" else config.categorical_method
    if method in ("auto", "ks", "chi_square"):
        return _tested(d, config, method)
    warned = d.psi >= config.psi_warn
    if method == "jensen_shannon":
        if d.js_distance is None:
            return FeatureVerdict(d, "not_judged", method, None, config.js_threshold, "no JS")
        js = d.js_distance
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
    checks on labelled live data failed. Not judged (and so no all-clear) when there is no
    feature, no current row, fewer than `min_rows`, or a feature that could not be tested."""
    notes: list[str] = []
    not_judged: list[str] = []
    verdicts = tuple(judge_feature(d, config) for d in drifts)
    rows = max((d.current_rows for d in drifts), default=0)
    if not verdicts:
        not_judged.append("no feature to compare")
    elif rows == 0:
        not_judged.append("the current data has no rows")
    elif rows < config.min_rows:
        not_judged.append(f"only {rows} current rows (drift.min_rows is {config.min_rows})")
    reference_rows = max((d.reference_rows for d in drifts), default=0)
    if verdicts and reference_rows < config.min_rows:
        not_judged.append(
            f"only {reference_rows} reference rows (drift.min_rows is {config.min_rows})"
        )
    untested = [v for v in verdicts if v.status == "not_judged"]
    if untested and rows:
        names = ", ".join(f"{v.drift.name} ({v.why})" for v in untested[:10])
        not_judged.append(f"{len(untested)} features could not be tested: {names}")
    judged = [v for v in verdicts if v.status != "not_judged"]
    drifted = [v for v in judged if v.status == "drifted"]
    share = len(drifted) / len(judged) if judged else 0.0
    enough = bool(judged) and min(rows, reference_rows) >= config.min_rows
    dataset_drifted = enough and share >= config.dataset_share and bool(drifted)
    reasons: list[str] = []
    if dataset_drifted:
        names = ", ".join(f"{v.drift.name} ({v.why})" for v in drifted[:10])
        reasons.append(
            f"drift: {len(drifted)} of {len(judged)} features drifted "
            f"({share:.0%} ≥ {config.dataset_share:.0%}): {names}"
        )
    if performance is not None:
        reasons += _performance_reasons(performance)
    return MonitorDecision(
        verdicts,
        share if enough else 0.0,
        dataset_drifted,
        bool(reasons),
        tuple(reasons),
        tuple(notes),
        performance,
        tuple(not_judged),
    )
