"""The whole loop on this machine: the example consumer's own workflow, which calls
mlops-pipeline.yml, run through nektos/act against a local stack (Docker engine, authenticated
registry, moto for S3 and ECS, and the local staging, where the service really runs).

    python scripts/dev/demo.py [--worse-model | --data-changed | --broken-image]  # via demo.sh
    python scripts/dev/demo.py --release | --rollback   # the consumer's release.yml, production
    python scripts/dev/demo.py down

Everything it keeps lives under ~/.cache/mlops-actions/demo: the consumer repository (a copy
of example-project with its git history, so a second run meets the first run's champion), the
act cache, logs and the local stack's state.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example-project"
HOME = Path(os.environ.get("MLOPS_DEMO_DIR", Path.home() / ".cache" / "mlops-actions" / "demo"))
STATE = HOME / "stack.json"
SHIMS = REPO / "scripts" / "dev" / "act-shims"
# Each pinned remote action the workflows use -> its act shim folder (act cannot fetch them).
PINNED: dict[str, str] = json.loads((REPO / "scripts" / "dev" / "act_pins.json").read_text())
AWS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}
STORE = "s3://models/fraud-detector"
RECORDS = "fraud-detector/Fraud-Detector"  # the store's prefix for the consumer's model
SERVICE = "fraud-detector"
CLUSTERS = ("staging", "production")
STACK_SCHEMA = 2  # local_stack.py's state: services by cluster/service, a production cluster
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def testbed(*args: str) -> dict[str, Any]:
    script = REPO / "scripts" / "dev" / "testbed.py"
    subprocess.run([sys.executable, str(script), *args], check=True)
    status = subprocess.run(
        [sys.executable, str(script), "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(status.stdout))


def docker_config(registry: dict[str, Any]) -> str:
    config = HOME / "docker-config"
    config.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "docker",
            "--config",
            str(config),
            "login",
            registry["host"],
            "--username",
            registry["username"],
            "--password-stdin",
        ],
        input=registry["password"],
        capture_output=True,
        text=True,
        check=True,
    )
    return str(config)


def stack(registry: dict[str, Any]) -> dict[str, Any]:
    """The local AWS + staging process, started once and reused by later runs."""
    if STATE.exists():
        state = json.loads(STATE.read_text())
        try:
            os.kill(int(state["pid"]), 0)
            return dict(state)
        except OSError:
            STATE.unlink()
    log = open(HOME / "stack.log", "a")  # noqa: SIM115  (the child keeps writing to it)
    subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "dev" / "local_stack.py"),
            "--state",
            str(STATE),
            "--docker-config",
            docker_config(registry),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(100):
        if STATE.exists():
            return dict(json.loads(STATE.read_text()))
        time.sleep(0.2)
    raise SystemExit(f"the local stack did not start; see {HOME / 'stack.log'}")


def aws_client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
    )


def seed_aws(endpoint: str) -> None:
    """A bucket for the model store, and two ECS clusters, staging and production, each with the
    service `fraud-detector` on the example task definition's first revision."""
    s3, ecs, ec2 = (aws_client(s, endpoint) for s in ("s3", "ecs", "ec2"))
    if ecs.describe_clusters(clusters=list(CLUSTERS)).get("clusters"):
        return  # seeded by an earlier run of this stack (an older stack is refused before)
    s3.create_bucket(Bucket="models")
    taskdef = json.loads((EXAMPLE / "infrastructure" / "fraud-detector-task-def.json").read_text())
    arn = ecs.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    for cluster in CLUSTERS:
        ecs.create_cluster(clusterName=cluster)
        ecs.create_service(
            cluster=cluster,
            serviceName=SERVICE,
            taskDefinition=arn,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
            },
        )


def git(consumer: Path, *args: str) -> str:
    base = ["git", "-C", str(consumer), "-c", "user.email=demo@example.com", "-c", "user.name=demo"]
    return subprocess.run([*base, *args], capture_output=True, text=True, check=True).stdout.strip()


CONSUMER = HOME / "Fraud-Detector"
RUN_NUMBER = HOME / "run-number"


