"""The gate's human report: one model (reporting.doc) built from the result and its verdict,
drawn as Markdown with Mermaid charts (report.md, job summary, PR comment), as report.html and
as plain text for a terminal. Pure: no I/O.

Every chart is drawn from verdict.json's own numbers (its curves, checks and groups), so the
pictures cannot disagree with the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_actions.gate.decide import POSITIVE_BASED, Check
from mlops_actions.gate.metrics import METRICS, Estimate
from mlops_actions.gate.verdict import GateResult
from mlops_actions.reporting import html, markdown, text
from mlops_actions.reporting.doc import (
    Bar,
    Block,
    Bullets,
    Code,
    Details,
    Figure,
    Heading,
    Paragraph,
    Quote,
    Report,
    Rule,
    Series,
    Strong,
    Table,
    num,
)

MARKER_PREFIX = "<!-- mlops-actions:model-gate"
_MARK = {"pass": "✅", "fail": "❌", "skipped": "⏭️"}
_MAX_FAIRNESS_FIGURES = 6


def marker(name: str) -> str:
    return f"{MARKER_PREFIX}:{name} -->"


def _f(x: float | None, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ci(e: Estimate) -> str:
    """An interval as the charts and verdict.json write its ends (doc.num: 4 decimals)."""
    if e.low is None or e.high is None:
        return "—"
    return f"{num(e.low)} – {num(e.high)}"


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


def _checks_table(checks: tuple[Check, ...]) -> Table:
    rows = []
    for c in checks:
        metric: Any = (
            c.metric if c.group_column is None else (f"{c.metric} by ", Code(c.group_column))
        )
        rows.append((_MARK[c.status], c.kind, metric, _f(c.observed), _bound_text(c), c.message))
    return Table(("", "Check", "Metric", "Observed", "Bound", "Detail"), tuple(rows))


def _metrics_table(result: GateResult) -> Table:
    level = f"{result.config.confidence_level:.0%}"
    rank = {"skipped": 0, "pass": 1, "fail": 2}
    gated: dict[str, str] = {}
    for c in result.decision.checks:
        if c.group_column is None and rank[c.status] >= rank[gated.get(c.metric, "skipped")]:
            gated[c.metric] = c.status
    paired = result.paired
    heading = "Champion (same rows)" if paired is not None else "Baseline"
    rows = []
    for name, e in result.metrics.items():
        source = paired.champion if paired is not None else (result.baseline or {})
        base = source[name].value if name in source else None
        value = _f(e.value) if e.value is not None else f"— ({e.reason})"
        lower = not METRICS[name].higher_is_better
        shown_bar: Any = (
            Bar(e.value, lower_is_better=lower) if (e.value is not None and e.value <= 1) else ""
        )
        status = _MARK.get(gated.get(name, ""), "")
        rows.append((name, value, _ci(e), _f(base), _delta(name, e.value, base), shown_bar, status))
    return Table(
        ("Metric", "Value", f"{level} CI", heading, "Δ vs champion", "", "Gated"), tuple(rows)
    )


def _champion(result: GateResult, verdict: Mapping[str, Any]) -> list[Block]:
    """The baseline checks' comparison: paired (the same rows) or not, the difference with its
    interval, and the smallest change this holdout can detect; and its chart."""
    checks = [c for c in result.decision.checks if c.kind == "baseline" and c.comparison]
    if not checks:
        return []
    level = f"{result.config.confidence_level:.0%}"
    paired = result.paired
    how: tuple[str | Code, ...]
    if paired is not None:
        how = (
            f"Paired: the champion scored on these same {paired.rows:,} rows "
            f"({paired.positives:,} positives), rule ",
            Code(result.config.baseline_rule),
            ".",
        )
    else:
        how = ("Unpaired: the champion's stored metrics, measured on its own holdout.",)
    rows = []
    for c in checks:
        diff = "—" if c.difference is None else f"{c.difference:+.4f}"
        ci = (
            "—"
            if c.difference_ci is None
            else f"{c.difference_ci[0]:+.4f} – {c.difference_ci[1]:+.4f}"
        )
        detect = "—" if c.detectable is None else f"±{c.detectable:.4f}"
        rows.append((_MARK[c.status], c.metric, diff, ci, detect, _bound_text(c)))
    blocks: list[Block] = [
        Heading("Against the champion", 3),
        Paragraph(how),
        Table(
            ("", "Metric", "Challenger − champion", f"{level} CI", "Can detect", "Allowed"),
            tuple(rows),
        ),
    ]
    figure = difference_figure(verdict)
    return [*blocks, *([figure] if figure else [])]


def difference_figure(verdict: Mapping[str, Any]) -> Figure | None:
    """Each baseline check's challenger − champion with its interval, and the allowed limit."""
    checks = [
        c
        for c in verdict.get("checks", [])
        if c["kind"] == "baseline" and c["difference"] is not None and c["limit"] is not None
    ]
    if not checks:
        return None
    diffs = [c["difference"] for c in checks]
    cis = [c["difference_ci"] for c in checks]
    limits = [c["limit"] for c in checks]
    ends = [*diffs, *limits, 0.0, *(x for ci in cis if ci for x in ci)]
    pad = (max(ends) - min(ends)) * 0.1 or 0.01
    return Figure(
        key="differences",
        title="Challenger − champion, with the allowed limit",
        x_label="metric",
        y_label="challenger − champion",
        categories=tuple(c["metric"] for c in checks),
        series=(
            Series(
                "difference",
                tuple(diffs),
                kind="bar",
                low=tuple(ci[0] if ci else None for ci in cis),
                high=tuple(ci[1] if ci else None for ci in cis),
            ),
            Series("allowed limit", tuple(limits), kind="tick"),
        ),
        y_range=(_round_down(min(ends) - pad), _round_up(max(ends) + pad)),
        caption=(
            "Bars: the difference on the same rows (paired) or between stored metrics "
            "(unpaired), with its interval. The limit is the worst difference allowed: below "
            "it is a failure for metrics where higher is better, above it where lower is better "
            "(log_loss, brier, false_positive_rate)."
        ),
    )


