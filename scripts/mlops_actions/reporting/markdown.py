"""A report as Markdown with Mermaid charts (job summary, PR comment, report.md). Pure.

Figures become Mermaid `xychart-beta` blocks, which GitHub renders natively, so nothing is
uploaded to an image host. Text from data is escaped for Markdown (charts.cell) and, inside a
chart, reduced to characters Mermaid's grammar and sanitizer take as plain text.

GitHub's limits: a step summary holds at most 1 MiB, a comment 65,536 characters. A report
over its limit loses its charts first (with a note saying so), then its tail.
"""

from __future__ import annotations

import re
import unicodedata

from mlops_actions.charts import bar, cell, printable
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
    short_labels,
    spans,
)

LABEL_LIMIT = 16  # characters of an x-axis label in a Mermaid chart
SUMMARY_LIMIT = 1_000_000  # bytes: GitHub's step summary takes 1 MiB (1,048,576)
COMMENT_LIMIT = 65_000  # characters: GitHub's comment body takes 65,536
CHARTS_CUT = (
    "Charts left out: with them the report would be over GitHub's size limit here "
    "({limit}). {elsewhere} hold every chart."
)
TAIL_CUT = "… report cut at GitHub's size limit ({limit}); {elsewhere} hold it all."
# Where the whole report is, said to a reader of each: the summary's reader has the run's
# artifacts; the PR comment's reader sees neither report.md nor the runner's files.
IN_THE_RUN = "report.html (the run's artifact), report.md and the JSON"
FROM_THE_COMMENT = "The run's job summary and its report.html artifact"

# The Mermaid palette: series are coloured in this order, and captions name the colours.
PALETTE = (
    ("#1f77b4", "blue"),
    ("#ff7f0e", "orange"),
    ("#7f7f7f", "grey"),
    ("#2ca02c", "green"),
    ("#d62728", "red"),
    ("#9467bd", "purple"),
)
_SAFE_PUNCTUATION = set(" .,:+-=/()_–—≥≤·×'*↑↓▲▼")
_SUBSTITUTES = {
    "<": "‹",
    ">": "›",
    "%": "％",
    "&": "＆",
    "#": "＃",
    '"': "'",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    ";": ",",
    "`": "'",
    "\\": "/",
}


def inline(text: Inline, in_table: bool = False) -> str:
    out = []
    for s in spans(text):
        if isinstance(s, Code):
            out.append(code(s.text, in_table=in_table))
        elif isinstance(s, Strong):
            out.append(f"**{cell(s.text, 200)}**")
        elif isinstance(s, Bar):
            shown = bar(s.value, s.width)
            out.append(f"`{shown}`{' (lower is better)' if s.lower_is_better else ''}")
        else:
            out.append(_text(s))
    return "".join(out)


def code(text: str, limit: int = 200, in_table: bool = False) -> str:
    """A code span that nothing in `text` can close or break: one line, delimited by more
    backticks than any run inside, no control characters; in a table `|` escaped (GFM reads it
    as a cell break even there; elsewhere the backslash would show). Backslash escapes are not
    processed in a code span, so nothing else is escaped (and GitHub links no @-mention inside
    one)."""
    flat = printable(" ".join(str(text).split()))  # no ESC, no bidi override
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    if not flat:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    if in_table:
        flat = flat.replace("|", "\\|")
    return f"{fence}{pad}{flat}{pad}{fence}"


def _text(s: str, limit: int = 400) -> str:
    """Plain text escaped for Markdown, its edge spaces kept (it may sit between spans)."""
    stripped = s.strip()
    if not stripped:
        return " " if s else ""
    start, end = s[: len(s) - len(s.lstrip())], s[len(s.rstrip()) :]
    return (" " if start else "") + cell(stripped, limit) + (" " if end else "")


