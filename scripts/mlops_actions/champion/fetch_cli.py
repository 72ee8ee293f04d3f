"""`mlops-actions fetch-champion`: the current champion's record, and its verdict as a file the
gate takes as `baseline`. No champion yet (the first run) is not an error."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mlops_actions.champion.cli import add_store_options
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("fetch-champion", help="fetch the champion record and its verdict")
    add_store_options(p)
    add(p, "output-dir", "where champion.json and champion-verdict.json go")
    add(p, "challenger-version", "fail unless this stored version may replace the champion")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion import run as champion
    from mlops_actions.champion.cli import open_store

    temp = os.environ.get("RUNNER_TEMP")
    output_dir = Path(args.output_dir or (Path(temp) / "champion" if temp else "champion"))
    store = open_store(args)
    record, baseline, card = champion.fetch(store, output_dir)
    where = store.where("champion")
    if args.challenger_version:  # an older run than the champion's is refused here, in one line
        note = champion.check_newer(store, record, args.challenger_version.strip())
        print(runner.defuse(f"challenger: {note}"))
    if record is None or baseline is None:
        message = f"no champion yet in {where}: baseline checks are skipped"
        print(runner.defuse(message))
        runner.annotate("notice", message, title="fetch-champion")
        for name in ("baseline-path", "version", "model-card-path", "serving-image-ref"):
            runner.set_output(name, "")
        runner.set_output("found", "false")
        return EXIT_PASS
    # The version was checked as a version name; the rest is only ever an output value.
    print(f"champion: version {record['version']} ({runner.defuse(where)})")
    runner.set_output("found", "true")
    runner.set_output("version", str(record["version"]))
    runner.set_output("baseline-path", str(baseline.resolve()))
    runner.set_output("model-sha256", str(record.get("model_sha256") or ""))
    runner.set_output("serving-image-ref", str(record.get("serving_image") or ""))
    runner.set_output("model-card-path", str(card.resolve()) if card and card.is_file() else "")
    return EXIT_PASS
