"""`mlops-actions release-plan`: may the staging champion go to production now? It reads the
staging champion, the production champion, the version's card and its production record from
the store, applies the release rules (champion/release.py: every store-side check promote would
make, here, before any deploy) and hands the deploy what to run: the serving image by digest,
the model version and sha256, the verdict as a file, and the staging record it came from (a file
promote names). A refusal is one line, and nothing is deployed. When production already runs
that version with that image, `deploy` is false: nothing to deploy, and that is no failure."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from mlops_actions.champion.cli import add_store_options
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_FAIL, EXIT_PASS, Parser, Subparsers, add, number


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser(
        "release-plan", help="check that the staging champion may go to production, and name it"
    )
    add_store_options(p)
    add(p, "release-tag", "the release's tag (e.g. v1.2.0): required, checked and passed on")
    add(p, "min-staging-minutes", "refuse a staging champion promoted less than this ago", "0")
    add(p, "expect-version", "refuse unless the staging champion is still this version")
    add(p, "expect-sequence", "refuse unless the staging champion is still this move (#)")
    add(p, "output-dir", "where release-verdict.json and staging.json go")


def output_dir(given: str | None, name: str) -> Path:
    temp = os.environ.get("RUNNER_TEMP")
    return Path(given or (Path(temp) / name if temp else name))


def check_dir(path: Path, field: str = "output-dir") -> Path:
    """A folder we may write into (made if missing), checked before the store is read."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{field}: {shown(str(path))} is a file; give a folder")
    return path


def write(path: Path, data: object, field: str = "output-dir") -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"{field}: cannot write {shown(str(path))}: {exc.strerror}") from None
    return path.resolve()


def refuse(message: str, title: str) -> int:
    """A release or rollback that must not happen: one ::error line, the summary, exit 1."""
    runner.annotate("error", message, title=title)
    fence = runner.code_fence(message)
    runner.append_summary(f"### ⛔ {title}: nothing deployed\n\n{fence}text\n{message}\n{fence}\n")
    runner.set_output("refused", message)
    return EXIT_FAIL


def run(args: argparse.Namespace) -> int:
    from mlops_actions import model_store
    from mlops_actions.champion import release
    from mlops_actions.champion.cli import open_store
    from mlops_actions.champion.run import pointer_order

    if not (args.release_tag or "").strip():
        raise UserError(
            "release-tag: give the release's tag (a published release's tag_name, or the pushed "
            "v* tag); the production move records it"
        )
    tag = release.check_tag(args.release_tag)
    minutes = number(args.min_staging_minutes, "min-staging-minutes", maximum=525_600) or 0
    expect = (args.expect_version or "").strip()
    if expect:
        model_store.check_name(expect, "expect-version")
    sequence_text = (args.expect_sequence or "").strip()
    if sequence_text and not (sequence_text.isdigit() and len(sequence_text) < 10):
        raise UserError(
            f"expect-sequence: {shown(sequence_text)} is not a move number; give release-plan's "
            "staging-sequence output"
        )
    expect_sequence = int(sequence_text) if sequence_text else None
    out = check_dir(output_dir(args.output_dir, "release"))
    store = open_store(args)  # checks model-store and model-name before any call
    where = store.where("champion")
    staging, _ = store.read_pointer("champion")
    try:
        plan = release.plan_release(
            staging, where=where, now=datetime.now(timezone.utc),
            min_staging_minutes=minutes, expect_version=expect, expect_sequence=expect_sequence,
        )  # fmt: skip
        model_store.check_name(plan.version, f"{where}: version")  # it names files and outputs
        production, _ = store.read_pointer("production")
        against = release.check_production(
            plan, production, card=store.card(plan.version),
            record=store.record("production", plan.version),
            production_order=pointer_order(store, production) if production else None,
            where=store.where("production"),
        )  # fmt: skip
    except release.Refusal as refused:
        return refuse(refused.message, "release refused")
    verdict = write(out / "release-verdict.json", plan.verdict)
    staged = write(out / "staging.json", staging)
    runner.set_output("refused", "")
    runner.set_output("deploy", "true" if against.deploy else "false")
    runner.set_output("production-version", against.current)
    runner.set_output(  # what production ran before: a failed promotion puts it back
        "production-serving-image-ref", str((production or {}).get("serving_image") or "")
    )
    runner.set_output("staging-record-path", str(staged))
    runner.set_output("version", plan.version)
    runner.set_output("serving-image-ref", plan.serving_image)
    runner.set_output("model-sha256", plan.model_sha256)
    runner.set_output("verdict-path", str(verdict))
    runner.set_output("staging-sequence", str(plan.staging.get("sequence") or ""))
    runner.set_output("staging-record-uri", where)
    runner.set_output("release-tag", tag)
    line = f"release {tag}: {against.note}, serving image {plan.serving_image}"
    if not against.deploy:
        line = f"release {tag}: {against.note}; nothing to deploy, nothing to promote"
    runner.print_untrusted(line)
    title = "## 🚦 Release plan" if against.deploy else "## ✅ Production already runs it"
    runner.append_summary(
        title + "\n\n"
        + runner.code_fence(line) + "text\n" + line + "\n" + runner.code_fence(line) + "\n"
    )  # fmt: skip
    return EXIT_PASS
