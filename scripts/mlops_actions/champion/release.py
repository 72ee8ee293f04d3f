"""What a release may do, and where a rollback goes. Pure: records in, a plan or a refusal out.

A release puts the current *staging* champion into production, nothing rebuilt: its serving
image (by digest), its model, its verdict. Before anything is deployed it is refused, in one
line, when:
- there is no staging champion;
- the staging champion's verdict did not pass;
- it was promoted to staging less than `min-staging-minutes` ago;
- its serving image is not pinned by digest.

The production pointer's move names the release: its tag and the staging record it came from
(version, sequence, where). That is part of the move, not of the version's immutable record, so
the same version released again (after a rollback) under a new tag is a forward move, not a
conflict.

A rollback goes to the version the production pointer replaced (`previous_version`), served the
way the history recorded it; with none, there is nothing to roll back to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST

# A git tag name as a release carries it: no spaces, no control characters, no '..'.
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,127}")


class Refusal(UserError):
    """A release or rollback that must not happen: one line saying why; nothing is deployed."""


def check_tag(tag: str, field: str = "release-tag") -> str:
    tag = (tag or "").strip()
    if tag.startswith("refs/tags/"):
        tag = tag[len("refs/tags/") :]
    if not _TAG.fullmatch(tag) or ".." in tag or tag.endswith((".", "/", ".lock")):
        raise UserError(
            f"{field}: {shown(tag)} is not a release tag name; give the tag, e.g. v1.2.0 "
            "(the workflow passes github.event.release.tag_name or github.ref_name)"
        )
    return tag


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class ReleasePlan:
    version: str
    serving_image: str
    model_sha256: str
    verdict: dict[str, Any]
    staging: dict[str, Any]  # the staging record it came from: version, sequence, where, when
    note: str


def plan_release(
    staging: Mapping[str, Any] | None,
    *,
    where: str,
    now: datetime,
    min_staging_minutes: float = 0,
    expect_version: str = "",
) -> ReleasePlan:
    """The staging champion `staging` (its pointer as read, or None) as a release, or a
    Refusal. `expect_version`, when given, must be the staging champion (a re-check after the
    approval wait: staging may have moved since the plan)."""
    if staging is None:
        raise Refusal(
            f"no staging champion in {where}: nothing to release; promote a model to staging "
            "first (the pipeline's promote job)"
        )
    version = str(staging.get("version") or "")
    if not version:
        raise Refusal(f"{where} names no version: not a champion record; nothing is released")
    if expect_version and version != expect_version:
        raise Refusal(
            f"the staging champion moved from {shown(expect_version)} to {shown(version)} while "
            "the release waited; nothing is released: run the release again"
        )
    verdict = staging.get("verdict")
    if not isinstance(verdict, Mapping) or verdict.get("passed") is not True:
        raise Refusal(
            f"staging champion {version}: its gate verdict did not pass (in {where}); only a "
            "passed model goes to production"
        )
    image = str(staging.get("serving_image") or "")
    if not IMAGE_BY_DIGEST.match(image):
        raise Refusal(
            f"staging champion {version}: its serving image {shown(image or 'none')} is not "
            "pinned by digest (repo@sha256:...); production runs only an image by digest"
        )
    sha = str(staging.get("model_sha256") or "")
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise Refusal(f"staging champion {version}: its record has no model sha256 ({where})")
    promoted_at = staging.get("promoted_at")
    if min_staging_minutes > 0:
        since = _instant(promoted_at)
        if since is None:
            raise Refusal(
                f"staging champion {version}: its record says no time of promotion, so "
                f"min-staging-minutes ({min_staging_minutes:g}) cannot be checked"
            )
        ready = since + timedelta(minutes=min_staging_minutes)
        if now < ready:
            waited = max(0.0, (now - since).total_seconds() / 60)
            raise Refusal(
                f"staging champion {version} was promoted {waited:.0f} min ago, less than "
                f"min-staging-minutes ({min_staging_minutes:g}); release it after "
                f"{ready.isoformat(timespec='seconds')}"
            )
    origin = staging_origin(staging, where)
    return ReleasePlan(
        version, image, sha, dict(verdict), origin,
        f"staging champion {version} (move #{origin['sequence']}) goes to production",
    )  # fmt: skip


def staging_origin(staging: Mapping[str, Any], where: str) -> dict[str, Any]:
    """What the production move records of the staging record it came from."""
    sequence = staging.get("sequence")
    return {
        "version": staging.get("version"),
        "sequence": sequence if isinstance(sequence, int) else None,
        "where": where,
        "promoted_at": staging.get("promoted_at"),
    }


def release_move(
    tag: str, staging: Mapping[str, Any] | None, *, rollback: bool = False
) -> dict[str, Any]:
    """The `release` field of a production move: the tag, the staging record, a rollback."""
    move: dict[str, Any] = {"tag": tag, "staging": dict(staging) if staging else None}
    if rollback:
        move["rollback"] = True
    return move


@dataclass(frozen=True)
class RollbackPlan:
    current: str  # the production champion now
    version: str  # the one to go back to
    entry: dict[str, Any]  # its move in the history: serving image, server, release
    note: str


def plan_rollback(
    pointer: Mapping[str, Any] | None, history: Sequence[Mapping[str, Any]], *, where: str
) -> RollbackPlan:
    """Back to the version the production pointer replaced, as the history recorded its move
    (the latest move to it before the current one)."""
    if pointer is None:
        raise Refusal(f"no production champion in {where}: nothing to roll back")
    current = str(pointer.get("version") or "")
    previous = str(pointer.get("previous_version") or "")
    if not previous:
        raise Refusal(
            f"production champion {current or '?'} replaced no earlier one ({where}): there is "
            "no previous production champion to roll back to"
        )
    sequence = pointer.get("sequence") if isinstance(pointer.get("sequence"), int) else None
    moves = [
        e for e in history
        if e.get("version") == previous and isinstance(e.get("sequence"), int)
        and (sequence is None or e["sequence"] < sequence)
    ]  # fmt: skip
    if not moves:
        raise Refusal(
            f"the previous production champion {previous} has no move in the history of "
            f"{where}: cannot tell what served it, so nothing is rolled back"
        )
    entry = dict(max(moves, key=lambda e: int(e["sequence"])))
    image = str(entry.get("serving_image") or "")
    if not IMAGE_BY_DIGEST.match(image):
        raise Refusal(
            f"the previous production champion {previous}: its serving image "
            f"{shown(image or 'none')} is not pinned by digest; nothing is rolled back"
        )
    note = f"production goes back from {current} to {previous}"
    return RollbackPlan(current, previous, entry, note)
