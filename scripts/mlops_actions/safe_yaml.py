"""YAML for small user files (gate config, params, task definitions), with limits.

`yaml.safe_load` builds no objects from tags, but aliases can still make a few hundred bytes
stand for millions of values ("billion laughs"): anything that walks or prints the result then
explodes. Files here are small by nature, so the size and the expanded node count are capped.
A key written twice in one mapping is refused: YAML would keep the later block silently, so a
pasted second `metrics:` would replace the first without a word. Nesting deep enough to
exhaust Python's recursion is refused the same way, in one line.
"""

from __future__ import annotations

from typing import Any

import yaml

from mlops_actions.errors import UserError

MAX_BYTES = 1 << 20
MAX_NODES = 20_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated within one mapping."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue  # the base constructor reports unhashable keys
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"the key {key!r} appears twice in one mapping (lines {seen[key]} and "
                f"{key_node.start_mark.line + 1}); YAML would keep only the later one: merge them",
                key_node.start_mark,
            )  # fmt: skip
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def read(path: str, what: str) -> Any:
    """Read and parse a YAML file, every way it can be wrong a one-line UserError."""
    from pathlib import Path

    file = Path(path)
    if file.is_dir():
        raise UserError(f"{path}: is a directory; give the {what} file", file=path)
    if not file.is_file():
        raise UserError(f"{path}: {what} file not found", file=path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8", file=path
        ) from None
    except OSError as exc:  # no permission, a broken disk
        raise UserError(f"{path}: cannot read the {what}: {exc.strerror}", file=path) from None
    return load(text, path)


def load(text: str, source: str) -> Any:
    """Parse `text` (from `source`, for messages); malformed or oversized YAML is a UserError."""
    if len(text) > MAX_BYTES:
        raise UserError(
            f"{source}: {len(text)} bytes is larger than {MAX_BYTES} for a YAML input; "
            "is it the right file?",
            file=source,
        )
    try:
        data = yaml.load(text.removeprefix("\ufeff"), Loader=_UniqueKeyLoader)
    except RecursionError:
        raise UserError(f"{source}: nested too deeply to read; flatten it", file=source) from None
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
    except ValueError as exc:  # e.g. an integer longer than Python converts (4300 digits)
        raise UserError(
            f"{source}: a value cannot be read ({str(exc)[:120]})", file=source
        ) from None
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
