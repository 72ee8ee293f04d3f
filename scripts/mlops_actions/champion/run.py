"""Promote a stored model version to champion, or fetch the champion for the next gate.

promote: validate (verdict passed, version stored, image by digest) → write the per-version
record (immutable) → move the pointer → read the pointer back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_actions import aws, model_store
from mlops_actions.champion import record as rec
from mlops_actions.errors import UserError

POINTER = "champion.json"


@dataclass(frozen=True)
class Store:
    location: model_store.Location
    model_name: str

    @staticmethod
    def parse(uri: str, model_name: str) -> Store:
        """From the inputs: model-store (s3://bucket/prefix) and model-name (default: the repo)."""
        if not uri:
            raise UserError("model-store: give the s3://bucket/prefix where model versions live")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        name = model_name or repository.split("/")[-1] or "model"
        return Store(model_store.Location.parse(uri), model_store.check_name(name, "model-name"))

    def key(self, *parts: str) -> str:
        return self.location.key(self.model_name, *parts)

    def uri(self, *parts: str) -> str:
        return f"s3://{self.location.bucket}/{self.key(*parts)}"


CHAMPION_CARD = "champion-model-card.json"


def _get_json(client: Any, store: Store, *parts: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    key = store.key(*parts)
    with aws.errors("GetObject", service="s3"):
        try:
            body = client.get_object(Bucket=store.location.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
    try:
        data = json.loads(body)
    except ValueError:
        raise UserError(f"{store.uri(*parts)} is not JSON; the model store is damaged") from None
    if not isinstance(data, dict):
        raise UserError(f"{store.uri(*parts)} is not a JSON object")
    return data


def _put_json(client: Any, store: Store, data: dict[str, Any], *parts: str) -> None:
    with aws.errors("PutObject", service="s3"):
        client.put_object(
            Bucket=store.location.bucket,
            Key=store.key(*parts),
            Body=(json.dumps(data, indent=2) + "\n").encode(),
            ContentType="application/json",
        )


@dataclass
class Promotion:
    record: dict[str, Any]
    status: str  # promoted | unchanged
    record_uri: str
    pointer_uri: str


def promote(
    store: Store,
    version: str,
    verdict: dict[str, Any],
    *,
    serving_image: str = "",
    task_definition_arn: str = "",
    expected_sha256: str = "",
    source: dict[str, Any] | None = None,
    region: str | None = None,
    client: Any = None,
) -> Promotion:
    model_store.check_name(version, "version")
    client = client or aws.client("s3", region)
    card = _get_json(client, store, version, model_store.CARD_FILE)
    if card is None:
        raise UserError(
            f"version {version} is not in the model store ({store.uri(version)}/ has no "
            f"{model_store.CARD_FILE}); promote a version that training uploaded"
        )
    sha = (card.get("model") or {}).get("sha256")
    if expected_sha256 and sha != expected_sha256:
        raise UserError(
            f"model-sha256 {expected_sha256[:16]}… is not the stored version's {str(sha)[:16]}…"
        )
    previous = _get_json(client, store, POINTER)
    record = rec.build(
        model_name=store.model_name,
        version=version,
        card=card,
        verdict=verdict,
        serving_image=serving_image,
        task_definition_arn=task_definition_arn,
        previous=previous,
        promoted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        source=source or {},
    )
    existing = _get_json(client, store, "champions", f"{version}.json")
    status = "promoted"
    if existing is not None:
        if not rec.same_promotion(existing, record):
            raise UserError(
                f"{store.uri('champions', version + '.json')} already records version {version} "
                "with another image, verdict or task definition; champion records are immutable"
            )
        record, status = existing, "unchanged"
    else:
        _put_json(client, store, record, "champions", f"{version}.json")
    if previous is None or previous.get("version") != version:
        _put_json(client, store, record, POINTER)  # the moving pointer, after the record
        status = "promoted"
    back = _get_json(client, store, POINTER)
    if back is None or back.get("version") != version:
        raise UserError(f"{store.uri(POINTER)} does not name {version} after writing it")
    return Promotion(back, status, store.uri("champions", f"{version}.json"), store.uri(POINTER))


def fetch(
    store: Store, output_dir: Path, *, region: str | None = None, client: Any = None
) -> tuple[dict[str, Any] | None, Path | None]:
    """The champion record and its verdict written as a gate baseline file, or (None, None)."""
    client = client or aws.client("s3", region)
    champion = _get_json(client, store, POINTER)
    if champion is None:
        return None, None
    if not isinstance(champion.get("verdict"), dict) or not champion.get("version"):
        raise UserError(f"{store.uri(POINTER)} is not a champion record (no version or verdict)")
    output_dir.mkdir(parents=True, exist_ok=True)
    baseline = output_dir / "champion-verdict.json"
    tmp = output_dir / ".champion-verdict.json.tmp"
    tmp.write_text(json.dumps(champion["verdict"], indent=2) + "\n")
    tmp.replace(baseline)
    (output_dir / POINTER).write_text(json.dumps(champion, indent=2) + "\n")
    # The champion's model card: what it was trained from (image, data, command), so training
    # can be skipped when none of that changed.
    card = _get_json(client, store, str(champion["version"]), model_store.CARD_FILE)
    (output_dir / CHAMPION_CARD).unlink(missing_ok=True)
    if card is not None:
        (output_dir / CHAMPION_CARD).write_text(json.dumps(card, indent=2) + "\n")
    return champion, baseline


def summary(promotion: Promotion) -> str:
    r = promotion.record
    rows = [
        ("Champion", f"`{r['model_name']}` version `{r['version']}` ({promotion.status})"),
        ("Model sha256", f"`{r['model_sha256'][:16]}…`"),
        ("Serving image", f"`{r['serving_image'] or '—'}`"),
        ("Task definition", f"`{r['task_definition_arn'] or '—'}`"),
        ("Previous champion", f"`{r['previous_version'] or '—'}`"),
        ("Record", f"`{promotion.record_uri}`"),
    ]
    lines = ["## 🏆 Champion promoted", "", "| | |", "|---|---|"]
    return "\n".join([*lines, *(f"| {k} | {v} |" for k, v in rows)]) + "\n"