def _round_down(x: float) -> float:
    return float(f"{x:.4f}") if x >= 0 else -_round_up(-x)


def _round_up(x: float) -> float:
    import math

    return math.ceil(x * 1e4) / 1e4 if x >= 0 else -_round_down(-x)


def _confusion(result: GateResult) -> list[Block]:
    c = result.confusion
    if c is None:
        return []

    def count(n: int, of: int) -> str:
        return f"{n:,} ({n / of:.1%})" if of else f"{n:,}"

    return [
        Heading(f"Confusion matrix at threshold {result.config.decision_threshold:g}", 3),
        Table(
            ("", "Predicted positive", "Predicted negative", "Total"),
            (
                (
                    Strong("Actual positive"),
                    f"TP {count(c.tp, c.positives)}",
                    f"FN {count(c.fn, c.positives)}",
                    f"{c.positives:,}",
                ),
                (
                    Strong("Actual negative"),
                    f"FP {count(c.fp, c.negatives)}",
                    f"TN {count(c.tn, c.negatives)}",
                    f"{c.negatives:,}",
                ),
            ),
        ),
    ]


def _curve_series(name: str, curve: Mapping[str, Any], x: str, y: str) -> Series:
    points = tuple(
        (p[x], p[y], f"threshold {num(p['threshold'])}: {x} {num(p[x])}, {y} {num(p[y])}")
        for p in curve["points"]
    )
    return Series(name, tuple(curve["grid"][y]), points=points)


