"""The serving app, as a real uvicorn process: it serves only the model it was told to serve."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], wait: float = 60.0):
    """Start uvicorn; return (process, base URL) once it answers, or the process if it exited."""
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "serve:app", "--app-dir", str(PROJECT / "src"),
         "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc, None
        try:
            urllib.request.urlopen(f"{url}/docs", timeout=1)
            return proc, url
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("uvicorn did not start")


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def baked(trained, tmp_path):
    """A model and its card side by side, as the serving image holds them."""
    model = tmp_path / "model.skops"
    shutil.copy(trained / "model.skops", model)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    card = {"model": {"sha256": digest}, "source": {"sha": "a" * 40}, "version": "7-abc1234"}
    (tmp_path / "model-card.json").write_text(json.dumps(card))
    return model, digest


def test_a_verified_model_is_served_and_reports_its_version(baked):
    model, digest = baked
    proc, url = _serve({"MODEL_PATH": str(model)})
    try:
        assert url, proc.stdout.read() if proc.stdout else ""
        assert _get(f"{url}/health")[0] == 200
        status, version = _get(f"{url}/version")
        assert status == 200 and version == {
            "model_version": "7-abc1234",
            "model_sha256": digest,
            "verified": True,
            "source_commit": "a" * 40,
        }
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_model_that_does_not_match_its_card_is_refused(baked):
    model, _ = baked
    with open(model, "ab") as handle:
        handle.write(b"\0")  # one byte more than what was gated
    proc, url = _serve({"MODEL_PATH": str(model)})
    assert url is None and proc.returncode != 0
    assert "is not the expected" in proc.stdout.read()


def test_a_model_nothing_vouches_for_is_not_served(trained, tmp_path):
    """No card beside it and no MODEL_SHA256: the service does not start."""
    model = tmp_path / "model.skops"
    shutil.copy(trained / "model.skops", model)
    proc, url = _serve({"MODEL_PATH": str(model)})
    assert url is None and proc.returncode != 0
    assert "an unverified model is never served" in proc.stdout.read()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    proc, url = _serve({"MODEL_PATH": str(model), "MODEL_SHA256": digest})
    try:
        assert url and _get(f"{url}/health")[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_model_means_not_healthy(tmp_path):
    proc, url = _serve({"MODEL_PATH": str(tmp_path / "missing.skops")})
    try:
        assert url and _get(f"{url}/health")[0] == 503 and _get(f"{url}/version")[0] == 503
    finally:
        proc.terminate()
        proc.wait(10)


def test_model_uri_needs_and_checks_the_sha256(trained, tmp_path):
    """The large-model path: the immutable S3 version, checked against MODEL_SHA256."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        }  # fmt: skip
        s3 = boto3.client("s3", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        s3.create_bucket(Bucket="models")
        body = (trained / "model.skops").read_bytes()
        s3.put_object(Bucket="models", Key="fraud/7/model.skops", Body=body)
        uri = "s3://models/fraud/7/model.skops"

        proc, url = _serve({**aws, "MODEL_URI": uri})
        assert url is None and "MODEL_URI needs MODEL_SHA256" in proc.stdout.read()

        proc, url = _serve({**aws, "MODEL_URI": uri, "MODEL_SHA256": "0" * 64})
        assert url is None and "is not the expected" in proc.stdout.read()

        good = hashlib.sha256(body).hexdigest()
        proc, url = _serve({**aws, "MODEL_URI": uri, "MODEL_SHA256": good})
        try:
            assert url and _get(f"{url}/version")[1]["model_sha256"] == good
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        server.stop()


def _post(url: str, body: bytes, kind: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_sagemaker_contract_answers_on_the_same_port(baked):
    model, digest = baked
    row = {"amount": 42.5, "hour": 3, "merchant_category": "electronics", "is_international": 1,
           "account_age_days": 20, "distance_from_home_km": 60.0, "region": "north"}  # fmt: skip
    proc, url = _serve({"MODEL_PATH": str(model)})
    try:
        assert url and _get(f"{url}/ping")[0] == 200
        as_json = _post(f"{url}/invocations", json.dumps([row, row]).encode(), "application/json")
        wrapped = _post(f"{url}/invocations", json.dumps({"instances": [row]}).encode(),
                        "application/json")  # fmt: skip
        csv = ",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n"
        as_csv = _post(f"{url}/invocations", csv.encode(), "text/csv")
        assert as_json[0] == wrapped[0] == as_csv[0] == 200, (as_json, wrapped, as_csv)
        assert as_json[1]["model_sha256"] == digest and len(as_json[1]["fraud_probability"]) == 2
        assert as_csv[1]["fraud_probability"] == wrapped[1]["fraud_probability"]
        assert as_json[1]["fraud_probability"][0] == wrapped[1]["fraud_probability"][0]
        bad = _post(f"{url}/invocations", b"amount\n1\n", "text/csv")
        assert bad[0] == 400 and "missing columns" in bad[1]["detail"]
        # CSV rows are validated as JSON rows are: an hour of 99 is refused, not scored
        wrong = csv.replace(",3,", ",99,", 1)
        refused = _post(f"{url}/invocations", wrong.encode(), "text/csv")
        assert refused[0] == 400 and "hour" in refused[1]["detail"], refused
        infinite = _post(f"{url}/invocations", json.dumps([{**row, "amount": "inf"}]).encode(),
                         "application/json")  # fmt: skip
        assert infinite[0] == 400 and "amount" in str(infinite[1]["detail"]), infinite
    finally:
        proc.terminate()
        proc.wait(10)
