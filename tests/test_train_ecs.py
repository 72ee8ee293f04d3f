"""containerized-train with backend ecs: RunTask against moto in server mode, with a simulated
task lifecycle; artifacts travel through S3."""

import json

import boto3
import pytest

from conftest import run_cli
from support.ecs_sim import AWS_ENV, REGION, TaskSim, moto_server, reset

IMAGE = "ghcr.io/acme/fraud-detector@sha256:" + "e" * 64
TRAINING_TASK = {
    "family": "fraud-train",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "1024",
    "memory": "2048",
    "containerDefinitions": [
        {"name": "trainer", "image": "ghcr.io/acme/fraud-detector:old", "memory": 2048}
    ],
}
OUTPUTS = {
    "model.skops": b"skops-model-bytes",
    "metrics.json": b'{"precision": 0.93}',
    "holdout-predictions.csv": b"is_fraud,fraud_probability\n1,0.9\n",
}


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(endpoint):
    reset(endpoint)
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION, **keys)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **keys)
    ecs.create_cluster(clusterName="training")
    ecs.register_task_definition(**TRAINING_TASK)
    s3.create_bucket(Bucket="models")
    return ecs, s3, endpoint


def train(aws, tmp_path, sim, *extra):
    _, _, endpoint = aws
    sim.s3_endpoint = endpoint
    sim.install()
    tmp_path.mkdir(parents=True, exist_ok=True)
    artifacts = tmp_path / "artifacts"
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("")
    proc = run_cli(
        "train",
        "--backend",
        "ecs",
        "--image",
        IMAGE,
        "--command",
        "python src/train.py --output-path /tmp/out/model.skops",
        "--artifacts-dir",
        str(artifacts),
        "--params",
        "C=3",
        "--s3-uri",
        "s3://models/runs",
        "--ecs-cluster",
        "training",
        "--ecs-task-definition",
        "fraud-train",
        "--ecs-container-name",
        "trainer",
        "--ecs-subnets",
        "subnet-123",
        "--ecs-security-groups",
        "sg-456",
        "--timeout-minutes",
        "0.05",
        *extra,
        env={**AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "GITHUB_OUTPUT": str(outputs)},
    )
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, parsed, artifacts


