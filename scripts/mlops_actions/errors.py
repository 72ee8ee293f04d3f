"""The one exception type for mistakes a user can fix.

The CLI turns a UserError into a single `::error` line (or `error:` outside Actions) and exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem in the user's input: message names the file/field and the fix."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return self.message
