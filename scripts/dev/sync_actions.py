"""Generate what is derived from the actions' `action.yml` files, or check it is up to date.

- `action.yml` at the root (the Marketplace listing) is generated from
  `actions/model-gate/action.yml`: one source of truth, paths adjusted for the root.
- Each action README's inputs/outputs tables are generated between marker comments.
- The stage workflows (mlops-ci/-build/-train/-deploy.yml) are cut from mlops-pipeline.yml
  (stage_workflows.py), and docs/pipeline.md's inputs/secrets/outputs tables come from it.

    python scripts/dev/sync_actions.py          # rewrite
    python scripts/dev/sync_actions.py --check  # exit 1 if anything is stale (run by the tests)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "actions" / "model-gate" / "action.yml"
ROOT_ACTION = ROOT / "action.yml"
HEADER = (
    "# GENERATED from actions/model-gate/action.yml by scripts/dev/sync_actions.py; do not edit.\n"
    "# This root action is the Marketplace listing of the flagship model gate.\n"
)


def markers(
    source: str, keys: tuple[str, ...] = ("inputs", "outputs")
) -> dict[str, tuple[str, str]]:
    """The comments around each generated table, naming the file it is generated from."""
    return {k: (f"<!-- {k}:start (generated from {source}) -->", f"<!-- {k}:end -->") for k in keys}


def root_action_text() -> str:
    text = FLAGSHIP.read_text(encoding="utf-8")
    return HEADER + text.replace('"$GITHUB_ACTION_PATH/../../', '"$GITHUB_ACTION_PATH/')


def _cell(text: object) -> str:
    if isinstance(text, bool):  # YAML's true, not Python's True
        text = "true" if text else "false"
    return " ".join(str(text).split()).replace("|", "\\|")


PIPELINE = ROOT / ".github" / "workflows" / "mlops-pipeline.yml"
PIPELINE_DOC = ROOT / "docs" / "pipeline.md"


def tables(action: dict) -> dict[str, str]:
    rows = ["| Input | Required | Default | Description |", "|---|---|---|---|"]
    for name, spec in (action.get("inputs") or {}).items():
        default = spec.get("default", "")
        shown = f"`{_cell(default)}`" if default not in ("", None) else ""
        required = "yes" if spec.get("required") else "no"
        rows.append(f"| `{name}` | {required} | {shown} | {_cell(spec.get('description', ''))} |")
    outs = ["| Output | Description |", "|---|---|"]
    for name, spec in (action.get("outputs") or {}).items():
        outs.append(f"| `{name}` | {_cell(spec.get('description', ''))} |")
    return {"inputs": "\n".join(rows), "outputs": "\n".join(outs)}


def workflow_tables(workflow: dict) -> dict[str, str]:
    """A reusable workflow's `workflow_call` interface, as an action's tables (plus secrets)."""
    call = (workflow.get("on") or workflow.get(True))["workflow_call"]  # YAML 1.1 reads on: as True
    generated = tables({"inputs": call.get("inputs"), "outputs": call.get("outputs")})
    rows = ["| Secret | Required | Description |", "|---|---|---|"]
    for name, spec in (call.get("secrets") or {}).items():
        required = "yes" if spec.get("required") else "no"
        rows.append(f"| `{name}` | {required} | {_cell(spec.get('description', ''))} |")
    return {**generated, "secrets": "\n".join(rows)}


def readme_text(readme: Path, action_file: Path) -> str:
    generated = tables(yaml.safe_load(action_file.read_text(encoding="utf-8")))
    return with_tables(readme, generated, markers("action.yml"))


def with_tables(readme: Path, generated: dict[str, str], where: dict[str, tuple[str, str]]) -> str:
    text = readme.read_text(encoding="utf-8")
    for key, (start, end) in where.items():
        if start not in text or end not in text:
            raise SystemExit(f"{readme}: missing the {key} markers {start} ... {end}")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{generated[key]}\n{end}{tail}"
    return text


def targets() -> dict[Path, str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import stage_workflows

    out = {ROOT_ACTION: root_action_text(), **stage_workflows.targets()}
    for action_file in sorted((ROOT / "actions").glob("*/action.yml")):
        readme = action_file.parent / "README.md"
        out[readme] = readme_text(readme, action_file)
    out[PIPELINE_DOC] = with_tables(
        PIPELINE_DOC,
        workflow_tables(yaml.safe_load(PIPELINE.read_text(encoding="utf-8"))),
        markers("mlops-pipeline.yml", ("inputs", "outputs", "secrets")),
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args()
    stale = []
    for path, text in targets().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        names = ", ".join(map(str, stale))
        print(
            f"stale generated files: {names}; run python scripts/dev/sync_actions.py",
            file=sys.stderr,
        )
        return 1
    for path in stale:
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
