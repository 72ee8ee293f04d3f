"""The repository's quality gates, run for real: a missing tool fails, it never skips."""

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from conftest import REPO, tool

pytestmark = pytest.mark.lint

ACTION_FILES = sorted([REPO / "action.yml", *REPO.glob("actions/*/action.yml")])
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# The example consumer's workflows, linted like ours (they reference this product at @v1).
EXAMPLE_WORKFLOWS = sorted((REPO / "example-project" / ".github" / "workflows").glob("*.yml"))
REQUIREMENTS = REPO / "scripts" / "requirements"
# The Marketplace's allowed branding values (docs: metadata syntax for GitHub Actions, branding).
BRANDING_COLORS = {
    "white",
    "black",
    "yellow",
    "blue",
    "green",
    "orange",
    "red",
    "purple",
    "gray-dark",
}


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_actionlint_with_shellcheck_is_clean():
    assert shutil.which("shellcheck"), (
        "shellcheck must be installed so actionlint checks run: scripts"
    )
    proc = _run(
        tool("actionlint"),
        "-shellcheck",
        shutil.which("shellcheck") or "",
        *map(str, [*WORKFLOWS, *EXAMPLE_WORKFLOWS]),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_has_no_findings():
    proc = _run(tool("zizmor"), "--offline", "--no-progress", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "schema,files",
    [
        ("vendor.github-actions", ACTION_FILES),
        ("vendor.github-workflows", [*WORKFLOWS, *EXAMPLE_WORKFLOWS]),
        ("vendor.dependabot", [REPO / ".github" / "dependabot.yml"]),
    ],
)
def test_check_jsonschema(schema, files):
    assert files
    proc = _run(tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff():
    proc = _run(tool("ruff"), "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _run(tool("ruff"), "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy():
    proc = _run(tool("mypy"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_root_action_and_docs_tables_are_current():
    proc = _run(sys.executable, "scripts/dev/sync_actions.py", "--check")
    assert proc.returncode == 0, proc.stderr


def test_marketplace_listing_is_acceptable():
    root = yaml.safe_load((REPO / "action.yml").read_text())
    assert len(root["description"]) < 125
    assert root["branding"]["color"] in BRANDING_COLORS
    assert re.fullmatch(r"[a-z0-9-]+", root["branding"]["icon"])


def _uses(path: Path) -> list[str]:
    return re.findall(r"^\s*-?\s*uses:\s*(\S+)(.*)$", path.read_text(), re.M)


def test_third_party_actions_are_pinned_to_a_sha_with_a_version_comment():
    for path in [*ACTION_FILES, *WORKFLOWS, *EXAMPLE_WORKFLOWS]:
        for ref, rest in _uses(path):
            if ref.startswith(("./", "$/", "org/mlops-actions/")):  # this product, at its tag
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), (
                f"{path}: {ref} is not SHA-pinned"
            )
            assert re.search(r"#\s*v\d+\.\d+\.\d+", rest), (
                f"{path}: {ref} needs a '# vX.Y.Z' comment"
            )


def test_no_expressions_inside_run_scripts():
    for path in [*ACTION_FILES, *WORKFLOWS, *EXAMPLE_WORKFLOWS]:
        doc = yaml.safe_load(path.read_text())
        jobs = doc.get("jobs", {}).values() if "jobs" in doc else [doc.get("runs", {})]
        for job in jobs:
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), (
                    f"{path}: step {step.get('name')} pastes an expression into run:"
                )


def test_workflows_start_with_no_permissions():
    for path in [*WORKFLOWS, *EXAMPLE_WORKFLOWS]:
        doc = yaml.safe_load(path.read_text())
        assert doc.get("permissions") == {}, f"{path}: set top-level permissions: {{}}"


def _pins(path):
    """{name: version} of the `name==version` requirement lines in a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


@pytest.mark.parametrize("extra", ["gate", "deploy", "train", "champion", "monitor", "validate"])
def test_pinned_requirements_match_the_extra(extra):
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    declared = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower() for d in extras[extra]}
    source = REQUIREMENTS / f"{extra}.in"
    lines = [ln for ln in source.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert all("==" in line for line in lines), f"{source}: pin every top-level package"
    assert set(_pins(source)) == {d.replace("_", "-") for d in declared}


@pytest.mark.parametrize("extra", ["gate", "deploy", "train", "champion", "monitor", "validate"])
def test_lock_files_match_their_inputs_and_carry_hashes(extra):
    source, lock = REQUIREMENTS / f"{extra}.in", REQUIREMENTS / f"{extra}.txt"
    first = lock.read_text().splitlines()[0]
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert first.startswith(f"# input-sha256: {digest} "), (
        f"{lock.name} was not generated from the current {source.name}: run "
        "python scripts/dev/lock.py"
    )
    locked, wanted = _pins(lock), _pins(source)
    for name, version in wanted.items():
        assert locked.get(name) == version, f"{lock.name}: {name} is not locked at {version}"
    # Every requirement (transitive ones too) is pinned and carries at least one hash.
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text().split("\n", 1)[1].strip())
    assert len(entries) >= len(locked) > len(wanted)  # a package may appear per Python version
    for entry in entries:
        assert "==" in entry.splitlines()[0] and "--hash=sha256:" in entry, entry.splitlines()[0]


def test_shell_scripts_pass_shellcheck():
    scripts = [*map(str, sorted(REPO.glob("scripts/**/*.sh"))), str(REPO / ".ci" / "run")]
    proc = _run(shutil.which("shellcheck") or "shellcheck", "-x", *scripts)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_reusable_workflows_run_the_actions_of_their_own_commit():
    """In a reusable workflow, our actions come from the checkout of the workflow's own commit,
    made earlier in the same job; never from `org/mlops-actions/...@ref`, which could move."""
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        if "workflow_call" not in (doc.get(True) or doc.get("on") or {}):
            continue
        for name, job in doc["jobs"].items():
            checked_out = False
            for step in job.get("steps", []):
                uses = step.get("uses", "")
                with_ = step.get("with") or {}
                if uses.startswith("actions/checkout@") and with_.get("path") == ".mlops-actions":
                    assert with_.get("repository") == "${{ job.workflow_repository }}", name
                    assert with_.get("ref") == "${{ job.workflow_sha }}", name
                    checked_out = True
                assert "mlops-actions/actions/" not in uses or uses.startswith(
                    "./.mlops-actions/"
                ), f"{path.name}: job {name} uses {uses}; use ./.mlops-actions/actions/<name>"
                if uses.startswith("./.mlops-actions/"):
                    assert checked_out, (
                        f"{path.name}: job {name} uses {uses} before checking it out"
                    )


def test_every_action_is_a_valid_marketplace_listing():
    for path in ACTION_FILES:
        doc = yaml.safe_load(path.read_text())
        assert 0 < len(doc["description"]) < 125, path
        assert doc["branding"]["color"] in BRANDING_COLORS, path
        assert doc["branding"]["icon"] in FEATHER_ICONS_USED, path


# Feather icons (as GitHub's branding allows) that the actions use; add only names from that list.
FEATHER_ICONS_USED = {
    "check-circle",
    "package",
    "cpu",
    "upload-cloud",
    "box",
    "award",
    "download",
    "activity",
    "git-pull-request",
}


def test_release_publishes_to_pypi_by_trusted_publishing_after_the_release():
    """The wheel is built without any token; the upload job alone holds `id-token: write`,
    runs behind the `release` environment after the GitHub release, and passes no password."""
    release = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    jobs = release["jobs"]
    assert jobs["build-package"]["permissions"] == {"contents": "read"}
    pypi = jobs["pypi"]
    assert set(pypi["needs"]) == {"release", "build-package"}
    assert pypi["environment"]["name"] == "release" and pypi["permissions"] == {"id-token": "write"}
    (publish,) = [s for s in pypi["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert not (publish.get("with") or {}).get("password")
    assert all(
        "id-token" not in (j.get("permissions") or {}) for n, j in jobs.items() if n != "pypi"
    )


def test_the_package_has_one_version():
    import tomllib

    from mlops_actions import __version__

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert __version__ == declared, "set the same version in pyproject.toml and __init__.py"
