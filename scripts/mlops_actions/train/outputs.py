"""What a training run may leave behind, and how it is read: the staging directory's rules.

The container (or the ECS task, through S3) writes into a staging directory it controls. Before
anything in it is hashed, parsed or published:
- every output path the user named must resolve inside the artifacts directory;
- every entry in staging must be a plain directory or a regular file with one link: a symlink
  could publish a host file (`~/.docker/config.json`) as the model or card, a hard link or device
  file could do the same through another door;
- files are opened with O_NOFOLLOW, so a link swapped in later is refused, not followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath

from mlops_actions.errors import UserError, shown


def inside(artifacts: Path, relative: str, field: str) -> Path:
    """`artifacts / relative`, refused unless it is a file path strictly inside artifacts."""
    text = relative.strip()
    pure = PurePosixPath(text.replace("\\", "/"))
    if not text or pure.is_absolute() or any(part in ("..", ".") for part in pure.parts):
        raise UserError(
            f"{field}: {shown(relative)} must be a relative file path inside the artifacts "
            "directory, without '..' or '.', e.g. model.skops"
        )
    if not pure.parts or text.endswith("/"):
        raise UserError(f"{field}: {shown(relative)} names a directory; name the file")
    target = (artifacts / pure).resolve()
    if artifacts.resolve() not in target.parents:
        raise UserError(
            f"{field}: {shown(relative)} resolves outside the artifacts directory "
            f"({target}); a symlink in the way? use a plain relative path"
        )
    return artifacts / pure


def clean_relative_key(relative: str) -> str | None:
    """An S3 key's part below the run prefix as a safe relative path, or None to skip it."""
    if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return "/".join(parts)


def check_tree(staging: Path) -> list[str]:
    """Relative paths of the regular files in staging; anything else there is refused."""
    files: list[str] = []
    for root, dirs, names in os.walk(staging, followlinks=False):
        base = Path(root)
        for name in [*dirs, *names]:
            path = base / name
            info = os.lstat(path)
            relative = path.relative_to(staging).as_posix()
            if stat.S_ISDIR(info.st_mode):
                continue
            if stat.S_ISLNK(info.st_mode):
                problem = f"is a symlink (to {shown(os.readlink(path))})"
            elif not stat.S_ISREG(info.st_mode):
                problem = "is not a regular file (a device, fifo or socket)"
            elif info.st_nlink != 1:
                problem = f"is a hard link ({info.st_nlink} names for one file)"
            else:
                files.append(relative)
                continue
            raise UnsafeOutput(
                f"training output {shown(relative)} {problem}; outputs must be regular files "
                "written by the training command, so nothing outside the artifacts directory "
                "can be published"
            )
    return sorted(files)


class UnsafeOutput(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _open_no_follow(path: Path) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))


def sha256_no_follow(path: Path) -> str:
    digest = hashlib.sha256()
    with os.fdopen(_open_no_follow(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_text_no_follow(path: Path, limit: int = 1 << 20) -> str | None:
    """The file's text (None past `limit` bytes: a metrics file is small)."""
    with os.fdopen(_open_no_follow(path), "rb") as handle:
        data = handle.read(limit + 1)
    return None if len(data) > limit else data.decode("utf-8", errors="replace")
