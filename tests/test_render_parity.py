"""ecs-deploy renders what aws-actions/amazon-ecs-render-task-definition renders, on that
action's own test cases (index.test.js, v1.9.0): environment and secrets merged in place by
name, env files replaced, docker labels and log options merged, the log driver checked, the
command split. Where we differ, on purpose, a test says so: ARNs are checked, and a value keeps
any further '='. Then render-only mode, the rendered file, tags and the deployment controller."""

import copy
import json
from pathlib import Path

import pytest

from conftest import run_cli
from mlops_actions.aws import taskdef
from mlops_actions.errors import UserError
from support.ecs_fixtures import deploy_new_image, revisions

SSM = "arn:aws:ssm:us-east-1:123456789012:parameter/"
SM = "arn:aws:secretsmanager:us-east-1:123456789012:secret:secretName"
# The peer's fixture task definition (its test's mocked task-definition.json).
PEER_TASKDEF = {
    "family": "task-def-family",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "some-other-image",
            "environment": [
                {"name": "FOO", "value": "not bar"},
                {"name": "DONT-TOUCH", "value": "me"},
            ],
            "secrets": [{"name": "EXISTING_SECRET", "valueFrom": SSM + "existingSecret"}],
        },
        {"name": "sidecar", "image": "hello"},
    ],
    "tags": [{"key": "project", "value": "mytaskdef"}],
}


def _render(**changes):
    return taskdef.render(
        copy.deepcopy(PEER_TASKDEF),
        taskdef.Changes(images={"web": "nginx:latest"}, **changes),
        "t.json",
    )


def test_environment_env_files_and_secrets_as_the_peer_renders_them():
    rendered = _render(
        environment=taskdef.parse_environment("FOO=bar\nHELLO=world"),
        env_files=taskdef.parse_env_files("arn:aws:s3:::s3_bucket_name/envfile_object_name.env"),
        secrets=taskdef.parse_prefixed_secrets(f"SSM_SECRET={SSM}secret\nSM_SECRET={SM}"),
    )
    web = rendered["containerDefinitions"][0]
    assert web == {
        "name": "web",
        "image": "nginx:latest",
        "environment": [  # updated in place, then appended: the peer's order
            {"name": "FOO", "value": "bar"},
            {"name": "DONT-TOUCH", "value": "me"},
            {"name": "HELLO", "value": "world"},
        ],
        "secrets": [
            {"name": "EXISTING_SECRET", "valueFrom": SSM + "existingSecret"},
            {"name": "SSM_SECRET", "valueFrom": SSM + "secret"},
            {"name": "SM_SECRET", "valueFrom": SM},
        ],
        "environmentFiles": [
            {"value": "arn:aws:s3:::s3_bucket_name/envfile_object_name.env", "type": "s3"}
        ],
    }
    assert rendered["containerDefinitions"][1] == {"name": "sidecar", "image": "hello"}
    assert rendered["tags"] == [{"key": "project", "value": "mytaskdef"}]


def test_log_configuration_as_the_peer_renders_it():
    web = _render(
        log_driver=taskdef.parse_log_driver("awslogs"),
        log_options=taskdef.parse_pairs(
            "awslogs-create-group=true\nawslogs-group=/ecs/web\nawslogs-region=us-east-1\n"
            "awslogs-stream-prefix=ecs",
            "log-configuration-options",
        ),
    )["containerDefinitions"][0]
    assert web["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-create-group": "true",
            "awslogs-group": "/ecs/web",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "ecs",
        },
    }


def test_docker_labels_and_command_as_the_peer_renders_them():
    web = _render(
        docker_labels=taskdef.parse_pairs("key1=value1\nkey2=value2", "docker-labels"),
        command=taskdef.parse_command("npm start --nice --please"),
    )["containerDefinitions"][0]
    assert web["dockerLabels"] == {"key1": "value1", "key2": "value2"}
    assert web["command"] == ["npm", "start", "--nice", "--please"]


