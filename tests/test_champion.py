"""promote and fetch-champion against moto in server mode: records are immutable per version,
the pointer moves only after a passed gate and only forward (by the run that trained each
version), by compare-and-swap, so racing promotions end on the newer one with a consistent
chain, and the next gate judges against it."""

import json
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from conftest import REPO, make_predictions, run_cli, write_csv
from mlops_actions.champion import run as champion
from mlops_actions.errors import UserError
from mlops_actions.model_store import Location, S3Store
from support.ecs_sim import AWS_ENV, REGION, moto_server, reset

IMAGE = "ghcr.io/acme/fraud-detector@sha256:" + "b" * 64
TASKDEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-detector:7"
# version -> (run number, attempt, training start): 7.2 is a re-run of run 7, after run 9.
RUNS = {
    "7.1-aaaaaaa": (7, 1, "2026-11-01T10:00:00+00:00"),
    "8.1-bbbbbbb": (8, 1, "2026-11-01T11:00:00+00:00"),
    "9.1-ccccccc": (9, 1, "2026-11-01T12:00:00+00:00"),
    "7.2-aaaaaaa": (7, 2, "2026-11-01T13:00:00+00:00"),
    "10.1-ddddddd": (10, 1, "2026-11-01T14:00:00+00:00"),
    "11.1-eeeeeee": (11, 1, "2026-11-01T15:00:00+00:00"),
}


def card(version: str) -> dict:
    number, attempt, started = RUNS[version]
    return {
        "model": {"sha256": version[0] * 64, "path": "model.skops"},
        "source": {"repository": "Acme/Fraud-Detector", "sha": "f" * 40,
                   "run_number": str(number), "run_attempt": str(attempt)},
        "run": {"started_at": started},
    }  # fmt: skip


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
    for version in RUNS:
        client.put_object(
            Bucket="models", Key=f"ci/fraud/{version}/model-card.json",
            Body=json.dumps(card(version)),
        )  # fmt: skip
    return client, endpoint


def _cli(endpoint, tmp_path, *args):
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("")
    proc = run_cli(
        *args, env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "GITHUB_OUTPUT": str(outputs)}
    )
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


VERDICT = {"passed": True, "metrics": {"recall": {"value": 0.9}}, "checks": [{"status": "pass"}]}


def _verdict(tmp_path, passed=True, recall=0.9):
    path = tmp_path / f"verdict-{passed}-{recall}.json"
    path.write_text(
        json.dumps({**VERDICT, "passed": passed, "metrics": {"recall": {"value": recall}}})
    )
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


def _store(client):
    return S3Store(Location("models", "ci"), "fraud", client=client)


