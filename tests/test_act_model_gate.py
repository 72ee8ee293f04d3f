"""The model-gate action, run consumer-style through nektos/act against a local GitHub API."""

import json
from pathlib import Path

import pytest

from conftest import make_predictions, write_csv
from support.act_harness import export_tree, init_consumer_repo, run_workflow
from support.fake_github import FakeGitHub

pytestmark = pytest.mark.act

WORKFLOW = """
name: model gate
on: [push, pull_request]
permissions: {}
jobs:
  gate:
    runs-on: ubuntu-latest
    permissions: {contents: read, pull-requests: write}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - id: gate
        uses: org/mlops-actions/actions/model-gate@v1
        with:
          predictions: artifacts/holdout-predictions.csv
          config: .mlops/gate.yml
          thresholds: THRESHOLDS
          fail-on: FAIL_ON
      - name: use the outputs
        env:
          PASSED: ${{ steps.gate.outputs.passed }}
          METRICS: ${{ steps.gate.outputs.metrics }}
        run: test -n "$PASSED" && echo "$METRICS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recall"])'
"""
CONFIG = "columns: {label: is_fraud, score: fraud_probability}\nfairness: {group_columns: [region], metrics: {recall: {max_difference: 0.3}}}\n"


@pytest.fixture(scope="module")
def action_tree(tmp_path_factory):
    return export_tree(tmp_path_factory.mktemp("mlops-actions"))


@pytest.fixture(scope="module")
def act_cache(tmp_path_factory):
    # Shared by the module's runs, so the helper venv in its tool cache is built once.
    return tmp_path_factory.mktemp("act-cache")


def _consumer(tmp_path: Path) -> Path:
    predictions = write_csv(tmp_path / "p.csv", make_predictions(3000, seed=4)).read_text()
    return init_consumer_repo(
        tmp_path / "consumer",
        {
            "artifacts/holdout-predictions.csv": predictions,
            ".mlops/gate.yml": CONFIG,
        },
    )


def _workflow(thresholds: str, fail_on: str = "failure") -> str:
    return WORKFLOW.replace("THRESHOLDS", thresholds).replace("FAIL_ON", fail_on)


def test_gate_under_act_sets_outputs_summary_and_updates_one_comment(
    tmp_path, action_tree, act_cache
):
    consumer = _consumer(tmp_path)
    payload = {"pull_request": {"number": 12, "head": {"sha": "a" * 40}}}
    with FakeGitHub() as github:
        runs = []
        for thresholds in ("recall>=0.5", "precision>=0.6"):
            run = run_workflow(
                consumer,
                _workflow(thresholds),
                action_tree=action_tree,
                cache_dir=act_cache,
                event="pull_request",
                payload=payload,
                secrets={"GITHUB_TOKEN": "test-token"},
                env={"GITHUB_API_URL": github.url},
            )
            runs.append(run)
            assert run.jobs.get("gate") == "success", run.log[-4000:]
        comments = github.comments_on("Acme/Fraud-Detector", 12)
    first, second = runs
    # The helper venv lives in the runner's tool cache: built once, then reused.
    assert "helper environment reused" in second.log
    outputs = first.outputs("gate", "gate")
    assert outputs["passed"] == "true" and outputs["failed-checks"] == "0"
    assert json.loads(outputs["metrics"])["recall"] > 0.5
    assert Path(outputs["verdict-path"]).name == "verdict.json"
    assert "Model gate passed" in first.summaries["gate"]
    # report.html went up as an artifact (the upload-artifact shim: a folder in the capture,
    # which the next run on this consumer replaces: so the last run's) and the summary links it
    url = second.outputs("gate", "gate")["html-url"]
    assert url.startswith(f"file://{second.capture / 'artifacts'}/model-gate-report-gate-"), url
    page = Path(url.removeprefix("file://")) / "report.html"
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert f"📎 [report.html]({url})" in second.summaries["gate"]
    assert "recall by `region`" in first.summaries["gate"]
    assert len(comments) == 1, comments
    assert "precision" in comments[0]["body"] and "≥ 0.6" in comments[0]["body"]


def test_failing_gate_fails_the_job_with_annotations(tmp_path, action_tree, act_cache):
    run = run_workflow(
        _consumer(tmp_path),
        _workflow("precision>=0.999"),
        action_tree=action_tree,
        cache_dir=act_cache,
        event="push",
        payload={"ref": "refs/heads/main"},
    )
    assert run.jobs.get("gate") == "failure"
    assert run.steps["gate"]["gate"]["outcome"] == "failure"
    assert run.outputs("gate", "gate")["passed"] == "false"
    assert "precision 0." in run.log and "is below the minimum 0.999" in run.log


def test_report_only_mode_passes_the_job(tmp_path, action_tree, act_cache):
    run = run_workflow(
        _consumer(tmp_path),
        _workflow("precision>=0.999", "never"),
        action_tree=action_tree,
        cache_dir=act_cache,
        event="push",
        payload={"ref": "refs/heads/main"},
    )
    assert run.jobs.get("gate") == "success", run.log[-3000:]
    assert run.outputs("gate", "gate")["passed"] == "false"


def test_root_action_is_the_same_gate(tmp_path, action_tree, act_cache):
    workflow = _workflow("recall>=0.5").replace(
        "org/mlops-actions/actions/model-gate@v1", "org/mlops-actions@v1"
    )
    run = run_workflow(
        _consumer(tmp_path),
        workflow,
        action_tree=action_tree,
        cache_dir=act_cache,
        event="push",
        payload={"ref": "refs/heads/main"},
    )
    assert run.jobs.get("gate") == "success", run.log[-3000:]
    assert run.outputs("gate", "gate")["passed"] == "true"