def test_where_we_differ_on_purpose():
    # A quoted argument stays one word (the peer splits on every space).
    assert taskdef.parse_command('python -c "print(1)"') == ("python", "-c", "print(1)")
    # A value keeps its further '=' (the peer cuts it at the second one).
    assert taskdef.parse_pairs("traefik.rule=Host(`a`) && Query(`x=1`)", "docker-labels") == {
        "traefik.rule": "Host(`a`) && Query(`x=1`)"
    }
    # Secrets must be ARNs of Secrets Manager or SSM (the peer takes anything after '=').
    with pytest.raises(UserError, match="secrets: line 1 'A=not-an-arn': expected NAME=ARN"):
        taskdef.parse_prefixed_secrets("A=not-an-arn")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: taskdef.parse_log_driver("invalid-driver"),
         "log-configuration-log-driver: 'invalid-driver' is not one of json-file, syslog"),
        (lambda: taskdef.parse_pairs("weird", "docker-labels"),
         "docker-labels: line 1 'weird': expected key=value"),
        (lambda: taskdef.parse_env_files("s3://bucket/app.env"),
         "env-files: line 1 's3://bucket/app.env': expected the S3 ARN of an .env object"),
        (lambda: taskdef.parse_command('npm "start'), "No closing quotation"),
        (lambda: taskdef.render(copy.deepcopy(PEER_TASKDEF), taskdef.Changes(
            images={"web": "x"}, secrets={"db": {"A": SM}}), "t.json"),
         "t.json: secrets names container 'db', which is not in containerDefinitions"),
    ],
)  # fmt: skip
def test_bad_render_input_is_one_line(call, message):
    with pytest.raises(UserError) as caught:
        call()
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_render_only_writes_the_rendered_file_and_touches_no_aws(tmp_path):
    source = tmp_path / "task-def.json"
    source.write_text(json.dumps(PEER_TASKDEF))
    outputs = tmp_path / "out.txt"
    outputs.write_text("")
    proc = run_cli(
        "deploy", "--task-definition", str(source), "--container-name", "web", "--image",
        "nginx:latest", "--docker-labels", "team=fraud", "--secrets", f"web:SM_SECRET={SM}",
        env={"GITHUB_OUTPUT": str(outputs), "RUNNER_TEMP": str(tmp_path), "AWS_REGION": "",
             "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    path = out["rendered-task-definition"]
    assert path.startswith(str(tmp_path)) and "render only" in proc.stdout
    web = json.loads(Path(path).read_text())["containerDefinitions"][0]
    assert web["image"] == "nginx:latest" and web["dockerLabels"] == {"team": "fraud"}
    assert {"name": "SM_SECRET", "valueFrom": SM} in web["secrets"]
    assert "task-definition-arn" not in out


def test_cluster_without_service_is_one_line(tmp_path):
    proc = run_cli("deploy", "--cluster", "staging", "--task-definition", "x.json")
    assert proc.returncode == 2 and "cluster and service go together" in proc.stderr


def test_deploy_writes_what_it_registered_and_sets_the_tags(aws):
    proc, out, _ = deploy_new_image(
        aws, "--docker-labels", "team=fraud", "--propagate-tags", "service",
        "--enable-ecs-managed-tags", "true",
        env={"RUNNER_TEMP": str(aws.tmp)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    rendered = json.loads(Path(out["rendered-task-definition"]).read_text())
    registered = aws.ecs.describe_task_definition(taskDefinition=out["task-definition-arn"])
    labels = {
        c["name"]: c.get("dockerLabels")
        for c in registered["taskDefinition"]["containerDefinitions"]
    }
    assert (
        labels["fraud-detector"]
        == {"team": "fraud"}
        == rendered["containerDefinitions"][0]["dockerLabels"]
    )
    service = aws.ecs.describe_services(cluster="staging", services=["fraud-detector"])["services"][
        0
    ]
    assert service.get("propagateTags") == "SERVICE" and service.get("enableECSManagedTags") is True


def test_a_codedeploy_service_is_refused_before_anything_is_registered(aws):
    aws.ecs.create_service(
        cluster="staging", serviceName="blue-green", taskDefinition=aws.base, desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )  # fmt: skip
    before = len(revisions(aws))
    proc, _, _ = deploy_new_image(aws, "--service", "blue-green")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "uses the CODE_DEPLOY controller (blue/green)" in lines[0]
    assert "aws-actions/amazon-ecs-deploy-task-definition with codedeploy-appspec" in lines[0]
    assert len(revisions(aws)) == before
