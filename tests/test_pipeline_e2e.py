"""The whole loop, consumer-style: a copy of example-project calls
`org/mlops-actions/.github/workflows/mlops-pipeline.yml@v1` through nektos/act, with the
authenticated local registry, moto in server mode for S3 and ECS (rollouts driven like ECS by
the simulator), ambient AWS credentials (no role) and the GitHub REST stand-in.

One consumer repository lives through these runs, as a real one would (each run has the next
run number, as on GitHub: versions are ordered by it):
1. a push to main: everything, ending with a champion (S3 store, ECS on the local staging);
2. a pull request from a fork: tests and the gate, nothing pushed or deployed;
3. a push whose unit tests fail, with good data and a good model: CT overlaps the tests (the
   model is trained and gated), but nothing is deployed or promoted, and the run says why;
4. a typo in `deploy` and no model-store: stopped by the first job, nothing built;
5. the model registry moves to an MLflow server that asks for a login and serving to a
   SageMaker endpoint: the version is registered, served and becomes `champion`; then a much
   worse model fails the gate against that champion, and nothing is packaged, deployed or
   promoted (the S3 store's failed gate is the demo's `--worse-model`, tests/test_demo.py);
6. new data lands through DVC, the monitor finds the model degraded and dispatches
   `model-degraded`: the pipeline pulls the recorded data version, retrains, gates, deploys and
   promotes; the same dispatch again is skipped, since nothing changed since that champion.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
import yaml

from support.act_harness import REPO, init_consumer_repo, run_workflow
from support.ecs_sim import AWS_ENV, REGION, create_cluster_and_service, moto_server, network, reset
from support.fake_github import FakeGitHub
from support.registry_client import Registry, logged_in_docker

sys.path.insert(0, str(REPO / "scripts" / "dev"))
from local_staging import LocalStaging

pytestmark = pytest.mark.act

EXAMPLE = REPO / "example-project"
NAME = r"(?:mlops|\*\*\*)"  # how act's log shows "mlops" when a secret equals it
RUN = uuid.uuid4().hex[:8]  # the testbed registry outlives a test run
FILES = [
    "Dockerfile",
    ".dockerignore",
    "requirements.txt",
    "src/train.py",
    "src/serve.py",
    "src/predict.py",
    "data/transactions.csv",
    "data/transactions.schema.yml",
    "data/generate.py",
    ".mlops/gate.yml",
    "infrastructure/fraud-detector-task-def.json",
    "tests/conftest.py",
    "tests/test_data.py",
]


def _workflow(
    registry_host: str, store: str, train_command: str | None = None, **inputs: str
) -> str:
    """The example's own workflow file, with what differs on this machine overridden."""
    doc = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "mlops.yml").read_text())
    doc.pop(True, None)  # `on:` (YAML 1.1 reads it as True): the test picks the event
    doc["on"] = ["push", "pull_request", "repository_dispatch"]
    job = doc["jobs"]["mlops"]
    job["with"].update(
        {
            "registry": registry_host,
            "image": f"{registry_host}/acme/fraud-e2e-{RUN}",
            "build-args": "BASE_IMAGE=local/python:3.11-bookworm",
            "python-versions": '["3.11"]',
            # The pipeline's own default (the test command too): pytest and pytest-cov are
            # added by the pipeline, since requirements.txt leaves them out.
            "install-command": "pip install --quiet -r requirements.txt",
            "eval-command": "python src/train.py --output-path artifacts/model.skops",
            "model-store": store,
            "aws-role-arn": "",  # ambient credentials, as on a self-hosted runner
        }
    )
    if train_command:
        job["with"]["train-command"] = train_command
    job["with"].update({name.replace("_", "-"): value for name, value in inputs.items()})
    job["secrets"] = {
        "registry-username": "${{ secrets.REGISTRY_USERNAME }}",
        "registry-password": "${{ secrets.REGISTRY_PASSWORD }}",
        # As a caller with a team MLflow server passes its login; empty for an S3 store.
        "mlflow-tracking-username": "${{ secrets.MLFLOW_USERNAME }}",
        "mlflow-tracking-password": "${{ secrets.MLFLOW_PASSWORD }}",
    }
    outputs = ["image-ref", "serving-image-ref", "model-version", "model-sha256", "gate-passed",
               "task-definition-arn", "training-skipped", "sagemaker-endpoint-config",
               "stopped-at"]  # fmt: skip
    doc["jobs"]["report"] = {
        "needs": "mlops",
        "if": "always()",
        "runs-on": "ubuntu-latest",
        "steps": [
            {
                "id": "out",
                "env": {
                    o.upper().replace("-", "_"): f"${{{{ needs.mlops.outputs.{o} }}}}"
                    for o in outputs
                },
                "run": "\n".join(
                    f'echo "{o}=${o.upper().replace("-", "_")}" >> "$GITHUB_OUTPUT"'
                    for o in outputs
                ),
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def world(testbed, tmp_path_factory):
    """Registry, moto (S3 + ECS with a service on revision 1), the GitHub stand-in, a consumer."""
    registry = testbed["registry"]
    tmp = tmp_path_factory.mktemp("e2e")
    with moto_server() as endpoint, FakeGitHub() as github, logged_in_docker(registry) as docker:
        reset(endpoint)
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **keys)
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **keys)
        s3.create_bucket(Bucket="models")
        taskdef = json.loads(
            (EXAMPLE / "infrastructure" / "fraud-detector-task-def.json").read_text()
        )
        base = create_cluster_and_service(ecs, taskdef, network(ec2), desired=1)
        staging = LocalStaging(docker_config=docker[2], health_timeout=90).install()
        consumer = init_consumer_repo(
            tmp / "consumer", {f: (EXAMPLE / f).read_bytes() for f in FILES}
        )
        tree = _export(tmp / "tree")
        try:
            yield {
                "registry": registry, "endpoint": endpoint, "s3": s3, "ecs": ecs, "base": base,
                "staging": staging, "consumer": consumer, "tree": tree, "github": github, "tmp": tmp,
                "cache": tmp_path_factory.mktemp("act-cache"), "docker_config": docker[2],
            }  # fmt: skip
        finally:
            staging.down()


def _export(dest: Path) -> Path:
    from support.act_harness import export_tree

    return export_tree(dest)


RUN_NUMBERS = iter(range(1, 1000))


def _run(world, workflow: str, event: str, payload: dict, secrets: dict | None = None) -> object:
    registry = world["registry"]
    number = next(RUN_NUMBERS)
    return run_workflow(
        world["consumer"],
        workflow,
        action_tree=world["tree"],
        cache_dir=world["cache"],
        event=event,
        payload=payload,
        secrets={
            "REGISTRY_USERNAME": registry["username"],
            "REGISTRY_PASSWORD": registry["password"],
            "GITHUB_TOKEN": "test-token",
            **(secrets or {}),
        },
        env={
            **AWS_ENV,
            "AWS_ENDPOINT_URL": world["endpoint"],
            "MLOPS_ACTIONS_TREE": str(world["tree"]),
            "GITHUB_API_URL": world["github"].url,
            "GITHUB_RUN_NUMBER": str(number),
        },
        timeout=1500,
    )


def _commit(consumer: Path, message: str) -> str:
    git = ["git", "-C", str(consumer), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _service_image(world) -> str:
    service = world["ecs"].describe_services(cluster="staging", services=["fraud-detector"])[
        "services"
    ][0]
    definition = world["ecs"].describe_task_definition(taskDefinition=service["taskDefinition"])
    return definition["taskDefinition"]["containerDefinitions"][0]["image"]


def _live_version(world) -> dict:
    """What the running service says it serves (GET /version on the local staging)."""
    url = world["staging"].url("fraud-detector")
    assert url, "the local staging serves nothing"
    with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
        return json.loads(response.read())


def _champion(world, store_prefix: str) -> dict | None:
    keys = [
        o["Key"]
        for o in world["s3"]
        .list_objects_v2(Bucket="models", Prefix=store_prefix)
        .get("Contents", [])
    ]
    pointer = [k for k in keys if k.endswith("/champion.json")]
    if not pointer:
        return None
    return json.loads(world["s3"].get_object(Bucket="models", Key=pointer[0])["Body"].read())


PUSH = {"ref": "refs/heads/main", "repository": {"default_branch": "main"}}


@pytest.fixture(scope="module")
def first_run(world):
    store = f"s3://models/e2e-{RUN}"
    run = _run(world, _workflow(world["registry"]["host"], store), "push", PUSH)
    return run, store


def test_a_push_to_main_ends_with_the_gated_model_serving_and_promoted(world, first_run):
    run, _ = first_run
    assert run.jobs.get("report") == "success", run.log[-6000:]
    out = run.outputs("report", "out")
    assert out["gate-passed"] == "true", run.log[-6000:]
    version, serving = out["model-version"], out["serving-image-ref"]
    registry = world["registry"]
    name = f"acme/fraud-e2e-{RUN}"
    client = Registry(registry["host"], registry["username"], registry["password"])
    tags = client.tags(name)
    assert {"latest", "main", f"model-{version}"} <= set(tags), tags
    assert serving == f"{registry['host']}/{name}@{client.digest(name, f'model-{version}')}"
    assert out["image-ref"].endswith("@" + client.digest(name, "latest"))

    # The model store holds the version and its card; the card names the model the image holds.
    prefix = f"e2e-{RUN}/Fraud-Detector/{version}/"
    keys = {
        o["Key"].removeprefix(prefix)
        for o in world["s3"].list_objects_v2(Bucket="models", Prefix=prefix)["Contents"]
    }
    assert {"model.skops", "model-card.json", "holdout-predictions.csv", "metrics.json"} <= keys
    card = json.loads(
        world["s3"].get_object(Bucket="models", Key=prefix + "model-card.json")["Body"].read()
    )
    assert card["model"]["sha256"] == out["model-sha256"]
    assert card["image"]["digest"] == out["image-ref"].split("@", 1)[1]  # trained in that image

    # The service runs the serving image by digest, and the model in it is the card's, byte for byte.
    assert _service_image(world) == serving
    with logged_in_docker(registry) as docker:
        subprocess.run([*docker, "pull", serving], check=True, capture_output=True)
    inside = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sha256sum", serving,
         "/app/artifacts/model.skops"], capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    assert inside == card["model"]["sha256"]

    # The service really runs it: the live container answers with the card's model.
    assert _live_version(world)["model_sha256"] == card["model"]["sha256"]

    champion = _champion(world, f"e2e-{RUN}/")
    assert champion and champion["version"] == version and champion["serving_image"] == serving
    assert champion["task_definition_arn"] == out["task-definition-arn"]
    assert champion["verdict"]["passed"] is True and champion["sequence"] == 1
    assert "✅ Deployed and promoted version " + version in run.log  # the report job
    assert out["stopped-at"] == ""
    assert "Line coverage: **" in run.log  # the default test command, with pytest-cov added
    assert "baseline checks were skipped" in run.log  # the first run has no champion

    # Same commit: every action ran from the checkout of the workflow's own commit, none via @v1.
    # (act masks the registry user, "mlops", as *** wherever it appears in the log.)
    assert re.search(rf"Main \./\.{NAME}-actions/actions/containerized-train", run.log)
    assert not re.search(rf"org/{NAME}-actions/actions/", run.log)
    assert "checkout shim:" in run.log


def test_a_fork_pull_request_neither_pushes_nor_deploys(world, first_run):
    before_image = _service_image(world)
    registry = world["registry"]
    client = Registry(registry["host"], registry["username"], registry["password"])
    tags_before = client.tags(f"acme/fraud-e2e-{RUN}")
    head = _commit(world["consumer"], "a contribution from a fork")
    payload = {
        "pull_request": {
            "number": 42,
            "head": {"sha": head, "repo": {"full_name": "mallory/Fraud-Detector"}},
        },
        "repository": {"default_branch": "main"},
    }
    run = _run(world, _workflow(registry["host"], first_run[1]), "pull_request", payload)
    assert run.jobs.get("report") == "success", run.log[-6000:]
    assert run.outputs("report", "out")["gate-passed"] == "true", run.log[-6000:]
    assert client.tags(f"acme/fraud-e2e-{RUN}") == tags_before
    assert _service_image(world) == before_image
    assert not re.search(rf"\./\.{NAME}-actions/actions/build-push-ghcr", run.log)


def _jobs(run) -> dict[str, str]:
    return {name.split("/")[-1].strip(): result for name, result in run.jobs.items()}


def test_a_push_whose_tests_fail_deploys_and_promotes_nothing(world, first_run):
    """Good data and a good model, but a failing unit test: build and CT may overlap the tests,
    so the model is trained and gated; deploy and promote wait for the tests, and do not run.
    The service, the champion and the live model stay; the report names the stage."""
    consumer, store = world["consumer"], first_run[1]
    before = (_service_image(world), _champion(world, f"e2e-{RUN}/"), _live_version(world))
    git = ["git", "-C", str(consumer), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    broken = consumer / "tests" / "test_regression.py"
    broken.write_text("def test_a_regression_in_the_features():\n    assert 1 + 1 == 3\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a change that breaks a unit test"], check=True)
    try:
        run = _run(world, _workflow(world["registry"]["host"], store), "push", PUSH)
    finally:
        subprocess.run([*git, "rm", "-q", str(broken)], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "revert the breaking change"], check=True)
    jobs = _jobs(run)
    assert jobs.get("tests (Python 3.11)") == "failure", jobs
    assert jobs.get("train, gate against the champion, package") == "success", run.log[-6000:]
    # The second push's gate: the champion's serving image scored this holdout, and the
    # verdict is paired, each difference with its interval.
    assert "Champion scored on this holdout" in run.log
    assert re.search(
        r"recall [0-9.]+ vs the champion's [0-9.]+ on the same [0-9,]+ rows: "
        r"[-+][0-9.]+ \[[-+][0-9.]+, [-+][0-9.]+\] \(paired",
        run.log,
    ), run.log[-6000:]
    assert not any(name.startswith(("deploy", "promote")) for name in jobs), jobs
    assert jobs.get("report") == "success", jobs  # the pipeline's own report job
    assert "The loop stopped at tests: the tests failed, so nothing was deployed or promoted" in (
        run.log
    )
    # act ends the caller once a called job failed, so the caller's own report job does not run
    # (GitHub runs it): the pipeline's report job says it.
    assert re.search(r"mlops-pipeline/report\s*\]\s+⚙\s+::set-output:: stopped-at=tests", run.log)
    assert (_service_image(world), _champion(world, f"e2e-{RUN}/"), _live_version(world)) == before


