"""The Actions runner's file protocol: outputs, step summary, annotations, untrusted text.

Outside Actions (no GITHUB_OUTPUT etc.) every call is a no-op except annotations, which fall
back to plain `error:` / `warning:` lines on stderr.

Text we did not write (container and build logs, AWS event messages, anything quoting them)
must never reach the runner as a workflow command: `untrusted_output()` suspends command
processing with `::stop-commands::<random token>` and every such line is also defused, for
runners that do not honour stop-commands.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def run_url() -> str | None:
    """This workflow run's page, when running in Actions."""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repository, run_id = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_RUN_ID")
    return f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else None


def event_payload() -> dict[str, Any]:
    """The triggering event (GITHUB_EVENT_PATH), or {} outside Actions.

    When GITHUB_EVENT_PATH is set, the file must hold a JSON object: a missing or broken payload
    would silently drop `latest`, `pr-N` and fork detection, so it is an error instead.
    """
    from mlops_actions.errors import UserError

    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            loaded = json.load(handle)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"GITHUB_EVENT_PATH {path}: cannot read the event payload ({type(exc).__name__}); "
            "the runner writes it: unset GITHUB_EVENT_PATH outside Actions"
        ) from None
    if not isinstance(loaded, dict):
        raise UserError(
            f"GITHUB_EVENT_PATH {path}: expected a JSON object, got {type(loaded).__name__}"
        )
    return loaded


_COMMAND_START = re.compile(r"^(\s*)::")


def defuse(line: str) -> str:
    """Make a line the runner could parse as a workflow command inert, keeping it readable.

    The runner takes `::name::` after leading whitespace and the legacy `##[name]` anywhere.
    """
    line = _COMMAND_START.sub(lambda m: m.group(1) + ": :", line, count=1)
    return line.replace("##[", "## [")


@contextmanager
def untrusted_output() -> Iterator[None]:
    """Suspend workflow commands while text we did not write is printed (stdout)."""
    if not in_actions():
        yield
        return
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", flush=True)
    try:
        yield
    finally:
        print(f"::{token}::", flush=True)


def print_untrusted(text: str) -> None:
    """Print text from outside (logs, AWS messages, reports quoting them), defused."""
    with untrusted_output():
        for line in text.splitlines():
            print(defuse(line), flush=True)


def code_fence(text: str) -> str:
    """A Markdown fence longer than any backtick run inside `text`, so it cannot be closed."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def artifact_name(what: str, path: str = "") -> str:
    """A workflow artifact's name for a file this step writes (upload-artifact v4 refuses a name
    already used in the run): `what`, the job, and a digest of the step's own GITHUB_OUTPUT file,
    which GitHub's runner makes anew for every step it runs (two steps of one job, matrix legs
    and re-run attempts differ), and of the file's path (act gives every step of a job one
    GITHUB_OUTPUT). Only the characters an artifact name may hold."""
    import hashlib

    seed = f"{os.environ.get('GITHUB_OUTPUT', '')}\0{path}"
    step = hashlib.sha256(seed.encode()).hexdigest()[:10]
    job = os.environ.get("GITHUB_JOB", "") or "job"
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{what}-{job}")[:80].strip("-.")
    return f"{name}-{step}"


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
