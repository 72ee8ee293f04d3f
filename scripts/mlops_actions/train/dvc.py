"""Data tracked by DVC: which training data paths are, what version each `.dvc` file (or
`dvc.lock`) records, pulling exactly that version with `dvc pull`, and checking what arrived.

The recorded hash is what the model card keeps (train/run.py's data_fingerprint), so a model
names the exact data version it was trained on.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions import safe_yaml
from mlops_actions.errors import UserError, shown


@dataclass(frozen=True)
class Tracked:
    path: Path  # the data path as given
    record: Path  # the .dvc file or dvc.lock that records it
    md5: str  # DVC's hash (a directory's ends in .dir)
    size: int | None
    root: Path  # the DVC repository (the folder holding .dvc/)


def _repo_root(path: Path) -> Path | None:
    for folder in [path.parent, *path.parent.parents]:
        if (folder / ".dvc").is_dir():
            return folder
    return None


def _out(record: Path, entry: Any) -> tuple[str, int | None] | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("md5"), str):
        return None
    size = entry.get("size")
    return entry["md5"], size if isinstance(size, int) else None


def _from_dvc_file(path: Path) -> tuple[Path, str, int | None] | None:
    record = path.with_name(path.name + ".dvc")
    if not record.is_file():
        return None
    doc = safe_yaml.load(record.read_text(encoding="utf-8"), str(record))
    outs = doc.get("outs") if isinstance(doc, dict) else None
    found = _out(record, outs[0]) if isinstance(outs, list) and outs else None
    if found is None:
        raise UserError(f"{record}: outs[0].md5 missing; is it a DVC file? (dvc add {path.name})")
    return record, *found


def _from_lock(path: Path, root: Path) -> tuple[Path, str, int | None] | None:
    lock = root / "dvc.lock"
    if not lock.is_file():
        return None
    doc = safe_yaml.load(lock.read_text(encoding="utf-8"), str(lock))
    stages = doc.get("stages") if isinstance(doc, dict) else None
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    for stage in (stages or {}).values() if isinstance(stages, dict) else []:
        for entry in (stage or {}).get("outs") or [] if isinstance(stage, dict) else []:
            if isinstance(entry, dict) and entry.get("path") == relative:
                found = _out(lock, entry)
                if found:
                    return lock, *found
    return None


def tracked(paths: list[str]) -> list[Tracked]:
    """The data paths DVC tracks, with the version their records name."""
    out = []
    for given in paths:
        path = Path(given)
        root = _repo_root(path.resolve() if path.exists() else path.absolute())
        if root is None:
            continue
        found = _from_dvc_file(path) or _from_lock(path, root)
        if found:
            record, md5, size = found
            out.append(Tracked(path, record, md5, size, root))
    return out


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pull(items: list[Tracked]) -> list[str]:
    """`dvc pull` exactly the recorded versions, then check each file's md5 against its record.
    Returns notes (directories are checked by DVC itself)."""
    notes = []
    for root in sorted({t.root for t in items}):
        mine = [t for t in items if t.root == root]
        targets = [str(t.path.resolve().relative_to(root.resolve())) for t in mine]
        proc = subprocess.run(
            [sys.executable, "-m", "dvc", "pull", "--quiet", *targets],
            cwd=root, capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            errors = [ln for ln in lines if ln.startswith("ERROR")] or lines or [""]
            last = errors[-1]
            raise UserError(
                f"dvc pull of {', '.join(targets)} failed: {last[:300]}; check the remote in "
                f"{root / '.dvc' / 'config'} and the job's credentials for it"
            )
    for item in items:
        if item.md5.endswith(".dir"):
            notes.append(f"{item.path}: a directory, checked by dvc pull against {item.md5}")
            continue
        if not item.path.is_file():
            raise UserError(f"{item.path}: dvc pull left no file; {item.record} names {item.md5}")
        actual = file_md5(item.path)
        if actual != item.md5:
            raise UserError(
                f"{item.path}: md5 {actual} after dvc pull, but {item.record} records {item.md5}"
            )
    return notes


def describe(item: Tracked) -> str:
    size = f", {item.size:,} bytes" if item.size is not None else ""
    return f"{item.path}: md5 {item.md5}{size} (from {shown(str(item.record))})"
