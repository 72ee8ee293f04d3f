"""Which stages a run may take (an allow-list of events, CD only from the default branch), and
the report of which stage stopped the loop. Pure; the workflow's own use of them runs under act
in test_pipeline_e2e.py."""

import json

import pytest

from conftest import run_cli
from mlops_actions.pipeline import plan, report

ECS = {"model-store": "s3://m/p", "deploy": "ecs", "container-name": "c", "cluster": "staging",
       "service": "svc"}  # fmt: skip
REPO = {"repository": {"default_branch": "main"}}
MAIN, FEATURE = "refs/heads/main", "refs/heads/feature/x"


@pytest.mark.parametrize(
    ("event", "ref", "payload", "expected"),
    [
        ("push", MAIN, REPO, (True, False, True, True)),
        ("push", FEATURE, REPO, (True, False, False, False)),
        ("push", "refs/tags/v1.2.0", REPO, (True, False, False, False)),
        ("pull_request", "refs/pull/4/merge", REPO, (True, True, False, False)),
        ("merge_group", "refs/heads/gh-readonly-queue/main/pr-4", REPO, (True, False, False, False)),
        ("pull_request_target", MAIN, REPO, (False, False, False, False)),
        ("issue_comment", MAIN, REPO, (False, False, False, False)),
        ("schedule", MAIN, REPO, (False, False, True, True)),
        ("schedule", MAIN, {}, (False, False, True, True)),  # GitHub's schedule payload
        ("workflow_dispatch", MAIN, REPO, (False, False, True, True)),
        ("workflow_dispatch", FEATURE, REPO, (False, False, False, False)),
        ("repository_dispatch", MAIN, {**REPO, "action": "data-changed"}, (False, False, True, True)),
        ("repository_dispatch", MAIN, {**REPO, "action": "model-degraded"}, (False, False, True, True)),
        ("repository_dispatch", MAIN, {**REPO, "action": "deploy-now"}, (False, False, False, False)),
        ("push", MAIN, {}, (True, False, False, False)),  # no default branch known: fail closed
    ],
)  # fmt: skip
def test_stages_by_event_and_branch(event, ref, payload, expected):
    decided = plan.decide(event, ref, payload, ECS)
    assert (decided.tests, decided.pr_gate, decided.ct, decided.cd) == expected
    allowed = event != "repository_dispatch" or payload.get("action") in plan.DISPATCH_TYPES
    assert decided.build == (event in plan.CT_EVENTS and allowed)
    assert bool(decided.note) == (not decided.cd), decided.note
    if decided.ct:
        assert decided.cd and decided.build
    assert not decided.problems


def test_the_note_says_why_nothing_was_deployed():
    assert "merge_group is not an event that trains or deploys" in plan.decide(
        "merge_group", MAIN, REPO, ECS).note  # fmt: skip
    assert "refs/heads/feature/x is not the default branch (main)" in plan.decide(
        "push", FEATURE, REPO, ECS).note  # fmt: skip
    hostile = plan.decide("repository_dispatch", MAIN, {**REPO, "action": "x\n::warning::y"}, ECS)
    assert "\n" not in hostile.note and "::" not in hostile.note


def test_inputs_are_checked_only_where_training_runs():
    assert plan.decide("pull_request", MAIN, REPO, {}).problems == []
    problems = plan.decide("push", MAIN, REPO, {"deploy": "sag;maker"}).problems
    assert problems[0].startswith("model-store: required for training")
    assert problems[1] == "deploy: expected ecs, sagemaker or none, got 'sag?maker'"
    assert plan.decide("push", MAIN, REPO, {**ECS, "cluster": ""}).problems == [
        "cluster: required with deploy ecs (or set deploy: sagemaker or none)"]  # fmt: skip


def needs(**results):
    base = {"plan": ("success", {"build": "true", "ct": "true", "cd": "true", "deploy": "ecs"}),
            "tests": ("success", {}), "pr-gate": ("skipped", {}), "build": ("success", {}),
            "train": ("success", {"model-version": "7.1-abc1234", "skipped": "false"}),
            "deploy": ("success", {}), "deploy-sagemaker": ("skipped", {}),
            "promote": ("success", {})}  # fmt: skip
    for name, value in results.items():
        base[name.replace("_", "-")] = (
            value if isinstance(value, tuple) else (value, base[name.replace("_", "-")][1])
        )
    return {k: {"result": r, "outputs": o} for k, (r, o) in base.items()}