def mermaid_text(text: str, limit: int = 40) -> str:
    """Text for a Mermaid label: one line, at most `limit` characters, only characters the
    xychart grammar reads as text and no markup (a `"` would end the string, `]` the list)."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    out = []
    for ch in flat:
        if ch in _SUBSTITUTES:
            out.append(_SUBSTITUTES[ch])
        elif (
            ch in _SAFE_PUNCTUATION
            or unicodedata.category(ch)[:1] in "LN"
            or (unicodedata.category(ch) in ("Pd", "Sm", "So", "Po") and ch not in "|~!?@$^\\")
        ):
            out.append(ch)
        else:
            out.append("?")
    return "".join(out) or "?"


def mermaid_series(figure: Figure) -> list[tuple[str, str, tuple[float, ...]]]:
    """What a Mermaid chart draws: (kind, what it is, values). Rules become a flat line. Left
    out: a series with a missing value (Mermaid has no gaps), intervals and per-category ticks
    (a line through categories that are not a sequence reads as a trend; report.html draws them
    as whiskers and marks, and the tables hold the numbers)."""
    drawn: list[tuple[str, str, tuple[float, ...]]] = []
    n = len(figure.categories)
    for s in figure.series:
        if any(v is None for v in s.values) or s.kind == "tick":
            continue
        kind = "bar" if s.kind == "bar" else "line"
        drawn.append((kind, s.name, tuple(float(v) for v in s.values if v is not None)))
    for rule in figure.rules:
        drawn.append(("line", rule.label, (rule.value,) * n))
    return drawn


def drawn_in_mermaid(figure: Figure) -> bool:
    """Mermaid draws every bar up from the bottom of the y axis: a bar chart whose axis goes
    below zero would show a negative value as a tall bar. Such a chart is left to report.html."""
    return not (figure.y_range[0] < 0 and any(s.kind == "bar" for s in figure.series))


def mermaid(figure: Figure) -> str:
    drawn = mermaid_series(figure)
    # Bars first, then lines: the palette goes to plots in the order they are written.
    drawn.sort(key=lambda d: d[0] != "bar")
    palette = ", ".join(colour for colour, _ in PALETTE)
    # Cut in the middle and numbered where they would collide: two categories never share a
    # label (Mermaid would draw them in one slot).
    labels = short_labels(
        tuple(mermaid_text(c, 10_000) for c in figure.categories), LABEL_LIMIT, mark="＃"
    )
    categories = ", ".join(
        f'"{label}{" ◆" if figure.mark == i else ""}"' for i, label in enumerate(labels)
    )
    low, high = figure.y_range
    lines = [
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + palette + '"}}}}%%',
        "xychart-beta",
        f'  title "{mermaid_text(figure.title, 80)}"',
        f'  x-axis "{mermaid_text(figure.x_label, 60)}" [{categories}]',
        f'  y-axis "{mermaid_text(figure.y_label, 60)}" {num(low)} --> {num(high)}',
    ]
    for kind, _, values in drawn:
        lines.append(f"  {kind} [{', '.join(num(v) for v in values)}]")
    lines.append("```")
    return "\n".join(lines)


def _has_intervals(ends: tuple[float | None, ...] | None) -> bool:
    return ends is not None and any(v is not None for v in ends)


def legend(figure: Figure) -> str:
    drawn = sorted(mermaid_series(figure), key=lambda d: d[0] != "bar")
    colours = [name for _, name in PALETTE]
    parts = [
        f"{colours[i % len(colours)]} {'bars' if kind == 'bar' else 'line'}: {what}"
        for i, (kind, what, _) in enumerate(drawn)
    ]
    left = [s.name for s in figure.series if any(v is None for v in s.values)]
    if left:
        parts.append(f"not drawn (a value is undefined): {', '.join(left)}")
    elsewhere = [f"{s.name} intervals" for s in figure.series if _has_intervals(s.low)]
    elsewhere += [s.name for s in figure.series if s.kind == "tick"]
    if elsewhere:
        parts.append(f"{', '.join(elsewhere)}: in report.html and the table")
    if figure.mark is not None and figure.mark_label:
        parts.append(f"◆ {figure.mark_label}")
    return "; ".join(parts)


def _figure(figure: Figure, charts: bool) -> list[str]:
    if not charts:
        return []
    if not drawn_in_mermaid(figure):
        note = (
            f"Chart “{figure.title}” is in report.html (the workflow artifact): Mermaid would "
            "draw a negative value as a tall bar. The table holds its numbers."
        )
        return [f"<sub>{cell(note, 600)}</sub>", ""]
    caption = " ".join(x for x in (figure.caption, f"({legend(figure)})") if x)
    return [mermaid(figure), "", f"<sub>{cell(caption, 600)}</sub>", ""]


def _table(table: Table) -> list[str]:
    def row(cells: tuple[Inline, ...]) -> str:
        return "| " + " | ".join(inline(c, in_table=True) for c in cells) + " |"

    return [row(table.header), "|" + "---|" * len(table.header), *(row(r) for r in table.rows), ""]


def _block(block: Block, charts: bool) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * block.level + " " + inline(block.text), ""]
    if isinstance(block, Paragraph):
        return [inline(block.text), ""]
    if isinstance(block, Quote):
        return ["> " + inline(block.text), ""]
    if isinstance(block, Bullets):
        return [*(f"- {inline(i)}" for i in block.items), ""]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block, charts)
    if isinstance(block, Details):
        inner = [line for b in block.blocks for line in _block(b, charts)]
        return [
            f"<details><summary>{cell(block.summary, 200)}</summary>",
            "",
            *inner,
            "</details>",
            "",
        ]
    raise TypeError(type(block))


def _render(report: Report, charts: bool, note: str = "") -> str:
    lines = [report.marker] if report.marker else []
    for block in report.blocks:
        lines += _block(block, charts)
    if note:
        lines += [f"> {note}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _size(text: str, in_bytes: bool) -> int:
    return len(text.encode("utf-8")) if in_bytes else len(text)


def render(
    report: Report, limit: int = SUMMARY_LIMIT, in_bytes: bool = True, elsewhere: str = IN_THE_RUN
) -> str:
    """The Markdown, within `limit` (bytes, or characters when not in_bytes): charts cut
    first, with a note, then the tail; the notes say the whole report is in `elsewhere`."""
    full = _render(report, charts=True)
    if _size(full, in_bytes) <= limit:
        return full
    shown = f"{limit:,} {'bytes' if in_bytes else 'characters'}"
    lean = _render(report, charts=False, note=CHARTS_CUT.format(limit=shown, elsewhere=elsewhere))
    if _size(lean, in_bytes) <= limit:
        return lean
    note = (
        "\n> "
        + TAIL_CUT.format(limit=shown, elsewhere=elsewhere[:1].lower() + elsewhere[1:])
        + "\n"
    )
    room = limit - _size(note, in_bytes) - 8
    kept = lean.encode("utf-8")[:room].decode("utf-8", "ignore") if in_bytes else lean[:room]
    return kept[: kept.rfind("\n") + 1] + note


def comment(report: Report) -> str:
    """The PR comment's body: within GitHub's comment limit, in characters."""
    return render(report, COMMENT_LIMIT, in_bytes=False, elsewhere=FROM_THE_COMMENT)
