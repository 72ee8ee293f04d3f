"""`mlops-actions infer-schema`: write a reviewable schema from reference data."""

from __future__ import annotations

import argparse

from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add, number, split_list


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("infer-schema", help="write a data schema from reference data")
    add(p, "data", "reference data (CSV or Parquet), e.g. the training data")
    add(p, "output", "the schema file to write (pandera YAML)")
    add(p, "label", "the label column, for label-balance bounds")
    add(p, "positive-label", "the label's positive value", "1")
    add(p, "exclude", "columns not to describe (ids), comma-separated")
    add(p, "min-rows", "the fewest rows new data may have (default: a tenth, at most 1000)")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.validation.run import infer_schema

    if not args.data or not args.output:
        raise UserError("data and output: give the reference data and the schema file to write")
    min_rows = number(args.min_rows, "min-rows", minimum=1, integer=True)
    schema, rows = infer_schema(
        args.data, args.output, label=args.label or None, positive=args.positive_label or "1",
        exclude=split_list(args.exclude), min_rows=int(min_rows) if min_rows else None,
    )  # fmt: skip
    print(f"wrote {args.output}: {len(schema.columns)} columns from {rows:,} rows of {args.data}")
    runner.set_output("schema-path", args.output)
    return EXIT_PASS