def consumer_repo(fresh: bool) -> Path:
    """The consumer repository. `fresh` (the main command) puts its files back to the example's
    own, as one commit on top of its history: data batches that --data-changed appended, and any
    earlier edits, are gone, so the example's tests run on the data they were written for. The
    history stays, so the run still meets the champion of the earlier runs."""
    ignore = shutil.ignore_patterns("artifacts", "__pycache__", ".pytest_cache", ".coverage*")
    if not (CONSUMER / ".git").exists():
        shutil.copytree(EXAMPLE, CONSUMER, ignore=ignore)
        git(CONSUMER, "init", "-q", "-b", "main")
        git(CONSUMER, "remote", "add", "origin", "https://github.com/Acme/Fraud-Detector.git")
        git(CONSUMER, "add", "-A")
        git(CONSUMER, "commit", "-q", "-m", "the fraud detector")
    elif fresh:
        for entry in CONSUMER.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.copytree(EXAMPLE, CONSUMER, ignore=ignore, dirs_exist_ok=True)
        git(CONSUMER, "add", "-A")
        git(
            CONSUMER,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "the fraud detector, as the example has it",
        )
    return CONSUMER


def next_run_number() -> str:
    """GitHub numbers a workflow's runs 1, 2, 3...; versions are named, and ordered, by it."""
    number = int(RUN_NUMBER.read_text()) + 1 if RUN_NUMBER.exists() else 1
    RUN_NUMBER.write_text(str(number))
    return str(number)


def workflow(registry_host: str, train_command: str | None) -> str:
    doc = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "mlops.yml").read_text())
    doc.pop(True, None)
    doc["on"] = ["push", "repository_dispatch"]
    job = doc["jobs"]["mlops"]
    job["with"].update(
        {
            "registry": registry_host,
            "image": f"{registry_host}/acme/fraud-detector",
            "build-args": "BASE_IMAGE=local/python:3.11-bookworm",
            "python-versions": '["3.11"]',
            "install-command": "pip install --quiet -r requirements.txt pytest",
            "test-command": "python -m pytest -q tests/test_data.py",
            "model-store": STORE,
            "aws-role-arn": "",
        }
    )
    if train_command:
        job["with"]["train-command"] = train_command
    job["secrets"] = {
        "registry-username": "${{ secrets.REGISTRY_USERNAME }}",
        "registry-password": "${{ secrets.REGISTRY_PASSWORD }}",
    }
    doc["jobs"]["report"] = report_job(["mlops"])
    return yaml.safe_dump(doc, sort_keys=False)


REPOSITORY = {"default_branch": "main", "full_name": "Acme/Fraud-Detector"}


def release_workflow() -> str:
    """The example's release.yml (release and rollback), pointed at the local stack. The example
    asks for 60 minutes in staging before a release; the demo releases at once."""
    doc = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "release.yml").read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as true
    for job in ("release", "rollback"):
        doc["jobs"][job]["with"].update(
            {
                "model-store": STORE,
                "aws-plan-role-arn": "",
                "aws-deploy-role-arn": "",
                "aws-store-role-arn": "",
                "wait-timeout-seconds": "240",
            }
        )
    doc["jobs"]["release"]["with"]["min-staging-minutes"] = "0"
    doc["jobs"]["report"] = report_job(["release", "rollback"])
    return yaml.safe_dump(doc, sort_keys=False)


def report_job(needs: list[str]) -> dict[str, Any]:
    """A last job that keeps the called jobs' outputs for the demo to print (act has no
    run page to show them on)."""
    return {
        "needs": needs,
        "if": "always()",
        "runs-on": "ubuntu-latest",
        "steps": [
            {
                "env": {"NEEDS": "${{ toJSON(needs) }}"},
                "run": 'printf "%s" "$NEEDS" > "$DEMO_OUTPUTS"',
            }
        ],
    }


