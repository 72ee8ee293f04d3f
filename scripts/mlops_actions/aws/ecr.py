"""ECR as a registry: the Docker login comes from the ECR API (GetAuthorizationToken) with the
job's AWS credentials (OIDC), so no registry password is stored anywhere."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

from mlops_actions import aws
from mlops_actions.errors import UserError, shown

ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)


@dataclass(frozen=True)
class Login:
    username: str
    password: str


def is_ecr_host(host: str) -> bool:
    return bool(ECR_HOST.match(host))


def login_for(host: str, *, account: str | None = None, region: str | None = None) -> Login:
    """The Docker credentials ECR gives for `host`'s registry (account and region from an ECR
    host name, else from the arguments, AWS_REGION and the credentials' own account)."""
    match = ECR_HOST.match(host)
    account = (match.group("account") if match else None) or account
    region = (match.group("region") if match else None) or region or os.environ.get("AWS_REGION")
    if not region:
        raise UserError(f"registry {shown(host)}: no AWS region for ECR; set AWS_REGION")
    client = aws.client("ecr", region)
    with aws.errors(
        "GetAuthorizationToken", service="ecr",
        hint="the role needs ecr:GetAuthorizationToken (resource *) to log in to ECR",
    ):  # fmt: skip
        answer = client.get_authorization_token(**({"registryIds": [account]} if account else {}))
    data = (answer.get("authorizationData") or [{}])[0]
    try:
        username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    except (KeyError, ValueError, UnicodeDecodeError):
        raise UserError(f"ECR returned no usable authorization token for {host}") from None
    if not username or not password:
        raise UserError(f"ECR returned no usable authorization token for {host}")
    return Login(username, password)
