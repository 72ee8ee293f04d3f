"""A report as plain text, for a terminal: no Markdown escapes, the same numbers, bars whose
direction is said. Pure. (Printing it goes through github.runner.print_untrusted, which
defuses workflow commands: the text holds names from the data.)"""

from __future__ import annotations

import unicodedata

from mlops_actions.charts import bar, printable
from mlops_actions.reporting.doc import (
    Bar,
    Block,
    Bullets,
    Code,
    Details,
    Figure,
    Heading,
    Inline,
    Paragraph,
    Quote,
    Report,
    Strong,
    Table,
    num,
    spans,
)


def clean(text: str) -> str:
    """One line with no control characters (an escape sequence from the data could rewrite
    the terminal)."""
    flat = " ".join(str(text).split())
    flat = (" " if text[:1].isspace() else "") + flat + (" " if text[-1:].isspace() else "")
    return printable(flat)


def inline(text: Inline) -> str:
    out = []
    for s in spans(text):
        if isinstance(s, Bar):
            out.append(bar(s.value, s.width) + (" (lower is better)" if s.lower_is_better else ""))
        elif isinstance(s, Code | Strong):
            out.append(clean(s.text))
        else:
            out.append(clean(s))
    return "".join(out)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))

    return [
        line(header).rstrip(),
        "  ".join("-" * w for w in widths),
        *(line(r).rstrip() for r in rows),
        "",
    ]


def figure(f: Figure) -> list[str]:
    """A figure as a table of its values, the first series also as a bar scaled to the
    y axis, with the axis's direction said."""
    low, high = f.y_range
    lines = [f"[chart] {clean(f.title)}"]
    if f.caption:
        lines.append(f"  {clean(f.caption)}")
    header = [clean(f.x_label)]
    for s in f.series:
        header.append(clean(s.name))
        if s.low is not None:
            header.append("interval")
    header.append(f"{clean(f.series[0].name)} (bar: {num(low)} to {num(high)})")
    rows = []
    for i, category in enumerate(f.categories):
        row = [clean(category) + (" <- " + clean(f.mark_label) if f.mark == i else "")]
        for s in f.series:
            row.append(num(s.values[i]))
            if s.low is not None and s.high is not None:
                lo, hi = s.low[i], s.high[i]
                row.append("—" if lo is None or hi is None else f"{num(lo)} – {num(hi)}")
        first = f.series[0].values[i]
        scaled = None if first is None or high == low else (first - low) / (high - low)
        row.append(bar(scaled, 16))
        rows.append(row)
    lines += ["", *_table(header, rows)]
    lines += [f"  reference line: {clean(r.label)} = {num(r.value)}" for r in f.rules]
    return [*lines, ""]


def _block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        text = inline(block.text)
        return [text, ("=" if block.level <= 2 else "-") * min(_width(text), 78), ""]
    if isinstance(block, Paragraph):
        return [inline(block.text), ""]
    if isinstance(block, Quote):
        return ["  note: " + inline(block.text), ""]
    if isinstance(block, Bullets):
        return [*(f"  - {inline(i)}" for i in block.items), ""]
    if isinstance(block, Table):
        return _table(
            [inline(h) for h in block.header], [[inline(c) for c in r] for r in block.rows]
        )
    if isinstance(block, Figure):
        return figure(block)
    if isinstance(block, Details):
        return [clean(block.summary), *(line for b in block.blocks for line in _block(b))]
    raise TypeError(type(block))


def render(report: Report) -> str:
    lines: list[str] = []
    for block in report.blocks:
        lines += _block(block)
    return "\n".join(lines).rstrip("\n") + "\n"