def export_tree(dest: Path) -> Path:
    names = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    shutil.rmtree(dest, ignore_errors=True)
    for name in filter(None, names):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def run_act(
    consumer: Path,
    event: str,
    payload: dict[str, Any],
    text: str,
    env: dict[str, str],
    secrets: dict[str, str],
    file: str = "mlops.yml",
) -> tuple[int, dict[str, str]]:
    """Run the consumer's workflow `file` (written from `text`) through act; its exit code and
    the outputs of the jobs the report job needs."""
    act = shutil.which("act") or str(Path(sys.executable).parent / "act")
    path = consumer / ".github" / "workflows" / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    event_file = HOME / "event.json"
    event_file.write_text(json.dumps(payload))
    outputs = HOME / "outputs.json"
    outputs.unlink(missing_ok=True)
    tree = export_tree(HOME / "mlops-actions")
    command = [
        act,
        event,
        "-W",
        str(path),
        "-e",
        str(event_file),
        "-P",
        "ubuntu-latest=-self-hosted",
        "--action-cache-path",
        str(HOME / "act-cache"),
        "--no-cache-server",
        "--local-repository",
        f"org/mlops-actions@v1={tree}",
    ]
    for ref, shim in PINNED.items():
        command += ["--local-repository", f"{ref}={SHIMS / shim}"]
    for key, value in {
        **env,
        "MLOPS_ACTIONS_TREE": str(tree),
        "DEMO_OUTPUTS": str(outputs),
        "MLOPS_ACT_PYTHON_VENVS": str(HOME / "python-venvs"),  # the tests job's, kept
        "GITHUB_RUN_NUMBER": next_run_number(),
    }.items():
        command += ["--env", f"{key}={value}"]
    for key, value in secrets.items():
        command += ["-s", f"{key}={value}"]
    log = open(HOME / "act.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        command,
        cwd=consumer,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ACT_DISABLE_VERSION_CHECK": "1"},
    )
    assert proc.stdout is not None
    stage = re.compile(r"^\[[^/\]]+/(?:[^/\]]+/)?([^\]]+?)\s*\]\s+(?:⭐ Run Main |🏁\s+)(.*)$")
    ours = re.compile(r"\./\.(?:mlops|\*\*\*)-actions/actions/")  # act masks the user "mlops"
    for line in proc.stdout:
        log.write(line)
        match = stage.match(line.rstrip())
        if match and (match.group(2).startswith("Job") or ours.search(match.group(2))):
            say(f"{match.group(1)}: {ours.sub('', match.group(2))}")
    code = proc.wait()
    log.close()
    needs = json.loads(outputs.read_text()) if outputs.exists() else {}
    found = {  # the jobs that ran; a skipped one's empty outputs do not hide them
        k: str(v) for job in needs.values() for k, v in (job.get("outputs") or {}).items()
        if v not in (None, "")
    }  # fmt: skip
    return code, found


def act_errors() -> list[str]:
    """The run's error annotations (a gate's failed checks, a refusal), from act's log."""
    log = (HOME / "act.log").read_text().splitlines()
    annotations = [line.split("❗", 1)[1].strip() for line in log if "❗" in line]
    command = re.compile(r"^::(?:error|warning)(?: title=([^:]*))?::")  # as GitHub shows them
    return [command.sub(lambda m: f"{m.group(1)}: " if m.group(1) else "", a) for a in annotations]


