"""One model of a report, drawn several ways (reporting/markdown.py, html.py, text.py). Pure.

A report is a sequence of blocks (headings, paragraphs, tables, figures). Text in it is plain:
nothing is escaped here, since each renderer escapes for its own format (Markdown, HTML, Mermaid
labels, a terminal). Text from data (column and category names) may therefore go anywhere in a
block as it is.

Numbers are formatted once, by the report modules, before they reach a block; a figure's values
are the numbers of the JSON the report comes from (verdict.json, monitor.json), so no renderer
can show a number the JSON does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True)
class Code:
    """Monospaced text (a file name, a column): `x` in Markdown, <code> in HTML."""

    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Bar:
    """A Unicode bar for a value in [0, 1] (reporting.bars); `lower_is_better` says which way
    is good, and every renderer says so next to it."""

    value: float | None
    width: int = 20
    lower_is_better: bool = False


Span: TypeAlias = "str | Code | Strong | Bar"
Inline: TypeAlias = "str | Code | Strong | Bar | tuple[str | Code | Strong | Bar, ...]"


def spans(inline: Inline) -> tuple[str | Code | Strong | Bar, ...]:
    return inline if isinstance(inline, tuple) else (inline,)


def plain(inline: Inline) -> str:
    """The text of an inline, with no markup (for titles, alt text, Mermaid labels)."""
    from mlops_actions.charts import bar

    out = []
    for s in spans(inline):
        if isinstance(s, Bar):
            out.append(bar(s.value, s.width))
        else:
            out.append(s if isinstance(s, str) else s.text)
    return "".join(out)


@dataclass(frozen=True)
class Heading:
    text: Inline
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: Inline


@dataclass(frozen=True)
class Quote:
    text: Inline


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[Inline, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Series:
    """One series of a figure: a value per category (None: no value there), drawn as a line or
    bars. `low`/`high`: an interval per category (whiskers in HTML; left out of Mermaid, where a
    line through categories would read as a trend; the tables hold them)."""

    name: str
    values: tuple[float | None, ...]
    kind: str = "line"  # line | bar | tick (a mark per category; a line in Mermaid)
    low: tuple[float | None, ...] | None = None
    high: tuple[float | None, ...] | None = None
    # the exact curve (x, y, label) for the HTML drawing, when the values are its grid
    points: tuple[tuple[float, float, str], ...] = ()


@dataclass(frozen=True)
class Rule:
    """A horizontal reference line (a tolerance, a threshold, chance)."""

    value: float
    label: str


@dataclass(frozen=True)
class Figure:
    """A chart over categories (which may be numbers written as text, evenly spaced)."""

    key: str  # stable id: data-figure in the HTML, for tests and links
    title: str
    x_label: str
    y_label: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    y_range: tuple[float, float]
    rules: tuple[Rule, ...] = ()
    mark: int | None = None  # a category to mark (the decision threshold's bin)
    mark_label: str = ""
    caption: str = ""  # what the picture shows, and which way is good
    numeric_x: bool = False  # categories are evenly spaced numbers (curves); HTML uses points


@dataclass(frozen=True)
class Details:
    summary: str
    blocks: tuple[Block, ...]


Block: TypeAlias = "Heading | Paragraph | Quote | Bullets | Table | Figure | Details"


@dataclass(frozen=True)
class Report:
    title: str
    blocks: tuple[Block, ...]
    marker: str = ""  # the hidden PR-comment marker (Markdown only)
    meta: dict[str, str] = field(default_factory=dict)


def figures(blocks: tuple[Block, ...]) -> list[Figure]:
    out: list[Figure] = []
    for b in blocks:
        if isinstance(b, Figure):
            out.append(b)
        elif isinstance(b, Details):
            out += figures(b.blocks)
    return out


def num(x: float | None, digits: int = 4) -> str:
    """The one way a figure's number is written: as rounded in the JSON, no trailing zeros."""
    if x is None:
        return "—"
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def short_labels(texts: tuple[str, ...], limit: int, mark: str = "#") -> list[str]:
    """Axis labels of at most about `limit` characters that stay distinct: a long one keeps its
    start and its end, cut in the middle (`region_north_east_1` and `…_2` differ at the end);
    two that still collide get `<mark><n>` (the category's number) added."""

    def cut(text: str, room: int) -> str:
        if len(text) <= room:
            return text
        tail = room // 2
        return text[: room - 1 - tail] + "…" + text[len(text) - tail :]

    out: list[str] = []
    taken: set[str] = set()
    shortened = [cut(t, limit) for t in texts]
    repeated = {x for x in shortened if shortened.count(x) > 1}
    for i, (text, short) in enumerate(zip(texts, shortened, strict=True)):
        label = short
        if short in repeated or label in taken:
            suffix = f" {mark}{i + 1}"
            label = cut(text, max(limit - len(suffix), 4)) + suffix
        while label in taken:  # a suffixed label equal to another's own text
            label += mark
        taken.add(label)
        out.append(label)
    return out
