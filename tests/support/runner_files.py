"""The runner's files and an action's steps, read as the runner reads them (for tests that run
an action's scripts with bash, without act)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def read_outputs(path: Path) -> dict[str, str]:
    """A GITHUB_OUTPUT file as the runner reads it: name=value lines and name<<DELIMITER blocks."""
    out: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def action_steps(action: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """An action's steps by id (or name), and the whole action.yml."""
    doc = yaml.safe_load((REPO / "actions" / action / "action.yml").read_text())
    return {step.get("id") or step["name"]: step for step in doc["runs"]["steps"]}, doc
