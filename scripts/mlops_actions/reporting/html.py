"""A report as one self-contained HTML page (report.html): inline SVG charts, inline CSS, no
script, no font or anything else from a network (a Content-Security-Policy says so to the
browser). Pure.

Every text from the report, data-derived names included, is HTML-escaped, in elements and in
attributes alike, so a category named `</svg><script>` is shown, not run. Each plotted value
carries its number (data-value, and a <title> the browser shows on hover) exactly as the JSON
holds it, which the tests compare.
"""

from __future__ import annotations

import math
from html import escape

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
    short_labels,
    spans,
)
from mlops_actions.reporting.markdown import PALETTE

W, H = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 64
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:980px;padding:0 16px;color:#1f2328;background:#fff}
h1,h2,h3,h4{margin:1.2em 0 .5em}table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;
background:#f6f8fa;padding:1px 4px;border-radius:4px}blockquote{margin:.5em 0;padding:0 1em;
color:#57606a;border-left:4px solid #d0d7de}figure{margin:1em 0 1.5em}
figcaption{color:#57606a;font-size:12px;max-width:640px}svg.chart{background:#fff}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}.bar{font-family:ui-monospace,monospace}
"""


def _e(text: str) -> str:
    return escape(printable(str(text)), quote=True)  # no bidi override reorders what is read


def inline(text: Inline) -> str:
    out = []
    for s in spans(text):
        if isinstance(s, Code):
            out.append(f"<code>{_e(s.text)}</code>")
        elif isinstance(s, Strong):
            out.append(f"<strong>{_e(s.text)}</strong>")
        elif isinstance(s, Bar):
            note = " (lower is better)" if s.lower_is_better else ""
            out.append(f'<span class="bar">{_e(bar(s.value, s.width))}</span>{note}')
        else:
            out.append(_e(s))
    return "".join(out)


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)][0]


class _Plot:
    def __init__(self, figure: Figure):
        self.f = figure
        self.low, self.high = figure.y_range
        self.n = len(figure.categories)
        self.width = W - LEFT - RIGHT
        self.height = H - TOP - BOTTOM

    def y(self, v: float) -> float:
        span = (self.high - self.low) or 1.0
        clipped = min(max(v, self.low), self.high)
        return TOP + self.height * (1 - (clipped - self.low) / span)

    def x(self, i: int) -> float:  # a category's centre
        return LEFT + self.width * (i + 0.5) / max(self.n, 1)

    def x_value(self, v: float) -> float:  # a number on an even numeric axis
        first, last = float(self.f.categories[0]), float(self.f.categories[-1])
        return LEFT + self.width * (v - first) / ((last - first) or 1.0)


def _point(x: float, y: float, colour: str, label: str, value: str, r: float = 2.5) -> str:
    return (
        f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" '
        f'data-value="{_e(value)}"><title>{_e(label)}</title></circle>'
    )


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values for a y axis from low to high (steps of 1, 2, 2.5 or 5 times a power of
    ten), at most `most` of them, so a reader sees 0.2, 0.4… rather than 0.1852, 0.3703…"""
    span = high - low
    if not math.isfinite(span) or span <= 0:
        return [low]
    for power in range(math.floor(math.log10(span / most)), math.ceil(math.log10(span)) + 2):
        for unit in (1.0, 2.0, 2.5, 5.0):
            step = unit * 10.0**power
            first = math.ceil(low / step - 1e-9)
            last = math.floor(high / step + 1e-9)
            if last - first + 1 <= most:
                return [round(k * step, 12) for k in range(first, last + 1)]
    return [low, high]


def svg(figure: Figure) -> str:
    p = _Plot(figure)
    f = figure
    parts = [
        f'<svg class="chart" data-figure="{_e(f.key)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{_e(f.title)}"><title>{_e(f.title)}</title>'
    ]
    # axes and y ticks
    for tick in nice_ticks(p.low, p.high):
        y = p.y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{num(tick)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{H - BOTTOM}" stroke="#57606a"/>')
    parts.append(
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{H - BOTTOM}" y2="{H - BOTTOM}" stroke="#57606a"/>'
    )
    step = max(1, p.n // 12)
    labels = short_labels(f.categories, 14)  # distinct, cut in the middle
    for i, c in enumerate(f.categories):
        if i % step and i != p.n - 1:
            continue
        x = p.x_value(float(c)) if f.numeric_x else p.x(i)
        label = labels[i]
        parts.append(
            f'<text x="{x:.1f}" y="{H - BOTTOM + 14}" text-anchor="end" '
            f'transform="rotate(-30 {x:.1f} {H - BOTTOM + 14})">{_e(label)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + p.width / 2:.0f}" y="{H - 6}" text-anchor="middle">'
        f"{_e(f.x_label)}</text>"
    )
    parts.append(
        f'<text x="12" y="{TOP + p.height / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + p.height / 2:.0f})">{_e(f.y_label)}</text>'
    )
    parts.append(f'<text x="{LEFT}" y="16" style="font-weight:600">{_e(f.title)}</text>')
    bars = [s for s in f.series if s.kind == "bar"]
    slot = p.width / max(p.n, 1) * 0.8
    for index, s in enumerate(f.series):
        colour = _colour(index)
        if s.kind == "bar":
            k = bars.index(s)
            w = slot / len(bars)
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                x0 = p.x(i) - slot / 2 + k * w
                y0, base = p.y(v), p.y(max(p.low, min(0.0, p.high)))
                top, height = min(y0, base), abs(base - y0)
                label = f"{s.name} · {f.categories[i]}: {num(v)}"
                parts.append(
                    f'<rect class="pt" x="{x0:.1f}" y="{top:.1f}" width="{w * 0.95:.1f}" '
                    f'height="{max(height, 0.5):.1f}" fill="{colour}" fill-opacity="0.8" '
                    f'data-value="{num(v)}"><title>{_e(label)}</title></rect>'
                )
        elif s.kind == "tick":  # a value per category, not a path between them
            half = slot / 2
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                y = p.y(v)
                label = f"{s.name} · {f.categories[i]}: {num(v)}"
                parts.append(
                    f'<line class="pt" x1="{p.x(i) - half:.1f}" x2="{p.x(i) + half:.1f}" '
                    f'y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="3" '
                    f'data-value="{num(v)}"><title>{_e(label)}</title></line>'
                )
        elif s.points and f.numeric_x:
            path = " ".join(f"{p.x_value(x):.1f},{p.y(y):.1f}" for x, y, _ in s.points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            parts += [
                _point(p.x_value(x), p.y(y), colour, f"{s.name}: {label}", num(y), 1.8)
                for x, y, label in s.points
            ]
        else:
            xs = [
                (p.x_value(float(c)) if f.numeric_x else p.x(i)) for i, c in enumerate(f.categories)
            ]
            runs: list[list[str]] = [[]]  # a missing value is a gap: the line stops there
            for i, v in enumerate(s.values):
                if v is None:
                    runs.append([])
                else:
                    runs[-1].append(f"{xs[i]:.1f},{p.y(v):.1f}")
            parts += [
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
                for run in runs
                if run
            ]
            for i, v in enumerate(s.values):
                if v is not None:
                    label = f"{s.name} · {f.categories[i]}: {num(v)}"
                    parts.append(_point(xs[i], p.y(v), colour, label, num(v)))
        if s.low is not None and s.high is not None:
            for i, (lo, hi) in enumerate(zip(s.low, s.high, strict=True)):
                if lo is None or hi is None:
                    continue
                x = p.x(i) + (
                    (bars.index(s) + 0.5) * slot / len(bars) - slot / 2 if s.kind == "bar" else 0
                )
                label = f"{s.name} · {f.categories[i]}: interval {num(lo)} – {num(hi)}"
                beyond = lo < p.low or hi > p.high
                if beyond:  # never clipped silently: said, and an arrow at the cut end
                    label += " (beyond the axis: drawn to its edge)"
                    # an arrowhead at each cut end: down at the bottom, up at the top
                    for cut, edge, back in ((lo < p.low, p.low, 5), (hi > p.high, p.high, -5)):
                        if cut:
                            y = p.y(edge)
                            parts.append(
                                f'<path class="ci-cut" d="M{x - 4:.1f},{y - back:.1f} '
                                f'L{x + 4:.1f},{y - back:.1f} L{x:.1f},{y:.1f} Z" '
                                'fill="#1f2328"/>'
                            )
                clipped = ' data-clipped="true"' if beyond else ""
                parts.append(
                    f'<line class="ci" x1="{x:.1f}" x2="{x:.1f}" y1="{p.y(lo):.1f}" '
                    f'y2="{p.y(hi):.1f}" stroke="#1f2328" stroke-width="1.5"{clipped} '
                    f'data-low="{num(lo)}" data-high="{num(hi)}"><title>{_e(label)}</title></line>'
                )
    for r in f.rules:
        y = p.y(r.value)
        parts.append(
            f'<line class="rule" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#cf222e" stroke-dasharray="5 4" data-value="{num(r.value)}">'
            f"<title>{_e(r.label)}: {num(r.value)}</title></line>"
            f'<text x="{W - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#cf222e">'
            f"{_e(r.label)}: {num(r.value)}</text>"
        )
    if f.mark is not None:
        x = p.x(f.mark)
        parts.append(
            f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{H - BOTTOM}" '
            f'stroke="#cf222e" stroke-dasharray="3 3"><title>{_e(f.mark_label)}</title></line>'
            f'<text x="{x + 4:.1f}" y="{TOP + 10}" fill="#cf222e">{_e(f.mark_label)}</text>'
        )
    parts.append("</svg>")
    legend = " · ".join(
        f'<span style="color:{_colour(i)}">■</span> {_e(s.name)}' for i, s in enumerate(f.series)
    )
    caption = f"{legend}<br>{_e(f.caption)}" if f.caption else legend
    return f"<figure>{''.join(parts)}<figcaption>{caption}</figcaption></figure>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{inline(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(max(block.level, 1), 6)
        return f"<h{level}>{inline(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f"<p>{inline(block.text)}</p>"
    if isinstance(block, Quote):
        return f"<blockquote>{inline(block.text)}</blockquote>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{inline(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return svg(block)
    if isinstance(block, Details):
        inner = "".join(_block(b) for b in block.blocks)
        return f"<details><summary>{_e(block.summary)}</summary>{inner}</details>"
    raise TypeError(type(block))


def render(report: Report) -> str:
    meta = "".join(
        f'<meta name="{_e(k)}" content="{_e(v)}">' for k, v in sorted(report.meta.items())
    )
    body = "\n".join(_block(b) for b in report.blocks)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f"<title>{_e(report.title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
