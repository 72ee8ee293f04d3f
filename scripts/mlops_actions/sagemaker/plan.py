"""What a SageMaker deploy will ask for: names derived from the model version (so a re-run is
idempotent), the model, the endpoint config and the blue/green deployment config, each input
checked first. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.aws import ecr
from mlops_actions.aws.taskdef import ROLE_ARN
from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST

NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
TRAFFIC = ("all-at-once", "canary", "linear")
SERVERLESS_MEMORY = (1024, 2048, 3072, 4096, 5120, 6144)


@dataclass(frozen=True)
class SageMakerRequest:
    endpoint: str
    image: str  # the serving image, by digest
    role_arn: str
    version: str
    model_data_url: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    serverless_memory: int | None = None
    serverless_concurrency: int | None = None
    data_capture_uri: str = ""
    data_capture_percent: int = 100
    traffic: str = "all-at-once"
    traffic_percent: int = 10  # canary size, or linear step
    bake_seconds: int = 300  # wait between traffic steps, and before the old fleet goes
    alarms: tuple[str, ...] = ()
    vpc_subnets: tuple[str, ...] = ()
    vpc_security_groups: tuple[str, ...] = ()
    private_registry: bool = False  # image pulled through the VPC, not from ECR
    wait_timeout_seconds: float = 1800
    rollback: bool = True


def check(request: SageMakerRequest) -> None:
    """Every input a user can get wrong, before any call."""
    if not NAME.match(request.endpoint):
        raise UserError(
            f"endpoint-name: {shown(request.endpoint)} is not an endpoint name (letters, digits "
            "and '-', at most 63)"
        )
    if not IMAGE_BY_DIGEST.match(request.image):
        raise UserError(
            f"image: {shown(request.image)} is not pinned by digest; give repo@sha256:... (the "
            "package-model output serving-image-ref)"
        )
    if request.private_registry:
        if not request.vpc_subnets or not request.vpc_security_groups:
            raise UserError(
                "image-repository-access: vpc needs vpc-subnets and vpc-security-groups, through "
                "which SageMaker reaches the private registry"
            )
    elif not ecr.is_ecr_host(request.image.split("/", 1)[0]):
        raise UserError(
            f"image: {shown(request.image.split('@')[0])} is not in ECR; SageMaker hosting pulls "
            "only from ECR (<account>.dkr.ecr.<region>.amazonaws.com/...): push there too "
            "(build-push-ghcr's also-push-to), or use a private registry with "
            "image-repository-access: vpc"
        )
    if not ROLE_ARN.match(request.role_arn):  # the one the task definitions use
        raise UserError(
            f"execution-role-arn: {shown(request.role_arn or '(empty)')} is not an IAM role ARN; "
            "SageMaker needs the role it runs the model as (arn:aws:iam::<account>:role/<name>)"
        )
    if not request.version or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", request.version):
        raise UserError(f"version: {shown(request.version)} is not a model version name")
    if request.model_data_url and not S3_URI.match(request.model_data_url):
        raise UserError(f"model-data-url: {shown(request.model_data_url)} is not an s3:// URI")
    if request.data_capture_uri and not S3_URI.match(request.data_capture_uri):
        raise UserError(f"data-capture-uri: {shown(request.data_capture_uri)} is not an s3:// URI")
    serverless = request.serverless_memory is not None
    if serverless:
        if request.serverless_memory not in SERVERLESS_MEMORY:
            raise UserError(
                f"serverless-memory: {request.serverless_memory} MB is not one of "
                f"{', '.join(map(str, SERVERLESS_MEMORY))}"
            )
        if request.traffic != "all-at-once":
            raise UserError(
                f"traffic: {request.traffic} needs instances; a serverless endpoint is updated "
                "all at once"
            )
    elif not INSTANCE_TYPE.match(request.instance_type):
        raise UserError(
            f"instance-type: {shown(request.instance_type)} is not a SageMaker instance type "
            "(ml.<family>.<size>, e.g. ml.m5.large)"
        )
    if request.traffic not in TRAFFIC:
        raise UserError(f"traffic: expected {', '.join(TRAFFIC)}, got {shown(request.traffic)}")
    if request.traffic != "all-at-once" and not 1 <= request.traffic_percent <= 99:
        raise UserError(f"traffic-percent: {request.traffic_percent} is not from 1 to 99")


def resource_name(endpoint: str, version: str) -> str:
    """`<endpoint>-<version>`, cut to SageMaker's 63 characters with a hash kept unique."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", f"{endpoint}-{version}").strip("-")
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54].rstrip('-')}-{digest}"