def test_promote_writes_the_record_then_moves_the_pointer(s3, tmp_path):
    client, endpoint = s3
    proc, out = _promote(endpoint, tmp_path, "7.1-aaaaaaa", _verdict(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert out["champion-version"] == "7.1-aaaaaaa" and out["status"] == "promoted"
    record = _pointer(client)
    assert record["version"] == "7.1-aaaaaaa" and record["model_sha256"] == "7" * 64
    assert record["serving_image"] == IMAGE and record["task_definition_arn"] == TASKDEF
    assert record["verdict"]["passed"] is True and record["previous_version"] is None
    assert record["sequence"] == 1 and record["order"]["run_number"] == 7
    stored = json.loads(
        client.get_object(Bucket="models", Key="ci/fraud/champions/7.1-aaaaaaa.json")["Body"].read()
    )
    assert {k: v for k, v in stored.items() if k != "sequence"} == {
        k: v for k, v in record.items() if k not in ("sequence", "forced")
    }

    proc, out = _promote(endpoint, tmp_path, "8.1-bbbbbbb", _verdict(tmp_path, recall=0.95))
    assert proc.returncode == 0 and out["previous-version"] == "7.1-aaaaaaa"
    assert _pointer(client)["previous_version"] == "7.1-aaaaaaa"
    # A re-run of the same promotion is a no-op; the same version with another image is refused.
    again, out = _promote(endpoint, tmp_path, "8.1-bbbbbbb", _verdict(tmp_path, recall=0.95))
    assert again.returncode == 0 and out["status"] == "unchanged"
    other = _promote(endpoint, tmp_path, "8.1-bbbbbbb", _verdict(tmp_path, recall=0.95),
                     "--serving-image-ref", IMAGE.replace("b" * 64, "c" * 64))[0]  # fmt: skip
    assert other.returncode == 2 and "records are immutable" in other.stderr
    assert _pointer(client)["sequence"] == 2


def test_a_late_promote_of_an_older_run_is_refused_and_the_champion_stays(s3, tmp_path):
    """Run 9 is promoted; then a queued run 7, and "Re-run failed jobs" of run 7 (attempt 2,
    trained after run 9), come late: both are refused, in one line, and the champion stays. A
    deliberate rollback with force moves it back, and the record says what it replaced."""
    client, endpoint = s3
    assert _promote(endpoint, tmp_path, "9.1-ccccccc", _verdict(tmp_path))[0].returncode == 0
    for late in ("7.1-aaaaaaa", "7.2-aaaaaaa"):
        proc, out = _promote(endpoint, tmp_path, late, _verdict(tmp_path))
        assert proc.returncode == 2 and not out, proc.stdout
        (line,) = proc.stderr.strip().splitlines()
        assert f"version: {late} (run 7 attempt {late[2]}) is older than the champion " \
               "9.1-ccccccc (run 9 attempt 1)" in line and "force: true" in line  # fmt: skip
        assert _pointer(client)["version"] == "9.1-ccccccc"
    proc, out = _promote(endpoint, tmp_path, "7.1-aaaaaaa", _verdict(tmp_path), "--force", "true")
    assert proc.returncode == 0, proc.stderr
    pointer = _pointer(client)
    assert pointer["version"] == "7.1-aaaaaaa" and pointer["previous_version"] == "9.1-ccccccc"
    assert pointer["forced"] is True and out["previous-version"] == "9.1-ccccccc"
    history = _store(client).history("champion", 10)
    assert [(h["sequence"], h["version"], h["previous_version"]) for h in history] == [
        (2, "7.1-aaaaaaa", "9.1-ccccccc"), (1, "9.1-ccccccc", None)]  # fmt: skip
    assert history[0]["forced"] and history[0]["gate"]["checks_passed"] == 1
    # `mlops-actions champions` lists the same moves, newest first, as a table and as JSON.
    store = ["--model-store", "s3://models/ci", "--model-name", "fraud"]
    listed, _ = _cli(endpoint, tmp_path, "champions", *store)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "version", "promoted"] and len(lines) == 3
    assert lines[1].split()[:2] == ["2", "7.1-aaaaaaa"] and "9.1-ccccccc (forced)" in lines[1]
    assert "passed 1✓ 0✗" in lines[1] and "recall=0.900" in lines[1]
    assert lines[2].split()[:2] == ["1", "9.1-ccccccc"] and TASKDEF.rsplit("/")[-1] in lines[2]
    as_json, _ = _cli(endpoint, tmp_path, "champions", *store, "--limit", "1", "--json")
    (only,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert only["version"] == "7.1-aaaaaaa" and only["previous_version"] == "9.1-ccccccc"
    bad, _ = _cli(endpoint, tmp_path, "champions", *store, "--limit", "0")
    assert bad.returncode == 2 and "limit" in bad.stderr and "Traceback" not in bad.stderr


def test_a_conflicting_write_is_detected_and_decided_again(s3):
    """A real conditional-write conflict on the emulator: between this promotion's read and its
    write, another process's promotion moves the pointer. The write is refused (412), this
    promotion reads again, decides again and writes on top, naming the one it replaced."""
    client, endpoint = s3
    store = _store(client)
    champion.promote(store, "7.1-aaaaaaa", VERDICT, log=lambda _: None)

    class Interrupted(S3Store):
        moves = 0

        def read_pointer(self, stage):
            read = super().read_pointer(stage)
            if not Interrupted.moves:
                Interrupted.moves += 1
                other = S3Store(Location("models", "ci"), "fraud", client=boto3.client(
                    "s3", endpoint_url=endpoint, region_name=REGION,
                    aws_access_key_id="testing", aws_secret_access_key="testing"))  # fmt: skip
                champion.promote(other, "8.1-bbbbbbb", VERDICT, log=lambda _: None)
            return read

    said = []
    promotion = champion.promote(
        Interrupted(Location("models", "ci"), "fraud", client=client), "9.1-ccccccc", VERDICT,
        log=said.append,
    )  # fmt: skip
    assert any("another promotion moved" in s for s in said), said
    assert promotion.record["version"] == "9.1-ccccccc"
    assert (
        promotion.record["previous_version"] == "8.1-bbbbbbb" and promotion.record["sequence"] == 3
    )
    chain = [(h["version"], h["previous_version"]) for h in store.history("champion", 10)]
    assert chain == [("9.1-ccccccc", "8.1-bbbbbbb"), ("8.1-bbbbbbb", "7.1-aaaaaaa"),
                     ("7.1-aaaaaaa", None)]  # fmt: skip

    # Run 10 loses its race to run 11: once it reads again, it is the older one, and is refused
    # rather than written over the newer champion.
    class Raced(S3Store):
        def read_pointer(self, stage):
            read = super().read_pointer(stage)
            if read[0]["version"] == "9.1-ccccccc":
                champion.promote(store, "11.1-eeeeeee", VERDICT, log=lambda _: None)
            return read

    with pytest.raises(
        UserError, match=r"10\.1-ddddddd .* is older than the champion 11\.1-eeeeeee"
    ):
        champion.promote(Raced(Location("models", "ci"), "fraud", client=client),
                         "10.1-ddddddd", VERDICT, log=lambda _: None)  # fmt: skip
    assert _pointer(client)["version"] == "11.1-eeeeeee"


def _race(endpoint, versions):
    start = time.time() + 1.5  # every process imported and connected by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "tests" / "support" / "promote_race.py"),
                "s3://models/ci",
                "fraud",
                str(start),
                version,
                json.dumps(VERDICT),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={
                **AWS_ENV,
                "AWS_ENDPOINT_URL": endpoint,
                "PYTHONPATH": str(REPO / "scripts"),
                "PATH": "/usr/bin:/bin",
            },
        )
        for version in versions
    ]
    return [json.loads(p.communicate(timeout=60)[0]) for p in procs]


