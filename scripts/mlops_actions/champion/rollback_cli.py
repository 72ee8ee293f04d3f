"""`mlops-actions rollback-plan`: where production goes back to. It reads the production pointer
and its history, and names the production champion below the current one (release.standing: a
second rollback goes further back, not forth) as its latest move served it (its serving image by
digest, its task definition or endpoint config, its release), with its record's verdict as a
file, for the redeploy and the forced promotion that follow. Nothing to go back to is one line."""

from __future__ import annotations

import argparse

from mlops_actions.champion.cli import add_store_options
from mlops_actions.champion.release_cli import check_dir, output_dir, refuse, write
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add

HISTORY_LIMIT = 1000


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("rollback-plan", help="name the previous production champion to go back to")
    add_store_options(p)
    add(p, "output-dir", "where rollback-verdict.json goes")


def run(args: argparse.Namespace) -> int:
    from mlops_actions import model_store
    from mlops_actions.champion import release
    from mlops_actions.champion.cli import open_store

    out = check_dir(output_dir(args.output_dir, "rollback"))
    store = open_store(args)
    where = store.where("production")
    pointer, _ = store.read_pointer("production")
    try:
        plan = release.plan_rollback(
            pointer, store.history("production", HISTORY_LIMIT), where=where
        )
        model_store.check_name(plan.version, f"{where}: previous_version")
        record = store.record("production", plan.version)
        if record is None or not isinstance(record.get("verdict"), dict):
            raise release.Refusal(
                f"the previous production champion {plan.version} has no production record "
                f"with a verdict beside {where}; nothing is rolled back"
            )
    except release.Refusal as refused:
        return refuse(refused.message, "rollback refused")
    entry = plan.entry
    moved = entry.get("release") if isinstance(entry.get("release"), dict) else {}
    first = record.get("release") if isinstance(record.get("release"), dict) else {}
    tag = str((moved or {}).get("tag") or (first or {}).get("tag") or "")
    verdict = write(out / "rollback-verdict.json", record["verdict"])
    runner.set_output("refused", "")
    runner.set_output("current-version", plan.current)
    runner.set_output("current-serving-image-ref", str((pointer or {}).get("serving_image") or ""))
    runner.set_output("version", plan.version)
    runner.set_output("serving-image-ref", str(entry.get("serving_image") or ""))
    runner.set_output("model-sha256", str(record.get("model_sha256") or ""))
    # What served it is the move's (each deploy registers its own), the record's as a fallback.
    served = entry if entry.get("task_definition_arn") or entry.get("endpoint_config") else record
    taskdef = str(served.get("task_definition_arn") or "")
    config = str(served.get("endpoint_config") or "")
    runner.set_output("task-definition-arn", taskdef)
    runner.set_output("endpoint-config", config)
    runner.set_output("release-tag", tag)
    runner.set_output("verdict-path", str(verdict))
    line = (
        f"rollback: {plan.note} (released as {tag or '?'}), serving image "
        f"{entry.get('serving_image')}, served by {taskdef or config or '?'}"
    )
    runner.print_untrusted(line)
    fence = runner.code_fence(line)
    runner.append_summary(f"## ↩️ Rollback plan\n\n{fence}text\n{line}\n{fence}\n")
    return EXIT_PASS
