"""Promote a stored model version to a stage (the champion, or production), or fetch a stage's
record for the next gate. The same for every store (S3, MLflow): the store is an adapter
(model_store.ModelStore), the rules are champion.record.

promote: validate (verdict passed, version stored, model sha, image by digest) → create the
version's record once (immutable) → read the pointer, decide by the rules, compare-and-swap;
on a conflict read and decide again → read the pointer back: a promotion that does not hold
the pointer afterwards (it lost a race, or a newer one came just after) says so and fails →
keep the move in the history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_actions import model_store
from mlops_actions.champion import record as rules
from mlops_actions.champion import release as releases
from mlops_actions.charts import cell
from mlops_actions.errors import UserError, shown
from mlops_actions.model_store import ModelStore

POINTER = "champion.json"
CHAMPION_CARD = "champion-model-card.json"
MAX_ATTEMPTS = 8  # compare-and-swap conflicts before giving up: promotions are rare


@dataclass
class Promotion:
    record: dict[str, Any]  # the pointer, as read back
    status: str  # promoted | unchanged
    where: str
    note: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def pointer_order(store: ModelStore, pointer: Mapping[str, Any]) -> rules.Order:
    """The champion's order: from its card (the record may predate `order`)."""
    version = str(pointer.get("version"))
    card = store.card(version) if model_store.is_name(version) else None
    if card is not None:
        return rules.order_of(version, card)
    stored = pointer.get("order") if isinstance(pointer.get("order"), Mapping) else {}
    assert isinstance(stored, Mapping)
    number, attempt = stored.get("run_number"), stored.get("run_attempt")
    return rules.Order(
        stored.get("repository"),
        (int(number), int(attempt or 1)) if isinstance(number, int) else None,
        stored.get("trained_at"),
        stored.get("workflow"),
    )


