"""`mlops-actions promote`: its options (each also an INPUT_* variable) and the glue to the
promotion and the runner's files. `fetch-champion` is in fetch_cli.py. The same code for an S3
store and an MLflow registry (model_store.open_store)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mlops_actions import verdicts
from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add, flag
from mlops_actions.model_store import ModelStore

STAGES = ("champion", "production")


def add_store_options(p: Parser) -> None:
    """Where the versions live: the options promote, fetch-champion and champions share."""
    add(p, "model-store", "s3://bucket/prefix where versions live, or an MLflow tracking URI")
    add(p, "model-name", "model name in the store (default: the repository name)")
    add(p, "aws-region", "AWS region (default: AWS_REGION)")


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("promote", help="make a stored model version the champion (after a deploy)")
    add_store_options(p)
    add(p, "version", "the version to promote")
    add(p, "verdict", "the gate's verdict.json for that version, or its JSON (must have passed)")
    add(p, "serving-image-ref", "the deployed serving image, by digest")
    add(p, "task-definition-arn", "the task definition that serves it")
    add(p, "endpoint-config", "the SageMaker endpoint config that serves it")
    add(p, "model-sha256", "when given, must equal the stored version's model sha256")
    add(p, "force", "move the champion even to an older version (a deliberate rollback)", "false")
    add(p, "stage", "champion (staging) or production (a release of the staging champion)",
        "champion")  # fmt: skip
    add(p, "release-tag", "with --stage production: the release's tag, kept in the production move")
    add(p, "staging-record", "with --stage production: the staging record release-plan captured "
        "(its staging-record-path), which the production move names")  # fmt: skip


def check_stage(value: str | None) -> str:
    from mlops_actions.errors import shown

    stage = (value or "champion").strip()
    if stage not in STAGES:
        raise UserError(f"stage: expected champion or production, got {shown(stage)}")
    return stage


def model_name(given: str) -> str:
    return given or os.environ.get("GITHUB_REPOSITORY", "").split("/")[-1] or "model"


def open_store(args: argparse.Namespace) -> ModelStore:
    from mlops_actions import model_store

    return model_store.open_store(
        args.model_store or "", model_name(args.model_name or ""), args.aws_region or None
    )


def read_staging_record(value: str | None, stage: str) -> dict[str, Any] | None:
    """The staging record release-plan wrote (staging.json), read before the store is."""
    from mlops_actions import safe_json
    from mlops_actions.errors import shown

    path = (value or "").strip()
    if not path:
        return None
    if stage != "production":
        raise UserError("staging-record: only a production release names one (stage)")
    if not Path(path).is_file():
        raise UserError(
            f"staging-record: {shown(path)} is not a file; give release-plan's staging-record-path"
        )
    return safe_json.read_object(path, "staging record")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion import run as champion

    if not args.version:
        raise UserError("version: give the model version to promote")
    stage = check_stage(args.stage)
    tag = (args.release_tag or "").strip()
    if stage == "production" or tag:  # the same checks promote makes, before the verdict is read
        from mlops_actions.champion.run import check_release

        tag = check_release(stage, tag)
    staging = read_staging_record(args.staging_record, stage)
    verdict, _ = verdicts.read(args.verdict)
    force = flag(args.force, "force", False)
    store = open_store(args)  # checks model-store and model-name before any call
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
        endpoint_config=(args.endpoint_config or "").strip(),
        expected_sha256=(args.model_sha256 or "").strip(),
        source=source,
        force=force,
        stage=stage,
        release_tag=tag,
        staging_record=staging,
        log=lambda line: print(runner.defuse(line)),
    )
    text = champion.summary(promotion, stage)
    runner.print_untrusted(text)
    runner.append_summary(text)
    runner.set_output("champion-version", str(promotion.record["version"]))
    runner.set_output("record-uri", promotion.where)
    runner.set_output("previous-version", str(promotion.record.get("previous_version") or ""))
    runner.set_output("status", promotion.status)
    release = promotion.record.get("release")
    tag = release.get("tag") if isinstance(release, dict) else ""
    runner.set_output("release-tag", str(tag or ""))
    return EXIT_PASS
