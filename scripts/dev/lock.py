"""Regenerate the actions' hash-locked requirements from their top-level inputs.

    python scripts/dev/lock.py          # rewrite scripts/requirements/<name>.txt from <name>.in

Each lock is universal (one file for CPython 3.10-3.13 on Linux, macOS and Windows), pins every
transitive package with the sha256 of every published file, and records the sha256 of its input
on its first line, so tests/test_lint.py notices when an input changed without a re-lock.
The actions install it with `pip install --require-hashes`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements"
HEADER = "# input-sha256: {digest} ({name}.in); regenerate with: python scripts/dev/lock.py\n"


def input_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock(source: Path) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    proc = subprocess.run(
        [
            uv, "pip", "compile", str(source), "--universal", "--python-version", "3.10",
            "--generate-hashes", "--no-header", "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"uv pip compile {source.name} failed:\n{proc.stderr}")
    target = source.with_suffix(".txt")
    header = HEADER.format(digest=input_digest(source), name=source.stem)
    target.write_text(header + proc.stdout)
    print(f"locked {target.relative_to(REQUIREMENTS.parents[1])}")


def main() -> None:
    for source in sorted(REQUIREMENTS.glob("*.in")):
        lock(source)


if __name__ == "__main__":
    main()
