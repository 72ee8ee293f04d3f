"""JSON from users and from stores, read once the same way: a file that is missing, a folder,
not UTF-8, too large, not JSON, or nested deeper than Python can parse is a one-line UserError
naming the file; never a traceback. What a caller then expects of the document (an object with
certain fields) it checks itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_actions.errors import UserError

MAX_BYTES = 16 << 20  # configs, verdicts, cards and payloads are kilobytes


class _DuplicateKey(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are each written once: `{"passed": false, "passed": true}` is
    ambiguous, and JSON readers disagree on which one wins."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def loads(text: str, source: str, what: str = "document") -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{source}: line {exc.lineno}: not JSON ({exc.msg}); give the {what} as JSON",
            file=source, line=exc.lineno,
        ) from None  # fmt: skip
    except _DuplicateKey as exc:
        raise UserError(
            f"{source}: the key {str(exc)[:80]!r} is written twice; keep one (is it the {what}?)",
            file=source,
        ) from None
    except RecursionError:
        raise UserError(f"{source}: nested too deeply to read; is it the {what}?") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (4300 digits)
        raise UserError(f"{source}: not a {what} ({str(exc)[:120]})", file=source) from None


def read(path: str | Path, what: str = "document") -> Any:
    file = Path(path)
    if file.is_dir():
        raise UserError(f"{path}: is a directory; give the {what} file", file=str(path))
    if not file.is_file():
        raise UserError(f"{path}: {what} file not found", file=str(path))
    try:
        if file.stat().st_size > MAX_BYTES:
            raise UserError(f"{path}: larger than {MAX_BYTES >> 20} MiB; is it the {what}?")
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); is it the {what}?") from None
    except OSError as exc:  # no permission, a broken disk
        raise UserError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    return loads(text, str(path), what)


def read_object(path: str | Path, what: str = "document") -> dict[str, Any]:
    data = read(path, what)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object (the {what}), got a {type(data).__name__}")
    return data
