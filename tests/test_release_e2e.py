"""CD by release, consumer-style: a caller's workflow calls
`org/mlops-actions/.github/workflows/mlops-release.yml@v1` (on a `release` event) and
`mlops-rollback.yml@v1` (on `workflow_dispatch`) through nektos/act, against moto in server mode
(S3 and ECS) with the local staging running the production service's containers on Docker, and
the authenticated testbed registry.

The staging champions are seeded, not trained: two serving images are built and pushed to the
registry for real (pulled by digest and run by the local staging), and each is made the staging
champion by the real `mlops-actions promote` command against moto, as the pipeline's promote job
does. Two full pipeline pushes would add minutes of tests, builds and training that
test_pipeline_e2e.py already covers; the release path reads only the staging record, and the
record here is written by the same code.

One production service lives through the runs, in order:
1. a release with no staging champion: refused in one line, nothing deployed;
2. a release whose staging champion's verdict did not pass: refused in one line, nothing deployed;
3. a release of the first staging champion: production runs its serving image, by the same
   digest, with no build or train job; the production record names the tag and the staging
   record; the live container answers with that image's model;
4. a release of the second: production moves to it;
5. a rollback: production is back on the first, on the task definition revision that served it,
   read back from ECS, and the production record moved back (forced);
6. the second released again, then once more ("production already runs it");
7. a release whose promotion is refused after a good rollout (another release promoted a newer
   version meanwhile): production is put back on what it ran before, and the summary says so;
8. a release whose image cannot start: the rollout fails and rolls back, nothing is promoted,
   and the summary says what production runs, read back;
and, at any point, a release whose tag is on a branch other than the default one is refused in
one line before the plan reads the store.

The consumer repository is as actions/checkout with fetch-depth 0 leaves it (act copies it into
the workspace): each release's tag exists, and refs/remotes/origin/main is its main. moto keeps no
task of a service; the local staging's completed rollouts record the RUNNING tasks ECS would
(local_staging.running_tasks), which the read-back reads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
import yaml

from conftest import run_cli
from support.act_harness import REPO, export_tree, init_consumer_repo, run_workflow
from support.ecs_sim import AWS_ENV, REGION, moto_server, network, reset
from support.registry_client import Registry, logged_in_docker

sys.path.insert(0, str(REPO / "scripts" / "dev"))
from local_staging import LocalStaging

pytestmark = pytest.mark.act

EXAMPLE = REPO / "example-project"
RUN = uuid.uuid4().hex[:8]  # the testbed registry outlives a test run
STORE = f"s3://models/release-{RUN}"
MODEL = "fraud"
CLUSTER, SERVICE, CONTAINER = "production", "fraud-detector-prod", "fraud-detector"
TASKDEF_FILE = "infrastructure/fraud-detector-task-def.json"
VERSIONS = ("1.1-aaaaaaa", "2.1-bbbbbbb")
VERDICT = {"passed": True, "metrics": {"recall": {"value": 0.9}}, "checks": [{"status": "pass"}]}

# A serving image in miniature: it answers the task definition's health check and says which
# model it holds, so a read of /version tells the two releases apart.
SERVE = """\
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"model": os.environ["MODEL_LABEL"]}).encode()
        self.send_response(200 if self.path in ("/health", "/version") else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
"""
DOCKERFILE = """\
ARG BASE_IMAGE=local/python:3.11-bookworm
FROM ${BASE_IMAGE}
RUN python3 -m venv --without-pip /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
ARG MODEL_LABEL
ENV MODEL_LABEL=${MODEL_LABEL}
COPY serve.py /app/serve.py
CMD ["python", "/app/serve.py"]
"""


# An image that cannot start: its container exits at once, as a broken model server would.
BROKEN_DOCKERFILE = DOCKERFILE.replace(
    'CMD ["python", "/app/serve.py"]', 'CMD ["python", "-c", "raise SystemExit(3)"]'
)


def _build_and_push(
    docker: list[str], registry: dict, tmp: Path, label: str, dockerfile: str = DOCKERFILE
) -> str:
    """The image `label`, pushed; its reference by digest."""
    context = tmp / f"image-{label}"
    context.mkdir()
    (context / "serve.py").write_text(SERVE)
    (context / "Dockerfile").write_text(dockerfile)
    name, tag = f"acme/fraud-release-{RUN}", label
    ref = f"{registry['host']}/{name}:{tag}"
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # the classic builder: no frontend to fetch
    subprocess.run([*docker, "build", "-q", "--build-arg", f"MODEL_LABEL={label}", "-t", ref,
                    str(context)], check=True, capture_output=True, env=env)  # fmt: skip
    subprocess.run([*docker, "push", ref], check=True, capture_output=True)
    client = Registry(registry["host"], registry["username"], registry["password"])
    return f"{registry['host']}/{name}@{client.digest(name, tag)}"


@pytest.fixture(scope="module")
def world(testbed, tmp_path_factory):
    """Registry with two serving images, moto (S3 + a production ECS service), the local
    staging serving it, and a consumer repository with the production task definition."""
    registry = testbed["registry"]
    tmp = tmp_path_factory.mktemp("release")
    with moto_server() as endpoint, logged_in_docker(registry) as docker:
        reset(endpoint)
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **keys)
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, **keys)
        s3.create_bucket(Bucket="models")
        for version in VERSIONS:
            _card(s3, version)
        images = {v: _build_and_push(docker, registry, tmp, v.split("-")[0].replace(".", "-"))
                  for v in VERSIONS}  # fmt: skip
        taskdef = json.loads((EXAMPLE / TASKDEF_FILE).read_text())
        ecs.create_cluster(clusterName=CLUSTER)
        initial = ecs.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=initial,
                           desiredCount=1, launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": network(ec2)})  # fmt: skip
        staging = LocalStaging(docker_config=docker[2], health_timeout=90).install()
        consumer = init_consumer_repo(
            tmp / "consumer", {TASKDEF_FILE: (EXAMPLE / TASKDEF_FILE).read_text()}
        )
        _git(consumer, "update-ref", "refs/remotes/origin/main", "HEAD")
        try:
            yield {
                "endpoint": endpoint, "s3": s3, "ecs": ecs, "images": images, "initial": initial,
                "staging": staging, "consumer": consumer, "tree": export_tree(tmp / "tree"),
                "cache": tmp_path_factory.mktemp("act-cache"), "tmp": tmp, "docker": docker,
                "registry": registry,
            }  # fmt: skip
        finally:
            staging.down()


def _card(s3, version: str) -> None:
    """The model card of `version` (<run number>.<attempt>-<sha7>), as training writes it."""
    number = version.split(".")[0]
    card = {"model": {"sha256": version[0] * 64, "path": "model.skops"},
            "source": {"repository": "Acme/Fraud-Detector", "run_number": number,
                       "run_attempt": "1"},
            "run": {"started_at": f"2026-11-01T1{number}:00:00+00:00"}}  # fmt: skip
    s3.put_object(Bucket="models", Key=f"release-{RUN}/{MODEL}/{version}/model-card.json",
                  Body=json.dumps(card))  # fmt: skip


def _caller(workflow: str, event: str, outputs: list[str], **inputs: str) -> str:
    """A caller's workflow: one job calling ours, and a report job that keeps its outputs."""
    common = {"model-store": STORE, "model-name": MODEL, "cluster": CLUSTER, "service": SERVICE,
              "aws-region": REGION, "environment": "production"}  # fmt: skip
    doc = {
        "name": "release",
        "on": [event],
        "permissions": {},
        "jobs": {
            "call": {
                "uses": f"org/mlops-actions/.github/workflows/{workflow}@v1",
                "permissions": {"contents": "read", "id-token": "write"},
                "with": {**common, **inputs},
            },
            "report": {
                "needs": "call",
                "if": "always()",
                "runs-on": "ubuntu-latest",
                "steps": [
                    {
                        "id": "out",
                        "env": {
                            o.upper().replace("-", "_"): f"${{{{ needs.call.outputs.{o} }}}}"
                            for o in outputs
                        },
                        "run": "\n".join(
                            f'echo "{o}=${o.upper().replace("-", "_")}" >> "$GITHUB_OUTPUT"'
                            for o in outputs
                        ),
                    }
                ],
            },
        },
    }
    return yaml.safe_dump(doc, sort_keys=False)


RELEASE_OUTPUTS = ["model-version", "serving-image-ref", "release-tag", "production-served-by"]


def _run(world, workflow: str, event: str, payload: dict):
    return run_workflow(
        world["consumer"], workflow, action_tree=world["tree"], cache_dir=world["cache"],
        event=event, payload=payload,
        env={**AWS_ENV, "AWS_ENDPOINT_URL": world["endpoint"],
             "MLOPS_ACTIONS_TREE": str(world["tree"])},
        timeout=600,
    )  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _release(world, tag: str, commit: str = "refs/remotes/origin/main"):
    """A published release of `tag`, made on `commit` (the default branch's head)."""
    _git(world["consumer"], "tag", "-f", tag, commit)
    workflow = _caller(
        "mlops-release.yml", "release", RELEASE_OUTPUTS, **{
            "task-definition": TASKDEF_FILE, "container-name": CONTAINER,
            "wait-timeout-seconds": "180"},
    )  # fmt: skip
    payload = {"action": "published", "ref": f"refs/tags/{tag}",
               "repository": {"default_branch": "main", "full_name": "Acme/Fraud-Detector"},
               "release": {"tag_name": tag, "draft": False, "prerelease": False}}  # fmt: skip
    return _run(world, workflow, "release", payload)


def _rollback(world):
    workflow = _caller("mlops-rollback.yml", "workflow_dispatch",
                       ["model-version", "serving-image-ref", "production-served-by"],
                       **{"wait-timeout-seconds": "180"})  # fmt: skip
    return _run(world, workflow, "workflow_dispatch", {"ref": "refs/heads/main", "inputs": {}})


def _stage(world, version: str) -> None:
    """The staging champion, as the pipeline's promote job makes it (the real command)."""
    proc = run_cli(
        "promote", "--model-store", STORE, "--model-name", MODEL, "--version", version,
        "--verdict", json.dumps(VERDICT), "--serving-image-ref", world["images"][version],
        "--task-definition-arn",
        f"arn:aws:ecs:{REGION}:123456789012:task-definition/fraud-staging:{version[0]}",
        env={**AWS_ENV, "AWS_ENDPOINT_URL": world["endpoint"]},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _get(world, key: str) -> dict | None:
    try:
        body = world["s3"].get_object(Bucket="models", Key=f"release-{RUN}/{MODEL}/{key}")["Body"]
    except world["s3"].exceptions.NoSuchKey:
        return None
    return json.loads(body.read())


def _production(world) -> tuple[str, str]:
    """(task definition, image) the production service is on, read from ECS."""
    service = world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    arn = service["taskDefinition"]
    definition = world["ecs"].describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return arn, definition["containerDefinitions"][0]["image"]


def _live(world) -> dict:
    url = world["staging"].url(SERVICE)
    assert url, "the local staging serves no production deployment"
    with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
        return json.loads(response.read())


def _job(run, name: str) -> str | None:
    """The result of the called workflow's job shown as `name` (act prints display names)."""
    return {job.split("/")[-1].strip(): result for job, result in run.jobs.items()}.get(name)


def _one_line(run, text: str) -> str:
    lines = [line for line in run.log.splitlines() if text in line]
    assert lines, run.log[-6000:]
    return lines[0]


def _nothing_built_or_trained(run) -> None:
    assert not re.search(r"build-push-ghcr|containerized-train|package-model", run.log)
    assert not [job for job in run.jobs if re.search(r"build|train", job)], run.jobs


def test_a_tag_off_the_default_branch_releases_nothing(world):
    consumer = world["consumer"]
    side = _git(consumer, "commit-tree", "-p", "HEAD", "-m", "side", "HEAD^{tree}")
    run = _release(world, "v0.0.1-side", side)
    _one_line(run, "release tag v0.0.1-side (commit ")
    assert "is not on the default branch main; nothing is released" in run.log
    assert _job(run, "plan the release (staging champion)") == "failure", run.log[-6000:]
    assert _job(run, "release to production") is None  # never started
    assert "/release to production" not in run.log
    assert _production(world)[0] == world["initial"]
    assert _get(world, "production.json") is None


def test_a_release_with_no_staging_champion_deploys_nothing(world):
    run = _release(world, "v0.9.0")
    _one_line(run, f"no staging champion in {STORE}/{MODEL}/champion.json")
    assert _production(world)[0] == world["initial"]
    assert _get(world, "production.json") is None
    _nothing_built_or_trained(run)


def test_a_release_of_a_failed_verdict_deploys_nothing(world):
    pointer = {"version": VERSIONS[0], "serving_image": world["images"][VERSIONS[0]],
               "model_sha256": "1" * 64, "verdict": {"passed": False}, "sequence": 1}  # fmt: skip
    key = f"release-{RUN}/{MODEL}/champion.json"
    world["s3"].put_object(Bucket="models", Key=key, Body=json.dumps(pointer))
    try:
        run = _release(world, "v0.9.1")
    finally:
        world["s3"].delete_object(Bucket="models", Key=key)
    _one_line(run, f"staging champion {VERSIONS[0]}: its gate verdict did not pass")
    assert _production(world)[0] == world["initial"]
    assert _get(world, "production.json") is None


@pytest.fixture(scope="module")
def first_release(world):
    _stage(world, VERSIONS[0])
    return _release(world, "v1.0.0")


def test_a_release_deploys_the_staging_champions_image_by_digest(world, first_release):
    run, image = first_release, world["images"][VERSIONS[0]]
    assert run.jobs.get("report") == "success", run.log[-6000:]
    out = run.outputs("report", "out")
    assert (out["model-version"], out["serving-image-ref"]) == (VERSIONS[0], image), run.log[-6000:]
    arn, running = _production(world)
    assert running == image and arn != world["initial"]  # rendered from the production inputs
    assert out["production-served-by"] == arn
    assert _live(world)["model"] == "1-1"  # the container really runs that image
    record = _get(world, "production.json")
    staging = _get(world, "champion.json")
    assert record["version"] == VERSIONS[0] and record["serving_image"] == image
    assert record["task_definition_arn"] == arn
    assert record["release"] == {"tag": "v1.0.0", "staging": {
        "version": VERSIONS[0], "sequence": staging["sequence"],
        "where": f"{STORE}/{MODEL}/champion.json", "promoted_at": staging["promoted_at"]}}  # fmt: skip
    _nothing_built_or_trained(run)
    assert f"production runs {image}" in run.log  # the read-back, in the summary


@pytest.fixture(scope="module")
def second_release(world, first_release):
    _stage(world, VERSIONS[1])
    return _release(world, "v1.1.0")


def test_a_second_release_moves_production_forward(world, second_release):
    run, image = second_release, world["images"][VERSIONS[1]]
    assert run.outputs("report", "out")["model-version"] == VERSIONS[1], run.log[-6000:]
    assert _production(world)[1] == image
    assert _live(world)["model"] == "2-1"
    record = _get(world, "production.json")
    assert (record["version"], record["previous_version"]) == (VERSIONS[1], VERSIONS[0])
    assert record["release"]["tag"] == "v1.1.0" and not record["forced"]


def test_a_rollback_returns_production_to_the_previous_champion_read_back(
    world, first_release, second_release
):
    first_arn = _get(world, f"production/{VERSIONS[0]}.json")["task_definition_arn"]
    run = _rollback(world)
    assert run.jobs.get("report") == "success", run.log[-6000:]
    out = run.outputs("report", "out")
    image = world["images"][VERSIONS[0]]
    assert (out["model-version"], out["serving-image-ref"]) == (VERSIONS[0], image), run.log[-6000:]
    arn, running = _production(world)
    assert (arn, running) == (first_arn, image)  # the revision that served it, as it was
    assert out["production-served-by"] == arn
    assert _live(world)["model"] == "1-1"
    record = _get(world, "production.json")
    assert (record["version"], record["previous_version"]) == (VERSIONS[0], VERSIONS[1])
    assert (
        record["forced"] and record["release"]["rollback"] and record["release"]["tag"] == "v1.0.0"
    )
    assert _get(world, "champion.json")["version"] == VERSIONS[1]  # staging did not move
    assert f"production runs {image}" in run.log


def test_releasing_the_second_again_after_the_rollback_is_a_forward_move(
    world, first_release, second_release
):
    """A new task definition revision on each deploy is no conflict with the version's record;
    releasing it once more is 'production already runs it', nothing deployed."""
    if _get(world, "production.json")["version"] != VERSIONS[0]:
        pytest.skip("needs the rollback before it")
    run = _release(world, "v1.1.1")
    assert run.jobs.get("report") == "success", run.log[-6000:]
    arn, running = _production(world)
    assert running == world["images"][VERSIONS[1]]
    record = _get(world, "production.json")
    assert (record["version"], record["task_definition_arn"]) == (VERSIONS[1], arn)
    assert record["release"]["tag"] == "v1.1.1"
    again = _release(world, "v1.1.2")
    assert "production already runs " + VERSIONS[1] in again.log, again.log[-6000:]
    assert (
        _production(world)[0] == arn
        and _get(world, "production.json")["sequence"] == (record["sequence"])
    )


def test_a_promotion_refused_after_the_rollout_puts_production_back(
    world, first_release, second_release
):
    """Another release promotes a newer version while this one rolls out: the promotion is
    refused (production only moves forward), so production goes back to what it ran."""
    before_arn, before_image = _production(world)
    live = _live(world)
    version, newer = "3.1-ccccccc", "9.1-zzzzzzz"
    for v in (version, newer):
        _card(world["s3"], v)
    world["images"][version] = world["images"][VERSIONS[0]]  # a good image, deployed anew
    _stage(world, version)
    staging, complete = world["staging"], world["staging"]._complete

    def _complete(service, deployment):  # the other release's promotion lands meanwhile
        complete(service, deployment)
        current = _get(world, "production.json")
        if service.name == SERVICE and current["version"] != newer:
            key = f"release-{RUN}/{MODEL}/production.json"
            world["s3"].put_object(Bucket="models", Key=key, Body=json.dumps(
                {**current, "version": newer, "sequence": current["sequence"] + 1}))  # fmt: skip

    key, record = f"release-{RUN}/{MODEL}/production.json", _get(world, "production.json")
    staging._complete = _complete
    try:
        run = _release(world, "v1.3.0")
        theirs = _get(world, "production.json")["version"]
    finally:  # the other release was make-believe: production's record as it was
        staging._complete = complete
        world["s3"].put_object(Bucket="models", Key=key, Body=json.dumps(record))
    assert _job(run, "release to production") == "failure", run.log[-6000:]
    _one_line(run, f"version: {version} (")
    assert f"is older than the production {newer}" in run.log
    assert _production(world) == (before_arn, before_image)  # put back
    assert _live(world) == live
    assert theirs == newer  # not ours
    assert f"nothing was promoted; production runs {before_image}" in run.log


def test_a_release_whose_image_cannot_start_rolls_back_and_promotes_nothing(
    world, first_release, second_release
):
    before_arn, before_image = _production(world)
    before, live = _get(world, "production.json"), _live(world)
    version = "4.1-ddddddd"
    _card(world["s3"], version)
    world["images"][version] = _build_and_push(
        world["docker"], world["registry"], world["tmp"], "4-1-broken", BROKEN_DOCKERFILE
    )
    _stage(world, version)
    run = _release(world, "v1.4.0")
    assert _job(run, "release to production") == "failure", run.log[-6000:]
    assert "Essential container in task exited" in run.log  # the stopped task's reason
    assert _production(world) == (before_arn, before_image)  # rolled back automatically
    assert _live(world) == live  # the old deployment's containers kept serving
    assert _get(world, "production.json") == before  # nothing promoted
    assert f"nothing was promoted; production runs {before_image}" in run.log
