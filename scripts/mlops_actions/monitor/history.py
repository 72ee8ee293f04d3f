"""Earlier runs' monitor.json files (--history DIR), read for the drift-over-time chart.

DIR holds monitor.json files, directly (any name ending in .json) or one folder down
(<run>/monitor.json, as downloaded artifacts unpack). Each must be a monitor.json this command
wrote: a bad one is a one-line error naming the file and the field, not a gap in the chart.
Runs are ordered by their `generated_at`, then by path; at most MAX_RUNS of the latest are kept.
Each is labelled by when it ran, or, where that does not tell them apart, by its file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_actions.errors import UserError, shown

MAX_RUNS = 30
MAX_FILES = 1000
_FIX = "give --history a folder of monitor.json files this command wrote"


def _bad(path: Path, field: str, problem: str) -> UserError:
    return UserError(f"{path}: field '{field}' {problem}; {_FIX} (or remove that file)",
                     file=str(path))  # fmt: skip


def _files(folder: Path) -> list[Path]:
    if not folder.exists():
        raise UserError(f"history: {shown(str(folder))} does not exist; {_FIX}")
    if not folder.is_dir():
        raise UserError(f"history: {shown(str(folder))} is not a folder; {_FIX}")
    found = sorted(p for p in folder.glob("*.json") if p.is_file())
    found += sorted(p for p in folder.glob("*/monitor.json") if p.is_file())
    if len(found) > MAX_FILES:
        raise UserError(f"history: {shown(str(folder))} holds {len(found)} JSON files, more "
                        f"than {MAX_FILES}; keep the latest runs only")  # fmt: skip
    return found


def read_run(path: Path) -> dict[str, Any]:
    """One earlier run: its label (date, or file name) and each feature's drift level."""
    from mlops_actions import safe_json

    data = safe_json.read(str(path), "history (an earlier monitor.json)")
    if not isinstance(data, dict):
        raise _bad(path, "(top level)", "is not a JSON object")
    features = data.get("features")
    if not isinstance(features, dict):
        raise _bad(path, "features", "is missing or not an object of features")
    levels: dict[str, dict[str, float | None]] = {}
    for name, feature in features.items():
        if not isinstance(feature, dict):
            raise _bad(path, f"features.{name}", "is not an object")
        level = feature.get("level")
        if level is not None and (
            isinstance(level, bool) or not isinstance(level, int | float) or level != level
        ):
            raise _bad(path, f"features.{name}.level", f"is {shown(str(level))}, not a number")
        if "level" not in feature:
            raise _bad(path, f"features.{name}.level", "is missing (written before 0.2: rerun)")
        levels[name] = {"level": None if level is None else float(level)}
    generated = data.get("generated_at")
    if generated is not None and not isinstance(generated, str):
        raise _bad(path, "generated_at", "is not text")
    label = path.parent.name if path.name == "monitor.json" else path.stem
    return {"label": label, "generated_at": generated or "", "path": str(path),
            "features": levels}  # fmt: skip


def read_history(folder: str) -> list[dict[str, Any]]:
    runs = [read_run(p) for p in _files(Path(folder))]
    runs.sort(key=lambda r: (r["generated_at"], r["path"]))
    runs = runs[-MAX_RUNS:]
    # A run is named by when it ran (month, day, time) where that tells the runs apart, else
    # by its file or folder name.
    stamps = [r["generated_at"][5:16].replace("T", " ") for r in runs]
    if all(stamps) and len(set(stamps)) == len(stamps):
        for run, stamp in zip(runs, stamps, strict=True):
            run["label"] = stamp
    return runs
