"""What a release may do, and where a rollback goes. Pure: records in, a plan or a refusal out.

A release puts the current *staging* champion into production, nothing rebuilt: its serving
image (by digest), its model, its verdict. Before anything is deployed it is refused, in one
line, when:
- there is no staging champion;
- the staging champion's verdict did not pass;
- it was promoted to staging less than `min-staging-minutes` ago;
- its serving image is not pinned by digest.

Then, still before anything is deployed, against production (`check_production`): the
version's stored card must hold the same model; a production record of that version (records
are immutable) must name the same image, model and verdict; production must move forward (the
staging champion may have been rolled back below production). When production already runs that
version with that image, there is nothing to deploy.

The production pointer's move names the release: its tag and the staging record it came from
(version, sequence, where), and what serves it (a task definition revision or an endpoint
config, new on each deploy). That is part of the move, not of the version's immutable record, so
the same version released again (after a rollback) under a new tag is a forward move, not a
conflict.

A rollback walks the production history: a forward move stacks a version, a rollback unstacks
back to the version it returned to. It goes to the version below the current one, served the way
the history recorded it; so a second rollback goes further back, never forth to the version the
first one left. With none below, there is nothing to roll back to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mlops_actions.champion import record as rules
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
    expect_sequence: int | None = None,
) -> ReleasePlan:
    """The staging champion `staging` (its pointer as read, or None) as a release, or a
    Refusal. `expect_version` and `expect_sequence`, when given, must still be the staging
    champion's version and move (a re-check after the approval wait: staging may have moved
    since the plan)."""
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
    sequence = staging.get("sequence")
    if expect_sequence is not None and sequence != expect_sequence:
        raise Refusal(
            f"the staging champion {version} is move #{shown(str(sequence))} now, not the "
            f"#{expect_sequence} planned: staging moved while the release waited; nothing is "
            "released: run the release again"
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
        raise Refusal(
            f"staging champion {version}: its record has no model sha256 (64 hex digits) "
            f"but {shown(sha or 'none')} ({where})"
        )
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


@dataclass(frozen=True)
class AgainstProduction:
    deploy: bool  # False: production already runs this version with this image
    current: str  # the production champion now ('' for none)
    note: str


IMMUTABLE = ("serving_image", "model_sha256", "verdict")  # what a production record fixes


def check_production(
    plan: ReleasePlan,
    production: Mapping[str, Any] | None,
    *,
    card: Mapping[str, Any] | None,
    record: Mapping[str, Any] | None,
    production_order: rules.Order | None,
    where: str,
) -> AgainstProduction:
    """Every check promote would make against the store, made before the deploy: the version's
    card holds this model; its production record, if any, names the same image, model and
    verdict; production moves forward to it. `production` is the production pointer (or None),
    `record` the version's production record, `production_order` the production champion's."""
    version = plan.version
    model = card.get("model") if card is not None else None
    if not isinstance(model, Mapping):
        raise Refusal(
            f"staging champion {version} is not in the model store beside {where} (no model "
            "card): nothing is released"
        )
    if model.get("sha256") != plan.model_sha256:
        raise Refusal(
            f"staging champion {version}: its record's model sha256 is not its stored card's; "
            "nothing is released"
        )
    if record is not None:
        differs = [k for k in IMMUTABLE if record.get(k) != getattr(plan, k)]
        if differs:
            raise Refusal(
                f"version {version} went to production before with another "
                f"{', '.join(differs)} (its production record is immutable); nothing is "
                "released: give this build a new version"
            )
    current = str(production.get("version") or "") if production else ""
    if production is not None and current == version:
        if production.get("serving_image") == plan.serving_image:
            return AgainstProduction(
                False, current, f"production already runs {version} ({plan.serving_image})"
            )
        raise Refusal(
            f"production champion {version} names another serving image than staging's "
            f"({where}); nothing is released"
        )
    if production is not None:
        order = rules.order_of(version, card or {})
        direction = rules.compare(order, production_order) if production_order else None
        if direction is None:
            raise Refusal(
                f"cannot tell whether staging champion {version} ({order.describe()}) is newer "
                f"than the production champion {current}: their model cards record no "
                "comparable run or time; nothing is released (a rollback goes back on purpose)"
            )
        if direction != 1:
            raise Refusal(
                f"staging champion {version} ({order.describe()}) is not newer than the "
                f"production champion {current} "
                f"({production_order.describe() if production_order else '?'}): a release only "
                "moves production forward; nothing is released (a rollback goes back on purpose)"
            )
    was = f" (replaces {current})" if current else " (the first production champion)"
    return AgainstProduction(True, current, plan.note + was)


def check_staging_record(
    staging: Mapping[str, Any] | None, version: str, serving_image: str
) -> None:
    """At promote time, the staging record release-plan captured (not the pointer now: staging
    may move during the production rollout) must name the version and image deployed."""
    if not isinstance(staging, Mapping) or not isinstance(staging.get("sequence"), int):
        raise UserError(
            "staging-record: a production release names the staging record release-plan "
            "captured (its staging-record-path output); give it"
        )
    if staging.get("version") != version:
        raise UserError(
            f"staging-record: it names {shown(str(staging.get('version')))}, not version "
            f"{version}: promote the version release-plan planned"
        )
    if serving_image and staging.get("serving_image") != serving_image:
        raise UserError(
            f"staging-record: its serving image is not serving-image-ref "
            f"{shown(serving_image)}: promote what release-plan planned"
        )


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


def _is_rollback(move: Mapping[str, Any]) -> bool:
    release = move.get("release") if isinstance(move.get("release"), Mapping) else {}
    assert isinstance(release, Mapping)
    return bool(move.get("forced")) or release.get("rollback") is True


def standing(
    pointer: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The production champions still standing, oldest first, each as its latest move: a
    forward move stacks its version; a rollback unstacks down to the version it returned to
    (or, when the history no longer holds it, starts from it). The pointer is the last move."""
    sequence = pointer.get("sequence") if isinstance(pointer.get("sequence"), int) else None
    moves: dict[int, Mapping[str, Any]] = {}
    for entry in history:
        number = entry.get("sequence")
        if isinstance(number, int) and (sequence is None or number <= sequence):
            moves.setdefault(number, entry)
    if sequence is not None:
        moves[sequence] = {**moves.get(sequence, {}), **pointer}
    stack: list[dict[str, Any]] = []
    for number in sorted(moves):
        move = dict(moves[number])
        if _is_rollback(move):
            versions = [m.get("version") for m in stack]
            if move.get("version") in versions:
                del stack[len(versions) - versions[::-1].index(move.get("version")) - 1 :]
            else:
                stack.clear()
        stack.append(move)
    return stack


