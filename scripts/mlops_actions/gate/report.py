"""The human report (report.md, job summary, PR comment). Pure: a GateResult in, Markdown out.

Pictures are drawn with text (a confusion-matrix table and Unicode bars), so the report renders
the same in a terminal, a job summary and a PR comment, and nothing goes to an image host.
"""

from __future__ import annotations

from pathlib import Path

from mlops_actions.charts import bar, cell
from mlops_actions.gate.decide import POSITIVE_BASED, Check
from mlops_actions.gate.metrics import METRICS, Estimate
from mlops_actions.gate.verdict import GateResult

MARKER_PREFIX = "<!-- mlops-actions:model-gate"
_MARK = {"pass": "✅", "fail": "❌", "skipped": "⏭️"}


def marker(name: str) -> str:
    return f"{MARKER_PREFIX}:{name} -->"


def _f(x: float | None, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ci(e: Estimate) -> str:
    if e.low is None or e.high is None:
        return "—"
    return f"{e.low:.3f} – {e.high:.3f}"


def _delta(metric: str, value: float | None, base: float | None) -> str:
    if value is None or base is None:
        return "—"
    diff = value - base
    if abs(diff) < 5e-5:
        return "±0"
    better = (diff > 0) == METRICS[metric].higher_is_better
    return f"{diff:+.4f} {'▲' if diff > 0 else '▼'}{'' if better else ' ⚠️'}"


def _bound_text(c: Check) -> str:
    return {
        "min": f"≥ {c.bound:g}",
        "max": f"≤ {c.bound:g}",
        "max_drop": f"drop ≤ {c.bound:g}",
        "max_drop_relative": f"drop ≤ {c.bound:.1%}",
        "max_difference": f"spread ≤ {c.bound:g}",
        "min_ratio": f"min/max ≥ {c.bound:g}",
    }[c.op]


def _checks_table(checks: tuple[Check, ...]) -> list[str]:
    lines = ["| | Check | Metric | Observed | Bound | Detail |", "|---|---|---|---|---|---|"]
    for c in checks:
        metric = c.metric if c.group_column is None else f"{c.metric} by `{c.group_column}`"
        lines.append(
            f"| {_MARK[c.status]} | {c.kind} | {metric} | {_f(c.observed)} | {_bound_text(c)} "
            f"| {c.message} |"
        )
    return lines


def _metrics_table(result: GateResult) -> list[str]:
    level = f"{result.config.confidence_level:.0%}"
    rank = {"skipped": 0, "pass": 1, "fail": 2}
    gated: dict[str, str] = {}
    for c in result.decision.checks:
        if c.group_column is None and rank[c.status] >= rank[gated.get(c.metric, "skipped")]:
            gated[c.metric] = c.status
    paired = result.paired
    heading = "Champion (same rows)" if paired is not None else "Baseline"
    lines = [
        f"| Metric | Value | {level} CI | {heading} | Δ vs champion | | Gated |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in result.metrics.items():
        source = paired.champion if paired is not None else (result.baseline or {})
        base = source[name].value if name in source else None
        value = _f(e.value) if e.value is not None else f"— ({e.reason})"
        shown_bar = f"`{bar(e.value)}`" if e.value is not None and e.value <= 1 else ""
        status = _MARK.get(gated.get(name, ""), "")
        lines.append(
            f"| {name} | {value} | {_ci(e)} | {_f(base)} | {_delta(name, e.value, base)} "
            f"| {shown_bar} | {status} |"
        )
    return lines


def _champion(result: GateResult) -> list[str]:
    """The baseline checks' comparison: paired (the same rows) or not, the difference with its
    interval, and the smallest change this holdout can detect."""
    checks = [c for c in result.decision.checks if c.kind == "baseline" and c.comparison]
    if not checks:
        return []
    level = f"{result.config.confidence_level:.0%}"
    paired = result.paired
    if paired is not None:
        how = (
            f"Paired: the champion scored on these same {paired.rows:,} rows "
            f"({paired.positives:,} positives), rule `{result.config.baseline_rule}`."
        )
    else:
        how = "Unpaired: the champion's stored metrics, measured on its own holdout."
    lines = ["### Against the champion", "", how, "",
             f"| | Metric | Challenger − champion | {level} CI | Can detect | Allowed |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for c in checks:
        diff = "—" if c.difference is None else f"{c.difference:+.4f}"
        ci = (
            "—"
            if c.difference_ci is None
            else f"{c.difference_ci[0]:+.4f} – {c.difference_ci[1]:+.4f}"
        )
        detect = "—" if c.detectable is None else f"±{c.detectable:.4f}"
        lines.append(
            f"| {_MARK[c.status]} | {c.metric} | {diff} | {ci} | {detect} | {_bound_text(c)} |"
        )
    return [*lines, ""]


def _confusion(result: GateResult) -> list[str]:
    c = result.confusion
    if c is None:
        return []

    def cell(n: int, of: int) -> str:
        return f"{n:,} ({n / of:.1%})" if of else f"{n:,}"

    return [
        f"### Confusion matrix at threshold {result.config.decision_threshold:g}",
        "",
        "| | Predicted positive | Predicted negative | Total |",
        "|---|---|---|---|",
        f"| **Actual positive** | TP {cell(c.tp, c.positives)} | FN {cell(c.fn, c.positives)} "
        f"| {c.positives:,} |",
        f"| **Actual negative** | FP {cell(c.fp, c.negatives)} | TN {cell(c.tn, c.negatives)} "
        f"| {c.negatives:,} |",
        "",
    ]


def _groups(result: GateResult) -> list[str]:
    if not result.groups:
        return []
    wanted = [r.metric for r in result.config.rules_of("fairness")] or ["recall", "precision"]
    wanted = list(dict.fromkeys(wanted))
    min_size = result.config.fairness.min_group_size
    lines: list[str] = []
    for column, groups in result.groups.items():
        for metric in wanted:
            lines += [
                f"### {metric} by {cell(column)}",
                "",
                f"| {cell(column)} | Rows | Positives | {metric} | CI | |",
                "|---|---|---|---|---|---|",
            ]
            fair = result.config.fairness
            for name, g in sorted(groups.items()):
                e = g.metrics[metric]
                note = ""
                if g.rows < min_size:
                    note = f" (below {min_size} rows: not judged)"
                elif metric in POSITIVE_BASED and g.positives < fair.min_group_positives:
                    note = f" (below {fair.min_group_positives} positives: not judged)"
                lines.append(
                    f"| {cell(name)}{note} | {g.rows:,} | {g.positives:,} | {_f(e.value)} "
                    f"| {_ci(e)} | `{bar(e.value)}` |"
                )
            lines.append("")
    return lines


def render(result: GateResult, name: str = "model-gate") -> str:
    decision = result.decision
    failed = len(decision.failed)
    if decision.passed:
        title = f"## ✅ Model gate passed ({len(decision.checks)} checks)"
    elif decision.judged_nothing:
        title = "## ❌ Model gate failed: nothing was judged"
    else:
        title = f"## ❌ Model gate failed: {failed} of {len(decision.checks)} checks"
    inputs = result.inputs
    source = next(iter(inputs.values()), {}).get("path", "")
    facts = [f"`{Path(source).name}`"] if source else []
    if result.confusion is not None:
        c = result.confusion
        facts += [f"{c.rows:,} rows", f"{c.positives:,} positives"]
    facts.append(f"threshold {result.config.decision_threshold:g}")
    gate_on = "point estimates" if result.config.gate_on == "point" else result.config.gate_on
    facts.append(f"judged on {gate_on}")
    lines = [marker(name), title, "", " · ".join(facts), ""]
    if decision.checks:
        lines += [*_checks_table(decision.checks), ""]
    lines += [f"> {note}" for note in decision.notes]
    if decision.notes:
        lines.append("")
    lines += _champion(result)
    lines += ["### Metrics", "", *_metrics_table(result), ""]
    lines += _confusion(result)
    lines += _groups(result)
    if inputs:
        lines += ["<details><summary>Inputs (sha256)</summary>", ""]
        lines += [f"- {role}: `{v['path']}` `{v['sha256'][:16]}…`" for role, v in inputs.items()]
        lines += ["", "</details>", ""]
    return "\n".join(lines)