def test_success_runs_the_task_with_overrides_and_brings_the_outputs_back(aws, tmp_path):
    ecs, _, _ = aws
    sim = TaskSim(outcome="success", outputs=OUTPUTS)
    proc, out, artifacts = train(aws, tmp_path, sim)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [request] = sim.requests
    override = request["overrides"]["containerOverrides"][0]
    env = {e["name"]: e["value"] for e in override["environment"]}
    assert override["name"] == "trainer" and override["command"] == [
        "python",
        "src/train.py",
        "--output-path",
        "/tmp/out/model.skops",
    ]
    assert json.loads(env["MLOPS_PARAMS"]) == {"C": 3} and env["MLOPS_ARTIFACTS_URI"].startswith(
        "s3://models/runs/_runs/"
    )
    assert request["launchType"] == "FARGATE" and request["startedBy"] == "mlops-actions-train"
    assert request["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["subnet-123"]
    # The task ran a new revision whose training container has the image by digest.
    revision = ecs.describe_task_definition(taskDefinition=request["taskDefinition"])[
        "taskDefinition"
    ]
    assert revision["revision"] == 2 and revision["containerDefinitions"][0]["image"] == IMAGE
    assert (artifacts / "model.skops").read_bytes() == OUTPUTS["model.skops"]
    card = json.loads((artifacts / "model-card.json").read_text())
    assert card["run"]["backend"] == "ecs" and card["run"]["task_arn"].startswith("arn:aws:ecs:")
    assert card["image"]["digest"] == "sha256:" + "e" * 64 and card["metrics"] == {
        "precision": 0.93
    }
    assert out["image-ref"] == IMAGE and out["model-sha256"] == card["model"]["sha256"]


def test_second_run_reuses_the_task_definition_revision(aws, tmp_path):
    ecs, _, _ = aws
    for attempt in range(2):
        proc, _, _ = train(
            aws, tmp_path / str(attempt), TaskSim(outcome="success", outputs=OUTPUTS)
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(ecs.list_task_definitions(familyPrefix="fraud-train")["taskDefinitionArns"]) == 2


def test_non_zero_exit_is_reported_and_leaves_no_model(aws, tmp_path):
    proc, _, artifacts = train(aws, tmp_path, TaskSim(outcome="exit", exit_code=3))
    assert proc.returncode == 1
    assert (
        "training command exited with code 3 on ECS: Essential container in task exited"
        in proc.stderr
    )
    assert not (artifacts / "model.skops").exists()


def test_stopped_task_surfaces_the_stopped_reason(aws, tmp_path):
    proc, _, artifacts = train(aws, tmp_path, TaskSim(outcome="stopped"))
    assert proc.returncode == 1
    assert "stopped before the training finished: CannotPullContainerError" in proc.stderr
    assert not (artifacts / "model.skops").exists()


def test_timeout_stops_the_task(aws, tmp_path):
    sim = TaskSim(outcome="stuck")
    proc, _, _ = train(aws, tmp_path, sim)
    assert (
        proc.returncode == 1
        and "timed out after 0.05 minutes; the ECS task was stopped" in proc.stderr
    )
    assert len(sim.stops) == 1


def test_missing_settings_are_one_line(aws, tmp_path):
    proc = run_cli(
        "train",
        "--backend",
        "ecs",
        "--image",
        IMAGE,
        "--command",
        "x",
        "--artifacts-dir",
        str(tmp_path),
    )
    assert proc.returncode == 2
    assert (
        "backend ecs needs ecs-cluster, ecs-task-definition, ecs-container-name, s3-uri"
        in proc.stderr
    )


def test_output_keys_that_are_not_clean_relative_paths_are_never_written(aws, tmp_path):
    """The task chooses its S3 keys: `<prefix>//tmp/x` or `<prefix>/../x` must not become
    paths outside staging (e.g. ~/.bashrc in a job holding OIDC and GitHub tokens)."""
    escape_dir = tmp_path / "outside"
    hostile = {
        **OUTPUTS,
        f"/{escape_dir}/ESCAPED.txt": b"absolute",
        "../UP.txt": b"up",
        "a/../../UP2.txt": b"up2",
        "./dot.txt": b"dot",
    }
    proc, _, artifacts = train(aws, tmp_path / "run", TaskSim(outcome="success", outputs=hostile))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not (escape_dir / "ESCAPED.txt").exists()
    assert not list(tmp_path.rglob("UP*.txt")) and not list(tmp_path.rglob("dot.txt"))
    assert "skipped 4 output key(s) that are not clean relative paths" in proc.stdout
    assert (artifacts / "model.skops").read_bytes() == OUTPUTS["model.skops"]


def test_ecs_secrets_go_into_the_task_definition_not_the_overrides(aws, tmp_path):
    ecs, _, _ = aws
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    sim = TaskSim(outcome="success", outputs=OUTPUTS)
    proc, _, _ = train(aws, tmp_path, sim, "--ecs-secrets", f"DB_PASSWORD={arn}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [request] = sim.requests
    assert arn not in json.dumps(request["overrides"])
    revision = ecs.describe_task_definition(taskDefinition=request["taskDefinition"])[
        "taskDefinition"
    ]
    assert revision["containerDefinitions"][0]["secrets"] == [
        {"name": "DB_PASSWORD", "valueFrom": arn}
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ("--ecs-secrets", "DB=plain-text"),
            "ecs-secrets: line 1 'DB=plain-text': expected NAME=ARN",
        ),
        (("--backend", "docker", "--ecs-secrets", "A=b"), "ecs-secrets is for backend ecs"),
    ],
)
def test_bad_secrets_are_one_line(aws, tmp_path, args, message):
    proc, _, _ = train(aws, tmp_path, TaskSim(), *args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
