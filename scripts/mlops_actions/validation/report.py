"""The validation report: every finding in one table. Pure. Column names and example values
come from the data, so they are escaped for Markdown."""

from __future__ import annotations

from mlops_actions.charts import cell
from mlops_actions.validation.findings import counted
from mlops_actions.validation.run import Validation

_KIND = {
    "missing-column": "missing column",
    "type": "type change",
    "range": "out of range",
    "category": "new category",
    "nulls": "missing values",
    "label-balance": "label balance",
    "rows": "row count",
    "other": "other",
}


def share(count: int, rows: int) -> str:
    """How much of the file a finding touches; a data-set check (no count) touches no row."""
    if not count or not rows:
        return "—"
    percent = 100 * count / rows
    return f"{count:,} ({percent:.2g}%)" if percent < 1 else f"{count:,} ({percent:.1f}%)"


def render(result: Validation) -> str:
    if result.passed:
        return (
            f"## ✅ Data valid\n\n`{cell(result.data, 120)}` ({result.rows:,} rows) matches "
            f"`{cell(result.schema, 120)}`.\n"
        )
    lines = [
        f"## ❌ Data invalid: {counted(len(result.findings), 'problem')}",
        "",
        f"`{cell(result.data, 120)}` ({result.rows:,} rows) against `{cell(result.schema, 120)}`. "
        "Nothing was trained on it.",
        "",
        "| Column | Problem | What | Share of rows | Rows |",
        "|---|---|---|---|---|",
    ]
    for f in result.findings:
        rows = ", ".join(map(str, f.rows)) + (" …" if f.count > len(f.rows) else "")
        lines.append(
            f"| {cell(f.column or '(data set)')} | {_KIND[f.kind]} | {cell(f.message, 200)} "
            f"| {share(f.count, result.rows)} | {rows or '—'} |"
        )
    return "\n".join(lines) + "\n"
