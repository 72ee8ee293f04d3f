"""Shared helpers: write prediction files, run the CLI as a user would (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = [
    "support.ecs_fixtures",
    "support.train_fixtures",
    "support.serving_fixtures",
]  # shared fixtures: moto ECS, pushed image, serving images


def make_predictions(
    n: int = 2000, seed: int = 0, prevalence: float = 0.1
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    score = np.clip(rng.normal(0.25 + 0.5 * y, 0.15), 0, 1).round(6)
    region = rng.choice(["north", "south", "east"], n)
    return {"is_fraud": y, "fraud_probability": score, "region": region}


def write_csv(path: Path, columns: dict[str, np.ndarray | list]) -> Path:
    names = list(columns)
    rows = zip(*(columns[c] for c in names), strict=True)
    path.write_text(",".join(names) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.fixture
def predictions_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "predictions.csv", make_predictions())


@pytest.fixture
def gate_yml(tmp_path: Path) -> Path:
    path = tmp_path / "gate.yml"
    path.write_text(
        "columns: {label: is_fraud, score: fraud_probability}\n"
        "metrics:\n  precision: {min: 0.5}\n  recall: {min: 0.5}\n"
        "baseline:\n  recall: {max_drop: 0.05}\n"
        "fairness:\n  group_columns: [region]\n  metrics: {recall: {max_difference: 0.2}}\n"
    )
    return path


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    full_env["PYTHONPATH"] = str(REPO / "scripts")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mlops_actions", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
    )


def tool(name: str) -> str:
    """A command-line tool from this venv (or PATH). Missing tools fail the test: never a skip."""
    import shutil

    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; run the README's test command, which installs it")
    return found


@pytest.fixture(scope="session")
def testbed() -> dict:
    """The container testbed (engine, authenticated registry, base image), started if needed."""
    import fcntl
    import json

    script = REPO / "scripts" / "dev" / "testbed.py"
    lock_path = Path.home() / ".cache" / "mlops-actions" / "testbed-up.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:  # parallel workers: one `up` at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        up = subprocess.run(
            [sys.executable, str(script), "up"], capture_output=True, text=True, timeout=900
        )
    if up.returncode != 0:
        pytest.fail(f"testbed did not come up: {up.stderr or up.stdout}")
    info = json.loads(
        subprocess.run(
            [sys.executable, str(script), "status", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert (
        info["engine"]["running"] and info["registry"]["running"] and info["base_image"]["present"]
    ), info
    return info


@pytest.fixture(scope="session")
def builder_configs(testbed, tmp_path_factory) -> dict:
    """DOCKER_CONFIG dirs for the two build paths. `classic` has no CLI plugins and runs with
    DOCKER_BUILDKIT=0 (Docker's switch to the legacy builder, which mlops-actions honours), so
    it is the classic path even where buildx is installed system-wide. `buildx` has the
    testbed's buildx plugin in cli-plugins/, as docker/setup-buildx-action leaves it. Both paths
    run on either kind of machine. Without the plugin, buildx tests skip locally and fail in CI,
    where the testbed can always fetch it."""
    configs = {"classic": str(tmp_path_factory.mktemp("docker-config-classic"))}
    plugins = testbed["buildx"]["plugins_dir"]
    if plugins:
        buildx = tmp_path_factory.mktemp("docker-config-buildx")
        (buildx / "cli-plugins").symlink_to(plugins, target_is_directory=True)
        configs["buildx"] = str(buildx)
    return configs


def builder_env(configs: dict, path: str) -> dict[str, str]:
    """The environment that selects a build path (classic | buildx), or skip/fail saying why."""
    if path not in configs:
        if path == "buildx" and os.environ.get("CI"):
            pytest.fail("the testbed could not fetch the buildx plugin (see testbed.py up)")
        pytest.skip(f"the {path} build path cannot run on this machine")
    env = {"DOCKER_CONFIG": str(configs[path])}
    return {**env, "DOCKER_BUILDKIT": "0"} if path == "classic" else env


HELPER_TOOL_CACHE = Path.home() / ".cache" / "mlops-actions" / "tool-cache"  # kept between runs


def helper_env(requirements: str) -> str:
    """The python of an action's helper venv, made by setup-helper.sh from the hash lock
    `requirements` as the action makes it (cached between runs)."""
    HELPER_TOOL_CACHE.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup-helper.sh"), requirements],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "RUNNER_TOOL_CACHE": str(HELPER_TOOL_CACHE), "GITHUB_OUTPUT": ""},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    (python,) = [line for line in out.stdout.splitlines() if line.startswith("python=")]
    return python.split("=", 1)[1]


def pytest_collection_modifyitems(config, items):
    """Which part of the suite runs. MLOPS_SUBSET=light: what needs neither the container
    testbed nor nektos/act (the whole suite runs it on every core); heavy: the rest, one test
    at a time; fast (`bash scripts/test.sh --fast`): light without what installs from the
    package index."""
    subset = os.environ.get("MLOPS_SUBSET", "")
    if subset not in ("fast", "light", "heavy"):
        return

    def heavy(item) -> bool:
        return bool(item.get_closest_marker("act")) or "testbed" in item.fixturenames

    def wanted(item) -> bool:
        if subset == "heavy":
            return heavy(item)
        return not heavy(item) and not (subset == "fast" and item.get_closest_marker("network"))

    left_out = [i for i in items if not wanted(i)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if wanted(i)]
    if subset == "heavy":
        # The heavy part runs a file per worker (--dist loadfile --no-loadscope-reorder): the
        # longest files start first, so they overlap the rest instead of ending the run alone.
        first = {name: rank for rank, name in enumerate(LONGEST_FILES)}
        items.sort(key=lambda item: first.get(item.path.name, len(first)))


# Files of the heavy part that take minutes each, longest first (scripts/test.sh's durations).
LONGEST_FILES = ("test_pipeline_e2e.py", "test_demo.py")
