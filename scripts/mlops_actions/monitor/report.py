"""The monitor's report: one model (reporting.doc) built from monitor.json's document, drawn as
Markdown with Mermaid charts (report.md, the job summary), as report.html and as plain text for
a terminal. Pure: no I/O.

A table of every feature with its drift score drawn as a Unicode bar; a chart of every
feature's drift level against its threshold; for each drifted or warned feature, its bins side
by side (the reference's share and the current share, "unseen" and "missing" included); with a
history, each feature's level over the earlier runs. Column and category names come from the
data: the renderers escape them for each format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlops_actions.monitor.config import MonitorConfig
from mlops_actions.monitor.decide import FeatureVerdict, MonitorDecision
from mlops_actions.monitor.drift import UNSEEN
from mlops_actions.reporting import html, markdown, text
from mlops_actions.reporting.doc import (
    Bar,
    Block,
    Bullets,
    Code,
    Figure,
    Heading,
    Paragraph,
    Quote,
    Report,
    Rule,
    Series,
    Strong,
    Table,
)
from mlops_actions.tables import MISSING

_MARK = {"drifted": "🔴 drifted", "warn": "🟡 warn", "ok": "🟢 ok", "not_judged": "⚪ not judged"}
TESTS = ("ks", "chi_square")  # judged by a p-value: smaller is more drifted
_MAX_BINS_SHOWN = 12
_MAX_FEATURES_DRAWN = 30
_MAX_BIN_FIGURES = 10
_MAX_HISTORY_LINES = 6
LEVEL_CAP = 10.0


def drift_level(method: str, score: float | None, threshold: float) -> float | None:
    """Where a score sits against its threshold, on one scale for every method: 1 at the
    threshold, higher is more drifted. A p-value: log(p) / log(alpha); a distance or PSI:
    score / threshold. Capped at LEVEL_CAP (a p-value of 1e-300 is not 150 times as drifted
    as one at alpha in any sense a chart should show)."""
    if score is None or not threshold:
        return None
    if method in TESTS:
        level = math.log(max(score, 1e-300)) / math.log(threshold)
    else:
        level = score / threshold
    return round(min(max(level, 0.0), LEVEL_CAP), 4) + 0.0


def _score(v: FeatureVerdict) -> str:
    if v.score is None:
        return "—"
    if v.method in TESTS:
        return f"p = {v.score:.3g}"
    return f"{v.score:.3f}"


def _ks(v: FeatureVerdict) -> str:
    d = v.drift
    if d.ks_statistic is None or d.ks_pvalue is None:
        return "—"
    return f"{d.ks_statistic:.3f} (p {d.ks_pvalue:.2g})"


def _order(decision: MonitorDecision, document: Mapping[str, Any]) -> list[FeatureVerdict]:
    order = {"drifted": 0, "not_judged": 1, "warn": 2, "ok": 3}
    features = document["features"]
    return sorted(
        decision.features,
        key=lambda f: (order[f.status], -(features[f.drift.name]["level"] or 0.0)),
    )


def _feature_table(decision: MonitorDecision, document: Mapping[str, Any]) -> Table:
    rows = []
    for v in _order(decision, document):
        d = v.drift
        level = document["features"][d.name]["level"]
        missing = f"{d.missing_share[1]:.1%}" if d.missing_share[1] else "—"
        rows.append((
            d.name, d.kind, v.method, _score(v),
            Bar(None if level is None else min(level / 2, 1.0)), _MARK[v.status],
            f"{d.psi:.3f}", _ks(v), missing,
        ))  # fmt: skip
    return Table(
        ("Feature", "Kind", "Judged by", "Score", "Drift (full bar: twice the threshold)",
         "Status", "PSI", "KS (p)", "Missing now"),
        tuple(rows),
    )  # fmt: skip


def levels_figure(decision: MonitorDecision, document: Mapping[str, Any]) -> Figure | None:
    features = document["features"]
    scored = [v for v in _order(decision, document) if features[v.drift.name]["level"] is not None]
    drawn = scored[:_MAX_FEATURES_DRAWN]
    if not drawn:
        return None
    levels = tuple(features[v.drift.name]["level"] for v in drawn)
    unscored = len(decision.features) - len(scored)
    capped = len(scored) - len(drawn)  # the most drifted first: the cap drops the least
    return Figure(
        key="drift-levels",
        title="Drift of each feature against its threshold"
        + (f" (first {_MAX_FEATURES_DRAWN} shown)" if capped else ""),
        x_label="feature",
        y_label="drift level (1 = threshold)",
        categories=tuple(v.drift.name for v in drawn),
        series=(Series("drift level", levels, kind="bar"),),
        y_range=(0.0, max(2.0, math.ceil(max(levels)))),
        rules=(Rule(1.0, "threshold"),),
        caption=(
            "Lower is better; at or above the threshold line a feature drifted. The level puts "
            "every method on one scale: log(p) / log(alpha) for a test's p-value, the score / "
            f"threshold for PSI or the JS distance (capped at {LEVEL_CAP:g})."
            + (
                f" The {_MAX_FEATURES_DRAWN} most drifted of {len(scored)} scored features are "
                f"shown; the table lists all."
                if capped
                else ""
            )
            + (f" {unscored} features without a score are not drawn." if unscored else "")
        ),
    )


def bins_figure(name: str, feature: Mapping[str, Any], why: str) -> Figure | None:
    bins = feature.get("bins")
    if not bins or not bins["labels"]:
        return None
    labels = list(bins["labels"])
    keep = list(range(min(len(labels), _MAX_BINS_SHOWN)))
    # "unseen" and "missing" are always shown, even past the first bins.
    keep += [i for i in range(_MAX_BINS_SHOWN, len(labels)) if labels[i] in (UNSEEN, MISSING)]
    hidden = len(labels) - len(keep)
    ref = tuple(bins["reference"][i] for i in keep)
    cur = tuple(bins["current"][i] for i in keep)
    return Figure(
        key=f"bins-{name}",
        title=f"{name}: reference and current",
        x_label="bin" if feature["kind"] == "numeric" else "category",
        y_label="share of rows",
        categories=tuple(labels[i] for i in keep),
        series=(Series("reference", ref, kind="bar"), Series("current", cur, kind="bar")),
        y_range=(0.0, min(1.0, math.ceil(max([*ref, *cur, 0.01]) * 11) / 10)),
        caption=(
            f"{why}. Each bin's share of the rows in each sample"
            + (", on the reference's quantile bins" if feature["kind"] == "numeric" else "")
            + "; the closer the bars, the less drift."
            + (f" {hidden} smaller bins not drawn." if hidden else "")
        ),
    )


def history_figure(
    history: Sequence[Mapping[str, Any]], document: Mapping[str, Any]
) -> Figure | None:
    """Each feature's drift level over the earlier runs and this one (the most drifted now
    first, at most _MAX_HISTORY_LINES)."""
    if not history:
        return None
    runs = [*history, {"label": "now", "features": document["features"]}]
    features = document["features"]
    ranked = sorted(
        (n for n in features if features[n]["level"] is not None),
        key=lambda n: -features[n]["level"],
    )[:_MAX_HISTORY_LINES]
    series = []
    for name in ranked:
        values = tuple((run["features"].get(name) or {}).get("level") for run in runs)
        series.append(Series(name, values))
    if not series:
        return None
    top = max([v for s in series for v in s.values if v is not None] + [2.0])
    return Figure(
        key="drift-history",
        title="Drift level over time",
        x_label="run",
        y_label="drift level (1 = threshold)",
        categories=tuple(str(run["label"]) for run in runs),
        series=tuple(series),
        y_range=(0.0, float(math.ceil(top))),
        rules=(Rule(1.0, "threshold"),),
        caption=(
            f"Lower is better. The {len(series)} most drifted features now, over "
            f"{len(history)} earlier runs (--history) and this one. A run without the feature "
            "leaves a gap in report.html; a Mermaid chart cannot draw a gap, so it leaves such "
            "a feature out and names it."
        ),
    )


def build(
    decision: MonitorDecision,
    config: MonitorConfig,
    document: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]] = (),
    extra: Sequence[str] = (),
) -> Report:
    title = {
        "degraded": "📉 Model degraded",
        "not-judged": "⚪ Model monitor: not judged (no all-clear)",
        "ok": "📈 Model monitor: no degradation",
    }[decision.outcome]
    rows = max((f.drift.current_rows for f in decision.features), default=0)
    blocks: list[Block] = [
        Heading(title, 2),
        Paragraph(
            (
                "Reference ",
                Code(document["reference"]),
                " · current ",
                Code(document["current"]),
                f" ({rows:,} rows) · drift share ",
                Strong(f"{decision.drift_share:.0%}"),
                f" (drifted at ≥ {config.dataset_share:.0%})",
            )
        ),
    ]
    items = [*decision.reasons, *(f"not judged: {r}" for r in decision.not_judged)]
    if items:
        blocks.append(Bullets(tuple(items)))
    blocks += [Quote(n) for n in decision.notes]
    blocks.append(_feature_table(decision, document))
    levels = levels_figure(decision, document)
    if levels:
        blocks.append(levels)
    past = history_figure(history, document)
    if past:
        blocks.append(past)
    shown = [v for v in _order(decision, document) if v.status in ("drifted", "warn")]
    if shown:
        blocks.append(Heading("Drifted and warned features", 3))
        for v in shown[:_MAX_BIN_FIGURES]:
            blocks.append(Heading(f"{v.drift.name}: {v.why}", 4))
            figure = bins_figure(v.drift.name, document["features"][v.drift.name], v.why)
            if figure:
                blocks.append(figure)
            unseen = v.drift.unseen
            if unseen:
                names = ", ".join(u[:30] for u in unseen[:10])
                blocks.append(Paragraph(
                    f"Unseen in the reference ({v.drift.unseen_share:.1%} of current rows): "
                    + names
                ))  # fmt: skip
    performance = decision.performance
    if performance is not None:
        blocks.append(Heading("Live performance (the model gate on labelled current data)", 3))
        marks = []
        for check in performance.get("checks") or []:
            mark = {"pass": "✅", "fail": "❌"}.get(check.get("status"), "⏭️")
            marks.append(f"{mark} {str(check.get('message') or check.get('metric'))[:200]}")
        if marks:
            blocks.append(Bullets(tuple(marks)))
    blocks.append(Paragraph(
        f"Settings: {config.numeric_method} for numeric and {config.categorical_method} for "
        f"categorical features; tests at alpha {config.alpha:g} per feature; PSI warn "
        f"{config.psi_warn:g}, major {config.psi_major:g} ({config.bins} quantile bins of the "
        "reference)."
    ))  # fmt: skip
    blocks += [Paragraph(line) for line in extra]
    return Report(title=title, blocks=tuple(blocks),
                  meta={"generator": "mlops-actions model-monitor"})  # fmt: skip


def render_all(
    decision: MonitorDecision,
    config: MonitorConfig,
    document: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]] = (),
    extra: Sequence[str] = (),
) -> dict[str, str]:
    report = build(decision, config, document, history, extra)
    return {
        "markdown": markdown.render(report),
        "html": html.render(report),
        "text": text.render(report),
    }


def render(decision: MonitorDecision, config: MonitorConfig, document: Mapping[str, Any]) -> str:
    return markdown.render(build(decision, config, document))
