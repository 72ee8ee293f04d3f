"""score-champion against the real Docker engine and the authenticated registry: the example's
serving image answers the batch contract (`predict`) and the gate pairs its scores by id; an
image without the contract is "not scored" (the gate then compares unpaired); a crash, an
image that cannot be pulled and bad inputs are one-line errors; the container's stderr is
untrusted text."""

import csv
import json
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import REPO, run_cli, write_csv
from support.registry_client import logged_in_docker

pytestmark = pytest.mark.act

FEATURES = ["transaction_id", "amount", "hour", "is_international", "account_age_days",
            "distance_from_home_km", "merchant_category", "region"]  # fmt: skip


@pytest.fixture(scope="module")
def holdout(tmp_path_factory):
    """200 rows of the example's data: the features file, and the labels for the gate."""
    rows = list(csv.DictReader((REPO / "example-project" / "data" / "transactions.csv").open()))
    rows = rows[:200]
    tmp = tmp_path_factory.mktemp("holdout")
    features = write_csv(tmp / "holdout-features.csv", {c: [r[c] for r in rows] for c in FEATURES})
    return features, rows


def _variant(registry, base: str, dockerfile_tail: str) -> str:
    """An image FROM the good serving image, changed as the tail says, pushed by digest."""
    repository = base.split("@", 1)[0]
    tag = f"{repository}:variant-{uuid.uuid4().hex[:8]}"
    with logged_in_docker(registry) as docker, tempfile.TemporaryDirectory() as ctx:
        (Path(ctx) / "Dockerfile").write_text(f"FROM {base}\n{dockerfile_tail}")
        subprocess.run([*docker, "build", "-q", "-t", tag, ctx], check=True, capture_output=True,
                       env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"})  # fmt: skip
        out = subprocess.run([*docker, "push", tag], check=True, capture_output=True, text=True)
    return f"{repository}@{out.stdout.split('digest: ')[1].split()[0]}"


def _score(tmp_path, registry, image, features, *extra, actions=False):
    outputs = tmp_path / f"out-{uuid.uuid4().hex[:6]}.txt"
    outputs.write_text("")
    env = {"GITHUB_OUTPUT": str(outputs)}
    if actions:
        env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    proc = run_cli(
        "score-champion", "--image", image, "--features", str(features), "--output",
        str(tmp_path / "champion.csv"), "--username", registry["username"], "--password",
        registry["password"], *extra, env=env,
    )  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def test_the_serving_image_scores_the_holdout_and_the_gate_pairs_it(images, holdout, tmp_path):
    good, _, _, registry = images
    features, rows = holdout
    proc, out = _score(tmp_path, registry, good, features)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert out["scored"] == "true" and out["rows"] == "200" and out["id-column"] == "transaction_id"
    scored = list(csv.DictReader((tmp_path / "champion.csv").open()))
    assert [r["transaction_id"] for r in scored] == [r["transaction_id"] for r in rows]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in scored)
    # The same model as challenger: the gate pairs the rows by id, every difference is 0.
    challenger = write_csv(tmp_path / "challenger.csv", {
        "transaction_id": [r["transaction_id"] for r in scored][::-1],
        "is_fraud": [r["is_fraud"] for r in rows][::-1],
        "fraud_probability": [r["score"] for r in scored][::-1]})  # fmt: skip
    config = tmp_path / "gate.yml"
    config.write_text("columns: {id: transaction_id, label: is_fraud, score: fraud_probability}\n"
                      "baseline: {roc_auc: {max_drop: 0.01}, recall: {max_drop: 0.01}}\n")  # fmt: skip
    gate = run_cli("gate", "--quiet", "--predictions", str(challenger), "--champion-predictions",
                   out["predictions-path"], "--config", str(config), "--output-dir",
                   str(tmp_path / "gate"))  # fmt: skip
    assert gate.returncode == 0, gate.stdout[-2000:] + gate.stderr
    verdict = json.loads((tmp_path / "gate" / "verdict.json").read_text())
    assert {c["comparison"] for c in verdict["checks"]} == {"paired"}
    assert all(c["difference"] == 0 for c in verdict["checks"])


def test_an_image_without_the_contract_is_not_scored(images, holdout, tmp_path):
    good, _, _, registry = images
    legacy = _variant(registry, good, "USER root\nRUN rm /opt/venv/bin/predict\nUSER 10001\n")
    proc, out = _score(tmp_path, registry, legacy, holdout[0], actions=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert out["scored"] == "false" and out["predictions-path"] == ""
    assert "has no `predict` command (exit 127)" in out["reason"]
    assert "the gate compares unpaired" in (tmp_path / "summary.md").read_text()
    assert not (tmp_path / "champion.csv").exists()


def test_a_crash_is_one_line_and_its_stderr_stays_text(images, holdout, tmp_path):
    good, _, _, registry = images
    hostile = _variant(
        registry, good,
        "USER root\nRUN printf '#!/bin/sh\\necho \"::add-mask::secret\" >&2\\n"
        "echo \"::error::pwned\" >&2\\nexit 3\\n' > /opt/venv/bin/predict\nUSER 10001\n",
    )  # fmt: skip
    proc, out = _score(tmp_path, registry, hostile, holdout[0], actions=True)
    assert proc.returncode == 2 and "scored" not in out
    errors = [ln for ln in proc.stdout.splitlines() if ln.startswith("::error")]
    assert len(errors) == 1 and "failed to score the holdout (exit 3)" in errors[0], proc.stdout
    assert "::add-mask::" not in proc.stdout.replace(": :add-mask::", "")
    assert not (tmp_path / "champion.csv").exists()  # nothing half-written left looking valid


def test_a_champion_image_that_cannot_be_pulled_is_one_line(images, holdout, tmp_path):
    _, _, _, registry = images
    missing = f"{registry['host']}/acme/gone@sha256:{'0' * 64}"
    proc, _ = _score(tmp_path, registry, missing, holdout[0])
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "cannot pull" in line or "does not exist" in line, line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("tag", "image: 'ghcr.io/acme/x:latest' is not pinned by digest"),
        ("no-file", "features: 'nowhere.csv' is not a file"),
        ("no-id", "no id column 'order_id'"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_pulled(holdout, tmp_path, change, message):
    image, features, extra = "ghcr.io/acme/x@sha256:" + "a" * 64, str(holdout[0]), []
    if change == "tag":
        image = "ghcr.io/acme/x:latest"
    elif change == "no-file":
        features = "nowhere.csv"
    else:
        extra = ["--id-column", "order_id"]
    proc = run_cli("score-champion", "--image", image, "--features", features, *extra,
                   "--output", str(tmp_path / "o.csv"))  # fmt: skip
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert message in line, line
