"""`mlops-actions dispatch`: let an external data job (a nightly aggregation, say) trigger the
pipeline's `data-changed` path, with a payload saying what changed. Debounced like the monitor's
dispatch: not while a retraining for the same reason is queued or running."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

from mlops_actions import safe_json
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add, flag, number

EVENT_TYPE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def check_event_type(event_type: str) -> None:
    if not event_type or len(event_type) > 100 or not set(event_type.lower()) <= EVENT_TYPE_CHARS:
        raise UserError(
            f"event-type: {shown(event_type)} is not an event type (letters, digits, - _ .)"
        )


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("dispatch", help="trigger the pipeline's data-changed path (or another)")
    add(p, "repository", "owner/name to dispatch to (default: GITHUB_REPOSITORY)")
    add(p, "event-type", "the event type the pipeline listens to", "data-changed")
    add(p, "payload", 'client_payload as a JSON object, e.g. \'{"data_uri": "s3://..."}\'', "{}")
    add(p, "github-token", "token with contents: write (and actions: read) on that repository")
    add(p, "debounce", "skip while a run for the same event type is queued or running", "true")
    add(p, "quiet-period-hours", "also skip within this many hours of the last such run", "0")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.github.dispatch import Dispatcher

    event_type = (args.event_type or "").strip()
    check_event_type(event_type)
    payload = safe_json.loads(args.payload or "{}", "payload", "client payload")
    if not isinstance(payload, dict):
        raise UserError('payload: expected a JSON object, e.g. \'{"data_uri": "s3://..."}\'')
    quiet = number(args.quiet_period_hours, "quiet-period-hours", maximum=24 * 90) or 0.0
    dispatcher = Dispatcher(
        token=args.github_token or os.environ.get("GITHUB_TOKEN", ""),
        repository=args.repository or os.environ.get("GITHUB_REPOSITORY", ""),
    )
    result = dispatcher.dispatch(
        event_type,
        payload,
        quiet_period=timedelta(hours=quiet),
        debounce=flag(args.debounce, "debounce", True),
    )
    if result.dispatched:
        where = result.run_url or "accepted; no run listed yet (does a workflow listen to it?)"
        print(f"dispatched {event_type} to {dispatcher.repository}: {where}")
    elif result.blocking:
        print(f"not dispatched: {result.blocking.why} ({result.blocking.url})")
    runner.set_output("dispatched", "true" if result.dispatched else "false")
    runner.set_output("run-url", result.run_url)
    return EXIT_PASS
