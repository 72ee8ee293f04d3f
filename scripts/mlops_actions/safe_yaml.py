"""YAML for small user files (gate config, params, task definitions), with limits.

`yaml.safe_load` builds no objects from tags, but aliases can still make a few hundred bytes
stand for millions of values ("billion laughs"): anything that walks or prints the result then
explodes. Files here are small by nature, so the size and the expanded node count are capped.
"""

from __future__ import annotations

from typing import Any

import yaml

from mlops_actions.errors import UserError

MAX_BYTES = 1 << 20
MAX_NODES = 20_000


def load(text: str, source: str) -> Any:
    """Parse `text` (from `source`, for messages); malformed or oversized YAML is a UserError."""
    if len(text) > MAX_BYTES:
        raise UserError(
            f"{source}: {len(text)} bytes is larger than {MAX_BYTES} for a YAML input; "
            "is it the right file?",
            file=source,
        )
    try:
        data = yaml.safe_load(text.removeprefix("\ufeff"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise UserError(
            f"{source}: line {line}: malformed YAML: {exc.problem or 'invalid YAML'}",
            file=source,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"{source}: malformed YAML: {str(exc)[:200]}", file=source) from None
    _check_expansion(data, source)
    return data


def _check_expansion(data: Any, source: str) -> None:
    budget = MAX_NODES
    stack = [data]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise UserError(
                f"{source}: expands to more than {MAX_NODES} values (YAML aliases repeating "
                "each other?); write the values out",
                file=source,
            )
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
