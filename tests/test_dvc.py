"""DVC-tracked training data: a real `dvc` (installed from the action's own hash lock, as the
action installs it) pulls exactly the recorded version from an S3 remote on the AWS emulator,
the md5 is checked, and the model card records DVC's hash."""

import hashlib
import os
import shutil
import subprocess

import boto3
import pytest

from conftest import REPO, helper_env
from mlops_actions.train.run import data_fingerprint
from support.ecs_sim import AWS_ENV, REGION, moto_server

pytestmark = pytest.mark.act

DATA = REPO / "example-project" / "data" / "transactions.csv"


@pytest.fixture(scope="module")
def dvc_python():
    return helper_env("dvc")


@pytest.fixture(scope="module")
def remote():
    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                     aws_access_key_id="testing", aws_secret_access_key="testing"
                     ).create_bucket(Bucket="dvc-store")  # fmt: skip
        yield endpoint


def _run(python, *args, cwd, env=None, check=True):
    proc = subprocess.run([python, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **AWS_ENV, "PYTHONPATH": str(REPO / "scripts"),
                               **(env or {})})  # fmt: skip
    if check:
        assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    return proc


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
                   cwd=cwd, check=True, capture_output=True)  # fmt: skip


@pytest.fixture
def tracked_clone(dvc_python, remote, tmp_path):
    """A repository whose data DVC tracks and pushed to the remote, and a fresh clone of it."""
    origin = tmp_path / "origin"
    (origin / "data").mkdir(parents=True)
    _git(origin, "init", "-q", "-b", "main")
    _run(dvc_python, "-m", "dvc", "init", "-q", cwd=origin)
    _run(
        dvc_python, "-m", "dvc", "remote", "add", "-d", "store", "s3://dvc-store/fraud", cwd=origin
    )
    _run(dvc_python, "-m", "dvc", "remote", "modify", "store", "endpointurl", remote, cwd=origin)
    shutil.copy(DATA, origin / "data" / "transactions.csv")
    _run(dvc_python, "-m", "dvc", "add", "-q", "data/transactions.csv", cwd=origin)
    _run(dvc_python, "-m", "dvc", "push", "-q", cwd=origin)
    _git(origin, "add", "-A")
    _git(origin, "commit", "-q", "-m", "data v1")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert not (clone / "data" / "transactions.csv").exists()  # only the .dvc file is in git
    return origin, clone


def test_the_recorded_version_is_pulled_and_checked(dvc_python, tracked_clone, tmp_path):
    _, clone = tracked_clone
    outputs = tmp_path / "out.txt"
    outputs.write_text("")
    check = _run(dvc_python, "-m", "mlops_actions", "dvc-pull", "--check", "--data",
                 "data/transactions.csv\nsrc", cwd=clone, env={"GITHUB_OUTPUT": str(outputs)})  # fmt: skip
    assert "needed=true" in outputs.read_text(), check.stdout
    pulled = _run(dvc_python, "-m", "mlops_actions", "dvc-pull", "--data", "data/transactions.csv",
                  cwd=clone)  # fmt: skip
    data = clone / "data" / "transactions.csv"
    md5 = hashlib.md5(data.read_bytes(), usedforsecurity=False).hexdigest()
    assert data.read_bytes() == DATA.read_bytes()
    assert f"data/transactions.csv: md5 {md5}, {DATA.stat().st_size:,} bytes" in pulled.stdout
    # What the model card records for it: DVC's own hash.
    assert data_fingerprint(data) == {
        "dvc": {"md5": md5, "hash": "md5", "size": DATA.stat().st_size}
    }


def test_a_version_the_remote_lacks_is_one_line(dvc_python, tracked_clone):
    _, clone = tracked_clone
    record = clone / "data" / "transactions.csv.dvc"
    text = record.read_text()
    good = text.split("md5: ")[1].split()[0]
    record.write_text(text.replace(good, "f" * 32))
    proc = _run(dvc_python, "-m", "mlops_actions", "dvc-pull", "--data", "data/transactions.csv",
                cwd=clone, check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: dvc pull of data/transactions.csv failed"
    )
    assert not (clone / "data" / "transactions.csv").exists()


def test_untracked_data_is_left_alone_unless_dvc_is_required(dvc_python, tmp_path):
    (tmp_path / "plain.csv").write_text("a,b\n1,2\n")
    outputs = tmp_path / "out.txt"
    outputs.write_text("")
    _run(dvc_python, "-m", "mlops_actions", "dvc-pull", "--check", "--data", "plain.csv",
         cwd=tmp_path, env={"GITHUB_OUTPUT": str(outputs)})  # fmt: skip
    assert "needed=false" in outputs.read_text()
    proc = _run(dvc_python, "-m", "mlops_actions", "dvc-pull", "--dvc", "true", "--data",
                "plain.csv", cwd=tmp_path, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "dvc: true, but no training data path has a .dvc file" in proc.stderr
