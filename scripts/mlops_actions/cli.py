"""`mlops-actions <command>`: one subcommand per action, usable outside GitHub too.

Each option falls back to an `INPUT_<NAME>` environment variable (dashes as underscores), which
is how the composite actions pass their inputs: through `env:`, never pasted into a script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence

from mlops_actions import __version__
from mlops_actions.errors import UserError
from mlops_actions.github import runner

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see --help)")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"INPUT_{name.upper().replace('-', '_')}")
    return value if value not in (None, "") else default


def _add(
    parser: argparse.ArgumentParser, name: str, help_text: str, default: str | None = None
) -> None:
    parser.add_argument(f"--{name}", default=_env(name, default), help=help_text)


def _flag(value: str | None, option: str, default: bool) -> bool:
    if value in (None, ""):
        return default
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise UserError(f"{option}: expected true or false, got {value!r}")


def _gate_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("gate", help="judge a model's predictions or metrics against a quality bar")
    _add(p, "predictions", "CSV/Parquet of labels and scores (or predicted labels)")
    _add(p, "metrics", "JSON of pre-computed metrics, instead of --predictions")
    _add(p, "config", "gate config YAML (e.g. .mlops/gate.yml)")
    _add(p, "thresholds", "inline value checks, e.g. 'precision>=0.85,recall>=0.8'")
    _add(p, "baseline", "the champion's verdict.json or metrics JSON")
    _add(p, "label-column", "label column (default: label, or the config's)")
    _add(p, "score-column", "score column: probability of the positive class")
    _add(p, "prediction-column", "predicted-label column")
    _add(p, "group-columns", "comma-separated columns for fairness checks")
    _add(p, "positive-label", "the label value of the positive class (default 1)")
    _add(p, "decision-threshold", "score >= threshold predicts positive (default 0.5)")
    _add(p, "output-dir", "where verdict.json and report.md go (default: ./model-gate)")
    _add(p, "fail-on", "failure (exit 1 when the gate fails) or never (report only)", "failure")
    _add(p, "name", "report name; keys the sticky PR comment", "model-gate")
    _add(p, "comment-on-pr", "on pull requests, keep one sticky comment with the report", "true")
    p.add_argument(
        "--github-token", default=None, help="token for the PR comment (env: GITHUB_TOKEN)"
    )
    p.add_argument("--quiet", action="store_true", help="do not print the report")


def _gate(args: argparse.Namespace) -> int:
    from mlops_actions.gate.report import marker
    from mlops_actions.gate.run import GateRequest, run
    from mlops_actions.github import pr_comment

    fail_on = (args.fail_on or "failure").strip().lower()
    if fail_on not in ("failure", "never"):
        raise UserError(f"fail-on: expected 'failure' or 'never', got {args.fail_on!r}")
    comment = _flag(args.comment_on_pr, "comment-on-pr", True)
    groups = tuple(
        g.strip() for g in (args.group_columns or "").replace("\n", ",").split(",") if g.strip()
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
        label_column=args.label_column,
        score_column=args.score_column,
        prediction_column=args.prediction_column,
        group_columns=groups,
        positive_label=args.positive_label,
        decision_threshold=args.decision_threshold,
        name=args.name,
    )
    started = time.perf_counter()
    outcome = run(request)
    elapsed = time.perf_counter() - started
    decision = outcome.result.decision

    if not args.quiet:
        # The hidden marker is for the PR comment; a terminal needs only the report.
        print(outcome.report.removeprefix(marker(args.name) + "\n"))
    print(
        f"gate {'passed' if decision.passed else 'FAILED'} in {elapsed:.2f}s; "
        f"verdict: {outcome.verdict_path}",
        file=sys.stderr,
    )

    runner.set_output("passed", "true" if decision.passed else "false")
    runner.set_output("verdict-path", str(outcome.verdict_path.resolve()))
    runner.set_output("report-path", str(outcome.report_path.resolve()))
    runner.set_output("metrics", json.dumps(outcome.verdict["metrics"], separators=(",", ":")))
    runner.set_output("failed-checks", str(len(decision.failed)))
    runner.append_summary(outcome.report)
    config_file = args.config if args.config else None
    level = "error" if fail_on == "failure" else "warning"
    for check in decision.failed:
        if runner.in_actions():
            runner.annotate(
                level, check.message, file=config_file, title=f"model gate: {check.kind} check"
            )

    if comment and runner.in_actions():
        number = pr_comment.pull_request_number()
        token = args.github_token or os.environ.get("GITHUB_TOKEN") or _env("github-token")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        if number is not None and token and repository:
            result = pr_comment.upsert_sticky_comment(
                token=token,
                repository=repository,
                number=number,
                body=outcome.report,
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


def build_parser() -> _Parser:
    parser = _Parser(prog="mlops-actions", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"mlops-actions {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _gate_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    handlers = {"gate": _gate}
    try:
        args = build_parser().parse_args(argv)
        return handlers[args.command](args)
    except UserError as exc:
        runner.annotate("error", exc.message, file=exc.file, line=exc.line)
        if runner.in_actions():
            runner.append_summary(f"### ❌ mlops-actions could not run\n\n{exc.message}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
