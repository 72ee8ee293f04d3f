"""`mlops-actions promote`: its options (each also an INPUT_* variable) and the glue to the
promotion and the runner's files. `fetch-champion` is in fetch_cli.py."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add
from mlops_actions.mlflow_store import is_mlflow


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


def model_name(given: str) -> str:
    from mlops_actions import model_store

    name = given or os.environ.get("GITHUB_REPOSITORY", "").split("/")[-1] or "model"
    return model_store.check_name(name, "model-name")


def _promote_in_mlflow(
    args: argparse.Namespace, verdict: dict[str, Any], source: dict[str, str]
) -> int:
    from mlops_actions.mlflow_store import MlflowStore

    image = (args.serving_image_ref or "").strip()
    if image and "@sha256:" not in image:
        raise UserError(f"serving-image-ref: {image!r} is not by digest (repo@sha256:...)")
    store = MlflowStore(args.model_store, model_name(args.model_name or ""))
    promoted, status = store.promote(
        args.version.strip(), verdict, serving_image=image,
        task_definition_arn=(args.task_definition_arn or "").strip(),
        expected_sha256=(args.model_sha256 or "").strip(), source=source,
    )  # fmt: skip
    former = (
        "; the former champion has the alias `previous`" if promoted.get("previous_version") else ""
    )
    text = (
        f"## 🏆 Champion {status} in MLflow\n\n`{store.model_name}` version "
        f"`{promoted['version']}` (registry version {promoted['registry_version']}) has the alias "
        f"`champion` (read back){former}.\n"
    )
    print(text)
    runner.append_summary(text)
    runner.set_output("champion-version", promoted["version"])
    runner.set_output("record-uri", f"models:/{store.model_name}@champion")
    runner.set_output("status", status)
    return EXIT_PASS


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion import record
    from mlops_actions.champion import run as champion

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
    if is_mlflow(args.model_store or ""):
        return _promote_in_mlflow(args, verdict, source)
    store = champion.Store.parse(args.model_store or "", args.model_name or "")
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
