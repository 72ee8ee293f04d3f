"""The MLflow model registry as the model store, against a real `mlflow server` (SQLite, local
artifacts): containerized-train registers a really trained version with its lineage tags,
promotion moves the `champion` alias (and `previous`), fetch-champion gives the gate its
baseline from the version behind `champion`, and a failed gate moves nothing. The server asks
for a login (MLflow's basic-auth app), as a team's server does: a refused login is an error,
never an empty store. The helper runs from the actions' own `mlflow` lock, installed as the
actions install it."""

import base64
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, helper_env
from support.mlflow_server import mlflow_server
from support.train_fixtures import TRAIN

pytestmark = pytest.mark.act


@pytest.fixture(scope="module")
def helper_python():
    return helper_env("mlflow")


USER, PASSWORD = "admin", "team-server-Pass-1"
LOGIN = {"MLFLOW_TRACKING_USERNAME": USER, "MLFLOW_TRACKING_PASSWORD": PASSWORD}


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    with mlflow_server(tmp_path_factory.mktemp("mlflow"), (USER, PASSWORD)) as url:
        yield url


def _cli(python, *args, tmp, env=None, login=LOGIN):
    outputs = tmp / f"out-{len(list(tmp.glob('out-*')))}.txt"
    outputs.write_text("")
    proc = subprocess.run([python, "-m", "mlops_actions", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(REPO / "scripts"),
                          "GITHUB_OUTPUT": str(outputs), "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
                          "GITHUB_SHA": "f" * 40, **login, **(env or {})})  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def _api(url, path, **query):
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(query)}",
        headers={"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()},
    )  # fmt: skip
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())


def _alias(url, alias):
    try:
        return _api(url, "registered-models/alias", name="fraud", alias=alias)["model_version"]
    except urllib.error.HTTPError:
        return None


def _train(python, pushed, tmp, tracking, version):
    image, registry = pushed
    artifacts = tmp / version
    artifacts.mkdir()
    return _cli(python, "train", "--image", image, "--command", TRAIN, "--artifacts-dir",
                str(artifacts), "--registry", registry["host"], "--username", registry["username"],
                "--password", registry["password"], "--s3-uri", tracking, "--model-name", "fraud",
                "--version", version, tmp=tmp)  # fmt: skip


def _verdict(tmp, passed, recall):
    path = tmp / f"verdict-{passed}-{recall}.json"
    path.write_text(json.dumps({"passed": passed, "metrics": {"recall": recall}, "checks": []}))
    return path


