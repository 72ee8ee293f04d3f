"""ECR as a registry: the login comes from the AWS emulator's ECR API (GetAuthorizationToken),
and one build goes to two registries (the GHCR stand-in and the ECR stand-in, whose only user
is what that token says) with one digest, read back from each, on both build paths."""

import json
import uuid

import pytest

from conftest import builder_env, run_cli
from support.ecs_sim import AWS_ENV, moto_server
from support.registry_client import Registry
from test_build_push import RUN, _cli_build, _consumer, _head

pytestmark = pytest.mark.act

MAIN = ("push", "refs/heads/main", {"repository": {"default_branch": "main"}})


@pytest.fixture(scope="module")
def ecr_api():
    with moto_server() as endpoint:
        yield endpoint


@pytest.mark.parametrize("path", ["classic", "buildx"])
def test_one_build_in_two_registries_with_an_ecr_login(
    testbed, builder_configs, ecr_api, path, tmp_path
):
    ecr = testbed["ecr_registry"]
    assert ecr["running"], testbed
    consumer = _consumer(tmp_path)
    name = f"acme/two-registries-{path}-{RUN}"
    mirror = f"{ecr['host']}/{name}"
    env = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": ecr_api,
        **builder_env(builder_configs, path),
    }
    proc, outputs = _cli_build(
        testbed, tmp_path, consumer, testbed["registry"]["password"], *MAIN, image=name,
        extra=("--also-push-to", mirror, "--ecr-registries", ecr["host"], "--cache", "none"),
        env_extra=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert f"logged in to {ecr['host']} with an ECR token (GetAuthorizationToken)" in proc.stdout
    sha = _head(consumer)
    main = testbed["registry"]
    in_ghcr = Registry(main["host"], main["username"], main["password"])
    in_ecr = Registry(ecr["host"], "AWS", f"{ecr['account']}-auth-token")
    assert (
        set(in_ghcr.tags(name))
        == set(in_ecr.tags(name))
        == {sha, f"sha-{sha[:7]}", "main", "latest"}
    )
    digest = in_ghcr.digest(name, sha)
    assert in_ecr.digest(name, sha) == digest == outputs["digest"]  # one build, one digest
    assert json.loads(outputs["image-refs"]) == [
        f"{main['host']}/{name}@{digest}",
        f"{mirror}@{digest}",
    ]


def test_an_ecr_registry_without_aws_credentials_is_one_line_before_building(testbed, tmp_path):
    ecr_host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    proc, _ = _cli_build(
        testbed, tmp_path, _consumer(tmp_path), testbed["registry"]["password"], *MAIN,
        image=f"acme/no-creds-{uuid.uuid4().hex[:6]}",
        extra=("--also-push-to", f"{ecr_host}/fraud-detector"),
        env_extra={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                   "AWS_REGION": "us-east-1", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                   "AWS_CONFIG_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no AWS credentials" in lines[0], proc.stderr
    assert "Step" not in proc.stdout  # nothing was built


def test_also_push_to_the_image_itself_is_refused(testbed, tmp_path):
    main = testbed["registry"]
    name = f"acme/self-{RUN}"
    proc, _ = _cli_build(testbed, tmp_path, _consumer(tmp_path), main["password"], *MAIN, image=name,
                         extra=("--also-push-to", f"{main['host']}/{name}"))  # fmt: skip
    assert (
        proc.returncode == 2
        and "also-push-to:" in proc.stderr
        and "is the image itself" in proc.stderr
    )


def test_cli_help_lists_the_inputs():
    assert "--also-push-to" in run_cli("build", "--help").stdout
