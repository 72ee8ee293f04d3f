"""containerized-train for real: the example image, pulled by digest from the authenticated
local registry, trains in a container; failures leave no model; versions go to S3 (moto)."""

import hashlib
import json
import re
from pathlib import Path

import boto3
import pytest

from conftest import run_cli
from mlops_actions.errors import UserError
from mlops_actions.model_store import Location, upload_version
from support.act_harness import export_tree, init_consumer_repo, run_workflow
from support.ecs_sim import AWS_ENV, REGION, moto_server, reset
from support.train_fixtures import EXAMPLE, TRAIN, train_cli

pytestmark = pytest.mark.act


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


WORKFLOW = """
name: train
on: [push]
permissions: {}
jobs:
  train:
    runs-on: ubuntu-latest
    permissions: {contents: read, packages: read}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - id: train
        uses: org/mlops-actions/actions/containerized-train@v1
        with:
          image: "@IMAGE@"
          command: python src/train.py --output-path /app/artifacts/model.skops --data /data/data/transactions.csv
          data: example-project/data
          params: |
            C=5
          registry: "@REGISTRY@"
          username: mlops
          password: ${{ secrets.REGISTRY_PASSWORD }}
          network: none
          artifacts-dir: artifacts
      - name: keep the artifacts for the test (act removes the workspace)
        run: cp -r artifacts "$ACT_CAPTURE_DIR/artifacts"
"""


def test_trains_in_the_image_pulled_by_digest_under_act(pushed, tmp_path_factory, tmp_path):
    image, registry = pushed
    consumer = init_consumer_repo(
        tmp_path / "consumer",
        {
            "example-project/data/transactions.csv": (
                EXAMPLE / "data" / "transactions.csv"
            ).read_bytes(),
        },
    )
    workflow = WORKFLOW.replace("@IMAGE@", image).replace("@REGISTRY@", registry["host"])
    run = run_workflow(
        consumer,
        workflow,
        action_tree=export_tree(tmp_path_factory.mktemp("tree")),
        cache_dir=tmp_path_factory.mktemp("act-cache"),
        event="push",
        payload={"ref": "refs/heads/main"},
        secrets={"REGISTRY_PASSWORD": registry["password"]},
    )
    assert run.jobs.get("train") == "success", run.log[-5000:]
    out = run.outputs("train", "train")
    kept = run.capture / "artifacts"
    model, card_path = kept / Path(out["model-path"]).name, kept / Path(out["model-card"]).name
    assert model.name == "model.skops" and out["model-sha256"] == sha(model)
    card = json.loads(card_path.read_text())
    digest = image.split("@", 1)[1]
    assert out["image-ref"] == image and card["image"]["digest"] == digest
    assert card["model"]["sha256"] == sha(model) and card["model"]["format"] == "skops"
    assert card["params"] == {"C": 5}
    assert (
        json.loads((model.parent / "params.json").read_text())["C"] == 5.0
    )  # the command saw the params
    assert card["data"][0]["mount"] == "/data/data"
    expected_data = hashlib.sha256(
        f"transactions.csv {sha(EXAMPLE / 'data' / 'transactions.csv')}".encode()
    ).hexdigest()
    assert card["data"][0]["sha256"] == expected_data
    assert (
        card["environment"]["python"].startswith("3.11")
        and "scikit-learn" in card["environment"]["packages"]
    )
    assert card["metrics"]["precision"] > 0.85 and card["run"]["network"] == "none"
    assert card["source"]["sha"] and card["trigger"]["event_name"] == "push"
    assert out["metrics-path"].endswith("artifacts/metrics.json")
    assert (
        sha(kept / Path(out["predictions-path"]).name) == card["files"]["holdout-predictions.csv"]
    )
    # act prints a group command it executed as "❓  ::group::…": the logs sit in our group.
    assert re.search(r"❓\s+::group::training logs", run.log), run.log[-3000:]


@pytest.mark.parametrize(
    "command,args,code,message",
    [
        (
            "python -c 'import sys; print(\"boom\"); sys.exit(3)'",
            (),
            1,
            "training command exited with code 3",
        ),
        (
            "sleep 60",
            ("--timeout-minutes", "0.05"),
            1,
            "training timed out after 0.05 minutes and was stopped",
        ),
        ("true", (), 1, "expected output 'model.skops' is missing or empty"),
        (
            TRAIN,
            ("--data", "/nonexistent/data.csv"),
            2,
            "data: '/nonexistent/data.csv' does not exist",
        ),
    ],
)
def test_failures_are_clear_and_leave_no_model(pushed, tmp_path, command, args, code, message):
    proc, artifacts = train_cli(pushed, tmp_path, *args, command=command)
    assert proc.returncode == code, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    if code == 1:  # the run started: the earlier model must not survive and look current
        assert not (artifacts / "model.skops").exists()
    else:  # bad input: refused before anything was touched, the earlier model included
        assert (artifacts / "model.skops").read_text() == "a stale model from an earlier run"
    assert not (artifacts / "model-card.json").exists()
    assert not list(artifacts.glob(".staging-*"))
    if code == 1 and "boom" in command:
        assert "boom" in proc.stdout  # the last log lines are shown (defused, fenced)


