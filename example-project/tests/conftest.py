import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train once per session on the committed data; returns the artifacts directory."""
    out = tmp_path_factory.mktemp("artifacts")
    subprocess.run(
        [
            sys.executable,
            str(PROJECT / "src" / "train.py"),
            "--output-path",
            str(out / "model.skops"),
        ],
        check=True,
        capture_output=True,
    )
    return out
