"""The run's last word: which stage stopped the loop, and why, from the jobs' results
(`toJSON(needs)` of the pipeline's report job). Pure: a mapping in, Markdown out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_actions.charts import cell

STAGES = (  # job id, what it is
    ("plan", "plan and input check"),
    ("tests", "tests"),
    ("pr-gate", "model gate (pull request)"),
    ("build", "build and push the image"),
    ("train", "train, gate, package"),
    ("deploy", "deploy (ECS)"),
    ("deploy-sagemaker", "deploy (SageMaker)"),
    ("promote", "promote to champion"),
)
ICONS = {"success": "✅", "failure": "❌", "cancelled": "🚫", "skipped": "⏭️"}


def _job(needs: Mapping[str, Any], name: str) -> tuple[str, Mapping[str, Any]]:
    job = needs.get(name) if isinstance(needs.get(name), Mapping) else {}
    assert isinstance(job, Mapping)
    outputs = job.get("outputs") if isinstance(job.get("outputs"), Mapping) else {}
    assert isinstance(outputs, Mapping)
    return str(job.get("result") or "skipped"), outputs


def verdict(needs: Mapping[str, Any]) -> tuple[str, str]:
    """(the stage that stopped the loop, or "" when it ran to its end; why, in one line)."""
    result = {name: _job(needs, name)[0] for name, _ in STAGES}
    plan, train = _job(needs, "plan")[1], _job(needs, "train")[1]
    deployed = "success" in (result["deploy"], result["deploy-sagemaker"])
    if result["plan"] != "success":
        return "plan", "the inputs check failed (see its errors): nothing was built or deployed"
    if result["tests"] in ("failure", "cancelled"):
        also = " (the model was still trained and gated: CT may overlap the tests)"
        trained = result["train"] == "success"
        return "tests", (
            "the tests failed, so nothing was deployed or promoted" + (also if trained else "")
        )
    if result["pr-gate"] == "failure":
        return "pr-gate", "the model gate failed on this pull request"
    if plan.get("ct") != "true":
        return "", str(plan.get("note") or "no stage past the tests runs on this event")
    if result["build"] != "success":
        return "build", "the image was not built and pushed: nothing was trained or deployed"
    if result["train"] != "success":
        if train.get("gate-passed") == "false":
            return "train", "the model gate failed: nothing was packaged, deployed or promoted"
        return "train", "training (or packaging) failed: nothing was deployed or promoted"
    if train.get("skipped") == "true":
        return "", "training was skipped: nothing changed since the champion"
    if plan.get("cd") != "true":
        return "", str(plan.get("note") or "not deployed")
    if "failure" in (result["deploy"], result["deploy-sagemaker"]):
        return "deploy", "the deploy failed (and was rolled back where it could be): not promoted"
    if not deployed and plan.get("deploy") != "none":
        return "deploy", "no deploy ran, so nothing was promoted"
    if result["promote"] != "success":
        return "promote", (
            "the promotion failed: refused (an older run, or a changed record) or lost a race"
        )
    return "", f"deployed and promoted version {cell(str(train.get('model-version') or '?'), 80)}"


def summary(needs: Mapping[str, Any]) -> str:
    stopped, why = verdict(needs)
    head = (
        f"❌ The loop stopped at {stopped}: {why}" if stopped else f"✅ {why[:1].upper()}{why[1:]}"
    )
    rows = [f"| {title} | {ICONS.get(_job(needs, name)[0], '')} {_job(needs, name)[0]} |"
            for name, title in STAGES if name in needs]  # fmt: skip
    return "\n".join(["## mlops-pipeline", "", head, "", "| stage | result |", "|---|---|", *rows])
