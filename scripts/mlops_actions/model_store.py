"""The model store on S3, shared by the actions that write and read models:
`s3://bucket/prefix/<model-name>/<version>/` for versions, `champion.json` beside them.

- Every object carries its sha256 in metadata.
- The model card goes last: a version is complete (for readers) only once its card exists.
- Versions are immutable: if the card exists and any file differs, the upload is refused; an
  identical re-upload is a no-op. A version without a card is an interrupted upload and may be
  completed.
- The `champion` pointer (`<model-name>/champion.json`) is never written by training; promotion
  (mlops_actions.champion) moves it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions import aws
from mlops_actions.errors import UserError, shown


@dataclass(frozen=True)
class Location:
    bucket: str
    prefix: str

    @staticmethod
    def parse(uri: str) -> Location:
        if not uri.startswith("s3://") or len(uri) <= 5:
            raise UserError(f"s3-uri: {shown(uri)} must look like s3://bucket/prefix")
        bucket, _, prefix = uri[5:].partition("/")
        if not bucket:
            raise UserError(f"s3-uri: {shown(uri)} has no bucket")
        return Location(bucket, prefix.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)


CARD_FILE = "model-card.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def check_name(value: str, field: str) -> str:
    """A model name or version: one S3 key segment, no '/', no '..'."""
    if not _NAME.fullmatch(value or "") or ".." in value:
        raise UserError(
            f"{field}: {shown(value)} must be 1-128 letters, digits, '.', '_', '+' or '-' "
            "(one S3 key segment)"
        )
    return value


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return dict(client.head_object(Bucket=bucket, Key=key))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def upload_version(
    location: Location,
    model_name: str,
    version: str,
    files: list[Path],
    card: Path,
    region: str | None = None,
    client: Any = None,
) -> dict[str, Any]:
    """Upload the files, then the card. Returns {"uri", "status": uploaded|unchanged, "keys"}."""
    from botocore.exceptions import ClientError, NoCredentialsError

    check_name(model_name, "model-name")
    check_name(version, "version")
    client = client or aws.client("s3", region)
    base = location.key(model_name, version)
    ours = {p.name: sha256(p) for p in [*files, card]}
    try:
        existing_card = _head(client, location.bucket, f"{base}/{CARD_FILE}")
        if existing_card is not None:
            different = []
            for name, digest in ours.items():
                head = _head(client, location.bucket, f"{base}/{name}")
                theirs = (head or {}).get("Metadata", {}).get("sha256")
                if name != CARD_FILE and theirs != digest:
                    different.append(name)
            if different:
                raise UserError(
                    f"s3://{location.bucket}/{base}/ already exists with different "
                    f"{', '.join(different)}; versions are immutable: use a new version"
                )
            return {"uri": f"s3://{location.bucket}/{base}/", "status": "unchanged", "keys": []}
        keys = []
        for path in [*files, card]:  # the card last: its presence marks the version complete
            key = f"{base}/{path.name}"
            with open(path, "rb") as body:
                client.put_object(
                    Bucket=location.bucket, Key=key, Body=body, Metadata={"sha256": ours[path.name]}
                )
            keys.append(key)
    except NoCredentialsError:
        raise UserError(
            "no AWS credentials for the S3 upload: use aws-actions/configure-aws-credentials (OIDC)"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UserError(
            f"S3 upload to s3://{location.bucket}/{base}/ failed: {error.get('Code')}: "
            f"{error.get('Message')}"
        ) from None
    return {"uri": f"s3://{location.bucket}/{base}/", "status": "uploaded", "keys": keys}
