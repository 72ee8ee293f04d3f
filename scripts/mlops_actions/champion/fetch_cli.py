"""`mlops-actions fetch-champion`: the current champion's record, and its verdict as a file the
gate takes as `baseline`. No champion yet (the first run) is not an error."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add
from mlops_actions.mlflow_store import is_mlflow


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("fetch-champion", help="fetch the champion record and its verdict")
    add(p, "model-store", "s3://bucket/prefix where versions live (train's s3-uri)")
    add(p, "model-name", "model name in the store (default: the repository name)")
    add(p, "output-dir", "where champion.json and champion-verdict.json go")
    add(p, "aws-region", "AWS region (default: AWS_REGION)")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion import run as champion

    temp = os.environ.get("RUNNER_TEMP")
    output_dir = Path(args.output_dir or (Path(temp) / "champion" if temp else "champion"))
    if is_mlflow(args.model_store or ""):
        from mlops_actions.champion.cli import model_name
        from mlops_actions.mlflow_store import MlflowStore

        mlflow = MlflowStore(args.model_store, model_name(args.model_name or ""))
        record, baseline, card = mlflow.fetch(output_dir)
        where = f"models:/{mlflow.model_name}@champion"
    else:
        store = champion.Store.parse(args.model_store or "", args.model_name or "")
        record, baseline = champion.fetch(store, output_dir, region=args.aws_region or None)
        card = baseline.parent / champion.CHAMPION_CARD if baseline else None
        where = store.uri(champion.POINTER)
    if record is None or baseline is None:
        message = f"no champion yet in {where}: baseline checks are skipped"
        print(message)
        runner.annotate("notice", message, title="fetch-champion")
        runner.set_output("found", "false")
        runner.set_output("baseline-path", "")
        runner.set_output("version", "")
        runner.set_output("model-card-path", "")
        return EXIT_PASS
    print(f"champion: version {record['version']} ({where})")
    runner.set_output("found", "true")
    runner.set_output("version", str(record["version"]))
    runner.set_output("baseline-path", str(baseline.resolve()))
    runner.set_output("model-sha256", str(record.get("model_sha256") or ""))
    runner.set_output("serving-image-ref", str(record.get("serving_image") or ""))
    runner.set_output("model-card-path", str(card.resolve()) if card and card.is_file() else "")
    return EXIT_PASS
