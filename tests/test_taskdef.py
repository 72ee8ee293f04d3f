"""The pure task-definition render core."""

import copy

import pytest

from mlops_actions.aws import taskdef
from mlops_actions.aws.ecs import registrable_keys
from mlops_actions.errors import UserError

EXPORT = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
    "family": "app",
    "revision": 7,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2026-01-01T00:00:00Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/x/y",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {"name": "web", "image": "old/web:1", "environment": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "otel/collector:0.1"},
    ],
}


def test_read_only_fields_are_dropped_using_botocores_model():
    keys = registrable_keys()
    assert {"family", "containerDefinitions", "taskRoleArn"} <= keys
    out = taskdef.registrable(EXPORT, keys)
    for field in (
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
    ):
        assert field not in out
    assert out["family"] == "app"


def test_only_the_named_container_image_changes():
    out = taskdef.render(
        EXPORT, taskdef.Changes(images={"web": "ghcr.io/acme/web@sha256:" + "b" * 64}), "td.json"
    )
    images = taskdef.images_of(out)
    assert images == {"web": "ghcr.io/acme/web@sha256:" + "b" * 64, "sidecar": "otel/collector:0.1"}
    assert EXPORT["containerDefinitions"][0]["image"] == "old/web:1"  # input untouched


def test_several_containers_and_environment():
    changes = taskdef.Changes(
        images=taskdef.parse_images("web=a/web:2\nsidecar=b/side:3"),
        environment=taskdef.parse_environment("B=2\nA=override\nsidecar:MODE=x=y"),
    )
    out = taskdef.render(EXPORT, changes, "td.json")
    web, sidecar = out["containerDefinitions"]
    assert web["environment"] == [{"name": "A", "value": "override"}, {"name": "B", "value": "2"}]
    assert {"name": "MODE", "value": "x=y"} in sidecar["environment"]
    assert {"name": "B", "value": "2"} in sidecar["environment"]


def test_unknown_container_names_the_file_and_the_choices():
    with pytest.raises(
        UserError,
        match=r"td.json: no container named 'api' in containerDefinitions \(containers: web, sidecar\)",
    ):
        taskdef.render(EXPORT, taskdef.Changes(images={"api": "x:1"}), "td.json")


@pytest.mark.parametrize(
    "arn", ["arn:aws:iam::123:role/x", "role/x", "arn:aws:iam::123456789012:user/x"]
)
def test_role_arns_are_checked(arn):
    with pytest.raises(UserError, match=r"task-role-arn: .* is not an IAM role ARN"):
        taskdef.render(EXPORT, taskdef.Changes(task_role_arn=arn), "td.json")


def test_role_arns_are_set():
    role = "arn:aws:iam::123456789012:role/app-task"
    assert (
        taskdef.render(EXPORT, taskdef.Changes(task_role_arn=role), "td.json")["taskRoleArn"]
        == role
    )


@pytest.mark.parametrize(
    "text,field", [("web", "containers"), ("=img", "containers"), ("web=a b", "containers")]
)
def test_bad_image_lines(text, field):
    with pytest.raises(UserError, match=f"{field}: item 1"):
        taskdef.parse_images(text)


def test_bad_environment_line():
    with pytest.raises(UserError, match="environment: line 1 '1BAD=x'"):
        taskdef.parse_environment("1BAD=x")


def test_describe_output_wrapper_is_unwrapped():
    assert taskdef.unwrap({"taskDefinition": EXPORT, "tags": []}, "f")["family"] == "app"


@pytest.mark.parametrize(
    "doc,message",
    [
        ([], "expected a JSON object"),
        ({"family": "app"}, "'containerDefinitions' must be a non-empty list"),
        (
            {"family": "app", "containerDefinitions": [{"image": "x"}]},
            r"containerDefinitions\[0\].name is missing",
        ),
        ({"family": "a b", "containerDefinitions": [{"name": "x"}]}, "field 'family'"),
    ],
)
def test_unwrap_rejects_malformed_definitions(doc, message):
    with pytest.raises(UserError, match=message):
        taskdef.unwrap(doc, "f")


def test_same_definition_ignores_defaults_ecs_fills_in():
    keys = registrable_keys()
    ours = taskdef.registrable(EXPORT, keys)
    stored = {
        **ours,
        "containerDefinitions": [
            {
                **c,
                "essential": True,
                "cpu": 0,
                "mountPoints": [],
                "volumesFrom": [],
                "portMappings": [],
            }
            for c in ours["containerDefinitions"]
        ],
        "volumes": [],
        "placementConstraints": [],
    }
    assert taskdef.same_definition(ours, stored, keys)
    changed = taskdef.render(ours, taskdef.Changes(images={"web": "new:2"}), "f")
    assert not taskdef.same_definition(changed, stored, keys)


def test_drop_empty_is_recursive_and_keeps_false_zero_and_named_keys():
    from mlops_actions.aws.taskdef import drop_empty

    doc = {
        "ipcMode": None,
        "cpu": "",
        "volumes": [],
        "containerDefinitions": [
            {
                "name": "a",
                "essential": False,
                "cpu": 0,
                "logConfiguration": {"options": {}},
                "entryPoint": [],
                "environment": [{"name": None}],
            }
        ],
    }
    assert drop_empty(doc) == {
        "containerDefinitions": [{"name": "a", "essential": False, "cpu": 0}]
    }
    kept = drop_empty(doc, keep={"entryPoint"})
    assert kept["containerDefinitions"][0]["entryPoint"] == []


def test_same_definition_knows_more_ecs_defaults():
    from mlops_actions.aws.ecs import registrable_keys
    from mlops_actions.aws.taskdef import same_definition

    ours = {
        "family": "f",
        "containerDefinitions": [
            {
                "name": "a",
                "image": "i",
                "portMappings": [{"containerPort": 80}],
                "healthCheck": {"command": ["CMD", "x"]},
            }
        ],
    }
    theirs = {
        "family": "f",
        "networkMode": "bridge",
        "containerDefinitions": [
            {
                "name": "a",
                "image": "i",
                "cpu": 0,
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "healthCheck": {
                    "command": ["CMD", "x"],
                    "interval": 30,
                    "timeout": 5,
                    "retries": 3,
                },
            }
        ],
    }
    assert same_definition(ours, theirs, registrable_keys())
    awsvpc = {**ours, "networkMode": "awsvpc"}
    theirs_awsvpc = copy.deepcopy({**theirs, "networkMode": "awsvpc"})
    theirs_awsvpc["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 80
    assert same_definition(awsvpc, theirs_awsvpc, registrable_keys())
    # In bridge mode a static hostPort is not the same as none (dynamic).
    static = copy.deepcopy(theirs)
    static["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 80
    assert not same_definition(ours, static, registrable_keys())
