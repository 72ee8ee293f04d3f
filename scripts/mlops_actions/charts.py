"""Pictures drawn with text, so reports render the same in a terminal, a job summary and a PR
comment, and nothing goes to an image host. Pure."""

from __future__ import annotations

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


def cell(text: str, limit: int = 60) -> str:
    """Text from data (column and category names) made safe for a Markdown table cell: one
    line, no markup, no HTML, no table breaks, at most `limit` characters."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in flat)
