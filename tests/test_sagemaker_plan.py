"""The SageMaker requests we build, checked against botocore's own service model (what the
client refuses before sending, against AWS and the emulator alike), and the spec comparison
that makes one version name one spec."""

import botocore.session
import pytest
from botocore.validate import ParamValidator

from mlops_actions.sagemaker import plan

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud@sha256:" + "b" * 64
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"


def _validate(operation: str, params: dict) -> str:
    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return report.generate_report()


def _request(**changes) -> plan.SageMakerRequest:
    base = {"endpoint": "fraud", "image": IMAGE, "role_arn": ROLE, "version": "7.1-abc1234"}
    return plan.SageMakerRequest(**{**base, **changes})


@pytest.mark.parametrize("traffic", plan.TRAFFIC)
def test_every_traffic_mode_builds_an_update_botocore_accepts(traffic):
    request = _request(traffic=traffic, alarms=("fraud-5xx",))
    plan.check(request)
    update = {"EndpointName": "fraud", "EndpointConfigName": "fraud-7-1-abc1234",
              "DeploymentConfig": plan.deployment_config(request)}  # fmt: skip
    assert _validate("UpdateEndpoint", update) == ""


def test_model_and_config_specs_fit_the_api():
    request = _request(environment={"LOG_LEVEL": "info"}, data_capture_uri="s3://cap/fraud",
                       vpc_subnets=("subnet-1",), vpc_security_groups=("sg-1",))  # fmt: skip
    name = plan.resource_name("fraud", "7.1-abc1234")
    assert _validate("CreateModel", plan.model_spec(request, name)) == ""
    assert _validate("CreateEndpointConfig", plan.config_spec(request, name, name)) == ""
    serverless = _request(serverless_memory=2048)
    assert _validate("CreateEndpointConfig", plan.config_spec(serverless, name, name)) == ""


def test_spec_difference_ignores_what_sagemaker_adds_and_names_what_differs():
    wanted = plan.config_spec(_request(), "c", "m")
    described = {
        "EndpointConfigName": "c", "EndpointConfigArn": "arn:...", "CreationTime": "now",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m",
                                "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
                                "InitialVariantWeight": 1}],
    }  # fmt: skip
    assert plan.spec_difference("config", wanted, described) is None
    described["ProductionVariants"][0]["InitialInstanceCount"] = 2
    assert plan.spec_difference("config", wanted, described).startswith(
        "ProductionVariants[0].InitialInstanceCount: 2.0 there, 1.0 here"
    )
    model = plan.model_spec(_request(), "m")
    given = {
        **model,
        "ModelArn": "arn:...",
        "PrimaryContainer": {"Image": IMAGE, "Mode": "SingleModel"},
    }
    assert plan.spec_difference("model", model, given) is None
    other = {**model, "PrimaryContainer": {"Image": IMAGE.replace("b", "c")}}
    assert plan.spec_difference("model", model, other).startswith("PrimaryContainer.Image")


def test_what_a_new_spec_drops_is_a_difference_too():
    """A re-run without the VPC, the data capture or an environment variable the existing
    version has is another spec, not the same one."""
    with_vpc = _request(vpc_subnets=("subnet-1",), vpc_security_groups=("sg-1",),
                        environment={"LOG_LEVEL": "info"})  # fmt: skip
    existing = plan.model_spec(with_vpc, "m")
    assert plan.spec_difference("model", plan.model_spec(_request(), "m"), existing).startswith(
        "PrimaryContainer.Environment"
    )
    bare = _request(environment={"LOG_LEVEL": "info"})
    assert plan.spec_difference("model", plan.model_spec(bare, "m"), existing).startswith(
        "VpcConfig.Subnets"
    )
    captured = plan.config_spec(_request(data_capture_uri="s3://cap/f"), "c", "m")
    assert plan.spec_difference(
        "config", plan.config_spec(_request(), "c", "m"), captured
    ).startswith("DataCaptureConfig.EnableCapture")
