"""Where the commands write: an output directory or file checked before any work (a path that
is the wrong kind of thing is a one-line error, not a traceback after the work is done), and
files written whole or not at all, each with the same mode (0644 under the usual umask)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlops_actions.errors import UserError, shown


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def directory(path: str | Path, name: str, files: tuple[str, ...] = ()) -> Path:
    """`path` as an existing, writable directory (made, with its parents, when missing), in
    which none of `files` (the names the command will write) is a directory."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UserError(f"{name}: {shown(str(path))} exists and is not a directory; choose another")
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=target, prefix=".probe-")  # writable, before the work
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:  # a parent that is a file, no permission, a read-only file system
        raise UserError(f"{name}: cannot write in {shown(str(path))}: {exc.strerror}") from None
    for written in files:
        if (target / written).is_dir():
            raise UserError(
                f"{name}: {shown(str(target / written))} is a directory, where the command "
                "writes a file; remove it or choose another output-dir"
            )
    return target


def file(path: str | Path, name: str) -> Path:
    """`path` as a file to write: not a directory, its folder made (and writable)."""
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{name}: {shown(str(path))} is a directory; give a file path")
    directory(target.parent, f"{name} (its folder)")
    return target


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # a hard link, or a path through a bind mount
    except OSError:  # either does not exist (yet)
        return False


def apart(
    path: Path,
    flag: str,
    others: Mapping[str, str | Path | None],
    more: Iterable[tuple[str, str | Path]] = (),
) -> None:
    """Refuse a path to write (`flag`, e.g. --html) that is one of the run's other files (its
    inputs, or another output): writing it would destroy an input or one output would
    overwrite another. Checked before anything is written or removed."""
    for role, other in [*others.items(), *more]:
        if other and _same(path, Path(other)):
            raise UserError(
                f"{flag}: {shown(str(path))} is also the {role}; give {flag} a file of its own "
                "(or leave it out: report.html in output-dir)"
            )


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader never sees half a file and a failure
    leaves nothing behind."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise UserError(f"{path}: cannot write here: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would differ from every other output
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, the name taken by a folder meanwhile
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"{path}: cannot write it: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
