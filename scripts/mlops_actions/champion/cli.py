"""`mlops-actions promote`: its options (each also an INPUT_* variable) and the glue to the
promotion and the runner's files. `fetch-champion` is in fetch_cli.py."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("promote", help="make a stored model version the champion (after a deploy)")
    add(p, "model-store", "s3://bucket/prefix where versions live (train's s3-uri)")
    add(p, "model-name", "model name in the store (default: the repository name)")
    add(p, "version", "the version to promote")
    add(p, "verdict", "the gate's verdict.json for that version (must have passed)")
    add(p, "serving-image-ref", "the deployed serving image, by digest")
    add(p, "task-definition-arn", "the task definition that serves it")
    add(p, "model-sha256", "when given, must equal the stored version's model sha256")
    add(p, "aws-region", "AWS region (default: AWS_REGION)")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion import record
    from mlops_actions.champion import run as champion

    store = champion.Store.parse(args.model_store or "", args.model_name or "")
    if not args.version:
        raise UserError("version: give the model version to promote")
    if not args.verdict or not Path(args.verdict).is_file():
        raise UserError(
            f"verdict: {args.verdict or '(empty)'} is not a file; give model-gate's verdict.json"
        )
    try:
        verdict = json.loads(Path(args.verdict).read_text(encoding="utf-8"))
    except ValueError:
        raise UserError(f"{args.verdict}: not JSON; give model-gate's verdict.json") from None
    record.check_verdict(verdict, args.verdict)
    source = {
        k.lower(): os.environ[k]
        for k in ("GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_RUN_ID", "GITHUB_EVENT_NAME")
        if os.environ.get(k)
    }
    promotion = champion.promote(
        store,
        args.version.strip(),
        verdict,
        serving_image=(args.serving_image_ref or "").strip(),
        task_definition_arn=(args.task_definition_arn or "").strip(),
        expected_sha256=(args.model_sha256 or "").strip(),
        source=source,
        region=args.aws_region or None,
    )
    text = champion.summary(promotion)
    print(text)
    runner.append_summary(text)
    runner.set_output("champion-version", promotion.record["version"])
    runner.set_output("record-uri", promotion.record_uri)
    runner.set_output("status", promotion.status)
    return EXIT_PASS