def test_missing_image_is_one_line(pushed, tmp_path):
    _, registry = pushed
    proc = run_cli(
        "train",
        "--image",
        f"{registry['host']}/acme/does-not-exist:v1",
        "--command",
        TRAIN,
        "--artifacts-dir",
        str(tmp_path),
        "--registry",
        registry["host"],
        "--username",
        "mlops",
        "--password",
        registry["password"],
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        "cannot pull" in lines[-1]
        and "does-not-exist" in lines[-1]
        and "Traceback" not in proc.stderr
    )


# --- S3 versions, against moto in server mode ------------------------------------------------


@pytest.fixture
def s3(tmp_path):
    with moto_server() as endpoint:
        reset(endpoint)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket="models")
        yield client, endpoint


def _files(tmp_path, model=b"model-bytes"):
    (tmp_path / "model.skops").write_bytes(model)
    (tmp_path / "metrics.json").write_text('{"precision": 0.9}')
    (tmp_path / "model-card.json").write_text('{"schema_version": 1}')
    return [tmp_path / "model.skops", tmp_path / "metrics.json"], tmp_path / "model-card.json"


def test_s3_version_is_written_card_last_and_is_immutable(s3, tmp_path):
    client, _ = s3
    files, card = _files(tmp_path)
    calls = []
    original = client.put_object
    client.put_object = lambda **kw: (calls.append(kw["Key"]), original(**kw))[1]
    first = upload_version(
        Location.parse("s3://models/team"), "fraud", "7-abc1234", files, card, client=client
    )
    assert first["status"] == "uploaded" and first["uri"] == "s3://models/team/fraud/7-abc1234/"
    assert calls[-1] == "team/fraud/7-abc1234/model-card.json"
    head = client.head_object(Bucket="models", Key="team/fraud/7-abc1234/model.skops")
    assert head["Metadata"]["sha256"] == hashlib.sha256(b"model-bytes").hexdigest()
    again = upload_version(
        Location.parse("s3://models/team"), "fraud", "7-abc1234", files, card, client=client
    )
    assert again["status"] == "unchanged"
    files, card = _files(tmp_path, model=b"other bytes")
    with pytest.raises(
        UserError, match=r"already exists with different model\.skops; versions are immutable"
    ):
        upload_version(
            Location.parse("s3://models/team"), "fraud", "7-abc1234", files, card, client=client
        )
    assert "champion.json" not in str(client.list_objects_v2(Bucket="models").get("Contents"))


def test_interrupted_upload_leaves_no_card_and_can_be_completed(s3, tmp_path):
    client, _ = s3
    files, card = _files(tmp_path)
    original = client.put_object

    def failing(**kw):
        if kw["Key"].endswith("metrics.json"):
            raise ConnectionError("network dropped")
        return original(**kw)

    client.put_object = failing
    with pytest.raises(ConnectionError):
        upload_version(Location.parse("s3://models"), "fraud", "v1", files, card, client=client)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="models")["Contents"]]
    assert keys == ["fraud/v1/model.skops"]  # no card: readers see no version
    client.put_object = original
    assert (
        upload_version(Location.parse("s3://models"), "fraud", "v1", files, card, client=client)[
            "status"
        ]
        == "uploaded"
    )


def test_cli_uploads_after_training(pushed, s3, tmp_path):
    client, endpoint = s3
    proc, artifacts = train_cli(
        pushed,
        tmp_path,
        "--s3-uri",
        "s3://models/ci",
        "--model-name",
        "fraud",
        "--version",
        "1-test",
        env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    keys = sorted(
        o["Key"]
        for o in client.list_objects_v2(Bucket="models", Prefix="ci/fraud/1-test/")["Contents"]
    )
    assert keys == [
        "ci/fraud/1-test/holdout-predictions.csv",
        "ci/fraud/1-test/metrics.json",
        "ci/fraud/1-test/model-card.json",
        "ci/fraud/1-test/model.skops",
    ]
    body = client.get_object(Bucket="models", Key="ci/fraud/1-test/model.skops")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha(artifacts / "model.skops")


def test_bad_s3_uri():
    with pytest.raises(UserError, match="s3-uri: 'models/x' must look like s3://bucket/prefix"):
        Location.parse("models/x")


def test_pickle_model_gives_a_skops_warning(pushed, tmp_path):
    command = "python -c \"open('/app/artifacts/model.pkl', 'wb').write(b'not really a model')\""
    proc, artifacts = train_cli(pushed, tmp_path, "--model-path", "model.pkl", command=command)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        "model.pkl is a pickle/joblib file: loading it runs arbitrary code; save with skops"
        in proc.stderr
    )
    card = json.loads((artifacts / "model-card.json").read_text())
    assert card["model"]["format"] == "pickle"