@pytest.mark.parametrize(
    ("changes", "stage", "why"),
    [
        ({}, "", "deployed and promoted version 7.1-abc1234"),
        ({"tests": "failure", "deploy": "skipped", "promote": "skipped"}, "tests",
         "the tests failed, so nothing was deployed or promoted (the model was still trained"),
        ({"train": ("failure", {"gate-passed": "false"}), "deploy": "skipped",
          "promote": "skipped"}, "train", "the model gate failed"),
        ({"train": ("success", {"skipped": "true"}), "deploy": "skipped", "promote": "skipped"},
         "", "training was skipped"),
        ({"deploy": "failure", "promote": "skipped"}, "deploy", "the deploy failed"),
        ({"promote": "failure"}, "promote", "the promotion failed"),
        ({"plan": ("success", {"ct": "true", "cd": "false", "note": "not the default branch"}),
          "deploy": "skipped", "promote": "skipped"}, "", "not the default branch"),
        ({"plan": "failure"}, "plan", "the inputs check failed"),
    ],
)  # fmt: skip
def test_the_report_names_the_stage_that_stopped_the_loop(changes, stage, why):
    stopped, said = report.verdict(needs(**changes))
    assert stopped == stage and said.startswith(why), said


def test_the_commands_under_actions(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({**REPO, "action": "model-degraded"}))
    outputs, summary = tmp_path / "out", tmp_path / "summary.md"
    env = {"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_REF": MAIN,
           "GITHUB_EVENT_PATH": str(event), "GITHUB_OUTPUT": str(outputs),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true",
           **{f"INPUT_{k.upper().replace('-', '_')}": v for k, v in ECS.items()}}  # fmt: skip
    proc = run_cli("pipeline-plan", env=env)
    assert proc.returncode == 0, proc.stderr
    assert {"ct=true", "cd=true", "tests=false", "deploy=ecs"} <= set(outputs.read_text().split())
    bad = run_cli("pipeline-plan", env={**env, "INPUT_DEPLOY": "k8s"})
    assert bad.returncode == 1 and "::error title=mlops-pipeline::deploy: expected" in bad.stdout
    facts = "\n".join(
        [f"{job}={v['result']}" for job, v in needs(tests="failure").items()]
        + [f"train.{k}={v}" for k, v in needs()["train"]["outputs"].items()]
        + ["plan.ct=true", "plan.cd=true", "train.model-version=x::warning::y"]
    )
    proc = run_cli("pipeline-report", "--facts", facts, env=env)
    assert proc.returncode == 0 and "The loop stopped at tests" in summary.read_text()
    assert "stopped-at=tests" in outputs.read_text()
    broken = run_cli("pipeline-report", "--facts", "no equals sign", env=env)
    assert broken.returncode == 2 and "facts: line 1 is not job=result" in broken.stdout


def test_versions_are_ordered_by_run_within_one_workflow_else_by_training_time():
    from mlops_actions.champion import record

    def card(number, started, workflow="Acme/x/.github/workflows/mlops.yml"):
        return {"source": {"repository": "Acme/x", "run_number": str(number), "run_attempt": "1",
                           "workflow": workflow}, "run": {"started_at": started}}  # fmt: skip

    early, late = "2026-11-01T10:00:00+00:00", "2026-11-02T10:00:00+00:00"
    old = record.order_of("v", card(240, early))
    assert record.compare(record.order_of("v", card(12, late)), old) == -1  # run 12 < run 240
    # Another workflow file counts its own runs: run 12 of retrain.yml is compared by time.
    other = record.order_of("v", card(12, late, "Acme/x/.github/workflows/retrain.yml"))
    assert record.compare(other, old) == 1
    assert (
        record.compare(record.order_of("7.2-abcdef0", {}), record.order_of("9.1-abcdef0", {})) == -1
    )
    assert record.compare(record.order_of("v", {}), record.order_of("w", {})) is None
