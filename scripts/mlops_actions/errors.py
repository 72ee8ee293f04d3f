"""The one exception type for mistakes a user can fix, and how values are quoted in it.

The CLI turns a UserError into a single `::error` line (or `error:` outside Actions) and exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE = 2000  # a message quotes user input; never let it grow with that input
MAX_QUOTED = 80


def shown(value: Any, limit: int = MAX_QUOTED) -> str:
    """repr() of a user's value, cut to `limit` characters so an error stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class UserError(Exception):
    """A problem in the user's input: message names the file/field and the fix."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        if len(message) > MAX_MESSAGE:
            message = f"{message[: MAX_MESSAGE - 1]}…"
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return self.message
