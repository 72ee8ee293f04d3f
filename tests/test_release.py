"""The release rules, pure: every refusal before a release or a rollback, the release a
production move records, and where a rollback goes."""

from datetime import datetime, timedelta, timezone

import pytest

from mlops_actions.champion import record as rules
from mlops_actions.champion import release
from mlops_actions.errors import UserError

IMAGE = "ghcr.io/acme/fraud-detector-serving@sha256:" + "a" * 64
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
WHERE = "s3://models/ci/fraud/champion.json"


def staging(**changes):
    pointer = {
        "version": "8.1-bbbbbbb",
        "serving_image": IMAGE,
        "model_sha256": "b" * 64,
        "verdict": {"passed": True, "checks": []},
        "promoted_at": (NOW - timedelta(hours=2)).isoformat(),
        "sequence": 4,
    }
    return {**pointer, **changes}


def test_the_staging_champion_is_released_with_its_record_named():
    plan = release.plan_release(staging(), where=WHERE, now=NOW, min_staging_minutes=60)
    assert (plan.version, plan.serving_image, plan.model_sha256) == (
        "8.1-bbbbbbb", IMAGE, "b" * 64,
    )  # fmt: skip
    assert plan.staging == {
        "version": "8.1-bbbbbbb", "sequence": 4, "where": WHERE,
        "promoted_at": staging()["promoted_at"],
    }  # fmt: skip
    assert plan.verdict["passed"] is True


@pytest.mark.parametrize(
    "pointer, minutes, expect, message",
    [
        (None, 0, "", "no staging champion in s3://models/ci/fraud/champion.json"),
        (staging(verdict={"passed": False}), 0, "", "verdict did not pass"),
        (staging(verdict=None), 0, "", "verdict did not pass"),
        (staging(verdict={"passed": "true"}), 0, "", "verdict did not pass"),
        (staging(promoted_at=(NOW - timedelta(minutes=10)).isoformat()), 30, "",
         "promoted 10 min ago, less than min-staging-minutes (30)"),
        (staging(promoted_at=None), 5, "", "says no time of promotion"),
        (staging(serving_image="ghcr.io/acme/serving:latest"), 0, "", "not pinned by digest"),
        (staging(serving_image=None), 0, "", "not pinned by digest"),
        (staging(model_sha256=""), 0, "", "no model sha256"),
        (staging(), 0, "7.1-aaaaaaa", "moved from '7.1-aaaaaaa' to '8.1-bbbbbbb'"),
    ],
)  # fmt: skip
def test_a_release_is_refused_in_one_line(pointer, minutes, expect, message):
    with pytest.raises(release.Refusal) as refused:
        release.plan_release(
            pointer, where=WHERE, now=NOW, min_staging_minutes=minutes, expect_version=expect
        )
    assert message in refused.value.message
    assert "\n" not in refused.value.message


def test_min_staging_minutes_zero_needs_no_time_and_exactly_enough_passes():
    release.plan_release(staging(promoted_at=None), where=WHERE, now=NOW)
    at = (NOW - timedelta(minutes=30)).isoformat()
    release.plan_release(staging(promoted_at=at), where=WHERE, now=NOW, min_staging_minutes=30)


@pytest.mark.parametrize("tag", ["v1.2.0", "refs/tags/v1.2.0", "release/2026-11"])
def test_release_tags(tag):
    assert release.check_tag(tag) in ("v1.2.0", "release/2026-11")


@pytest.mark.parametrize("tag", ["", "v1 2", "v1..2", "-x", "v1\nx", "a" * 200, "v1.lock"])
def test_bad_release_tags_are_refused(tag):
    with pytest.raises(UserError, match="release-tag"):
        release.check_tag(tag)


def test_the_production_move_names_the_tag_and_the_staging_record():
    plan = release.plan_release(staging(), where=WHERE, now=NOW)
    record = {"version": plan.version, "serving_image": IMAGE, "verdict": plan.verdict,
              "release": {"tag": "v0.9.0", "staging": None}}  # fmt: skip
    move = release.release_move("v1.0.0", plan.staging)
    pointer = rules.moved(
        record, {"version": "7.1-aaaaaaa", "sequence": 2}, rules.Decision(True),
        promoted_at=NOW.isoformat(), source={}, release=move,
    )  # fmt: skip
    assert pointer["release"] == {"tag": "v1.0.0", "staging": plan.staging}
    assert (pointer["previous_version"], pointer["sequence"]) == ("7.1-aaaaaaa", 3)
    assert rules.history_entry(pointer)["release"]["tag"] == "v1.0.0"
    # The same version released under another tag is the same record: the tag is the move's.
    assert rules.same_promotion(record, {**record, "release": move})
    assert release.release_move("v1.0.0", None, rollback=True)["rollback"] is True


def _move(sequence, version, image=IMAGE, **extra):
    return {"sequence": sequence, "version": version, "serving_image": image,
            "task_definition_arn": f"arn:aws:ecs:us-east-1:1:task-definition/p:{sequence}",
            "release": {"tag": f"v{sequence}"}, **extra}  # fmt: skip


def test_a_rollback_goes_to_the_version_production_replaced_as_it_was_served():
    history = [_move(3, "9.1-ccccccc"), _move(2, "8.1-bbbbbbb"), _move(1, "7.1-aaaaaaa")]
    pointer = {**history[0], "previous_version": "8.1-bbbbbbb"}
    plan = release.plan_rollback(pointer, history, where=WHERE)
    assert (plan.current, plan.version) == ("9.1-ccccccc", "8.1-bbbbbbb")
    assert plan.entry["task_definition_arn"].endswith("p:2")
    assert plan.entry["release"]["tag"] == "v2"


def test_a_rollback_takes_the_latest_earlier_move_to_that_version():
    history = [_move(4, "8.1-bbbbbbb"), _move(3, "9.1-ccccccc"), _move(2, "8.1-bbbbbbb"),
               _move(1, "9.1-ccccccc")]  # fmt: skip
    pointer = {**history[0], "previous_version": "9.1-ccccccc"}
    assert release.plan_rollback(pointer, history, where=WHERE).entry["sequence"] == 3


@pytest.mark.parametrize(
    "pointer, history, message",
    [
        (None, [], "no production champion"),
        ({"version": "7.1-aaaaaaa", "previous_version": None, "sequence": 1},
         [_move(1, "7.1-aaaaaaa")], "no previous production champion"),
        ({"version": "8.1-bbbbbbb", "previous_version": "7.1-aaaaaaa", "sequence": 2},
         [_move(2, "8.1-bbbbbbb")], "has no move in the history"),
        ({"version": "8.1-bbbbbbb", "previous_version": "7.1-aaaaaaa", "sequence": 2},
         [_move(1, "7.1-aaaaaaa", image="ghcr.io/a/b:latest")], "not pinned by digest"),
    ],
)  # fmt: skip
def test_a_rollback_is_refused_in_one_line(pointer, history, message):
    with pytest.raises(release.Refusal, match=message):
        release.plan_rollback(pointer, history, where=WHERE)
