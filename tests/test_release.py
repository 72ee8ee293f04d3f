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
        (staging(), 0, "8.1-bbbbbbb#3", "is move #'4' now, not the #3 planned"),
    ],
)  # fmt: skip
def test_a_release_is_refused_in_one_line(pointer, minutes, expect, message):
    version, _, sequence = expect.partition("#")
    with pytest.raises(release.Refusal) as refused:
        release.plan_release(
            pointer, where=WHERE, now=NOW, min_staging_minutes=minutes, expect_version=version,
            expect_sequence=int(sequence) if sequence else None,
        )  # fmt: skip
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
         [_move(2, "8.1-bbbbbbb")], "no earlier production champion is left"),
        ({"version": "8.1-bbbbbbb", "previous_version": "7.1-aaaaaaa", "sequence": 2},
         [_move(1, "7.1-aaaaaaa", image="ghcr.io/a/b:latest")], "not pinned by digest"),
    ],
)  # fmt: skip
def test_a_rollback_is_refused_in_one_line(pointer, history, message):
    with pytest.raises(release.Refusal, match=message):
        release.plan_rollback(pointer, history, where=WHERE)


# --- against production, before any deploy ---------------------------------------------------

PROD = "s3://models/ci/fraud/production.json"


def card(version, number):
    return {
        "model": {"sha256": version[0] * 64},
        "source": {"repository": "Acme/Fraud", "run_number": str(number), "run_attempt": "1"},
    }


def order(version, number):
    return rules.order_of(version, card(version, number))


def _against(production=None, record=None, production_order=None, plan_card=None):
    plan = release.plan_release(staging(model_sha256="8" * 64), where=WHERE, now=NOW)
    return release.check_production(
        plan, production, card=plan_card if plan_card is not None else card("8.1-bbbbbbb", 8),
        record=record, production_order=production_order, where=PROD,
    )  # fmt: skip


def test_a_release_moves_production_forward_and_says_what_it_replaces():
    assert _against().deploy is True
    against = _against({"version": "7.1-aaaaaaa", "serving_image": IMAGE},
                       production_order=order("7.1-aaaaaaa", 7))  # fmt: skip
    assert against.deploy and against.current == "7.1-aaaaaaa"
    assert "replaces 7.1-aaaaaaa" in against.note


def test_production_already_running_the_version_and_image_is_nothing_to_deploy():
    against = _against({"version": "8.1-bbbbbbb", "serving_image": IMAGE},
                       record={"serving_image": IMAGE, "model_sha256": "8" * 64,
                               "verdict": {"passed": True, "checks": []}})  # fmt: skip
    assert against.deploy is False
    assert against.note == f"production already runs 8.1-bbbbbbb ({IMAGE})"


@pytest.mark.parametrize(
    "production, record, production_order, plan_card, message",
    [
        # staging was force-rolled back below production: refused before the deploy
        ({"version": "9.1-ccccccc", "serving_image": IMAGE}, None, order("9.1-ccccccc", 9),
         None, "is not newer than the production champion 9.1-ccccccc (run 9 attempt 1): a "
         "release only moves production forward"),
        ({"version": "9.1-ccccccc"}, None, rules.Order(), None, "cannot tell whether"),
        (None, {"serving_image": IMAGE.replace("a" * 64, "c" * 64), "model_sha256": "8" * 64,
                "verdict": {"passed": True, "checks": []}}, None, None,
         "went to production before with another serving_image"),
        (None, None, None, {"source": {}}, "not in the model store"),
        (None, None, None, {"model": {"sha256": "9" * 64}}, "not its stored card's"),
    ],
)  # fmt: skip
def test_a_store_side_refusal_comes_in_the_plan(
    production, record, production_order, plan_card, message
):
    with pytest.raises(release.Refusal) as refused:
        _against(production, record, production_order, plan_card)
    assert message in refused.value.message and "\n" not in refused.value.message


def test_promote_checks_the_staging_record_the_plan_captured_not_the_pointer_now():
    captured = staging()
    release.check_staging_record(captured, "8.1-bbbbbbb", IMAGE)
    for record, version, image, message in [
        (None, "8.1-bbbbbbb", IMAGE, "give it"),
        ({**captured, "sequence": None}, "8.1-bbbbbbb", IMAGE, "give it"),
        (captured, "9.1-ccccccc", IMAGE, "not version 9.1-ccccccc"),
        (captured, "8.1-bbbbbbb", IMAGE.replace("a" * 64, "c" * 64), "its serving image"),
    ]:
        with pytest.raises(UserError, match=message):
            release.check_staging_record(record, version, image)


def test_a_production_record_is_judged_on_image_model_and_verdict_not_its_server():
    first = {"version": "7.1-aaaaaaa", "serving_image": IMAGE, "model_sha256": "7" * 64,
             "verdict": {"passed": True}, "task_definition_arn": "arn:td/p:1"}  # fmt: skip
    again = {**first, "task_definition_arn": "arn:td/p:5"}  # a new revision on each deploy
    assert rules.same_promotion(first, again, "production")
    assert not rules.same_promotion(first, again)  # staging keeps the server immutable
    assert not rules.same_promotion(first, {**again, "verdict": {"passed": False}}, "production")


# --- a rollback walks the production history ---------------------------------------------------


def _rolled(sequence, version, **extra):
    return _move(sequence, version, forced=True,
                 release={"tag": "v?", "rollback": True}, **extra)  # fmt: skip


def test_a_second_rollback_goes_further_back_not_forth():
    a, b, c = "7.1-aaaaaaa", "8.1-bbbbbbb", "9.1-ccccccc"
    history = [_move(3, c), _move(2, b), _move(1, a)]
    plan = release.plan_rollback({**history[0], "previous_version": b}, history, where=WHERE)
    assert (plan.current, plan.version) == (c, b)
    # Rolled back to b: the pointer's previous_version is now c, the version just left.
    history.insert(0, _rolled(4, b, previous_version=c))
    plan = release.plan_rollback(history[0], history, where=WHERE)
    assert (plan.current, plan.version) == (b, a)
    assert plan.entry["task_definition_arn"].endswith("p:1")
    history.insert(0, _rolled(5, a, previous_version=b))
    with pytest.raises(release.Refusal, match="no earlier production champion is left"):
        release.plan_rollback(history[0], history, where=WHERE)
    # A release after the rollbacks stacks on a again: the next rollback returns to a.
    history.insert(0, _move(6, c, previous_version=a))
    assert release.plan_rollback(history[0], history, where=WHERE).version == a


def test_a_rollback_finds_the_pointer_even_when_its_history_line_was_lost():
    history = [_move(1, "7.1-aaaaaaa")]
    pointer = {**_move(2, "8.1-bbbbbbb"), "previous_version": "7.1-aaaaaaa"}
    assert release.plan_rollback(pointer, history, where=WHERE).version == "7.1-aaaaaaa"
