"""The Actions runner's file protocol: outputs, step summary, annotations.

Outside Actions (no GITHUB_OUTPUT etc.) every call is a no-op except annotations, which fall
back to plain `error:` / `warning:` lines on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def event_payload() -> dict[str, Any]:
    """The triggering event (GITHUB_EVENT_PATH), or {} outside Actions or when unreadable."""
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            loaded = json.load(handle)
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def set_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            handle.write(f"{name}={value}\n")


def append_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotate(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> None:
    """Emit an `::error`/`::warning`/`::notice` workflow command (plain text outside Actions)."""
    if not in_actions():
        print(f"{level}: {message}", file=sys.stderr)
        return
    props = []
    if file:
        props.append(f"file={_escape_property(file)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    # Workflow commands go to stdout, where the runner reads them.
    print(f"{head}::{_escape_data(message)}", flush=True)