def promote(
    store: ModelStore,
    version: str,
    verdict: dict[str, Any],
    *,
    stage: str = "champion",
    serving_image: str = "",
    task_definition_arn: str = "",
    endpoint_config: str = "",
    expected_sha256: str = "",
    source: dict[str, Any] | None = None,
    force: bool = False,
    release_tag: str = "",
    staging_record: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> Promotion:
    model_store.check_name(version, "version")
    release, origin = _release_of(
        store, stage, version, release_tag, force, staging_record, serving_image
    )
    card = store.card(version)
    if card is None:
        raise UserError(
            f"version {version} is not in the model store (no {store.where_version(version)}); "
            "promote a version that training stored"
        )
    sha = (card.get("model") or {}).get("sha256") if isinstance(card.get("model"), dict) else None
    if expected_sha256 and sha != expected_sha256:
        raise UserError(
            f"model-sha256 {expected_sha256[:16]}… is not the stored version's {str(sha)[:16]}…"
        )
    now = _now()  # one instant for the record and the move it starts with
    record = rules.build(
        model_name=store.model_name,
        version=version,
        card=card,
        verdict=verdict,
        serving_image=serving_image,
        task_definition_arn=task_definition_arn,
        endpoint_config=endpoint_config,
        promoted_at=now,
        source=source or {},
    )
    if release is not None:  # the first release of this version, kept with its record
        record["release"] = releases.release_move(release, origin, rollback=force)
    order = rules.order_of(version, card)
    existing = store.create_record(stage, version, record)
    if existing is not None:
        if not rules.same_promotion(existing, record, stage):
            raise UserError(
                f"version {version} was already promoted to {stage} with another image, verdict "
                "or server; records are immutable: give this build a new version"
            )
        served = {}
        if stage == "production":  # what serves it now is this move's, not the first one's
            served = {k: record.get(k) for k in rules.SERVER_FIELDS if record.get(k)}
            existing = {k: v for k, v in existing.items() if k not in rules.SERVER_FIELDS}
        record = {**existing, **served, "order": existing.get("order") or record["order"]}
        if release is not None and origin is None:  # a rollback: where it first came from
            first = existing.get("release")
            staged = first.get("staging") if isinstance(first, dict) else None
            origin = staged if isinstance(staged, dict) else None
    for _ in range(MAX_ATTEMPTS):
        current, token = store.read_pointer(stage)
        if current is not None and isinstance(current.get("sequence"), int):
            store.add_history(stage, rules.history_entry(current))  # repairs a lost write
        decision = rules.decide(
            current, pointer_order(store, current) if current else None, version, order,
            stage=stage, force=force,
        )  # fmt: skip
        if not decision.move:
            return Promotion(_held(store, stage, version), "unchanged", store.where(stage),
                             decision.note)  # fmt: skip
        moves = None
        if release is not None:
            moves = releases.release_move(release, origin, rollback=decision.rollback)
        pointer = rules.moved(
            record, current, decision, promoted_at=now, source=source or {}, release=moves
        )
        stored = store.swap_pointer(stage, pointer, token)
        if stored is not None:
            log(f"{stage}: {decision.note}")
            store.add_history(stage, rules.history_entry(stored))
            held = _held(store, stage, version)
            return Promotion(held, "promoted", store.where(stage), decision.note)
        log(f"{stage}: another promotion moved {store.where(stage)} first; deciding again")
    raise UserError(
        f"{store.where(stage)} kept moving under this promotion ({MAX_ATTEMPTS} tries); "
        "nothing was changed by it: run it again"
    )


def check_release(stage: str, release_tag: str) -> str:
    """The release tag, as given for `stage`: required for production, refused otherwise."""
    if stage != "production":
        if release_tag:
            raise UserError("release-tag: only a production promotion names a release (stage)")
        return ""
    if not release_tag:
        raise UserError(
            "release-tag: a production promotion names its release: give the tag (e.g. v1.2.0)"
        )
    return releases.check_tag(release_tag)


def _release_of(
    store: ModelStore,
    stage: str,
    version: str,
    release_tag: str,
    force: bool,
    staging: Mapping[str, Any] | None,
    serving_image: str,
) -> tuple[str | None, dict[str, Any] | None]:
    """(the release tag, the staging record it came from) for a production promotion, checked
    before anything is written; (None, None) for the champion. Without `force` production takes
    the staging record release-plan captured before the deploy, never the staging pointer as it
    is now (staging may have moved during the rollout, which is no reason to leave production
    unrecorded); with `force` (a rollback) the version's first release says where it came
    from."""
    if stage != "production":
        check_release(stage, release_tag)
        if staging is not None:
            raise UserError("staging-record: only a production release names one (stage)")
        return None, None
    tag = check_release(stage, release_tag)
    if force:
        return tag, None
    releases.check_staging_record(staging, version, serving_image)
    assert staging is not None
    return tag, releases.staging_origin(staging, store.where("champion"))


def _held(store: ModelStore, stage: str, version: str) -> dict[str, Any]:
    """The pointer read back; it must name `version`, else this promotion does not hold it."""
    back, _ = store.read_pointer(stage)
    if back is None or back.get("version") != version:
        now = shown(back.get("version")) if back else "nothing"
        raise UserError(
            f"{store.where(stage)} names {now}, not {version}, once moved: a newer promotion "
            "came just after (or won a race); this one is not the champion"
        )
    return back


def check_newer(
    store: ModelStore, pointer: Mapping[str, Any] | None, version: str, force: bool = False
) -> str:
    """Before a deploy: may `version` replace the champion `pointer`? The same rule promote
    applies, checked where the deploy would happen, so an older run is refused before it
    reaches the service, not only before it reaches the record."""
    model_store.check_name(version, "challenger-version")
    card = store.card(version)
    if card is None:
        raise UserError(
            f"challenger-version: {version} is not in the model store (no "
            f"{store.where_version(version)})"
        )
    decision = rules.decide(
        pointer, pointer_order(store, pointer) if pointer else None, version,
        rules.order_of(version, card), stage="champion", force=force,
    )  # fmt: skip
    return decision.note


def fetch(
    store: ModelStore, output_dir: Path, stage: str = "champion"
) -> tuple[dict[str, Any] | None, Path | None, Path | None]:
    """(the pointer, its verdict as a gate baseline file, its model card) or Nones."""
    pointer, _ = store.read_pointer(stage)
    if pointer is None:
        return None, None, None
    if not isinstance(pointer.get("verdict"), dict) or not pointer.get("version"):
        raise UserError(f"{store.where(stage)} is not a champion record (no version or verdict)")
    version = str(pointer["version"])
    model_store.check_name(version, f"{store.where(stage)}: version")
    output_dir.mkdir(parents=True, exist_ok=True)
    baseline = _write(output_dir / "champion-verdict.json", pointer["verdict"])
    _write(output_dir / POINTER, pointer)
    # The champion's model card: what it was trained from (image, data, command), so training
    # can be skipped when none of that changed.
    card = store.card(version)
    card_path = output_dir / CHAMPION_CARD
    card_path.unlink(missing_ok=True)
    if card is not None:
        _write(card_path, card)
    return pointer, baseline, card_path if card is not None else None


def _write(path: Path, data: Any) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def summary(promotion: Promotion, stage: str = "champion") -> str:
    """The job summary: what the pointer names, read back. Values come from the store, so each
    is escaped (the caller prints it with workflow commands suspended)."""
    r = promotion.record

    def code(value: Any) -> str:
        return f"`{cell(str(value), 100)}`" if value else "—"

    rows = [
        (stage.capitalize(), f"{code(r.get('model_name'))} version {code(r.get('version'))} "
                             f"({promotion.status}, read back)"),
        ("Model sha256", code(str(r.get("model_sha256") or "")[:16] + "…")),
        ("Serving image", code(r.get("serving_image"))),
        ("Served by", code(r.get("task_definition_arn") or r.get("endpoint_config"))),
        ("Replaced", code(r.get("previous_version"))),
        ("Move", f"#{r.get('sequence') or '?'}" + (" (forced)" if r.get("forced") else "")),
        ("Where", code(promotion.where)),
    ]  # fmt: skip
    release = r.get("release") if isinstance(r.get("release"), Mapping) else None
    if release is not None:
        staging = release.get("staging") if isinstance(release.get("staging"), Mapping) else {}
        assert isinstance(staging, Mapping)
        came = (f"staging {code(staging.get('version'))} (move #{staging.get('sequence') or '?'})"
                if staging else "—")  # fmt: skip
        rows.insert(1, ("Release", code(release.get("tag"))
                        + (" (rollback)" if release.get("rollback") else "")))  # fmt: skip
        rows.insert(2, ("From", came))
    title = "## 🏆 Champion promoted" if stage == "champion" else f"## 🏆 Promoted to {stage}"
    if promotion.status == "unchanged":
        title = f"## 🏆 Already the {stage}"
    lines = [title, "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines) + "\n"
