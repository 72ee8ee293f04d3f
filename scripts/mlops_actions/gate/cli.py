"""`mlops-actions gate`: its options (each also an INPUT_* variable) and the glue from them to
the gate, the runner's files and the sticky PR comment."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import (
    EXIT_FAIL,
    EXIT_PASS,
    Parser,
    Subparsers,
    add,
    env_input,
    flag,
)

REPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("gate", help="judge a model's predictions or metrics against a quality bar")
    add(p, "predictions", "CSV/Parquet of labels and scores (or predicted labels)")
    add(p, "metrics", "JSON of pre-computed metrics, instead of --predictions")
    add(p, "config", "gate config YAML (e.g. .mlops/gate.yml)")
    add(p, "thresholds", "inline value checks, e.g. 'precision>=0.85,recall>=0.8'")
    add(p, "baseline", "the champion's verdict.json or metrics JSON (an unpaired comparison)")
    add(p, "champion-predictions", "the champion's predictions of this holdout, by id (paired)")
    add(p, "id-column", "the id column both predictions files share (default: the config's)")
    add(p, "label-column", "label column (default: label, or the config's)")
    add(p, "score-column", "score column: probability of the positive class")
    add(p, "prediction-column", "predicted-label column")
    add(p, "group-columns", "comma-separated columns for fairness checks")
    add(p, "positive-label", "the label value of the positive class (default 1)")
    add(p, "decision-threshold", "score >= threshold predicts positive (default 0.5)")
    add(p, "output-dir", "where verdict.json, report.md and report.html go (default: ./model-gate)")
    add(p, "html", "write the HTML report here instead (default: report.html in output-dir)")
    add(p, "fail-on", "failure (exit 1 when the gate fails) or never (report only)", "failure")
    add(p, "name", "report name; keys the sticky PR comment", "model-gate")
    add(p, "comment-on-pr", "on pull requests, keep one sticky comment with the report", "true")
    p.add_argument(
        "--github-token", default=None, help="token for the PR comment (env: GITHUB_TOKEN)"
    )
    p.add_argument("--quiet", action="store_true", help="do not print the report")
    p.add_argument(
        "--check-config",
        metavar="PATH",
        default=None,
        help="only validate this gate config (no data needed; e.g. in a pre-commit hook)",
    )


def check_config(path: str) -> int:
    """Parse a gate config as the gate would, and say what it will check."""
    from mlops_actions.gate import loader

    config = loader.load_config(path)
    kinds = {"value": "threshold", "baseline": "baseline", "fairness": "fairness"}
    counts = {label: sum(r.kind == kind for r in config.rules) for kind, label in kinds.items()}
    summary = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no"
    print(f"{path}: valid; {summary} check(s)")
    if not config.rules:
        print(f"{path}: note: with no checks the gate judges nothing and fails; add metrics")
    if counts["fairness"] and not config.fairness.slices:
        print(f"{path}: note: fairness checks need group-columns when the gate runs")
    if isinstance(config.positive_label, bool):
        print(
            f"{path}: note: positive_label is {str(config.positive_label).lower()}; if the labels "
            "are text such as yes/no, quote it (YAML reads an unquoted yes as true)"
        )
    return EXIT_PASS


def run(args: argparse.Namespace) -> int:
    from mlops_actions.gate.decide import NOTHING_JUDGED
    from mlops_actions.gate.report import marker
    from mlops_actions.gate.run import GateRequest, run
    from mlops_actions.github import pr_comment

    if args.check_config:
        return check_config(args.check_config)
    fail_on = (args.fail_on or "failure").strip().lower()
    if fail_on not in ("failure", "never"):
        raise UserError(f"fail-on: expected 'failure' or 'never', got {shown(args.fail_on)}")
    comment = flag(args.comment_on_pr, "comment-on-pr", True)
    groups = tuple(
        g.strip() for g in (args.group_columns or "").replace("\n", ",").split(",") if g.strip()
    )
    if not REPORT_NAME.fullmatch(args.name or ""):
        raise UserError(
            f"name: {shown(args.name)} must be 1-100 letters, digits, '.', '_' or '-' (it names "
            "a folder and keys the PR comment), e.g. model-gate"
        )
    output_dir = args.output_dir
    if not output_dir:
        temp = os.environ.get("RUNNER_TEMP")
        output_dir = os.path.join(temp, "model-gate", args.name) if temp else "model-gate"
    request = GateRequest(
        output_dir=output_dir,
        predictions=args.predictions,
        metrics=args.metrics,
        config=args.config,
        thresholds=args.thresholds,
        baseline=args.baseline,
        champion_predictions=args.champion_predictions,
        id_column=args.id_column,
        label_column=args.label_column,
        score_column=args.score_column,
        prediction_column=args.prediction_column,
        group_columns=groups,
        positive_label=args.positive_label,
        decision_threshold=args.decision_threshold,
        name=args.name,
        html=args.html or None,
    )
    started = time.perf_counter()
    outcome = run(request)
    elapsed = time.perf_counter() - started
    decision = outcome.result.decision

    if not args.quiet:
        # A terminal gets plain text; a pipe or a log the Markdown, without the hidden marker
        # (that is for the PR comment). Group names and columns in both come from the
        # predictions file: untrusted.
        shown_report = (
            outcome.text
            if sys.stdout.isatty()
            else outcome.report.removeprefix(marker(args.name) + "\n")
        )
        runner.print_untrusted(shown_report)
    print(
        f"gate {'passed' if decision.passed else 'FAILED'} in {elapsed:.2f}s; "
        f"verdict: {outcome.verdict_path}",
        file=sys.stderr,
    )

    runner.set_output("passed", "true" if decision.passed else "false")
    runner.set_output("verdict-path", str(outcome.verdict_path.resolve()))
    runner.set_output("report-path", str(outcome.report_path.resolve()))
    runner.set_output("html-path", str(outcome.html_path.resolve()))
    runner.set_output(
        "artifact-name",
        runner.artifact_name(f"{args.name}-report", str(outcome.html_path.resolve())),
    )
    runner.set_output("metrics", json.dumps(outcome.verdict["metrics"], separators=(",", ":")))
    runner.set_output("failed-checks", str(len(decision.failed)))
    runner.set_output("verdict", json.dumps(outcome.verdict, separators=(",", ":")))
    runner.append_summary(outcome.report)
    config_file = args.config if args.config else None
    level = "error" if fail_on == "failure" else "warning"
    for check in decision.failed:
        if runner.in_actions():
            runner.annotate(
                level, check.message, file=config_file, title=f"model gate: {check.kind} check"
            )
    if decision.judged_nothing:
        print(f"error: {NOTHING_JUDGED}", file=sys.stderr)
        if runner.in_actions():
            runner.annotate(level, NOTHING_JUDGED, file=config_file, title="model gate: no checks")
    for note in decision.notes:
        if "can detect" in note or "below what" in note:  # the data cannot see the tolerance
            runner.annotate("warning", note, title="model gate: what the holdout can detect")

    if comment and runner.in_actions():
        number = pr_comment.pull_request_number()
        token = args.github_token or os.environ.get("GITHUB_TOKEN") or env_input("github-token")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        if number is not None and token and repository:
            result = pr_comment.upsert_sticky_comment(
                token=token,
                repository=repository,
                number=number,
                body=outcome.comment,
                marker=marker(args.name),
            )
            if result.action == "failed":
                runner.annotate("warning", result.detail, title="model gate: PR comment")
            else:
                print(result.detail, file=sys.stderr)
        elif number is not None:
            runner.annotate(
                "warning", "no github-token: skipped the PR comment", title="model gate"
            )
    if decision.passed or fail_on == "never":
        return EXIT_PASS
    return EXIT_FAIL
