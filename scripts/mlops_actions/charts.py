"""Pictures drawn with text, so reports render the same in a terminal, a job summary and a PR
comment, and nothing goes to an image host. Pure."""

from __future__ import annotations

import unicodedata

BAR_WIDTH = 20


def bar(value: float | None, width: int = BAR_WIDTH) -> str:
    """A Unicode bar for a value in [0, 1], in eighths of a cell."""
    if value is None:
        return ""
    eighths = round(max(0.0, min(1.0, value)) * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width, "░")


_MARKDOWN_SPECIAL = "\\`*_[]<>|#!~"
# After an @, so `@team` from the data cannot notify anyone from a PR comment (as Dependabot
# writes mentions it quotes): the zero-width space breaks GitHub's mention, the text reads the same.
NO_MENTION = "@&#8203;"


def printable(text: str) -> str:
    """`text` with every control, format or unassigned character (Unicode category C: ESC, BEL,
    the bidi overrides U+202A-U+202E and U+2066-U+2069, zero-width ones) replaced by `?`: an
    escape sequence could rewrite a terminal, a bidi override reverse what a reader sees. The
    one function every renderer of text from the data uses."""
    return "".join(ch if unicodedata.category(ch)[0] != "C" else "?" for ch in text)


def cell(text: str, limit: int = 60) -> str:
    """Text from data (column and category names) made safe for a Markdown table cell: one
    line, no markup, no HTML, no table breaks, no control characters, no @-mention, at most
    `limit` characters."""
    flat = printable(" ".join(str(text).split()))
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    escaped = "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in flat)
    return escaped.replace("@", NO_MENTION)