def test_register_promote_fetch_and_move_the_aliases(helper_python, tracking, pushed, tmp_path):
    proc, out = _train(helper_python, pushed, tmp_path, tracking, "1-aaa")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out["s3-uri"] == "models:/fraud/1"
    card = json.loads((tmp_path / "1-aaa" / "model-card.json").read_text())
    version = _api(tracking, "model-versions/get", name="fraud", version="1")["model_version"]
    tags = {t["key"]: t["value"] for t in version["tags"]}
    assert tags["mlops.version"] == "1-aaa" and tags["model_sha256"] == card["model"]["sha256"]
    assert tags["git_sha"] == "f" * 40 and tags["image_digest"] == card["image"]["digest"]
    assert json.loads(tags["model_card"])["model"]["sha256"] == card["model"]["sha256"]
    run = _api(tracking, "runs/get", run_id=version["run_id"])["run"]
    assert {m["key"] for m in run["data"]["metrics"]} >= {"recall", "precision"}

    # The same version again: the same files are found, not registered twice; another model
    # under that version name is refused (a retrained model is never byte-identical).
    same = subprocess.run([helper_python, "-c", (
        "import sys; from pathlib import Path; from mlops_actions.mlflow_store import MlflowStore; "
        "d = Path(sys.argv[2]); print(MlflowStore(sys.argv[1], 'fraud').register('1-aaa', "
        "[d / 'model.skops'], d / 'model-card.json', None))"), tracking, str(tmp_path / "1-aaa")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "scripts"), **LOGIN})  # fmt: skip
    assert "'status': 'exists', 'uri': 'models:/fraud/1'" in same.stdout, same.stderr[-2000:]
    (tmp_path / "again").mkdir()
    again, _ = _train(helper_python, pushed, tmp_path / "again", tracking, "1-aaa")
    assert again.returncode == 2
    assert "already has version 1-aaa; give this run a new version" in again.stderr
    assert not (tmp_path / "again" / "model-card.json").exists()  # refused before training

    # No champion yet: the gate has no baseline.
    proc, out = _cli(helper_python, "fetch-champion", "--model-store", tracking, "--model-name", "fraud",
                     "--output-dir", str(tmp_path / "c0"), tmp=tmp_path)  # fmt: skip
    assert proc.returncode == 0 and out["found"] == "false"

    promote = ["promote", "--model-store", tracking, "--model-name", "fraud"]
    proc, out = _cli(helper_python, *promote, "--version", "1-aaa", "--verdict",
                     str(_verdict(tmp_path, True, 0.9)), "--serving-image-ref",
                     "ghcr.io/acme/fraud@sha256:" + "b" * 64, tmp=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out["status"] == "promoted" and out["champion-version"] == "1-aaa"
    assert _alias(tracking, "champion")["version"] == "1" and _alias(tracking, "previous") is None

    proc, out = _cli(helper_python, "fetch-champion", "--model-store", tracking, "--model-name", "fraud",
                     "--output-dir", str(tmp_path / "c1"), tmp=tmp_path)  # fmt: skip
    assert proc.returncode == 0 and out["found"] == "true" and out["version"] == "1-aaa"
    assert json.loads(Path(out["baseline-path"]).read_text())["metrics"]["recall"] == 0.9
    assert (
        json.loads(Path(out["model-card-path"]).read_text())["model"]["sha256"]
        == card["model"]["sha256"]
    )

    # A second version: a failed gate moves nothing; a passed one moves both aliases.
    proc, _ = _train(helper_python, pushed, tmp_path, tracking, "2-bbb")
    assert proc.returncode == 0, proc.stderr[-3000:]
    refused, _ = _cli(helper_python, *promote, "--version", "2-bbb", "--verdict",
                      str(_verdict(tmp_path, False, 0.5)), tmp=tmp_path)  # fmt: skip
    assert refused.returncode == 2 and _alias(tracking, "champion")["version"] == "1"
    proc, out = _cli(helper_python, *promote, "--version", "2-bbb", "--verdict",
                     str(_verdict(tmp_path, True, 0.92)), tmp=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out["previous-version"] == "1-aaa"
    assert (
        _alias(tracking, "champion")["version"] == "2"
        and _alias(tracking, "previous")["version"] == "1"
    )
    proc, out = _cli(helper_python, "fetch-champion", "--model-store", tracking, "--model-name", "fraud",
                     "--output-dir", str(tmp_path / "c2"), tmp=tmp_path)  # fmt: skip
    assert out["version"] == "2-bbb"
    assert json.loads(Path(out["baseline-path"]).read_text())["metrics"]["recall"] == 0.92


def test_an_unknown_version_is_one_line(helper_python, tracking, tmp_path):
    proc, _ = _cli(helper_python, "promote", "--model-store", tracking, "--model-name", "fraud",
                   "--version", "9-zzz", "--verdict", str(_verdict(tmp_path, True, 0.9)), tmp=tmp_path)  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "version 9-zzz is not in the model store (no MLflow model fraud" in lines[0]
    )


@pytest.mark.parametrize(
    "login",
    [{}, {"MLFLOW_TRACKING_USERNAME": USER, "MLFLOW_TRACKING_PASSWORD": "wrong"}],
    ids=["no-login", "wrong-password"],
)
def test_a_refused_login_is_one_line_never_an_empty_store(helper_python, tracking, tmp_path, login):
    # Read as "no champion yet", a refused login would gate without a baseline.
    proc, out = _cli(helper_python, "fetch-champion", "--model-store", tracking, "--model-name",
                     "fraud", "--output-dir", str(tmp_path / "c"), tmp=tmp_path, login=login)  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "UNAUTHENTICATED" in lines[0], proc.stderr
    assert "MLFLOW_TRACKING_TOKEN" in lines[0] and PASSWORD not in proc.stderr
    assert "found" not in out and not (tmp_path / "c" / "champion.json").exists()


def test_an_unreachable_server_is_one_line_never_an_empty_store(helper_python, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    proc, out = _cli(helper_python, "fetch-champion", "--model-store", closed, "--model-name",
                     "fraud", "--output-dir", str(tmp_path / "c"), tmp=tmp_path,
                     env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"MLflow at {closed}: read the alias champion failed" in lines[0]
    assert "found" not in out


RACE = REPO / "tests" / "support" / "promote_race.py"
VERDICT = {"passed": True, "metrics": {"recall": 0.9}, "checks": []}


def _register(python, tracking, tmp, model, versions):
    """Versions registered as training registers them (a run, its card and model), without
    training: each card names the run that trained it."""
    script = (
        "import json, sys; from pathlib import Path; from mlops_actions.mlflow_store import "
        "MlflowStore\nstore = MlflowStore(sys.argv[1], sys.argv[2])\n"
        "for number in sys.argv[4:]:\n"
        "    d = Path(sys.argv[3]) / number; d.mkdir()\n"
        "    (d / 'model.skops').write_text(number)\n"
        "    card = {'model': {'sha256': number * 64}, 'source': {'repository': 'Acme/x', "
        "'run_number': number, 'run_attempt': '1'}, 'run': {'started_at': "
        "f'2026-11-01T{int(number):02d}:00:00+00:00'}}\n"
        "    (d / 'model-card.json').write_text(json.dumps(card))\n"
        "    store.register(f'{number}.1-abcdef0', [d / 'model.skops'], d / 'model-card.json', None)\n"
    )
    proc = subprocess.run([python, "-c", script, tracking, model, str(tmp), *versions],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO / "scripts"), **LOGIN})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


def _model_alias(url, model, alias):
    try:
        version = _api(url, "registered-models/alias", name=model, alias=alias)["model_version"]
    except urllib.error.HTTPError:
        return None
    return {t["key"]: t["value"] for t in version["tags"]}["mlops.version"]


def _history(url, model):
    tags = _api(url, "registered-models/get", name=model)["registered_model"].get("tags", [])
    moves = sorted((t["key"], json.loads(t["value"])) for t in tags
                   if t["key"].startswith("mlops.champion.history."))  # fmt: skip
    return {m["version"]: m["previous_version"] for _, m in moves}, [m for _, m in moves]


def test_the_alias_moves_forward_only_and_records_are_immutable(helper_python, tracking, tmp_path):
    _register(helper_python, tracking, tmp_path, "ordered", ["7", "8", "9"])
    promote = ["promote", "--model-store", tracking, "--model-name", "ordered", "--verdict",
               json.dumps(VERDICT), "--serving-image-ref", "ghcr.io/acme/x@sha256:" + "b" * 64]  # fmt: skip
    proc, _ = _cli(helper_python, *promote, "--version", "9.1-abcdef0", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    late, out = _cli(helper_python, *promote, "--version", "7.1-abcdef0", tmp=tmp_path)
    assert late.returncode == 2 and not out
    (line,) = late.stderr.strip().splitlines()
    assert "7.1-abcdef0 (run 7 attempt 1) is older than the champion 9.1-abcdef0" in line
    assert _model_alias(tracking, "ordered", "champion") == "9.1-abcdef0"
    # Another serving image for a promoted version is refused; today's tags are not overwritten.
    other = [*promote[:-1], "ghcr.io/acme/x@sha256:" + "c" * 64, "--version", "9.1-abcdef0"]
    changed, _ = _cli(helper_python, *other, tmp=tmp_path)
    assert changed.returncode == 2 and "records are immutable" in changed.stderr
    same, out = _cli(helper_python, *promote, "--version", "9.1-abcdef0", tmp=tmp_path)
    assert same.returncode == 0 and out["status"] == "unchanged"
    forced, out = _cli(helper_python, *promote, "--version", "7.1-abcdef0", "--force", "true",
                       tmp=tmp_path)  # fmt: skip
    assert forced.returncode == 0 and out["previous-version"] == "9.1-abcdef0", forced.stderr
    assert _model_alias(tracking, "ordered", "champion") == "7.1-abcdef0"
    assert _model_alias(tracking, "ordered", "previous") == "9.1-abcdef0"
    chain, moves = _history(tracking, "ordered")
    assert chain == {"9.1-abcdef0": None, "7.1-abcdef0": "9.1-abcdef0"} and moves[-1]["forced"]
    listed, _ = _cli(helper_python, "champions", "--model-store", tracking, "--model-name",
                     "ordered", "--json", "true", tmp=tmp_path)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    newest_first = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(m["version"], m["previous_version"]) for m in newest_first] == [
        ("7.1-abcdef0", "9.1-abcdef0"), ("9.1-abcdef0", None)]  # fmt: skip


def test_racing_promotions_end_on_the_newer_run_under_the_registry_lock(
    helper_python, tracking, tmp_path
):
    """Three processes move the alias at once (MLflow has no conditional update: the lock
    makes each read-decide-move atomic). The alias ends on the newest; each "promoted" is in the
    chain with what it really replaced; the lock is gone afterwards."""
    _register(helper_python, tracking, tmp_path, "raced", ["1", "2", "3", "4"])
    env = {**os.environ, "PYTHONPATH": str(REPO / "scripts"), **LOGIN}
    first = subprocess.run([helper_python, str(RACE), tracking, "raced", "0", "1.1-abcdef0",
                            json.dumps(VERDICT)], capture_output=True, text=True, env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    start = time.time() + 6  # each process has imported MLflow's client by then
    procs = [subprocess.Popen([helper_python, str(RACE), tracking, "raced", str(start),
                               f"{n}.1-abcdef0", json.dumps(VERDICT)], stdout=subprocess.PIPE,
                              text=True, env=env) for n in ("2", "3", "4")]  # fmt: skip
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert _model_alias(tracking, "raced", "champion") == "4.1-abcdef0", results
    chain, _ = _history(tracking, "raced")
    for result in results:
        if result["status"] == "promoted":
            assert chain[result["version"]] == result["previous"], (results, chain)
        else:
            assert result["status"] == "refused" and "older than" in result["message"], results
    walk, seen = "4.1-abcdef0", []
    while walk:
        seen.append(walk)
        walk = chain[walk]
    assert seen[-1] == "1.1-abcdef0" and len(seen) == len(chain), chain
    with pytest.raises(urllib.error.HTTPError):
        _api(tracking, "registered-models/get", name="raced.mlops-lock")