def curve_figures(verdict: Mapping[str, Any]) -> list[Figure]:
    """ROC, precision-recall, calibration and score histograms, from verdict["curves"]."""
    drawn = verdict.get("curves") or {}
    mine = drawn.get("challenger")
    if not mine:
        return []
    theirs = drawn.get("champion")
    metrics = verdict.get("metrics", {})
    champion_metrics = (verdict.get("champion") or {}).get("metrics", {})
    figures: list[Figure] = []
    versus = " (challenger and champion on the same rows)" if theirs else ""
    if mine.get("roc"):
        series = [_curve_series("challenger", mine["roc"], "fpr", "tpr")]
        auc = f"ROC AUC {num(metrics.get('roc_auc'))}"
        if theirs and theirs.get("roc"):
            series.append(_curve_series("champion", theirs["roc"], "fpr", "tpr"))
            value = champion_metrics.get("roc_auc", {}).get("value")
            auc += f", champion {num(value)}" if value is not None else ""
        grid = mine["roc"]["grid"]["fpr"]
        series.append(Series("chance", tuple(grid)))
        figures.append(
            Figure(
                key="roc",
                title=f"ROC curve{versus}",
                x_label="false positive rate",
                y_label="true positive rate",
                categories=tuple(num(x) for x in grid),
                series=tuple(series),
                y_range=(0.0, 1.0),
                numeric_x=True,
                caption=(
                    f"{auc}. Higher is better: the best true positive rate at each false "
                    "positive rate; the chance line is a random model."
                ),
            )
        )
    if mine.get("pr"):
        series = [_curve_series("challenger", mine["pr"], "recall", "precision")]
        ap = f"average precision {num(metrics.get('average_precision'))}"
        if theirs and theirs.get("pr"):
            series.append(_curve_series("champion", theirs["pr"], "recall", "precision"))
            value = champion_metrics.get("average_precision", {}).get("value")
            ap += f", champion {num(value)}" if value is not None else ""
        grid = mine["pr"]["grid"]["recall"]
        prevalence = mine["pr"]["prevalence"]
        figures.append(
            Figure(
                key="pr",
                title=f"Precision-recall curve{versus}",
                x_label="recall",
                y_label="precision",
                categories=tuple(num(x) for x in grid),
                series=tuple(series),
                y_range=(0.0, 1.0),
                rules=(Rule(prevalence, "positive rate (a random model)"),),
                numeric_x=True,
                caption=(
                    f"{ap}. Higher is better: the precision at the first threshold reaching "
                    "each recall."
                ),
            )
        )
    bins = mine.get("calibration") or []
    if bins:
        figures.append(
            Figure(
                key="calibration",
                title="Calibration: observed positive rate by score bin",
                x_label="score bin (rows)",
                y_label="share positive",
                categories=tuple(f"{num(b['low'])}–{num(b['high'])} n={b['rows']}" for b in bins),
                series=(
                    Series("observed positive rate", tuple(b["observed"] for b in bins)),
                    Series(
                        "mean score (perfect calibration)", tuple(b["mean_score"] for b in bins)
                    ),
                ),
                y_range=(0.0, 1.0),
                caption=(
                    "Closer lines are better: in a calibrated model the observed rate equals "
                    "the mean score in each bin. Empty bins are left out; n is the bin's rows."
                ),
            )
        )
    hist = mine.get("histogram")
    if hist:
        edges = hist["edges"]
        threshold = hist["threshold"]
        mark = min(int(threshold * (len(edges) - 1)), len(edges) - 2)
        top = max([*hist["positive_share"], *hist["negative_share"], 0.01])
        figures.append(
            Figure(
                key="histogram",
                title="Scores by class, with the decision threshold",
                x_label="score bin (from)",
                y_label="share of the class",
                categories=tuple(num(e) for e in edges[:-1]),
                series=(
                    Series("positives", tuple(hist["positive_share"]), kind="bar"),
                    Series("negatives", tuple(hist["negative_share"]), kind="bar"),
                ),
                y_range=(0.0, _round_up(min(1.0, top * 1.1))),
                mark=mark,
                mark_label=f"decision threshold {num(threshold)}",
                caption=(
                    f"Each class's scores as a share of that class ({hist['positives_total']:,} "
                    f"positives, {hist['negatives_total']:,} negatives). Better separated is "
                    f"better: positives to the right of the threshold, negatives to the left."
                ),
            )
        )
    return figures


def fairness_figures(result: GateResult, verdict: Mapping[str, Any]) -> list[Figure]:
    """Per group: the metric with its interval, and the lowest value the spread allows."""
    groups = verdict.get("groups") or {}
    figures: list[Figure] = []
    for check in verdict.get("checks", []):
        column, metric = check.get("group_column"), check["metric"]
        if check["kind"] != "fairness" or column not in groups:
            continue
        named = sorted(groups[column].items())
        values = tuple(g["metrics"][metric]["value"] for _, g in named)
        cis = [g["metrics"][metric].get("ci") for _, g in named]
        rules: tuple[Rule, ...] = ()
        if check["limit"] is not None:
            what = "spread" if check["rule"] == "max_difference" else "ratio"
            rules = (Rule(check["limit"], f"lowest allowed (the {what} rule)"),)
        ends = [v for v in values if v is not None] + [r.value for r in rules]
        ends += [x for ci in cis if ci for x in ci if x is not None]
        low, high = min([*ends, 1.0]), max([*ends, 0.0])
        pad = 0.1 * ((high - low) or 1.0)
        top = high + pad
        if METRICS[metric].at_most_one:  # a share: its axis ends at 1
            top = min(top, 1.0)
        figures.append(
            Figure(
                key=f"fairness-{len(figures)}",
                title=f"{metric} by {column}",
                x_label=column,
                y_label=metric,
                categories=tuple(name for name, _ in named),
                series=(
                    Series(
                        metric,
                        values,
                        kind="bar",
                        low=tuple(ci[0] if ci else None for ci in cis),
                        high=tuple(ci[1] if ci else None for ci in cis),
                    ),
                ),
                y_range=(_round_down(max(0.0, low - pad)), _round_up(top)),
                rules=rules,
                caption=(
                    f"Each group's {metric} with its interval; groups too small to judge are "
                    "drawn but not judged. The spread rule compares the highest judged group "
                    "with the lowest."
                ),
            )
        )
        if len(figures) >= _MAX_FAIRNESS_FIGURES:
            break
    return figures


