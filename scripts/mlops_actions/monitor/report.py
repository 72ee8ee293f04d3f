"""The monitor's report (report.md and the job summary). Pure: a decision in, Markdown out.

A table of every feature with its drift score drawn as a Unicode bar, then, for each drifted
feature, its bins side by side: the reference's share and the current share. Column and
category names come from the data, so they are escaped for Markdown.
"""

from __future__ import annotations

import math

from mlops_actions.charts import bar, cell
from mlops_actions.monitor.config import MonitorConfig
from mlops_actions.monitor.decide import FeatureVerdict, MonitorDecision

_MARK = {"drifted": "🔴 drifted", "warn": "🟡 warn", "ok": "🟢 ok", "not_judged": "⚪ not judged"}
_TESTS = ("ks", "chi_square")  # judged by a p-value: smaller is more drifted
_MAX_BINS_SHOWN = 12


def _score(v: FeatureVerdict) -> str:
    if v.score is None:
        return "—"
    if v.method in _TESTS:
        return f"p = {v.score:.3g}"
    return f"{v.score:.3f}"


def _scaled(v: FeatureVerdict) -> float:
    """Where the score sits against its threshold: the bar is full at the threshold for a
    p-value (on a log scale from 1), at twice the threshold for a distance."""
    if v.score is None or not v.threshold:
        return 0.0
    if v.method in _TESTS:
        return min(math.log(max(v.score, 1e-300)) / math.log(v.threshold), 1.0)
    return min(v.score / (2 * v.threshold), 1.0)


def _ks(v: FeatureVerdict) -> str:
    d = v.drift
    if d.ks_statistic is None or d.ks_pvalue is None:
        return "—"
    return f"{d.ks_statistic:.3f} (p {d.ks_pvalue:.2g})"


def _feature_rows(decision: MonitorDecision) -> list[str]:
    lines = [
        "| Feature | Kind | Judged by | Score | Drift | Status | PSI | KS (p) | Missing now |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"drifted": 0, "not_judged": 1, "warn": 2, "ok": 3}
    for v in sorted(decision.features, key=lambda f: (order[f.status], -_scaled(f))):
        d = v.drift
        missing = f"{d.missing_share[1]:.1%}" if d.missing_share[1] else "—"
        lines.append(
            f"| {cell(d.name)} | {d.kind} | {v.method} | {_score(v)} | `{bar(_scaled(v))}` "
            f"| {_MARK[v.status]} | {d.psi:.3f} | {_ks(v)} | {missing} |"
        )
    return lines


def _bins(v: FeatureVerdict) -> list[str]:
    d = v.drift
    lines = [
        f"#### {cell(d.name)}: {cell(v.why)}",
        "",
        "| Bin | Reference | | Current | |",
        "|---|---|---|---|---|",
    ]
    shown = list(zip(d.bins.labels, d.bins.reference, d.bins.current, strict=True))
    for label, ref, cur in shown[:_MAX_BINS_SHOWN]:
        lines.append(
            f"| {cell(label, 40)} | {ref:.1%} | `{bar(float(ref), 12)}` "
            f"| {cur:.1%} | `{bar(float(cur), 12)}` |"
        )
    if len(shown) > _MAX_BINS_SHOWN:
        lines.append(f"| … {len(shown) - _MAX_BINS_SHOWN} more | | | | |")
    if d.unseen:
        names = ", ".join(cell(u, 30) for u in d.unseen[:10])
        lines.append("")
        lines.append(f"Unseen in the reference ({d.unseen_share:.1%} of current rows): {names}")
    lines.append("")
    return lines


def render(decision: MonitorDecision, config: MonitorConfig, reference: str, current: str) -> str:
    title = {
        "degraded": "## 📉 Model degraded",
        "not-judged": "## ⚪ Model monitor: not judged (no all-clear)",
        "ok": "## 📈 Model monitor: no degradation",
    }[decision.outcome]
    rows = max((f.drift.current_rows for f in decision.features), default=0)
    lines = [
        title,
        "",
        f"Reference `{cell(reference, 80)}` · current `{cell(current, 80)}` ({rows:,} rows) · "
        f"drift share **{decision.drift_share:.0%}** (drifted at ≥ {config.dataset_share:.0%})",
        "",
    ]
    lines += [f"- {cell(r, 400)}" for r in decision.reasons]
    lines += [f"- not judged: {cell(r, 400)}" for r in decision.not_judged]
    lines += [f"> {cell(n, 400)}" for n in decision.notes]
    lines.append("")
    lines += _feature_rows(decision)
    lines.append("")
    drifted = [v for v in decision.features if v.status == "drifted"]
    if drifted:
        lines += ["### Drifted features", ""]
        for v in drifted[:10]:
            lines += _bins(v)
    performance = decision.performance
    if performance is not None:
        lines += ["### Live performance (the model gate on labelled current data)", ""]
        for check in performance.get("checks") or []:
            mark = {"pass": "✅", "fail": "❌"}.get(check.get("status"), "⏭️")
            lines.append(f"- {mark} {cell(check.get('message') or check.get('metric'), 200)}")
        lines.append("")
    lines.append(
        f"Settings: {config.numeric_method} for numeric and {config.categorical_method} for "
        f"categorical features; tests at alpha {config.alpha:g} per feature; PSI warn "
        f"{config.psi_warn:g}, major {config.psi_major:g} ({config.bins} quantile bins of the "
        "reference)."
    )
    return "\n".join(lines) + "\n"
