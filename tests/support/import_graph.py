"""Which modules of a package import which: the check that keeps action packages apart.

An action package is a subpackage with a `cli.py` (gate, image, deploy, train, ...). Modules of
one action package may import their own package and the shared modules (errors, inputs, aws,
docker, github, safe_yaml, ...), never another action package. Shared modules import no action
package at all; the dispatcher (`cli.py`) names commands as strings and imports none either.
"""

from __future__ import annotations

import ast
from pathlib import Path


def imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of `package` modules that the file at `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != package:
                continue
            if node.module == package:  # from pkg import sub
                found.update(f"{package}.{a.name}" for a in node.names)
            else:
                found.add(node.module)
    return found


def violations(root: Path) -> list[str]:
    """`root` is the package directory (e.g. scripts/mlops_actions). One line per bad edge."""
    package = root.name
    actions = {p.parent.name for p in root.glob("*/cli.py")}
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        owner = relative.parts[0] if len(relative.parts) > 1 else None
        for name in sorted(imported_modules(path, package)):
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else None
            if target not in actions or target == owner:
                continue
            who = f"{package}/{relative.as_posix()}"
            if owner in actions:
                problems.append(f"{who} (action {owner}) imports {name} (action {target})")
            else:
                problems.append(f"{who} (shared) imports {name} (action {target})")
    return problems