def model_spec(request: SageMakerRequest, name: str) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": request.image, "Environment": dict(request.environment)}
    if request.model_data_url:
        container["ModelDataUrl"] = request.model_data_url
    if request.private_registry:
        container["ImageConfig"] = {"RepositoryAccessMode": "Vpc"}
    spec: dict[str, Any] = {
        "ModelName": name,
        "ExecutionRoleArn": request.role_arn,
        "PrimaryContainer": container,
    }
    if request.vpc_subnets:
        spec["VpcConfig"] = {
            "Subnets": list(request.vpc_subnets),
            "SecurityGroupIds": list(request.vpc_security_groups),
        }
    return spec


def config_spec(request: SageMakerRequest, name: str, model: str) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": model}
    if request.serverless_memory is not None:
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": request.serverless_memory,
            "MaxConcurrency": request.serverless_concurrency or 5,
        }
    else:
        variant.update(
            InstanceType=request.instance_type,
            InitialInstanceCount=request.instance_count,
            InitialVariantWeight=1.0,
        )
    spec: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": [variant]}
    if request.data_capture_uri:
        spec["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": request.data_capture_percent,
            "DestinationS3Uri": request.data_capture_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    return spec


def deployment_config(request: SageMakerRequest) -> dict[str, Any]:
    """Blue/green: the new fleet beside the old, traffic shifted all at once, by a canary or in
    linear steps, with the alarms that roll it back automatically."""
    # The API requires WaitIntervalInSeconds for every type, ALL_AT_ONCE included (there it is
    # the wait before the old fleet's traffic goes; botocore refuses the request without it).
    routing: dict[str, Any] = {
        "Type": request.traffic.replace("-", "_").upper(),
        "WaitIntervalInSeconds": request.bake_seconds,
    }
    if request.traffic != "all-at-once":
        size = {"Type": "CAPACITY_PERCENT", "Value": request.traffic_percent}
        routing["CanarySize" if request.traffic == "canary" else "LinearStepSize"] = size
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": min(request.bake_seconds, 3600),
            "MaximumExecutionTimeoutInSeconds": int(
                max(600, min(request.wait_timeout_seconds, 28800))
            ),
        }
    }
    if request.alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in request.alarms]}
    return config


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        doc = doc.get(key) if isinstance(doc, Mapping) else None
    return None if doc in ({}, [], "") else doc


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def comparable(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a model or endpoint config that a version's spec fixes, from our request
    or from a Describe answer alike, so both are compared in both directions: a field the
    existing one has and the new spec drops (a VPC, data capture, an environment variable) is a
    difference too."""
    if kind == "model":
        container = _get(doc, "PrimaryContainer") or {}
        return {
            "ExecutionRoleArn": _get(doc, "ExecutionRoleArn"),
            "PrimaryContainer.Image": _get(container, "Image"),
            "PrimaryContainer.Environment": dict(_get(container, "Environment") or {}),
            "PrimaryContainer.ModelDataUrl": _get(container, "ModelDataUrl"),
            "PrimaryContainer.ImageConfig": _get(container, "ImageConfig", "RepositoryAccessMode"),
            "VpcConfig.Subnets": sorted(_get(doc, "VpcConfig", "Subnets") or []),
            "VpcConfig.SecurityGroupIds": sorted(_get(doc, "VpcConfig", "SecurityGroupIds") or []),
        }
    out: dict[str, Any] = {}
    variants = _get(doc, "ProductionVariants") or []
    out["ProductionVariants"] = len(variants)
    for index, variant in enumerate(variants):
        at = f"ProductionVariants[{index}]"
        for key in ("VariantName", "ModelName", "InstanceType"):
            out[f"{at}.{key}"] = _get(variant, key)
        for key in ("InitialInstanceCount", "InitialVariantWeight"):
            out[f"{at}.{key}"] = _number(_get(variant, key))
        for key in ("MemorySizeInMB", "MaxConcurrency"):
            out[f"{at}.ServerlessConfig.{key}"] = _number(_get(variant, "ServerlessConfig", key))
    capture = _get(doc, "DataCaptureConfig") or {}
    out["DataCaptureConfig.EnableCapture"] = bool(_get(capture, "EnableCapture"))
    out["DataCaptureConfig.DestinationS3Uri"] = _get(capture, "DestinationS3Uri")
    out["DataCaptureConfig.InitialSamplingPercentage"] = _number(
        _get(capture, "InitialSamplingPercentage")
    )
    out["DataCaptureConfig.CaptureOptions"] = sorted(
        str(o.get("CaptureMode")) for o in _get(capture, "CaptureOptions") or []
        if isinstance(o, Mapping)
    )  # fmt: skip
    return out


def spec_difference(
    kind: str, wanted: Mapping[str, Any], existing: Mapping[str, Any]
) -> str | None:
    """The first field where an existing model or endpoint config differs from the spec we
    would create (`field: existing there, wanted here`), or None."""
    ours, theirs = comparable(kind, wanted), comparable(kind, existing)
    for key in ours:
        if ours[key] != theirs.get(key):
            return f"{key}: {shown(theirs.get(key), 60)} there, {shown(ours[key], 60)} here"
    return None
