"""The artifact, not the tree: build the wheel, install it in a clean venv as a user would (by
name with extras), and run the README's own one-minute snippets and each data command from
there, on data this project never saw (scikit-learn's breast-cancer set)."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

README = (REPO / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


pytestmark = pytest.mark.network  # left out of scripts/test.sh --fast


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    assert Path(found).exists(), "uv is a dev dependency: run the README's test command"
    return found


def _run(*args, cwd=None, env=None, timeout=900):
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """`uv build` of a copy of what the sdist holds, so building writes nothing into the tree."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "scripts" / "mlops_actions", source / "scripts" / "mlops_actions",
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # fmt: skip
    out = tmp_path_factory.mktemp("dist")
    built = _run(_uv(), "build", "--quiet", "--out-dir", out, source)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("mlops_actions-*.whl")
    assert list(out.glob("mlops_actions-*.tar.gz")), "an sdist is built too"
    return wheel


def _venv(root: Path, *requirements: str) -> Path:
    made = _run(_uv(), "venv", "--quiet", "--python", sys.executable, root)
    assert made.returncode == 0, made.stderr
    if requirements:
        installed = _run(_uv(), "pip", "install", "--quiet", "--python", root / "bin" / "python",
                         *requirements)  # fmt: skip
        assert installed.returncode == 0, installed.stderr[-3000:]
    return root / "bin"


def test_the_wheel_carries_complete_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "mlops-actions = mlops_actions.cli:main" in entry
    assert "mlops_actions = mlops_actions.gate.pytest_plugin" in entry  # the pytest11 fixture
    for field in ("License-Expression: MIT", "Project-URL: Source", "Requires-Python: >=3.10",
                  "Classifier: Framework :: Pytest", "Description-Content-Type: text/markdown"):  # fmt: skip
        assert field in meta, field
    extras = set(re.findall(r"^Provides-Extra: (\S+)$", meta, re.M))
    assert {"gate", "monitor", "validate", "deploy", "champion", "mlflow", "all"} <= extras
    assert "One minute, on your own file" in meta  # the README is the long description
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)
    assert "mlops_actions/py.typed" in names  # type checkers read the fixture's result type


