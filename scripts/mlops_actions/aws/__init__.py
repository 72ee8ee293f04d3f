"""AWS plumbing shared by the actions that call AWS (deploy, train; SageMaker next).

- `client()`: a boto3 client with adaptive retries (throttling is retried, never a failure).
  Credentials and endpoints are boto3's own: the default chain (in workflows, the OIDC role from
  aws-actions/configure-aws-credentials) and `AWS_ENDPOINT_URL(_<SERVICE>)`, which tests point
  at a local emulator. No test hooks here.
- `errors()`: the AWS errors a user can fix, as one-line UserErrors naming the action to grant
  or the field to fix (botocore's ParamValidationError included).
- `backoff()`: the pauses of a poll loop: short first, growing to a cap.
- `console_url()` / `log_group_url()`: links for summaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from mlops_actions.errors import UserError

MAX_ATTEMPTS = 10


def client(service: str, region: str | None, agent: str = "mlops-actions") -> Any:
    """A boto3 client for `service` with adaptive retries; region None means boto3's default."""
    import os

    import boto3
    from botocore.config import Config

    from mlops_actions.inputs import aws_region, service_url

    region = (
        aws_region(region) if region else aws_region(os.environ.get("AWS_REGION"), "AWS_REGION")
    )
    for variable in ("AWS_ENDPOINT_URL", f"AWS_ENDPOINT_URL_{service.upper()}"):
        if os.environ.get(variable):
            service_url(os.environ[variable], variable)
    config = Config(
        retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS}, user_agent_extra=agent
    )
    with errors("CreateClient", service=service):
        try:
            return boto3.client(service, region_name=region or None, config=config)
        except ValueError as exc:  # botocore's own endpoint check, e.g. a host it refuses
            raise UserError(f"AWS_ENDPOINT_URL: {exc}; give http(s)://host[:port]") from None


@contextmanager
def errors(action: str, *, service: str = "ecs", hint: str = "", **names: str) -> Iterator[None]:
    """Turn the AWS errors a user can fix into one-line UserErrors.

    `names` (cluster=, service_name=) fill in not-found messages; `hint` is appended to an
    access-denied message (e.g. where the minimal IAM policy is documented).
    """
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
    )

    try:
        yield
    except ParamValidationError as exc:
        # botocore checked the request against the API's shapes before sending it.
        problems = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        raise UserError(
            f"{service}:{action}: the request does not fit the AWS API: "
            f"{'; '.join(problems[:3]) or str(exc)}; fix that field"
        ) from None
    except NoCredentialsError:
        raise UserError(
            "no AWS credentials: add aws-actions/configure-aws-credentials with role-to-assume "
            "(OIDC) before this step"
        ) from None
    except NoRegionError:
        raise UserError(
            "aws-region: no region given; set the aws-region input or AWS_REGION"
        ) from None
    except EndpointConnectionError as exc:
        raise UserError(f"cannot reach the {service} endpoint ({exc}); check aws-region") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", str(exc))
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
            raise UserError(
                f"AWS denied {service}:{action}: {message}; grant {service}:{action} to the "
                f"role{f' ({hint})' if hint else ''}"
            ) from None
        if code == "ClusterNotFoundException":
            raise UserError(
                f"cluster '{names.get('cluster', '?')}' not found in this account/region; check "
                "the cluster and aws-region inputs"
            ) from None
        if code == "ServiceNotFoundException":
            raise UserError(
                f"service '{names.get('service_name', '?')}' not found in cluster "
                f"'{names.get('cluster', '?')}'; check the service input"
            ) from None
        raise UserError(f"{service}:{action} failed: {code}: {message}") from None
    except BotoCoreError as exc:  # the rest of botocore's own: bad settings, bad responses
        raise UserError(f"{service}:{action}: {str(exc).splitlines()[0][:300]}") from None


def backoff(first: float, cap: float, factor: float = 1.5) -> Iterator[float]:
    """Pauses for a poll loop: `first` (at most `cap`), then growing by `factor` up to `cap`."""
    pause = min(first, cap)
    while True:
        yield pause
        pause = min(pause * factor, cap)


def console_url(region: str, path: str) -> str:
    return f"https://{region}.console.aws.amazon.com/{path.lstrip('/')}"


def log_group_url(region: str, group: str) -> str:
    encoded = quote(quote(group, safe=""), safe="")  # the console's double encoding
    return console_url(
        region, f"cloudwatch/home?region={region}#logsV2:log-groups/log-group/{encoded}"
    )
