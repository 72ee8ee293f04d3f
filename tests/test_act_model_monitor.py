"""The model-monitor action, run consumer-style through nektos/act: the example's drifted feed
against its training data, live performance through the gate, and exactly one dispatch to the
local GitHub API stand-in across two runs (the debounce)."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_predictions, write_csv
from support.act_harness import export_tree, init_consumer_repo, run_workflow
from support.fake_github import FakeGitHub

pytestmark = pytest.mark.act

EXAMPLE = REPO / "example-project"
WORKFLOW = """
name: monitor
on: [workflow_dispatch]
permissions: {}
jobs:
  monitor:
    runs-on: ubuntu-latest
    permissions: {contents: write, actions: read}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - id: monitor
        uses: org/mlops-actions/actions/model-monitor@v1
        with:
          reference: data/transactions.csv
          current: feed.csv
          config: .mlops/monitor.yml
          performance-config: .mlops/live.yml
          performance-data: labelled.csv
          dispatch: true
          data-uri: s3://acme-feeds/today.csv
"""
LIVE = "columns: {label: is_fraud, score: fraud_probability}\nmetrics: {precision: {min: 0.99}}\n"


def _consumer(tmp_path, feed):
    generated = tmp_path / "feed.csv"
    subprocess.run([sys.executable, str(EXAMPLE / "data" / "generate.py"), "--feed", feed,
                    "--rows", "3000", "--seed", "21", "--output", str(generated)], check=True)  # fmt: skip
    labelled = write_csv(tmp_path / "labelled.csv", make_predictions(2000, seed=8))
    return init_consumer_repo(
        tmp_path / "consumer",
        {
            "data/transactions.csv": (EXAMPLE / "data" / "transactions.csv").read_bytes(),
            ".mlops/monitor.yml": (EXAMPLE / ".mlops" / "monitor.yml").read_bytes(),
            ".mlops/live.yml": LIVE,
            "feed.csv": generated.read_bytes(),
            "labelled.csv": labelled.read_bytes(),
        },
    )


def test_a_drifted_feed_dispatches_one_retraining_across_two_runs(tmp_path_factory, tmp_path):
    consumer = _consumer(tmp_path, "drifted")
    tree = export_tree(tmp_path_factory.mktemp("tree"))
    cache = tmp_path_factory.mktemp("act-cache")
    with FakeGitHub() as github:
        runs = [
            run_workflow(
                consumer,
                WORKFLOW,
                action_tree=tree,
                cache_dir=cache,
                event="workflow_dispatch",
                secrets={"GITHUB_TOKEN": github.state.token},
                env={"GITHUB_API_URL": github.url},
            )
            for _ in range(2)
        ]
        dispatches = list(github.state.dispatches)
    first, second = runs
    assert first.jobs.get("monitor") == "success", first.log[-4000:]
    assert second.jobs.get("monitor") == "success", second.log[-4000:]
    out1, out2 = first.outputs("monitor", "monitor"), second.outputs("monitor", "monitor")
    assert out1["degraded"] == "true" and float(out1["drift-share"]) >= 0.5
    assert out1["dispatched"] == "true" and out2["dispatched"] == "false"
    assert len(dispatches) == 1 and dispatches[0]["event_type"] == "model-degraded"
    payload = dispatches[0]["client_payload"]
    assert payload["current_data"] == "s3://acme-feeds/today.csv"
    assert any(r.startswith("performance: precision") for r in payload["reasons"])  # live gate
    assert "merchant_category" in payload["drifted_features"]
    summary = first.summaries["monitor"]
    assert "Model degraded" in summary and "Live performance" in summary
    assert "Unseen in the reference" in summary and "crypto" in summary
    url = out2["html-url"]  # report.html as an artifact (the last run's), linked from the summary
    assert (Path(url.removeprefix("file://")) / "report.html").is_file(), url
    assert f"📎 [report.html]({url})" in second.summaries["monitor"]


def test_a_normal_feed_is_quiet(tmp_path_factory, tmp_path):
    consumer = _consumer(tmp_path, "normal")
    workflow = WORKFLOW.replace("          performance-config: .mlops/live.yml\n", "")
    with FakeGitHub() as github:
        run = run_workflow(consumer, workflow, action_tree=export_tree(tmp_path_factory.mktemp("t")),
                           cache_dir=tmp_path_factory.mktemp("c"), event="workflow_dispatch",
                           secrets={"GITHUB_TOKEN": github.state.token},
                           env={"GITHUB_API_URL": github.url})  # fmt: skip
        assert github.state.dispatches == []
    assert run.jobs.get("monitor") == "success", run.log[-4000:]
    out = run.outputs("monitor", "monitor")
    assert out["degraded"] == "false" and out["dispatched"] == "false"