def test_inputs_the_later_jobs_need_are_checked_before_anything_is_built(world, first_run):
    """A typo in `deploy` and an empty model-store: named, one line each, before any job
    builds, pushes, trains or registers anything."""
    registry = world["registry"]
    client = Registry(registry["host"], registry["username"], registry["password"])
    tags_before = client.tags(f"acme/fraud-e2e-{RUN}")
    champion_before = _champion(world, f"e2e-{RUN}/")
    event = {"action": "data-changed", "client_payload": {},
             "repository": {"default_branch": "main"}}  # fmt: skip
    workflow = _workflow(registry["host"], "", deploy="sag;maker\n::warning::x")
    run = _run(world, workflow, "repository_dispatch", event)
    assert run.returncode != 0
    errors = re.findall(rf"::error title={NAME}-pipeline::(.*)", run.log)
    assert "deploy: expected ecs, sagemaker or none, got 'sag?maker???warning??x'" in errors
    assert any(e.startswith("model-store: required for training") for e in errors), errors
    assert not re.search(
        rf"\./\.{NAME}-actions/actions/(build-push-ghcr|containerized-train)", run.log
    )
    assert client.tags(f"acme/fraud-e2e-{RUN}") == tags_before
    assert _champion(world, f"e2e-{RUN}/") == champion_before


