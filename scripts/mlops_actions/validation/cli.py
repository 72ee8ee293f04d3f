"""`mlops-actions validate-data` (the validate-data action, and containerized-train's `schema`
input): check a data file against its schema, report every violation at once. `infer-schema`
is in infer_cli.py."""

from __future__ import annotations

import argparse
import json

from mlops_actions import outputs
from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_FAIL, EXIT_PASS, Parser, Subparsers, add


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("validate-data", help="check data against its schema before training")
    add(p, "data", "the data file (CSV or Parquet)")
    add(p, "schema", "its schema (pandera YAML, from infer-schema)")
    add(p, "output-dir", "where validation.json and report.md go", "data-validation")


def _one_line_per_row(path: str, rows: int) -> bool:
    """Whether row n of a CSV is line n + 1 of the file, so an annotation's line is right: a
    plain .csv with no blank lines and no values that span lines has its header plus one line
    per row."""
    if not path.lower().endswith(".csv"):
        return False
    newlines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            newlines, last = newlines + chunk.count(b"\n"), chunk[-1:]
    return newlines + (last != b"\n") == rows + 1


def run(args: argparse.Namespace) -> int:
    from mlops_actions.validation import report
    from mlops_actions.validation.run import validate

    if not args.data:
        raise UserError("data: give the data file to validate (CSV or Parquet)")
    if "\n" in args.data.strip():
        raise UserError(
            "data: one file is validated; with several data paths, set schema-data to the file "
            "the schema describes"
        )
    args.data = args.data.strip()
    if not args.schema:
        raise UserError("schema: give its schema (write one with mlops-actions infer-schema)")
    out = outputs.directory(
        args.output_dir or "data-validation", "output-dir", ("validation.json", "report.md")
    )
    for stale in ("validation.json", "report.md"):  # an earlier run's must not look current
        (out / stale).unlink(missing_ok=True)
    result = validate(args.data, args.schema)
    text = report.render(result)
    document = {
        "passed": result.passed,
        "data": result.data,
        "schema": result.schema,
        "rows": result.rows,
        "findings": [
            {
                "column": f.column,
                "kind": f.kind,
                "message": f.message,
                "count": f.count,
                "rows": list(f.rows),
            }
            for f in result.findings
        ],
    }
    outputs.write_atomic(out / "validation.json", json.dumps(document, indent=2) + "\n")
    outputs.write_atomic(out / "report.md", text)
    runner.print_untrusted(text)  # names and values come from the data
    runner.append_summary(text)
    line_numbers = _one_line_per_row(args.data, result.rows)
    for f in result.findings:
        runner.annotate(
            "error",
            f"{f.column or 'data set'}: {f.message}",
            file=args.data,
            line=f.rows[0] if f.rows and line_numbers else None,
            title="validate-data",
        )
    runner.set_output("passed", "true" if result.passed else "false")
    runner.set_output("violations", str(len(result.findings)))
    runner.set_output("report-path", str(out / "report.md"))
    return EXIT_PASS if result.passed else EXIT_FAIL