def test_racing_promotions_end_on_the_newer_run_with_a_consistent_chain(s3):
    """Three processes promote runs 8, 9 and 10 at the same instant, on top of run 7. However
    they interleave: the pointer ends on run 10; each one that said "promoted" is in the
    chain, with the version it really replaced; each one that did not, said why."""
    client, endpoint = s3
    store = _store(client)
    champion.promote(store, "7.1-aaaaaaa", VERDICT, log=lambda _: None)
    for round_ in range(3):
        if round_:
            reset(endpoint)
            client.create_bucket(Bucket="models")
            for version in RUNS:
                client.put_object(Bucket="models", Key=f"ci/fraud/{version}/model-card.json",
                                  Body=json.dumps(card(version)))  # fmt: skip
            champion.promote(store, "7.1-aaaaaaa", VERDICT, log=lambda _: None)
        results = _race(endpoint, ["8.1-bbbbbbb", "9.1-ccccccc", "10.1-ddddddd"])
        assert _pointer(client)["version"] == "10.1-ddddddd", results
        chain = {h["version"]: h["previous_version"] for h in store.history("champion", 10)}
        for result in results:
            if result["status"] == "promoted":
                assert chain.get(result["version"], "absent") == result["previous"], (
                    results,
                    chain,
                )
            else:  # lost: a newer one was already there, or came just after
                assert result["status"] == "refused", results
                assert "older than" in result["message"] or "newer promotion" in result["message"]
        # The chain is one line back from the champion to run 7, every move exactly once.
        walk, seen = "10.1-ddddddd", []
        while walk:
            seen.append(walk)
            walk = chain[walk]
        assert seen[-1] == "7.1-aaaaaaa" and len(seen) == len(chain), chain


@pytest.mark.parametrize(
    "case,message",
    [
        ("failed", "the gate did not pass; a failed model is never deployed or promoted"),
        ("unknown", "version 9-zzz is not in the model store"),
        ("tag", "serving-image-ref: 'ghcr.io/acme/x:latest' must be the image by digest"),
        ("sha", "model-sha256 0000000000000000… is not the stored version's"),
    ],
)
def test_promotion_is_refused_before_anything_is_written(s3, tmp_path, case, message):
    client, endpoint = s3
    version, verdict, extra = "7.1-aaaaaaa", _verdict(tmp_path), []
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
    assert not any("champion" in k or "history" in k for k in keys) and not out


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
    thresholds = ["--label-column", "is_fraud", "--score-column", "fraud_probability",
                  "--thresholds", "recall>=0.1"]  # fmt: skip
    gate = run_cli("gate", "--quiet", "--predictions", str(predictions), *thresholds,
                   "--output-dir", str(tmp_path / "g1"))  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    proc, _ = _promote(endpoint, tmp_path, "7.1-aaaaaaa", tmp_path / "g1" / "verdict.json")
    assert proc.returncode == 0, proc.stderr

    proc, out = _cli(endpoint, tmp_path, "fetch-champion", "--model-store", "s3://models/ci",
                     "--model-name", "fraud", "--output-dir", str(tmp_path / "c"))  # fmt: skip
    assert proc.returncode == 0 and out["found"] == "true" and out["version"] == "7.1-aaaaaaa"
    assert out["serving-image-ref"] == IMAGE
    card_path = Path(out["model-card-path"])
    assert json.loads(card_path.read_text())["model"]["sha256"] == "7" * 64

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


def test_a_hostile_version_in_the_store_is_refused_not_printed(s3, tmp_path):
    """champion.json is only as trusted as whoever can write the bucket: a version that is not a
    version name (here, a workflow command) is a one-line error, never printed raw."""
    client, endpoint = s3
    hostile = {"version": "1\n::add-mask::x", "verdict": VERDICT}
    client.put_object(Bucket="models", Key="ci/fraud/champion.json", Body=json.dumps(hostile))
    proc, out = _cli(endpoint, tmp_path, "fetch-champion", "--model-store", "s3://models/ci",
                     "--model-name", "fraud", "--output-dir", str(tmp_path / "c"))  # fmt: skip
    assert proc.returncode == 2 and "found" not in out
    assert "::add-mask::" not in proc.stdout and len(proc.stderr.strip().splitlines()) == 1
