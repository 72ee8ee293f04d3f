"""`mlops-actions champions`: the stage's past champions, newest first, as promote recorded them
(S3 or MLflow): version, when, what served it, the gate's summary and the version it replaced."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from mlops_actions.champion.cli import add_store_options, check_stage
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add, env_input, flag, number


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("champions", help="list past champions and their gate verdicts")
    add_store_options(p)
    add(p, "stage", "champion or production", "champion")
    add(p, "limit", "how many moves to list, newest first", "20")
    p.add_argument(
        "--json",
        nargs="?",
        const="true",
        default=env_input("json", "false"),
        help="print JSON lines instead of a table",
    )


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion.cli import open_store

    stage = check_stage(args.stage)
    limit = int(number(args.limit, "limit", minimum=1, maximum=10_000, integer=True) or 20)
    as_json = flag(args.json, "json", False)
    store = open_store(args)
    entries = store.history(stage, limit)
    if as_json:
        for entry in entries:
            print(json.dumps(entry, sort_keys=True))
        return EXIT_PASS
    if not entries:
        hint = (
            "" if args.model_name else " (for model '" + store.model_name + "': give --model-name)"
        )
        print(runner.defuse(f"no {stage} moves recorded in {store.where(stage)}{hint}"))
        return EXIT_PASS
    # Values come from the store: printed defused, like any text we did not write.
    runner.print_untrusted(table(entries))
    return EXIT_PASS


COLUMNS = ("#", "version", "promoted at", "replaced", "gate", "metrics", "serves")


def _gate(entry: Mapping[str, Any]) -> str:
    gate = entry.get("gate") if isinstance(entry.get("gate"), Mapping) else {}
    assert isinstance(gate, Mapping)
    passed = gate.get("passed")
    verdict = "passed" if passed is True else "FAILED" if passed is False else "?"
    return f"{verdict} {gate.get('checks_passed', '?')}✓ {gate.get('checks_failed', '?')}✗"


def _metrics(entry: Mapping[str, Any]) -> str:
    gate = entry.get("gate") if isinstance(entry.get("gate"), Mapping) else {}
    assert isinstance(gate, Mapping)
    metrics = gate.get("metrics") if isinstance(gate.get("metrics"), Mapping) else {}
    assert isinstance(metrics, Mapping)
    return " ".join(f"{k}={v:.3f}" for k, v in metrics.items() if isinstance(v, int | float))


def _serves(entry: Mapping[str, Any]) -> str:
    server = entry.get("task_definition_arn") or entry.get("endpoint_config") or ""
    image = str(entry.get("serving_image") or "")
    short = image.split("@sha256:")[0] + "@" + image.split("@")[1][:19] if "@" in image else image
    return " ".join(part for part in (str(server).rsplit("/", 1)[-1], short) if part)


def row(entry: Mapping[str, Any]) -> tuple[str, ...]:
    replaced = str(entry.get("previous_version") or "-")
    if entry.get("forced"):
        replaced += " (forced)"
    return (
        str(entry.get("sequence", "?")),
        str(entry.get("version", "?")),
        str(entry.get("promoted_at") or "?"),
        replaced,
        _gate(entry),
        _metrics(entry),
        _serves(entry),
    )


def table(entries: list[dict[str, Any]]) -> str:
    """A plain-text table, one move per line, newest first."""
    rows = [COLUMNS, *(row(e) for e in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )
