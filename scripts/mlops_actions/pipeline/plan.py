"""Which stages of mlops-pipeline.yml a run may take, by an allow-list of events and the branch,
and whether the inputs the later jobs need are there. Pure: the event and inputs in, a Plan out.

- tests run on push, pull_request and merge_group (the code is the change);
- the PR gate runs on pull_request only (it never needs AWS: fork PRs get no credentials);
- the image is built on push, repository_dispatch of the documented types (data-changed,
  model-degraded), schedule and workflow_dispatch, on any branch or tag (its tags say which);
- CT (train, gate, package) and CD (deploy, promote) run on those events from the default
  branch only: a version in the model store is always one that could become the champion, and
  the store's role need trust the default branch alone. CD also waits for the tests (each
  job's `if:` says so), where tests ran. A schedule always runs on the default branch (its
  event names no repository, so none is looked up).

Everything else (merge_group, pull_request_target, issue_comment, a dispatch of another type,
a push of a tag, ...) deploys nothing, and the plan says why in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TEST_EVENTS = ("push", "pull_request", "merge_group")
CT_EVENTS = ("push", "repository_dispatch", "schedule", "workflow_dispatch")
DISPATCH_TYPES = ("data-changed", "model-degraded")
DEPLOY_TARGETS = ("ecs", "sagemaker", "none")


@dataclass(frozen=True)
class Plan:
    tests: bool
    pr_gate: bool
    build: bool
    ct: bool
    cd: bool
    note: str  # why CT or CD does not run ("" when everything runs)
    problems: list[str] = field(default_factory=list)  # inputs the later jobs need


def _safe(text: str) -> str:
    """A value from the event or the inputs, as it may appear in a one-line message."""
    return "".join(c if c.isalnum() or c in "_.-/" else "?" for c in text)[:80]


def decide(
    event_name: str, ref: str, payload: Mapping[str, Any], inputs: Mapping[str, str]
) -> Plan:
    repository = payload.get("repository") if isinstance(payload.get("repository"), Mapping) else {}
    assert isinstance(repository, Mapping)
    default = str(repository.get("default_branch") or "")
    # GitHub runs a schedule on the default branch only, and its payload has no repository.
    on_default = event_name == "schedule" or (bool(default) and ref == f"refs/heads/{default}")
    tests = event_name in TEST_EVENTS
    build = event_name in CT_EVENTS
    note = ""
    if event_name == "repository_dispatch" and payload.get("action") not in DISPATCH_TYPES:
        build = False
        note = (
            f"repository_dispatch of type '{_safe(str(payload.get('action') or ''))}': only "
            f"{' and '.join(DISPATCH_TYPES)} retrain and deploy"
        )
    elif event_name == "pull_request":
        note = "a pull request: tests and the gate only; nothing is pushed, trained or deployed"
    elif not build:
        note = (
            f"{_safe(event_name)} is not an event that trains or deploys (only "
            f"{', '.join(CT_EVENTS)})"
        )
    ct = cd = build and on_default
    if build and not on_default:
        where = _safe(ref) or "no ref"
        note = (
            f"{where} is not the default branch ({_safe(default) or 'unknown'}): the image is "
            "built; nothing is trained, deployed or promoted"
        )
    problems = check_inputs(inputs) if ct else []
    return Plan(tests, event_name == "pull_request", build, ct, cd, note, problems)


def check_inputs(inputs: Mapping[str, str]) -> list[str]:
    """What the later jobs need, named before anything is built, trained or registered: a typo
    in `deploy` used to train and package a model that no job deployed or promoted."""
    problems = []
    if not inputs.get("model-store", "").strip():
        problems.append(
            "model-store: required for training; give s3://bucket/prefix or an MLflow tracking URI"
        )
    deploy = inputs.get("deploy", "").strip()
    if deploy == "ecs":
        for name in ("container-name", "cluster", "service"):
            if not inputs.get(name, "").strip():
                problems.append(
                    f"{name}: required with deploy ecs (or set deploy: sagemaker or none)"
                )
    elif deploy == "sagemaker":
        for name in ("sagemaker-endpoint", "sagemaker-execution-role-arn"):
            if not inputs.get(name, "").strip():
                problems.append(f"{name}: required with deploy sagemaker")
    elif deploy not in DEPLOY_TARGETS:
        problems.append(f"deploy: expected ecs, sagemaker or none, got '{_safe(deploy)}'")
    return problems