def test_a_command_without_its_extra_names_the_extra(wheel, tmp_path):
    bin_dir = _venv(tmp_path / "bare", str(wheel), "pytest")
    data = tmp_path / "p.csv"
    data.write_text("label,score\n1,0.9\n0,0.1\n")
    cases = {
        ("gate", "--predictions", data, "--thresholds", "recall>=0.5"): "mlops-actions[gate]",
        ("monitor", "--reference", data, "--current", data): "mlops-actions[monitor]",
        ("infer-schema", "--data", data, "--output", tmp_path / "s.yml"): "mlops-actions[validate]",
        ("dispatch", "--repository", "a/b", "--github-token", "t"): "mlops-actions[monitor]",
        (
            "champions",
            "--model-store",
            "s3://b/p",
            "--model-name",
            "m",
            "--aws-region",
            "us-east-1",
        ): "mlops-actions[champion]",
    }
    for args, extra in cases.items():
        proc = _run(bin_dir / "mlops-actions", *args, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (args, proc.stderr)
        assert f'pip install "{extra}"' in lines[0] and "Traceback" not in proc.stderr, lines[0]
    assert _run(bin_dir / "mlops-actions", "--version").stdout.startswith("mlops-actions ")
    # The pytest plugin loads in every pytest run of that environment: without the extra, other
    # tests still run, and only the fixture says what to install.
    (tmp_path / "test_other.py").write_text(
        "def test_unrelated():\n    assert 1\n\n"
        "def test_gate(mlops_gate):\n    mlops_gate(y_true=[0, 1], y_score=[0.1, 0.9])\n"
    )
    tested = _run(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "test_other.py", cwd=tmp_path)  # fmt: skip
    assert "1 failed, 1 passed" in tested.stdout, tested.stdout[-2000:]
    assert 'pip install "mlops-actions[gate]"' in tested.stdout


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    return README[start : README.index("\n## ", start + 3)]


def test_the_readmes_one_minute_snippets_work_from_the_wheel(wheel, tmp_path):
    """The README's shell block and fixture example, as written, against the installed wheel;
    only `pip install "mlops-actions[...]"` is pointed at the wheel instead of the index."""
    minute = _section("One minute, on your own file")
    (shell, python) = [b for lang, b in FENCE.findall(minute) if lang in ("sh", "python")]
    install = re.search(r'^pip install "mlops-actions\[([a-z,]+)\]"$', shell, re.M)
    assert install, "the snippet installs the package by name"
    bin_dir = _venv(tmp_path / "venv", f"mlops-actions[{install.group(1)}] @ {wheel.as_uri()}",
                    "pytest")  # fmt: skip
    work = tmp_path / "work"
    (work / "docs" / "examples").mkdir(parents=True)  # the user's file, where the snippet says
    shutil.copy(REPO / "docs" / "examples" / "holdout-predictions.csv", work / "docs" / "examples")
    script = shell.replace(install.group(0), "true  # installed above, from the wheel")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": ""}
    ran = _run("bash", "-euo", "pipefail", "-c", script, cwd=work, env=env)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    verdict = json.loads((work / "gate-report" / "verdict.json").read_text())
    assert verdict["passed"] and {c["metric"] for c in verdict["checks"]} == {"recall", "roc_auc"}
    assert "recall by region" in (work / "gate-report" / "report.md").read_text()

    (work / "test_model.py").write_text(python)
    tested = _run(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "test_model.py", cwd=work, env=env)  # fmt: skip
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout[-3000:]


@pytest.fixture(scope="module")
def breast_cancer(tmp_path_factory):
    """A user's own data: scikit-learn's breast-cancer set, a model's scores, a group column."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folder = tmp_path_factory.mktemp("user")
    data = load_breast_cancer(as_frame=True)
    features = data.frame.drop(columns="target")
    x_train, x_test, y_train, y_test = train_test_split(
        features, data.target, test_size=0.4, random_state=0, stratify=data.target
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    with (folder / "holdout.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["diagnosis", "p_benign", "size"])
        for y, s, radius in zip(y_test, scores, x_test["mean radius"], strict=True):
            writer.writerow(["benign" if y else "malignant", f"{s:.6f}",
                             "large" if radius > 14 else "small"])  # fmt: skip
    x_train.to_csv(folder / "train.csv", index=False)
    x_test.to_csv(folder / "recent.csv", index=False)
    return folder, y_test.to_numpy(), scores


def test_each_data_command_works_from_the_wheel_on_new_data(wheel, breast_cancer, tmp_path):
    from sklearn.metrics import roc_auc_score

    folder, y_test, scores = breast_cancer
    bin_dir = _venv(tmp_path / "venv", f"mlops-actions[gate,monitor,validate] @ {wheel.as_uri()}")
    cli = bin_dir / "mlops-actions"
    gate = _run(cli, "gate", "--predictions", "holdout.csv", "--label-column", "diagnosis",
                "--score-column", "p_benign", "--positive-label", "benign", "--group-columns",
                "size", "--thresholds", "roc_auc>=0.9", "--output-dir", tmp_path / "gate",
                cwd=folder)  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    verdict = json.loads((tmp_path / "gate" / "verdict.json").read_text())
    assert verdict["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y_test, scores), abs=1e-6)

    monitor = _run(cli, "monitor", "--reference", "train.csv", "--current", "recent.csv",
                   "--output-dir", tmp_path / "monitor", cwd=folder)  # fmt: skip
    assert monitor.returncode == 0, monitor.stderr
    report = json.loads((tmp_path / "monitor" / "monitor.json").read_text())
    assert len(report["features"]) == 30  # every column both files share was judged

    schema = tmp_path / "schema.yml"
    inferred = _run(cli, "infer-schema", "--data", "train.csv", "--output", schema, cwd=folder)
    assert inferred.returncode == 0 and schema.is_file(), inferred.stderr
    valid = _run(cli, "validate-data", "--data", "train.csv", "--schema", schema,
                 "--output-dir", tmp_path / "v1", cwd=folder)  # fmt: skip
    assert valid.returncode == 0, valid.stdout[-2000:] + valid.stderr
    broken = folder / "broken.csv"
    broken.write_text(
        (folder / "train.csv").read_text().replace("\n", "\n-1" + ",0" * 29 + "\n", 1)
    )
    invalid = _run(cli, "validate-data", "--data", broken, "--schema", schema, "--output-dir",
                   tmp_path / "v2", cwd=folder)  # fmt: skip
    assert invalid.returncode == 1, invalid.stdout[-2000:] + invalid.stderr