def _groups(result: GateResult) -> list[Block]:
    if not result.groups:
        return []
    wanted = [r.metric for r in result.config.rules_of("fairness")] or ["recall", "precision"]
    wanted = list(dict.fromkeys(wanted))
    min_size = result.config.fairness.min_group_size
    blocks: list[Block] = []
    fair = result.config.fairness
    for column, groups in result.groups.items():
        for metric in wanted:
            rows = []
            for name, g in sorted(groups.items()):
                e = g.metrics[metric]
                note = ""
                if g.rows < min_size:
                    note = f" (below {min_size} rows: not judged)"
                elif metric in POSITIVE_BASED and g.positives < fair.min_group_positives:
                    note = f" (below {fair.min_group_positives} positives: not judged)"
                rows.append(
                    (
                        name + note,
                        f"{g.rows:,}",
                        f"{g.positives:,}",
                        _f(e.value),
                        _ci(e),
                        Bar(e.value),
                    )
                )
            blocks += [
                Heading(f"{metric} by {column}", 3),
                Table((column, "Rows", "Positives", metric, "CI", ""), tuple(rows)),
            ]
    return blocks


def build(result: GateResult, verdict: Mapping[str, Any], name: str = "model-gate") -> Report:
    decision = result.decision
    failed = len(decision.failed)
    if decision.passed:
        title = f"✅ Model gate passed ({len(decision.checks)} checks)"
    elif decision.judged_nothing:
        title = "❌ Model gate failed: nothing was judged"
    else:
        title = f"❌ Model gate failed: {failed} of {len(decision.checks)} checks"
    inputs = result.inputs
    source = next(iter(inputs.values()), {}).get("path", "")
    facts: list[Any] = [Code(Path(source).name)] if source else []
    if result.confusion is not None:
        c = result.confusion
        facts += [f"{c.rows:,} rows", f"{c.positives:,} positives"]
    facts.append(f"threshold {result.config.decision_threshold:g}")
    gate_on = "point estimates" if result.config.gate_on == "point" else result.config.gate_on
    facts.append(f"judged on {gate_on}")
    joined: list[Any] = []
    for i, fact in enumerate(facts):
        joined += [" · "] if i else []
        joined.append(fact)
    blocks: list[Block] = [Heading(title, 2), Paragraph(tuple(joined))]
    if decision.checks:
        blocks.append(_checks_table(decision.checks))
    blocks += [Quote(note) for note in decision.notes]
    blocks += _champion(result, verdict)
    curves = curve_figures(verdict)
    if curves:
        blocks += [Heading("Curves", 3), *curves]
    blocks += [Heading("Metrics", 3), _metrics_table(result)]
    blocks += _confusion(result)
    blocks += fairness_figures(result, verdict)
    blocks += _groups(result)
    if inputs:
        items = tuple(
            (f"{role}: ", Code(v["path"]), " ", Code(v["sha256"][:16] + "…"))
            for role, v in inputs.items()
        )
        blocks.append(Details("Inputs (sha256)", (Bullets(items),)))
    return Report(
        title=title,
        blocks=tuple(blocks),
        marker=marker(name),
        meta={"generator": "mlops-actions model-gate"},
    )


def render(result: GateResult, name: str = "model-gate", verdict: Any = None) -> str:
    """report.md and the job summary: Markdown with Mermaid charts, within 1 MiB."""
    from mlops_actions.gate.verdict import build_verdict

    return markdown.render(build(result, verdict or build_verdict(result), name))


def render_all(result: GateResult, verdict: Mapping[str, Any], name: str) -> dict[str, str]:
    """Every rendering of one report: markdown (summary), comment, html, text."""
    report = build(result, verdict, name)
    return {
        "markdown": markdown.render(report),
        "comment": markdown.comment(report),
        "html": html.render(report),
        "text": text.render(report),
    }
