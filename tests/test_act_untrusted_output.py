"""Text from a training container or a Dockerfile never acts as a workflow command, checked
through nektos/act running the real actions: act applies set-output, add-mask and annotations
from a step's output (and honours stop-commands), so anything smuggled would show here."""

import re
import uuid

import pytest

from support.act_harness import export_tree, init_consumer_repo, run_workflow

pytestmark = pytest.mark.act

# Every form a runner may parse: at line start, after whitespace, and the legacy ##[...] form.
HOSTILE_LINES = [
    "::set-output name=smuggled::yes",
    "  ::set-output name=spaced::yes",
    "::add-mask::hostilesecret",
    "\t::add-mask::tabsecret",
    "::error title=forged::forged error",
    "::warning::forged warning",
    "log ##[error]forged legacy",
    "::stop-commands::guessed",
    "::group::forged group",
]
PRINT_ALL = "\n".join(f"print({line!r})" for line in HOSTILE_LINES)


def _no_command_took_effect(log: str, outputs: dict[str, str]) -> None:
    assert "smuggled" not in outputs and "spaced" not in outputs, outputs
    # A mask would turn these words into *** in every later line.
    assert "after hostilesecret tabsecret" in log
    # act marks commands it executed: ❗ error, 🚧 warning, ⚙ other commands.
    lines = [re.sub(r"^\[[^\]]*\]", "", ln) for ln in log.splitlines()]  # drop [workflow/job]
    executed = [ln for ln in lines if re.search(r"(❗|🚧|⚙)\s+(::|\*\*\*)", ln)]
    forged = [
        ln for ln in executed if re.search(r"forged|hostilesecret|tabsecret|guessed|smuggled", ln)
    ]
    assert forged == [], forged


def test_training_logs_cannot_set_outputs_masks_or_annotations(pushed, tmp_path_factory, tmp_path):
    image, registry = pushed
    script = PRINT_ALL + "\nopen('/app/artifacts/model.skops', 'w').write('model')\n"
    failing = PRINT_ALL + "\nraise SystemExit(3)\n"
    consumer = init_consumer_repo(
        tmp_path / "consumer", {"hostile/ok.py": script, "hostile/fail.py": failing}
    )
    workflow = f"""
name: hostile
on: [push]
permissions: {{}}
jobs:
  train:
    runs-on: ubuntu-latest
    permissions: {{contents: read}}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {{persist-credentials: false}}
      - id: train
        uses: org/mlops-actions/actions/containerized-train@v1
        with:
          image: "{image}"
          command: python /data/hostile/ok.py
          data: hostile
          registry: "{registry["host"]}"
          username: mlops
          password: ${{{{ secrets.REGISTRY_PASSWORD }}}}
          network: none
      - id: failing
        continue-on-error: true
        uses: org/mlops-actions/actions/containerized-train@v1
        with:
          image: "{image}"
          command: python /data/hostile/fail.py
          data: hostile
          network: none
      - run: echo "after hostilesecret tabsecret"
"""
    run = run_workflow(
        consumer,
        workflow,
        action_tree=export_tree(tmp_path_factory.mktemp("tree")),
        cache_dir=tmp_path_factory.mktemp("act-cache"),
        secrets={"REGISTRY_PASSWORD": registry["password"]},
    )
    assert run.jobs.get("train") == "success", run.log[-5000:]
    trained, failed = run.outputs("train", "train"), run.outputs("train", "failing")
    assert trained["model-sha256"]  # the training itself worked
    _no_command_took_effect(run.log, trained)
    _no_command_took_effect(run.log, failed)
    # The failure's last log lines reach the log and the summary, fenced and defused.
    assert "training command exited with code 3" in run.log
    assert ": :set-output name=smuggled::yes" in run.log
    # Our own group is still there and closed: the forged ::group:: did not open one.
    assert re.search(r"❓\s+::group::training logs", run.log), run.log[-3000:]


def test_build_output_cannot_set_outputs_masks_or_annotations(testbed, tmp_path_factory, tmp_path):
    registry = testbed["registry"]
    echoes = " && ".join(f"printf '%s\\n' {line!r}" for line in HOSTILE_LINES)
    nonce = uuid.uuid4().hex  # a RUN line of its own, so the engine's layer cache cannot skip it
    dockerfile = f"FROM local/python:3.11-bookworm\nRUN echo {nonce} && {echoes}\n"
    consumer = init_consumer_repo(
        tmp_path / "consumer",
        {"Dockerfile": dockerfile},
        remote="https://github.com/acme/buildprobe.git",
    )
    workflow = f"""
name: hostile-build
on: [push]
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions: {{contents: read, packages: write}}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with: {{persist-credentials: false}}
      - id: build
        uses: org/mlops-actions/actions/build-push-ghcr@v1
        with:
          registry: "{registry["host"]}"
          push: "false"
          cache: none
      - run: echo "after hostilesecret tabsecret"
"""
    run = run_workflow(
        consumer,
        workflow,
        action_tree=export_tree(tmp_path_factory.mktemp("tree")),
        cache_dir=tmp_path_factory.mktemp("act-cache"),
        payload={"ref": "refs/heads/main"},
    )
    assert run.jobs.get("build") == "success", run.log[-5000:]
    _no_command_took_effect(run.log, run.outputs("build", "build"))
    # The RUN step really printed them, as the build's live output: defused at line start by
    # the classic builder's log, or behind BuildKit's `#5 0.145 ` prefix, where no runner
    # parses a command. Either way no line (act's `[workflow/job]   | ` taken off) starts one.
    contents = [re.sub(r"^\[[^\]]*\]\s+\|\s?", "", line) for line in run.log.splitlines()]
    printed = [c for c in contents if "set-output name=smuggled::yes" in c]
    assert any(c.lstrip().startswith((": :set-output", "#")) for c in printed), printed
    assert not any(re.match(r"\s*::set-output", c) for c in printed), printed
    assert "## [error]forged legacy" in run.log
