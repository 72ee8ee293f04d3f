"""Headless Debian Chromium with no network of its own, for the report screenshots
(scripts/dev/screenshots.py) and the report tests (tests/support/browser.py): a fresh profile
per run, background networking, updates and sync off."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--hide-scrollbars",
)


class Missing(RuntimeError):
    """A tool is not installed (the message says how to install it)."""


def binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise Missing("chromium is not installed: apt-get install chromium (scripts/dev/env.sh)")
    return found


def run(args: list[str], timeout: int = 90) -> str:
    """Chromium with `args` in a throw-away profile; its stdout, or an error with its stderr."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        proc = subprocess.run(
            [binary(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def screenshot(page: Path, png: Path, width: int = 1100, height: int = 2400) -> None:
    run(
        [
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            page.resolve().as_uri(),
        ]
    )
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot at {png}")
