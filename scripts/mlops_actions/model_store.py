"""The model store on S3, shared by the actions that write and read models:
`s3://bucket/prefix/<model-name>/<version>/` for versions, `champion.json` beside them.

- Every object carries its sha256 in metadata.
- The model card goes last: a version is complete (for readers) only once its card exists.
- Versions are immutable: if the card exists and any file differs, the upload is refused; an
  identical re-upload is a no-op. A version without a card is an interrupted upload and may be
  completed.
- The `champion` pointer (`<model-name>/champion.json`) is never written by training; promotion
  (mlops_actions.champion) moves it, by compare-and-swap (a conditional PutObject on the ETag
  it read, or If-None-Match for the first one). Each version's record is created once
  (`champions/<version>.json`, If-None-Match), and each move is kept in
  `history/champion/<sequence>.json`.

`S3Store` and `mlflow_store.MlflowStore` are the two stores behind one interface (`ModelStore`):
register a version, read its card, read or swap a stage's pointer, create a version's record
once, and keep and list the history. The rules (what may move, when) are in
mlops_actions.champion.record, written once for both.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlops_actions import aws
from mlops_actions.errors import UserError, shown


@dataclass(frozen=True)
class Location:
    bucket: str
    prefix: str

    @staticmethod
    def parse(uri: str, field: str = "s3-uri") -> Location:
        if not uri.startswith("s3://") or len(uri) <= 5:
            raise UserError(
                f"{field}: {shown(uri)} must look like s3://bucket/prefix (or an MLflow "
                "tracking URI, https://...)"
            )
        bucket, _, prefix = uri[5:].partition("/")
        if not bucket:
            raise UserError(f"{field}: {shown(uri)} has no bucket")
        return Location(bucket, prefix.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)


CARD_FILE = "model-card.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def is_name(value: str) -> bool:
    return bool(_NAME.fullmatch(value or "")) and ".." not in value


def check_name(value: str, field: str) -> str:
    """A model name or version: one S3 key segment, no '/', no '..'."""
    if not is_name(value):
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


# --- one interface for the S3 store and the MLflow registry --------------------------------

# stage -> (pointer file, folder of the per-version records); history/<stage>/ holds the moves.
STAGES = {
    "champion": ("champion.json", "champions"),
    "production": ("production.json", "production"),
}
MAX_DOCUMENT = 8 << 20  # a record or card is kilobytes


class ModelStore(Protocol):
    model_name: str

    def where(self, stage: str) -> str:
        """Where a stage's pointer lives, for messages."""

    def where_version(self, version: str) -> str:
        """Where a version would be, for messages."""

    def register(
        self, version: str, files: list[Path], card: Path, metrics: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Store a trained version once: {"status": uploaded|registered|unchanged|exists, "uri"}."""

    def card(self, version: str) -> dict[str, Any] | None:
        """The stored version's model card, or None when the version is not in the store."""

    def read_pointer(self, stage: str) -> tuple[dict[str, Any] | None, Any]:
        """The stage's pointer (None: no one yet) and a token for swap_pointer."""

    def swap_pointer(
        self, stage: str, pointer: dict[str, Any], token: Any
    ) -> dict[str, Any] | None:
        """Write the pointer only if it is still what `token` read: the pointer as stored (the
        store may number the move itself), or None on a conflict."""

    def create_record(
        self, stage: str, version: str, record: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Write the version's record if it has none; the existing record (unchanged) if it has."""

    def record(self, stage: str, version: str) -> dict[str, Any] | None:
        """The version's record for the stage (what create_record wrote), or None."""

    def add_history(self, stage: str, entry: dict[str, Any]) -> None:
        """Keep one move (entry["sequence"] is its place); a second write of a place is a no-op."""

    def history(self, stage: str, limit: int) -> list[dict[str, Any]]:
        """The stage's moves, newest first."""


def open_store(uri: str, model_name: str, region: str | None = None) -> ModelStore:
    """The store `uri` names: an MLflow tracking server (http[s]://) or s3://bucket/prefix."""
    from mlops_actions.mlflow_store import MlflowStore, is_mlflow

    if not (uri or "").strip():
        raise UserError(
            "model-store: give s3://bucket/prefix or an MLflow tracking URI (https://...)"
        )
    if is_mlflow(uri):
        return MlflowStore(uri, check_name(model_name, "model-name"))
    return S3Store(
        Location.parse(uri.strip(), "model-store"), check_name(model_name, "model-name"), region
    )


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


CONFLICT = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")
ABSENT = ("NoSuchKey", "404", "NotFound")


class S3Store:
    def __init__(
        self, location: Location, model_name: str, region: str | None = None, client: Any = None
    ):
        self.location, self.model_name, self.region = location, model_name, region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("s3", self.region)
        return self._client

    def key(self, *parts: str) -> str:
        return self.location.key(self.model_name, *parts)

    def uri(self, *parts: str) -> str:
        return f"s3://{self.location.bucket}/{self.key(*parts)}"

    def where(self, stage: str) -> str:
        return self.uri(STAGES[stage][0])

    def where_version(self, version: str) -> str:
        return f"{self.uri(version)}/{CARD_FILE}"

    def _get(self, *parts: str) -> tuple[dict[str, Any] | None, str | None]:
        """A JSON object and its ETag, or (None, None) when the key does not exist."""
        from botocore.exceptions import ClientError

        with aws.errors("GetObject", service="s3"):
            try:
                answer = self.client.get_object(Bucket=self.location.bucket, Key=self.key(*parts))
                body = answer["Body"].read(MAX_DOCUMENT + 1)
            except ClientError as exc:
                if _error_code(exc) in ABSENT:
                    return None, None
                raise
        try:
            data = json.loads(body) if len(body) <= MAX_DOCUMENT else None
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise UserError(
                f"{self.uri(*parts)} is not a JSON object; the model store is damaged there"
            )
        return data, str(answer.get("ETag") or "")

    def _put(self, data: dict[str, Any], *parts: str, **condition: str) -> bool:
        """PutObject; with IfMatch / IfNoneMatch, False when the condition did not hold."""
        from botocore.exceptions import ClientError

        with aws.errors("PutObject", service="s3"):
            try:
                self.client.put_object(
                    Bucket=self.location.bucket,
                    Key=self.key(*parts),
                    Body=(json.dumps(data, indent=2) + "\n").encode(),
                    ContentType="application/json",
                    **condition,
                )
            except ClientError as exc:
                if condition and _error_code(exc) in CONFLICT:
                    return False
                raise
        return True

    def register(
        self, version: str, files: list[Path], card: Path, metrics: dict[str, Any] | None
    ) -> dict[str, Any]:
        return upload_version(
            self.location, self.model_name, version, files, card, client=self.client
        )

    def card(self, version: str) -> dict[str, Any] | None:
        return self._get(check_name(version, "version"), CARD_FILE)[0]

    def read_pointer(self, stage: str) -> tuple[dict[str, Any] | None, Any]:
        return self._get(STAGES[stage][0])

    def swap_pointer(
        self, stage: str, pointer: dict[str, Any], token: Any
    ) -> dict[str, Any] | None:
        condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}
        return pointer if self._put(pointer, STAGES[stage][0], **condition) else None

    def create_record(
        self, stage: str, version: str, record: dict[str, Any]
    ) -> dict[str, Any] | None:
        folder = STAGES[stage][1]
        if self._put(record, folder, f"{version}.json", IfNoneMatch="*"):
            return None
        existing, _ = self._get(folder, f"{version}.json")
        return existing

    def record(self, stage: str, version: str) -> dict[str, Any] | None:
        return self._get(STAGES[stage][1], f"{check_name(version, 'version')}.json")[0]

    def add_history(self, stage: str, entry: dict[str, Any]) -> None:
        self._put(entry, "history", stage, f"{int(entry['sequence']):010d}.json", IfNoneMatch="*")

    def history(self, stage: str, limit: int) -> list[dict[str, Any]]:
        prefix = self.key("history", stage) + "/"
        keys: list[str] = []
        with aws.errors("ListObjectsV2", service="s3"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=prefix
            )
            for page in pages:
                keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json")]
        entries = []
        for key in sorted(keys, reverse=True)[:limit]:
            entry, _ = self._get("history", stage, key.rsplit("/", 1)[-1])
            if entry is not None:
                entries.append(entry)
        return entries