def plan_rollback(
    pointer: Mapping[str, Any] | None, history: Sequence[Mapping[str, Any]], *, where: str
) -> RollbackPlan:
    """Back to the production champion below the current one in the history (`standing`), as
    its latest move recorded it: after a rollback, the one before the version rolled back to."""
    if pointer is None:
        raise Refusal(f"no production champion in {where}: nothing to roll back")
    current = str(pointer.get("version") or "")
    if not pointer.get("previous_version"):
        raise Refusal(
            f"production champion {current or '?'} replaced no earlier one ({where}): there is "
            "no previous production champion to roll back to"
        )
    stack = standing(pointer, history)
    if len(stack) < 2:
        raise Refusal(
            f"production champion {current or '?'}: no earlier production champion is left to "
            f"roll back to in the history of {where} (each earlier one was rolled back from, or "
            "the history does not hold it); nothing is rolled back"
        )
    entry = stack[-2]
    previous = str(entry.get("version") or "")
    image = str(entry.get("serving_image") or "")
    if not IMAGE_BY_DIGEST.match(image):
        raise Refusal(
            f"the previous production champion {previous}: its serving image "
            f"{shown(image or 'none')} is not pinned by digest; nothing is rolled back"
        )
    note = f"production goes back from {current} to {previous}"
    return RollbackPlan(current, previous, entry, note)
