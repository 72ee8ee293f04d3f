"""`mlops-actions pipeline-plan` and `pipeline-report`: the first and the last job of
mlops-pipeline.yml. The plan decides which stages this event and branch may run and checks the
inputs the later jobs need; the report says which stage stopped the loop, and why. Both need
nothing but Python (no helper venv): they run before anything is installed."""

from __future__ import annotations

import argparse
import os
from typing import Any

from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_FAIL, EXIT_PASS, Parser, Subparsers, add

# the pipeline's inputs the plan checks (each given as INPUT_<NAME>, like an action's)
CHECKED = ("model-store", "deploy", "container-name", "cluster", "service",
           "sagemaker-endpoint", "sagemaker-execution-role-arn")  # fmt: skip


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("pipeline-plan", help="which stages of mlops-pipeline this run may take")
    for name in CHECKED:
        add(p, name, f"the pipeline's {name} input")
    r = sub.add_parser("pipeline-report", help="which stage stopped mlops-pipeline, and why")
    add(r, "facts", "lines job=result and job.output=value, from the report job's needs")


def run(args: argparse.Namespace) -> int:
    if args.subcommand == "pipeline-report":
        return _report(args)
    from mlops_actions.pipeline import plan as planning

    inputs = {name: getattr(args, name.replace("-", "_")) or "" for name in CHECKED}
    plan = planning.decide(
        os.environ.get("GITHUB_EVENT_NAME", ""), os.environ.get("GITHUB_REF", ""),
        runner.event_payload(), inputs,
    )  # fmt: skip
    for problem in plan.problems:
        runner.annotate("error", problem, title="mlops-pipeline")
    for name, value in (("tests", plan.tests), ("pr-gate", plan.pr_gate),
                        ("build", plan.build), ("ct", plan.ct), ("cd", plan.cd)):  # fmt: skip
        runner.set_output(name, "true" if value else "false")
    runner.set_output("note", plan.note)
    runner.set_output(
        "deploy", inputs["deploy"] if inputs["deploy"] in planning.DEPLOY_TARGETS else ""
    )
    stages = [name for name, on in (("tests", plan.tests), ("PR gate", plan.pr_gate),
                                    ("build", plan.build), ("CT", plan.ct), ("CD", plan.cd))
              if on]  # fmt: skip
    line = f"Stages: {', '.join(stages) or 'none'}" + (f". {plan.note}" if plan.note else "")
    print(line)
    runner.append_summary(f"ℹ️ mlops-pipeline: {line}")
    return EXIT_FAIL if plan.problems else EXIT_PASS


def parse_facts(text: str) -> dict[str, dict[str, Any]]:
    """`job=result` and `job.output=value` lines into {job: {"result", "outputs"}}."""
    needs: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.strip().partition("=")
        job, _, output = key.partition(".")
        if not sep or not job:
            raise UserError(f"facts: line {number} is not job=result or job.output=value")
        entry = needs.setdefault(job, {"result": "skipped", "outputs": {}})
        if output:
            entry["outputs"][output] = value
        else:
            entry["result"] = value or "skipped"
    return needs


def _report(args: argparse.Namespace) -> int:
    from mlops_actions.pipeline import report

    needs = parse_facts(args.facts or "")
    text = report.summary(needs)
    runner.print_untrusted(text)
    runner.append_summary(text)
    stopped, why = report.verdict(needs)
    runner.set_output("stopped-at", stopped)
    if stopped:
        runner.annotate("notice", f"stopped at {stopped}: {why}", title="mlops-pipeline")
    return EXIT_PASS
