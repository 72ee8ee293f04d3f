"""Small helpers every command's parser shares: inputs with an `INPUT_<NAME>` fallback (how the
composite actions pass them, through `env:`), and flag and number parsing that turns nan, inf,
junk and out-of-range values into one-line errors."""

from __future__ import annotations

import argparse
import math
import os
import re

from mlops_actions.errors import UserError, shown

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MAX_WAIT_SECONDS = 5 * 24 * 3600  # the longest a self-hosted job may run
# An image reference pinned by digest (`name@sha256:<64 hex>`), the only form we deploy or record.
IMAGE_BY_DIGEST = re.compile(r"^(?P<repo>[^@\s]+)@sha256:[0-9a-f]{64}$")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see --help)")


Subparsers = argparse._SubParsersAction  # the type `add_subparsers()` returns


def env_input(name: str, default: str | None = None) -> str | None:
    """The action input `name` as the composite action passes it: INPUT_<NAME>, dashes as _."""
    value = os.environ.get(f"INPUT_{name.upper().replace('-', '_')}")
    return value if value not in (None, "") else default


def add(
    parser: argparse.ArgumentParser, name: str, help_text: str, default: str | None = None
) -> None:
    # argparse formats help with %: a literal one (e.g. "in % of capacity") must be doubled.
    parser.add_argument(
        f"--{name}", default=env_input(name, default), help=help_text.replace("%", "%%")
    )


def flag(value: str | None, option: str, default: bool) -> bool:
    if value in (None, ""):
        return default
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise UserError(f"{option}: expected true or false, got {shown(value)}")


def number(
    value: str | None,
    option: str,
    *,
    minimum: float = 0,
    maximum: float = 1e9,
    integer: bool = False,
) -> float | None:
    """A numeric input within [minimum, maximum]; nan, inf and junk are one-line errors."""
    if value in (None, ""):
        return None
    try:
        parsed = int(str(value).strip()) if integer else float(str(value).strip())
    except ValueError:
        parsed = math.nan
    if not (math.isfinite(parsed) and minimum <= parsed <= maximum):
        kind = "a whole number" if integer else "a number"
        raise UserError(
            f"{option}: expected {kind} from {minimum:g} to {maximum:g}, got {shown(value)}"
        )
    return parsed


def split_list(text: str | None) -> tuple[str, ...]:
    """Comma- or newline-separated items, stripped, empties dropped."""
    return tuple(p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip())


def service_url(value: str, name: str) -> str:
    """An http(s) URL of a service (an API or an emulator), or a one-line UserError naming
    where it came from (`name`: the input or environment variable)."""
    from urllib.parse import urlsplit

    text = value.strip()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        # The clients read the raw variable, so a trailing newline is no typo to forgive.
        raise UserError(
            f"{name}: {shown(value)} holds a space or control character; give "
            "http(s)://host[:port] alone"
        )
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - parsing the port is what finds 'host:port' typos
    except ValueError as exc:
        raise UserError(
            f"{name}: {shown(text)} is not a URL ({exc}); give http(s)://host[:port]"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{name}: {shown(text)} is not an http(s) URL; give http(s)://host[:port]")
    return text


# botocore's own test of a region name; checked first so that the error names the input
_REGION = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def aws_region(value: str | None, name: str = "aws-region") -> str | None:
    if not value or not value.strip():
        return None
    if not _REGION.match(value.strip()):
        raise UserError(f"{name}: {shown(value)} is not an AWS region name; give e.g. us-east-1")
    return value.strip()
