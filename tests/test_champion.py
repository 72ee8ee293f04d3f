"""promote and fetch-champion against moto in server mode: records are immutable per version,
the pointer moves only after a passed gate, and the next gate judges against it."""

import json

import boto3
import pytest

from conftest import make_predictions, run_cli, write_csv
from support.ecs_sim import AWS_ENV, REGION, moto_server, reset

CARD = {"model": {"sha256": "a" * 64, "path": "model.skops"}, "source": {"sha": "f" * 40}}
IMAGE = "ghcr.io/acme/fraud-detector@sha256:" + "b" * 64
TASKDEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-detector:7"


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(endpoint):
    reset(endpoint)
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    client.create_bucket(Bucket="models")
    for version in ("1-aaa", "2-bbb"):
        card = {**CARD, "model": {**CARD["model"], "sha256": version[0] * 64}}
        client.put_object(
            Bucket="models", Key=f"ci/fraud/{version}/model-card.json", Body=json.dumps(card)
        )
    return client, endpoint


def _cli(endpoint, tmp_path, *args):
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("")
    proc = run_cli(
        *args, env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "GITHUB_OUTPUT": str(outputs)}
    )
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def _verdict(tmp_path, passed=True, recall=0.9):
    path = tmp_path / f"verdict-{passed}-{recall}.json"
    path.write_text(json.dumps({"passed": passed, "metrics": {"recall": {"value": recall}}}))
    return path


def _promote(endpoint, tmp_path, version, verdict, *extra):
    return _cli(
        endpoint, tmp_path, "promote", "--model-store", "s3://models/ci", "--model-name", "fraud",
        "--version", version, "--verdict", str(verdict), "--serving-image-ref", IMAGE,
        "--task-definition-arn", TASKDEF, *extra,
    )  # fmt: skip


def _pointer(client):
    return json.loads(
        client.get_object(Bucket="models", Key="ci/fraud/champion.json")["Body"].read()
    )


def test_promote_writes_the_record_then_moves_the_pointer(s3, tmp_path):
    client, endpoint = s3
    proc, out = _promote(endpoint, tmp_path, "1-aaa", _verdict(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert out["champion-version"] == "1-aaa" and out["status"] == "promoted"
    record = _pointer(client)
    assert record["version"] == "1-aaa" and record["model_sha256"] == "1" * 64
    assert record["serving_image"] == IMAGE and record["task_definition_arn"] == TASKDEF
    assert record["verdict"]["passed"] is True and record["previous_version"] is None
    stored = client.get_object(Bucket="models", Key="ci/fraud/champions/1-aaa.json")["Body"].read()
    assert json.loads(stored) == record

    proc, out = _promote(endpoint, tmp_path, "2-bbb", _verdict(tmp_path, recall=0.95))
    assert proc.returncode == 0 and _pointer(client)["previous_version"] == "1-aaa"
    # A re-run of the same promotion is a no-op; the same version with another image is refused.
    again, out = _promote(endpoint, tmp_path, "2-bbb", _verdict(tmp_path, recall=0.95))
    assert again.returncode == 0 and out["status"] == "unchanged"
    other = _promote(endpoint, tmp_path, "2-bbb", _verdict(tmp_path, recall=0.95),
                     "--serving-image-ref", IMAGE.replace("b" * 64, "c" * 64))[0]  # fmt: skip
    assert other.returncode == 2 and "champion records are immutable" in other.stderr


@pytest.mark.parametrize(
    "case,message",
    [
        ("failed", "the gate did not pass; a failed model is never promoted"),
        ("unknown", "version 9-zzz is not in the model store"),
        ("tag", "serving-image-ref: 'ghcr.io/acme/x:latest' must be the image by digest"),
        ("sha", "model-sha256 0000000000000000… is not the stored version's"),
    ],
)
def test_promotion_is_refused_before_anything_is_written(s3, tmp_path, case, message):
    client, endpoint = s3
    version, verdict, extra = "1-aaa", _verdict(tmp_path), []
    if case == "failed":
        verdict = _verdict(tmp_path, passed=False)
    elif case == "unknown":
        version = "9-zzz"
    elif case == "tag":
        extra = ["--serving-image-ref", "ghcr.io/acme/x:latest"]
    elif case == "sha":
        extra = ["--model-sha256", "0" * 64]
    proc, out = _promote(endpoint, tmp_path, version, verdict, *extra)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="models").get("Contents", [])]
    assert not any("champion" in k for k in keys) and not out


def test_fetch_without_a_champion_is_a_notice_not_an_error(s3, tmp_path):
    _, endpoint = s3
    proc, out = _cli(endpoint, tmp_path, "fetch-champion", "--model-store", "s3://models/ci",
                     "--model-name", "fraud", "--output-dir", str(tmp_path / "c"))  # fmt: skip
    assert proc.returncode == 0 and out["found"] == "false" and out["baseline-path"] == ""
    assert "no champion yet" in proc.stdout


def test_the_next_gate_judges_against_the_fetched_champion(s3, tmp_path):
    _, endpoint = s3
    columns = {k: list(v) for k, v in make_predictions(2000, seed=3).items()}
    predictions = write_csv(tmp_path / "champion.csv", columns)
    thresholds = ["--label-column", "is_fraud", "--score-column", "fraud_probability"]
    gate = run_cli("gate", "--quiet", "--predictions", str(predictions), *thresholds,
                   "--output-dir", str(tmp_path / "g1"))  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    proc, _ = _promote(endpoint, tmp_path, "1-aaa", tmp_path / "g1" / "verdict.json")
    assert proc.returncode == 0, proc.stderr

    proc, out = _cli(endpoint, tmp_path, "fetch-champion", "--model-store", "s3://models/ci",
                     "--model-name", "fraud", "--output-dir", str(tmp_path / "c"))  # fmt: skip
    assert proc.returncode == 0 and out["found"] == "true" and out["version"] == "1-aaa"
    assert out["serving-image-ref"] == IMAGE

    worse = dict(columns)
    worse["fraud_probability"] = [
        0.4 if y else s  # every fraud now scored under the threshold: recall collapses
        for y, s in zip(columns["is_fraud"], columns["fraud_probability"], strict=True)
    ]
    worse_csv = write_csv(tmp_path / "worse.csv", worse)
    config = tmp_path / "gate.yml"
    config.write_text("baseline:\n  recall: {max_drop: 0.02}\n")
    second = run_cli("gate", "--quiet", "--predictions", str(worse_csv), *thresholds,
                     "--config", str(config), "--baseline", out["baseline-path"],
                     "--output-dir", str(tmp_path / "g2"))  # fmt: skip
    assert second.returncode == 1, second.stdout + second.stderr
    verdict = json.loads((tmp_path / "g2" / "verdict.json").read_text())
    (check,) = [c for c in verdict["checks"] if c["kind"] == "baseline"]
    assert check["status"] == "fail" and "vs baseline" in check["message"]
