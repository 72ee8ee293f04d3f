"""Data validation through nektos/act, consumer-style: the validate-data action on good and
broken data, and containerized-train's `schema` input stopping a run before anything trains."""

import subprocess
import sys

import pytest

from conftest import REPO
from support.act_harness import export_tree, init_consumer_repo, run_workflow

pytestmark = pytest.mark.act

EXAMPLE = REPO / "example-project"
WORKFLOW = """
name: validate
on: [push]
permissions: {}
jobs:
  validate:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {persist-credentials: false}
      - id: good
        uses: org/mlops-actions/actions/validate-data@v1
        with: {data: data/transactions.csv, schema: data/transactions.schema.yml}
      - id: train
        uses: org/mlops-actions/actions/containerized-train@v1
        with:
          image: registry.invalid/never/pulled@sha256:0000000000000000000000000000000000000000000000000000000000000000
          data: data/new-batch.csv
          schema: data/transactions.schema.yml
"""


def test_broken_data_stops_the_run_before_training(tmp_path_factory, tmp_path):
    batch = tmp_path / "batch.csv"
    subprocess.run([sys.executable, str(EXAMPLE / "data" / "generate.py"), "--feed", "broken",
                    "--rows", "2000", "--seed", "5", "--output", str(batch)], check=True)  # fmt: skip
    consumer = init_consumer_repo(
        tmp_path / "consumer",
        {
            "data/transactions.csv": (EXAMPLE / "data" / "transactions.csv").read_bytes(),
            "data/transactions.schema.yml": (
                EXAMPLE / "data" / "transactions.schema.yml"
            ).read_bytes(),
            "data/new-batch.csv": batch.read_bytes(),
        },
    )
    run = run_workflow(consumer, WORKFLOW, action_tree=export_tree(tmp_path_factory.mktemp("tree")),
                       cache_dir=tmp_path_factory.mktemp("cache"), event="push",
                       payload={"ref": "refs/heads/main"})  # fmt: skip
    assert run.jobs.get("validate") == "failure", run.log[-4000:]
    assert run.outputs("validate", "good")["passed"] == "true"
    assert run.steps["validate"]["train"]["outcome"] == "failure"
    # The failure is the validation's: all six problems reported, and the container never ran.
    assert "Data invalid: 6 problems" in run.log
    for problem in ("missing column", "type change", "out of range", "new category",
                    "missing values", "label balance"):  # fmt: skip
        assert problem in run.log, problem
    assert "Train in the container" not in run.log.split("Validate the data before training")[-1]