WORSE = ("python src/train.py --output-path /app/artifacts/model.skops --data /data/transactions.csv "
         "--param C=0.00001")  # fmt: skip


def test_with_mlflow_and_sagemaker_a_model_is_registered_served_and_champion_a_worse_one_not(
    world, first_run, tmp_path
):
    """The other registry and the other target: a team's MLflow tracking server (it asks for a
    login, given as the pipeline's mlflow-tracking-* secrets) as model-store, and
    `deploy: sagemaker` (the emulator's API, the endpoint served by the local SageMaker staging,
    through the private-registry path since the stand-in registry is not ECR).
    1. The version is a registered model version with its lineage tags, the endpoint answers
       /invocations with it, then `champion` names it. The ECS service is left alone.
    2. A much worse model is gated against the version behind `champion` and fails: nothing is
       packaged, the endpoint and both aliases stay as they were."""
    from local_sagemaker import LocalSageMaker

    from support.mlflow_server import mlflow_server

    login = ("admin", "e2e-Mlflow-Pass-1")
    secrets = {"MLFLOW_USERNAME": login[0], "MLFLOW_PASSWORD": login[1]}
    basic = base64.b64encode(":".join(login).encode()).decode()
    ecs_before = _service_image(world)
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    sagemaker = boto3.client("sagemaker", endpoint_url=world["endpoint"], region_name=REGION,
                             **keys)  # fmt: skip
    registry = world["registry"]
    client = Registry(registry["host"], registry["username"], registry["password"])

    def workflow(tracking: str, train_command: str | None = None) -> str:
        return _workflow(
            registry["host"], tracking, train_command, deploy="sagemaker",
            sagemaker_endpoint="fraud-e2e", sagemaker_instance_type="ml.t2.medium",
            sagemaker_execution_role_arn="arn:aws:iam::123456789012:role/sagemaker-execution",
            sagemaker_image_repository_access="vpc", sagemaker_vpc_subnets="subnet-0e2e",
            sagemaker_vpc_security_groups="sg-0e2e",
        )  # fmt: skip

    def alias(tracking: str, name: str) -> dict | None:
        request = urllib.request.Request(
            f"{tracking}/api/2.0/mlflow/registered-models/alias?name=Fraud-Detector&alias={name}",
            headers={"Authorization": f"Basic {basic}"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read())["model_version"]
        except urllib.error.HTTPError:
            return None

    local = LocalSageMaker(docker_config=world["docker_config"], health_timeout=90).install()
    try:
        with mlflow_server(tmp_path, login) as tracking:
            _commit(world["consumer"], "the model registry moves to MLflow, serving to SageMaker")
            run = _run(world, workflow(tracking), "push", PUSH, secrets)
            assert run.jobs.get("report") == "success", run.log[-6000:]
            out = run.outputs("report", "out")
            assert out["gate-passed"] == "true", run.log[-6000:]
            assert out["training-skipped"] == "false" and out["task-definition-arn"] == ""
            champion = alias(tracking, "champion")
            assert "no champion yet in models:/Fraud-Detector@champion" in run.log

            endpoint = sagemaker.describe_endpoint(EndpointName="fraud-e2e")
            assert endpoint["EndpointStatus"] == "InService"
            assert endpoint["EndpointConfigName"] == out["sagemaker-endpoint-config"]
            config = sagemaker.describe_endpoint_config(
                EndpointConfigName=out["sagemaker-endpoint-config"]
            )
            variant = config["ProductionVariants"][0]
            assert variant["InstanceType"] == "ml.t2.medium"
            model = sagemaker.describe_model(ModelName=variant["ModelName"])
            assert model["PrimaryContainer"]["Image"] == out["serving-image-ref"]
            assert model["VpcConfig"]["Subnets"] == ["subnet-0e2e"]
            assert _invoke(local)["model_sha256"] == out["model-sha256"]

            # 2. A much worse model, gated against the version behind `champion`.
            packaged = [t for t in client.tags(f"acme/fraud-e2e-{RUN}") if t.startswith("model-")]
            _commit(world["consumer"], "a worse model")
            worse = _run(world, workflow(tracking, WORSE), "push", PUSH, secrets)
            jobs = {name.split("/")[-1].strip(): result for name, result in worse.jobs.items()}
            assert jobs.get("train, gate against the champion, package") == "failure", worse.log[
                -6000:
            ]
            # act stops a run at the first failed job; on GitHub the later jobs show as skipped.
            assert not any(name.startswith(("deploy", "promote")) for name in jobs), jobs
            # The baseline is the version behind `champion`, and the worse model falls short of it.
            champion_line = (
                f"champion: version {out['model-version']} (models:/Fraud-Detector@champion)"
            )
            assert champion_line in worse.log, worse.log[-6000:]
            # Paired: the champion's own serving image scored this run's holdout rows.
            assert "Champion scored on this holdout" in worse.log, worse.log[-6000:]
            assert re.search(
                r"recall [0-9.]+ vs the champion's [0-9.]+ on the same [0-9,]+ rows: "
                r"-[0-9.]+ \[-[0-9.]+, [-+][0-9.]+\] \(paired",
                worse.log,
            ), worse.log[-6000:]
            assert "Package the gated model" not in worse.log
            assert alias(tracking, "champion") == champion and alias(tracking, "previous") is None
            assert (
                sagemaker.describe_endpoint(EndpointName="fraud-e2e")["EndpointConfigName"]
                == (out["sagemaker-endpoint-config"])
            )
            assert _invoke(local)["model_sha256"] == out["model-sha256"]
    finally:
        local.down()
    tags = {t["key"]: t["value"] for t in champion["tags"]}
    assert (
        tags["mlops.version"] == out["model-version"]
        and tags["model_sha256"] == out["model-sha256"]
    )
    assert tags["image_digest"] == out["image-ref"].split("@", 1)[1]
    assert tags["serving_image"] == out["serving-image-ref"] and tags["verdict_passed"] == "true"
    models = [t for t in client.tags(f"acme/fraud-e2e-{RUN}") if t.startswith("model-")]
    assert models == packaged  # the worse model was not packaged
    assert _service_image(world) == ecs_before


def _invoke(local) -> dict:
    """POST /invocations on the local endpoint: what the model behind it answers."""
    url = local.url("fraud-e2e")
    assert url, "the endpoint serves nothing"
    row = {"amount": 950.0, "hour": 2, "merchant_category": "electronics", "is_international": 1,
           "account_age_days": 12, "distance_from_home_km": 70.0, "region": "north"}  # fmt: skip
    request = urllib.request.Request(f"{url}/invocations", data=json.dumps([row]).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _dvc(python: str, cwd: Path, *args: str) -> None:
    proc = subprocess.run([python, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **AWS_ENV}, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_new_data_through_dvc_and_a_degraded_model_retrain_then_an_unchanged_one_skips(
    world, first_run, tmp_path
):

    from conftest import helper_env, run_cli

    _, store = first_run
    consumer, endpoint, github = world["consumer"], world["endpoint"], world["github"]
    before = _champion(world, f"e2e-{RUN}/")
    assert before is not None
    # The data team's side: DVC tracks the data, a new batch lands and is pushed to the remote.
    dvc_python = helper_env("dvc")
    world["s3"].create_bucket(Bucket="dvc-store")
    git = ["git", "-C", str(consumer), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    _dvc(dvc_python, consumer, "init", "-q")
    _dvc(dvc_python, consumer, "remote", "add", "-d", "store", f"s3://dvc-store/e2e-{RUN}")
    _dvc(dvc_python, consumer, "remote", "modify", "store", "endpointurl", endpoint)
    subprocess.run([*git, "rm", "-q", "--cached", "data/transactions.csv"], check=True)
    batch = tmp_path / "batch.csv"
    subprocess.run([sys.executable, str(EXAMPLE / "data" / "generate.py"), "--rows", "4000",
                    "--seed", "77", "--first-id", "40000", "--output", str(batch)], check=True)  # fmt: skip
    with open(consumer / "data" / "transactions.csv", "a") as data:
        data.write("".join(batch.read_text().splitlines(keepends=True)[1:]))
    _dvc(dvc_python, consumer, "add", "-q", "data/transactions.csv")
    _dvc(dvc_python, consumer, "push", "-q")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "data v2, tracked by DVC"], check=True)
    recorded = yaml.safe_load((consumer / "data" / "transactions.csv.dvc").read_text())["outs"][0]

    # The monitor's side: a drifted feed, a model-degraded dispatch to the GitHub stand-in.
    feed = tmp_path / "feed.csv"
    subprocess.run([sys.executable, str(EXAMPLE / "data" / "generate.py"), "--feed", "drifted",
                    "--rows", "3000", "--seed", "21", "--output", str(feed)], check=True)  # fmt: skip
    monitored = run_cli(
        "monitor", "--reference", str(EXAMPLE / "data" / "transactions.csv"), "--current",
        str(feed), "--config", str(EXAMPLE / ".mlops" / "monitor.yml"), "--output-dir",
        str(tmp_path / "monitor"), "--dispatch", "true", "--data-uri", "s3://feeds/today.csv",
        env={"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
             "GITHUB_TOKEN": github.state.token},
    )  # fmt: skip
    assert monitored.returncode == 0, monitored.stderr
    dispatch = github.state.dispatches[-1]
    assert dispatch["event_type"] == "model-degraded"
    event = {"action": "model-degraded", "client_payload": dispatch["client_payload"],
             "repository": {"default_branch": "main"}}  # fmt: skip

    run = _run(world, _workflow(world["registry"]["host"], store), "repository_dispatch", event)
    assert run.jobs.get("report") == "success", run.log[-6000:]
    out = run.outputs("report", "out")
    assert out["gate-passed"] == "true" and out["training-skipped"] == "false", run.log[-6000:]
    assert "Data pulled with DVC" in run.log and recorded["md5"] in run.log
    version = out["model-version"]
    card = json.loads(world["s3"].get_object(
        Bucket="models", Key=f"e2e-{RUN}/Fraud-Detector/{version}/model-card.json")["Body"].read())  # fmt: skip
    assert card["data"][0]["dvc"]["md5"] == recorded["md5"]  # the model names its data version
    assert card["trigger"]["event_name"] == "repository_dispatch"
    assert card["trigger"]["client_payload"]["current_data"] == "s3://feeds/today.csv"
    after = _champion(world, f"e2e-{RUN}/")
    assert after["version"] == version != before["version"]
    assert _live_version(world)["model_sha256"] == card["model"]["sha256"] == after["model_sha256"]

    # The same dispatch again: same image, same data, same command as the champion. Skipped.
    again = _run(world, _workflow(world["registry"]["host"], store), "repository_dispatch", event)
    assert again.jobs.get("report") == "success", again.log[-6000:]
    assert again.outputs("report", "out")["training-skipped"] == "true", again.log[-6000:]
    assert "Training skipped" in again.log and "retraining would repeat its run" in again.log
    assert _champion(world, f"e2e-{RUN}/") == after
    assert _live_version(world)["model_sha256"] == after["model_sha256"]
