"""The deploy's step-summary report. Pure: a DeployResult in, Markdown out."""

from __future__ import annotations

from mlops_actions.deploy.run import DeployRequest, DeployResult
from mlops_actions.github.runner import code_fence


def _revision(arn: str | None) -> str:
    return arn.rsplit("/", 1)[-1] if arn else "—"


def render(request: DeployRequest, result: DeployResult) -> str:
    ok = result.succeeded
    title = "✅ ECS deploy succeeded" if ok else "❌ ECS deploy failed"
    if not ok and result.rolled_back:
        title += f", rolled back ({result.rollback_state})"
    images = "<br>".join(f"`{name}`: `{image}`" for name, image in result.images.items())
    outcome = f"{result.rollout_state}: {result.detail}"
    rows = [
        ("Cluster", f"`{request.cluster}`"),
        ("Service", f"`{request.service}`"),
        ("Old revision", f"`{_revision(result.previous_task_definition_arn)}`"),
        (
            "New revision",
            f"`{_revision(result.task_definition_arn)}`"
            + ("" if result.registered else " (unchanged, reused)"),
        ),
        ("Image(s)", images or "—"),
        ("Service now on", f"`{_revision(result.current_task_definition_arn)}` (read back)"),
        ("Duration", f"{result.seconds:.1f}s ({result.polls} polls)"),
        ("Outcome", outcome),
    ]
    if result.run_task_arn:
        task = result.run_task_arn.rsplit("/", 1)[-1]
        verdict = result.run_task_detail or f"exit code {result.run_task_exit_code}"
        rows.append(("Run-task", f"`{task}`: {verdict}"))
    if result.rollback_state:
        rows.append(("Rollback", result.rollback_state))
    lines = [f"## {title}", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    if result.events:
        events = "\n".join(result.events)
        fence = code_fence(events)
        lines += ["### Service events since the deploy began", "", fence, events, fence, ""]
    if result.stopped_tasks:
        lines += ["### Stopped tasks", "", *(f"- {t}" for t in result.stopped_tasks), ""]
    if result.links and not ok:
        lines += [
            "### Links",
            "",
            *(f"- [{name}]({url})" for name, url in result.links.items()),
            "",
        ]
    return "\n".join(lines)