def record(state: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A record of the model store: champion.json (staging) or production.json."""
    s3 = aws_client("s3", state["endpoint"])
    try:
        body = s3.get_object(Bucket="models", Key=f"{RECORDS}/{name}")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return dict(json.loads(body))


def service_image(state: dict[str, Any], cluster: str) -> tuple[str, str]:
    """(task definition, image) the cluster's service is on, read from ECS."""
    ecs = aws_client("ecs", state["endpoint"])
    service = ecs.describe_services(cluster=cluster, services=[SERVICE])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return service["taskDefinition"], definition["taskDefinition"]["containerDefinitions"][0][
        "image"
    ]


def service_url(cluster: str, wait: float) -> str | None:
    """The service's one local URL, once its first rollout completed (the stack records it)."""
    deadline = time.monotonic() + wait
    while True:
        url = json.loads(STATE.read_text()).get("services", {}).get(f"{cluster}/{SERVICE}")
        if url or time.monotonic() > deadline:
            return str(url) if url else None
        time.sleep(1)


def version(url: str) -> dict[str, Any] | None:
    """GET /version of a live service, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
            return dict(json.loads(response.read()))
    except OSError:
        return None


MLOPS_OUTPUTS = ("image-ref", "serving-image-ref", "model-version", "model-sha256", "gate-passed")
RELEASE_OUTPUTS = ("release-tag", "model-version", "serving-image-ref", "production-served-by")


def show(
    state: dict[str, Any],
    outputs: dict[str, str],
    keys: tuple[str, ...] = MLOPS_OUTPUTS,
    clusters: tuple[str, ...] = ("staging",),
    wait: float = 60,
) -> dict[str, dict[str, Any] | None]:
    """What the run left, read from the stack (ECS, the store, the live services), not from the
    run's own words; returns each cluster's /version."""
    print("\n== what the run left ==")
    for key in keys:
        print(f"  {key:20} {outputs.get(key) or '—'}")
    for cluster in clusters:
        task_definition, image = service_image(state, cluster)
        print(f"  {cluster + ' task def':20} {task_definition}")
        print(f"  {cluster + ' image':20} {image}")
    champion = record(state, "champion.json")
    print(f"  {'staging champion':20} " + (
        f"{champion['version']} (sha256 {champion['model_sha256'][:16]}…)" if champion
        else "none yet"))  # fmt: skip
    if "production" in clusters:
        production = record(state, "production.json")
        release = (production or {}).get("release") or {}
        print(f"  {'production champion':20} " + (
            f"{production['version']} (release {release.get('tag', '?')}"
            + (", a rollback" if release.get("rollback") else "") + ")" if production
            else "none yet"))  # fmt: skip
    answers: dict[str, dict[str, Any] | None] = {}
    for cluster in clusters:
        url = service_url(cluster, wait)
        answers[cluster] = version(url) if url else None
        if not url or answers[cluster] is None:
            print(f"\n  the {cluster} service is not serving" + (f" at {url}" if url else ""))
            continue
        print(f"\n== the running {cluster} service: {url} ==")
        print(f"$ curl {url}/version")
        print("  " + json.dumps(answers[cluster]))
    url = service_url("staging", wait=0) if clusters == ("staging",) else None
    if url and answers["staging"] is not None:
        body = json.dumps(
            [
                {
                    "amount": 950.0,
                    "hour": 3,
                    "merchant_category": "electronics",
                    "is_international": 1,
                    "account_age_days": 12,
                    "distance_from_home_km": 800.0,
                    "region": "north",
                }
            ]
        ).encode()
        request = urllib.request.Request(
            f"{url}/predict", data=body, headers={"Content-Type": "application/json"}
        )
        print(f"$ curl -X POST {url}/predict -d '{body.decode()}'")
        print("  " + urllib.request.urlopen(request, timeout=10).read().decode())
    return answers


def release(state: dict[str, Any], consumer: Path, rollback: bool) -> int:
    """The consumer's release.yml: a published release of the current staging champion, or a
    rollback of production to the previous production champion (workflow_dispatch)."""
    git(consumer, "update-ref", "refs/remotes/origin/main", "HEAD")  # main, as pushed
    if rollback:
        event = "workflow_dispatch"
        payload: dict[str, Any] = {"ref": "refs/heads/main", "repository": REPOSITORY,
                                   "inputs": {"rollback": "true", "release-tag": ""}}  # fmt: skip
        # (the inputs as GitHub's payload has them: strings; act reads `inputs` from them)
        say("rolling production back to the previous production champion "
            "(workflow_dispatch, rollback: true)")  # fmt: skip
    else:
        tag = f"v1.0.{len(git(consumer, 'tag', '--list', 'v*').split())}"
        git(consumer, "tag", tag)
        event = "release"
        payload = {"action": "published", "ref": f"refs/tags/{tag}", "repository": REPOSITORY,
                   "release": {"tag_name": tag, "draft": False, "prerelease": False}}  # fmt: skip
        say(f"publishing release {tag} of the current staging champion")
    say("act does not enforce environments: on GitHub, once the plan passes, the production "
        "job waits for a reviewer of the `production` environment; here it runs on, as if "
        "approved")  # fmt: skip
    say(f"running the consumer's release.yml ({event}) through act; full log: {HOME / 'act.log'}")
    before = record(state, "production.json")
    code, outputs = run_act(
        consumer, event, payload, release_workflow(),
        env={**AWS, "AWS_ENDPOINT_URL": state["endpoint"]}, secrets={}, file="release.yml",
    )  # fmt: skip
    say("the " + ("rollback" if rollback else "release") + (
        " finished" if code == 0 else f" stopped (act exit {code})"))  # fmt: skip
    for line in act_errors()[:8]:  # a refusal, in its one line
        print(f"  {line}")
    answers = show(json.loads(STATE.read_text()), outputs, RELEASE_OUTPUTS, CLUSTERS,
                   wait=60 if code == 0 else 0)  # fmt: skip
    if code == 0:
        code = release_read_back(state, rollback, before, answers)
    print(f"\nstop everything: bash scripts/demo.sh down   (state: {HOME})")
    return code


def release_read_back(
    state: dict[str, Any],
    rollback: bool,
    before: dict[str, Any] | None,
    answers: dict[str, dict[str, Any] | None],
) -> int:
    """Say what production runs only when the live service, ECS and the production record agree
    (and, for a release, staging serves the same model from the same image); else what differs."""
    staging, production = answers["staging"], answers["production"]
    after, running = record(state, "production.json"), service_image(state, "production")[1]
    moved_back = bool(
        after and before and ((after.get("release") or {}).get("rollback"))
        and after.get("previous_version") == before.get("version")
    )  # fmt: skip
    if not production:
        problem = "the production service does not answer /version"
    elif not after or after.get("version") != production["model_version"]:
        problem = f"production answers {production['model_version']}, its record names " + str(
            after and after.get("version"))  # fmt: skip
    elif running != after.get("serving_image"):
        problem = f"production runs {running}, its record names {after.get('serving_image')}"
    elif rollback and not moved_back:
        problem = "the production record did not move back"
    elif not rollback and not (
        staging
        and staging["model_sha256"] == production["model_sha256"]
        and service_image(state, "staging")[1] == running
    ):
        problem = "staging serves another model or image"
    else:
        problem = ""
    if problem:
        print(f"\nNot as expected, read back: {problem}.")
        return 1
    assert production is not None and after is not None
    if rollback:
        still = f"; staging still serves {staging['model_version']}" if staging else ""
        print(f"\nProduction is back on {production['model_version']}, the production champion "
              f"before {after['previous_version']}{still}.")  # fmt: skip
    else:
        print(
            f"\nStaging and production serve the same model, {production['model_version']} "
            f"(sha256 {production['model_sha256'][:16]}…), from the same image digest."
        )
    return 0


DEPLOY_ONLY = """
name: deploy
on: [push]
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - uses: org/mlops-actions/actions/ecs-deploy@v1
        with:
          task-definition: infrastructure/fraud-detector-task-def.json
          containers: fraud-detector=IMAGE
          cluster: staging
          service: fraud-detector
          aws-region: us-east-1
          wait-timeout-seconds: "240"
"""


def broken_image(state: dict[str, Any], registry: dict[str, Any], consumer: Path) -> int:
    """An image that cannot start (it expects other model bytes), deployed with ecs-deploy."""
    champion = record(state, "champion.json")
    if champion is None:
        raise SystemExit("no champion yet: run bash scripts/demo.sh first")
    config = docker_config(registry)
    tag = f"{registry['host']}/acme/fraud-detector:broken-{int(time.time())}"
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text(
            f"FROM {champion['serving_image']}\nENV MODEL_SHA256={'0' * 64}\n"
        )
        subprocess.run(
            ["docker", "--config", config, "build", "-q", "-t", tag, context],
            check=True,
            capture_output=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
    pushed = subprocess.run(
        ["docker", "--config", config, "push", tag], check=True, capture_output=True, text=True
    ).stdout
    broken = f"{tag.rsplit(':', 1)[0]}@{pushed.split('digest: ')[1].split()[0]}"
    say(f"deploying a broken image {broken} (it refuses to start: wrong MODEL_SHA256)")
    git(consumer, "commit", "-q", "--allow-empty", "-m", "deploy a broken image")
    code, _ = run_act(
        consumer,
        "push",
        {"ref": "refs/heads/main", "repository": {"default_branch": "main"}},
        DEPLOY_ONLY.replace("IMAGE", broken),
        env={**AWS, "AWS_ENDPOINT_URL": state["endpoint"]},
        secrets={},
    )
    log = (HOME / "act.log").read_text()
    for line in log.splitlines():
        if re.search(r"task \S+: |FAILED: |rolling back|\| Rollback", line):
            print("  " + line.split("|", 1)[-1].strip())
    show(json.loads(STATE.read_text()), {}, keys=())
    if code != 0 and "rolling back" in log:
        print(
            "\nThe rollout failed on the broken image and was rolled back: the champion still "
            "serves."
        )
        return 0
    return 1


def down() -> int:
    """Stop what the demo started, and forget the state that lived in it: the local AWS held the
    model store and the service, so the consumer repository and its run numbers go too, and the
    next run starts as the first one did."""
    if STATE.exists():
        pid = int(json.loads(STATE.read_text())["pid"])
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.2)
        except OSError:
            pass
        say("local stack stopped (its service containers with it)")
    shutil.rmtree(CONSUMER, ignore_errors=True)
    RUN_NUMBER.unlink(missing_ok=True)
    marker = HOME / "started-testbed"
    if marker.exists():  # only what the demo started: a testbed that was up before stays up
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "dev" / "testbed.py"), "down"], check=False
        )
        marker.unlink()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["run", "down"], default="run")
    scenario = parser.add_mutually_exclusive_group()
    scenario.add_argument(
        "--worse-model",
        action="store_true",
        help="train a much weaker model: the gate fails against the champion",
    )
    scenario.add_argument(
        "--data-changed",
        action="store_true",
        help="append a new batch of data and send repository_dispatch data-changed",
    )
    scenario.add_argument(
        "--broken-image",
        action="store_true",
        help="deploy an image that cannot start: the rollout fails and rolls back to the champion",
    )
    scenario.add_argument(
        "--release",
        action="store_true",
        help="publish a release: production gets the staging champion's image, by digest",
    )
    scenario.add_argument(
        "--rollback",
        action="store_true",
        help="return production to the previous production champion",
    )
    args = parser.parse_args()
    HOME.mkdir(parents=True, exist_ok=True)
    if args.action == "down":
        return down()
    say("starting the Docker engine, the authenticated registry and the base image")
    status = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dev" / "testbed.py"), "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    if not json.loads(status.stdout)["engine"]["running"]:
        (HOME / "started-testbed").write_text("the demo started the testbed; down stops it\n")
    registry = testbed("up")["registry"]
    state = stack(registry)
    if state.get("schema") != STACK_SCHEMA:  # a stack process from before production existed
        raise SystemExit("the local stack was started by an older demo: bash scripts/demo.sh down, "
                         "then run the demo again")  # fmt: skip
    say(f"local AWS (S3, ECS) and the local staging at {state['endpoint']}")
    seed_aws(state["endpoint"])
    scenario = (args.worse_model or args.data_changed or args.broken_image or args.release
                or args.rollback)  # fmt: skip
    consumer = consumer_repo(fresh=not scenario)
    if args.broken_image:
        return broken_image(state, registry, consumer)
    if args.release or args.rollback:
        return release(state, consumer, rollback=args.rollback)
    train_command, event, payload = (
        None,
        "push",
        {"ref": "refs/heads/main", "repository": {"default_branch": "main"}},
    )
    if args.worse_model:
        train_command = (
            "python src/train.py --output-path /app/artifacts/model.skops "
            "--data /data/transactions.csv --param C=0.00001"
        )
        git(consumer, "commit", "-q", "--allow-empty", "-m", "a much weaker model")
    elif args.data_changed:
        # A nightly data job lands a new batch: 4,000 more transactions, appended.
        batches = len(git(consumer, "log", "--oneline", "--grep", "new data batch").splitlines())
        seed = 8 + batches
        existing = len((consumer / "data" / "transactions.csv").read_text().splitlines()) - 1
        with tempfile.TemporaryDirectory() as tmp:
            batch = Path(tmp) / "batch.csv"
            subprocess.run(
                [sys.executable, str(consumer / "data" / "generate.py"), "--seed", str(seed),
                 "--rows", "4000", "--first-id", str(existing), "--output", str(batch)],
                check=True, capture_output=True,
            )  # fmt: skip
            rows = batch.read_text().splitlines(keepends=True)[1:]
        with open(consumer / "data" / "transactions.csv", "a") as data:
            data.writelines(rows)
        git(consumer, "commit", "-q", "-am", f"new data batch (seed {seed}, {len(rows)} rows)")
        event = "repository_dispatch"
        payload = {"action": "data-changed", "repository": {"default_branch": "main"},
                   "client_payload": {"batch": f"seed {seed}", "rows": len(rows)}}  # fmt: skip
    say(f"running the consumer's workflow ({event}) through act; full log: {HOME / 'act.log'}")
    code, outputs = run_act(
        consumer,
        event,
        payload,
        workflow(registry["host"], train_command),
        env={**AWS, "AWS_ENDPOINT_URL": state["endpoint"], "GITHUB_API_URL": "http://127.0.0.1:9"},
        secrets={
            "REGISTRY_USERNAME": registry["username"],
            "REGISTRY_PASSWORD": registry["password"],
        },
    )
    say("the loop " + ("finished" if code == 0 else f"stopped (act exit {code})"))
    failed = act_errors()
    for line in failed[:8]:  # the gate's failed checks, as annotations
        print(f"  {line}")
    show(json.loads(STATE.read_text()), outputs)
    if args.worse_model and code != 0 and failed:
        print("\nThe gate stopped the weaker model, as it should: nothing was packaged, deployed "
              "or promoted, and the champion still serves.")  # fmt: skip
        code = 0
    print(f"\nstop everything: bash scripts/demo.sh down   (state: {HOME})")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
