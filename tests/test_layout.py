"""The package's shape: action packages never reach into each other, the dispatcher stays a
dispatcher, and each command's options live beside its action."""

import re
import textwrap
from pathlib import Path

from conftest import REPO
from support.import_graph import violations

PACKAGE = REPO / "scripts" / "mlops_actions"


def test_no_action_package_imports_another():
    assert violations(PACKAGE) == []


def test_the_check_sees_an_added_edge(tmp_path):
    root = tmp_path / "mlops_actions"
    for name, body in {
        "errors.py": "",
        "gate/cli.py": "from mlops_actions.errors import UserError\n",
        "train/cli.py": "",
        "train/run.py": "from mlops_actions.gate.metrics import evaluate\n",
        "train/other.py": "from mlops_actions import gate\nimport mlops_actions.gate.decide\n",
        "aws.py": "from mlops_actions.train import run\n",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    found = violations(root)
    assert found == [
        "mlops_actions/aws.py (shared) imports mlops_actions.train (action train)",
        "mlops_actions/train/other.py (action train) imports mlops_actions.gate (action gate)",
        "mlops_actions/train/other.py (action train) imports mlops_actions.gate.decide (action gate)",
        "mlops_actions/train/run.py (action train) imports mlops_actions.gate.metrics (action gate)",
    ]


def test_cli_only_dispatches():
    text = (PACKAGE / "cli.py").read_text()
    assert len(text.splitlines()) < 150
    for action in ("gate", "image", "deploy", "train"):
        assert (PACKAGE / action / "cli.py").is_file(), action


def test_no_package_is_named_like_a_build_output():
    assert not (PACKAGE / "build").exists() and not (PACKAGE / "dist").exists()


def _test_file(ref: str) -> Path:
    """`test_x.py` (under tests/) or a path from the repository root."""
    return next((p for p in (REPO / ref, REPO / "tests" / ref) if p.is_file()), REPO / ref)


def test_every_test_the_threat_model_names_exists():
    """docs/threat-model.md backs each claim with `file.py::test_name` (a bare `test_name` means
    the file named before it in the same row): a renamed test must not leave a claim unchecked."""
    missing = []
    for row in (REPO / "docs" / "threat-model.md").read_text().splitlines():
        source = None
        for ref in re.findall(r"`([^`]*test_[^`]*)`", row):
            file, _, name = ref.rpartition("::")
            if file:
                source = _test_file(file)
            elif ref.endswith(".py"):
                source, name = _test_file(ref), ""
            if not (source and source.is_file()) or (
                name and f"def {name}(" not in source.read_text()
            ):
                missing.append(ref)
    assert missing == []
