"""scripts/setup-helper.sh: the action's isolated venv, installed from the hash lock, reused only
while its marker matches the lock. Real pip installs from the package index."""

import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.network  # left out of scripts/test.sh --fast


def _setup(cache, name="train", env=None):
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup-helper.sh"), name],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "RUNNER_TOOL_CACHE": str(cache),
            "MLOPS_ACTIONS_PYTHON": sys.executable,
            **(env or {}),
        },
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    python = proc.stdout.strip().splitlines()[-1].removeprefix("python=")
    return python, proc.stdout + proc.stderr


def test_lock_installs_with_require_hashes_and_the_marker_guards_reuse(tmp_path):
    python, log = _setup(tmp_path)
    assert "installed" in log
    venv = tmp_path / "mlops-actions"
    (marker,) = venv.glob("venv-train-*/.complete")
    import hashlib

    lock = REPO / "scripts" / "requirements" / "train.txt"
    lock_sha, tree_sha = marker.read_text().split()
    assert lock_sha == hashlib.sha256(lock.read_bytes()).hexdigest() and len(tree_sha) == 64
    check = subprocess.run([python, "-c", "import yaml, boto3"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr

    again, log = _setup(tmp_path)
    assert "reused" in log and again == python  # importing wrote nothing that breaks reuse

    marker.write_text("0" * 64 + "\n" + tree_sha + "\n")  # a venv from another lock
    _, log = _setup(tmp_path)
    assert "installed" in log and marker.read_text().split()[0] == lock_sha


def test_a_venv_changed_after_it_was_built_is_not_reused(tmp_path):
    """Another job on a shared runner leaves a .pth file (run at every start of Python) or a
    symlinked package in the cached venv: the next setup notices before running anything in
    it, and builds a new venv."""
    python, _ = _setup(tmp_path)
    (site,) = (tmp_path / "mlops-actions").glob("venv-train-*/lib/python*/site-packages")
    ran = tmp_path / "pth-ran"
    (site / "evil.pth").write_text(f"import pathlib; pathlib.Path({str(ran)!r}).touch()\n")
    again, log = _setup(tmp_path)
    assert "changed after it was built" in log and "installed" in log and again == python
    assert not ran.exists(), "the setup ran the planted .pth before checking the venv"
    assert not (site / "evil.pth").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / "shadow").symlink_to(elsewhere, target_is_directory=True)
    _, log = _setup(tmp_path)
    assert "changed after it was built" in log and not (site / "shadow").exists()


def test_self_hosted_runners_build_per_job_unless_sharing_is_asked_for(tmp_path):
    temp, cache = tmp_path / "temp", tmp_path / "cache"
    temp.mkdir()
    base = {"RUNNER_ENVIRONMENT": "self-hosted", "RUNNER_TEMP": str(temp)}
    python, _ = _setup(cache, env=base)
    assert python.startswith(str(temp / "mlops-actions")) and not (cache / "mlops-actions").exists()
    shared, _ = _setup(cache, env={**base, "MLOPS_ACTIONS_SHARED_VENV": "true"})
    assert shared.startswith(str(cache / "mlops-actions"))


def test_a_tampered_lock_is_refused(tmp_path):
    """With --require-hashes, a package whose hash does not match the lock is not installed."""
    lock = (REPO / "scripts" / "requirements" / "train.txt").read_text()
    bad = tmp_path / "requirements" / "train.txt"
    bad.parent.mkdir()
    # Keep one hash per package but corrupt the one for pyyaml's files.
    lines = [
        line.replace("--hash=sha256:", "--hash=sha256:0", 1)[:-1]
        if "hash" in line and i_pyyaml
        else line
        for line, i_pyyaml in _mark(lock.splitlines(), "pyyaml==")
    ]
    bad.write_text("\n".join(lines) + "\n")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    proc = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "-r",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0
    assert "DO NOT MATCH THE HASHES" in proc.stderr, proc.stderr


def _mark(lines, prefix):
    inside = False
    for line in lines:
        if line and not line.startswith((" ", "#")):
            inside = line.lower().startswith(prefix)
        yield line, inside
