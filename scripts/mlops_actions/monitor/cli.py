"""`mlops-actions monitor` (the model-monitor action): its options (each also an INPUT_* variable)
and the glue from them to the drift measurement, the report, the outputs and the dispatch."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from mlops_actions import outputs
from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_FAIL, EXIT_PASS, Parser, Subparsers, add, flag, number


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("monitor", help="detect drift and degradation; dispatch retraining")
    add(p, "reference", "reference data (the training data): CSV or Parquet")
    add(p, "current", "current data (recent production inputs): CSV or Parquet")
    add(p, "config", "monitor config YAML (e.g. .mlops/monitor.yml); defaults when empty")
    add(p, "performance-verdict", "model-gate's verdict.json on labelled current data")
    add(p, "output-dir", "where monitor.json, report.md and report.html go", "model-monitor")
    add(p, "html", "write the HTML report here instead (default: report.html in output-dir)")
    add(p, "history", "a folder of earlier runs' monitor.json files: drift over time")
    add(p, "dispatch", "when degraded, send repository_dispatch (true/false)", "false")
    add(p, "event-type", "the dispatch's event type", "model-degraded")
    add(p, "repository", "owner/name to dispatch to (default: GITHUB_REPOSITORY)")
    add(p, "github-token", "token with contents: write and actions: read on that repository")
    add(p, "quiet-period-hours", "no new dispatch within this many hours of the last", "12")
    add(p, "data-uri", "where the current data lives, for the dispatch payload")
    add(
        p,
        "fail-on",
        "degraded (exit 1 when degraded or not judged) or never (the default: report only)",
        "never",
    )


def _payload(decision: Any, data_uri: str) -> dict[str, Any]:
    metrics = (decision.performance or {}).get("metrics") or {}
    return {
        "reasons": [r[:300] for r in decision.reasons[:5]],
        "drift_share": round(decision.drift_share, 4),
        "drifted_features": [v.drift.name[:100] for v in decision.drifted[:10]],
        "metrics": {k: v for k, v in list(metrics.items())[:10] if isinstance(v, int | float)},
        "current_data": data_uri,
        "monitor_run": runner.run_url() or "",
        "source_sha": os.environ.get("GITHUB_SHA", ""),
    }


_JSON_BINS = 100  # bins kept per feature in monitor.json (categories: the most frequent)


def _bins(v: Any) -> dict[str, Any]:
    """A feature's bins as the report draws them: shares rounded as shown."""
    from mlops_actions.monitor.drift import UNSEEN
    from mlops_actions.tables import MISSING

    bins = v.drift.bins
    keep = list(range(min(len(bins.labels), _JSON_BINS)))
    keep += [i for i in range(_JSON_BINS, len(bins.labels)) if bins.labels[i] in (UNSEEN, MISSING)]
    return {
        "labels": [bins.labels[i] for i in keep],
        "reference": [round(float(bins.reference[i]), 4) + 0.0 for i in keep],
        "current": [round(float(bins.current[i]), 4) + 0.0 for i in keep],
        "left_out": len(bins.labels) - len(keep),
    }


def _document(decision: Any, request: Any) -> dict[str, Any]:
    from datetime import datetime, timezone

    from mlops_actions.monitor.report import drift_level

    return {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "outcome": decision.outcome,
        "degraded": decision.degraded,
        "not_judged": list(decision.not_judged),
        "drift_share": decision.drift_share if decision.outcome != "not-judged" else None,
        "dataset_drifted": decision.dataset_drifted,
        "reasons": list(decision.reasons),
        "notes": list(decision.notes),
        "reference": request.reference,
        "current": request.current,
        "features": {
            v.drift.name: {
                "kind": v.drift.kind,
                "status": v.status,
                "method": v.method,
                "score": v.score,
                "threshold": v.threshold,
                "level": drift_level(v.method, v.score, v.threshold),
                "test": v.drift.test,
                "pvalue": v.drift.pvalue,
                "psi": v.drift.psi,
                "ks_statistic": v.drift.ks_statistic,
                "ks_pvalue": v.drift.ks_pvalue,
                "js_distance": v.drift.js_distance,
                "unseen": list(v.drift.unseen[:50]),
                "missing_share": list(v.drift.missing_share),
                "bins": _bins(v),
            }
            for v in decision.features
        },
    }


def run(args: argparse.Namespace) -> int:
    from mlops_actions import safe_yaml
    from mlops_actions.monitor import report
    from mlops_actions.monitor.config import MonitorConfig, parse_config
    from mlops_actions.monitor.history import read_history
    from mlops_actions.monitor.run import MonitorRequest, monitor

    for name in ("reference", "current"):
        if not getattr(args, name):
            raise UserError(f"{name}: give the {name} data file (CSV or Parquet)")
    fail_on = (args.fail_on or "never").strip().lower()
    if fail_on not in ("degraded", "never"):
        raise UserError(f"fail-on: expected degraded or never, got {shown(args.fail_on)}")
    dispatch = flag(args.dispatch, "dispatch", False)
    quiet = number(args.quiet_period_hours, "quiet-period-hours", maximum=24 * 90) or 0.0
    config = MonitorConfig()
    if args.config:
        config = parse_config(safe_yaml.read(args.config, "monitor config"), args.config)
    dispatcher = None
    if dispatch:  # checked before the data is read, so a bad token fails fast
        from mlops_actions.github.dispatch import Dispatcher
        from mlops_actions.monitor.dispatch_cli import check_event_type

        check_event_type(args.event_type or "model-degraded")

        dispatcher = Dispatcher(
            token=args.github_token or os.environ.get("GITHUB_TOKEN", ""),
            repository=args.repository or os.environ.get("GITHUB_REPOSITORY", ""),
        )
    request = MonitorRequest(args.reference, args.current, config, args.performance_verdict or "")
    history = read_history(args.history) if args.history else []  # checked before the work
    planned = Path(args.output_dir or "model-monitor")
    if args.html:  # before anything is made or removed: never over an input or an output
        outputs.apart(Path(args.html), "--html", {
            "reference data": args.reference, "current data": args.current,
            "config file": args.config, "performance-verdict file": args.performance_verdict,
            "monitor.json output": planned / "monitor.json",
            "report.md output": planned / "report.md",
        }, [("history file (--history)", run["path"]) for run in history])  # fmt: skip
    out = outputs.directory(planned, "output-dir", ("monitor.json", "report.md", "report.html"))
    html_path = outputs.file(args.html, "html") if args.html else out / "report.html"
    # An earlier run's must not look current. Only our own files in output-dir are removed: an
    # --html elsewhere is replaced whole when written.
    for stale in (out / "monitor.json", out / "report.md", out / "report.html"):
        stale.unlink(missing_ok=True)
    decision = monitor(request)

    extra: list[str] = []
    dispatched, failed = "false", None
    if decision.degraded and dispatcher is not None:
        try:
            result = dispatcher.dispatch(
                args.event_type or "model-degraded",
                _payload(decision, args.data_uri or ""),
                quiet_period=timedelta(hours=quiet),
            )
        except UserError as exc:  # the report is still written; the step then fails on this
            failed = exc
            extra.append(f"⚠️ Not dispatched: {exc.message}")
        else:
            if result.dispatched:
                dispatched = "true"
                started = (
                    f"retraining queued: {result.run_url}"
                    if result.run_url
                    else "accepted; no run listed yet (does a workflow listen to this event type?)"
                )
                extra.append(f"🔁 Sent {args.event_type} to {dispatcher.repository}: {started}")
                runner.set_output("dispatch-run-url", result.run_url)
            elif result.blocking:
                extra.append(
                    f"⏸️ Not dispatched again: {result.blocking.why} ({result.blocking.url})."
                )
    document = _document(decision, request) | {"dispatched": dispatched == "true"}
    drawn = report.render_all(decision, config, document, history, extra)
    text = drawn["markdown"]
    outputs.write_atomic(html_path, drawn["html"])
    outputs.write_atomic(out / "monitor.json", json.dumps(document, indent=2) + "\n")
    outputs.write_atomic(out / "report.md", text)
    # Column and category names come from the data: untrusted. A terminal gets plain text.
    runner.print_untrusted(drawn["text"] if sys.stdout.isatty() else text)
    runner.append_summary(text)
    runner.set_output("outcome", decision.outcome)
    runner.set_output("degraded", "true" if decision.degraded else "false")
    # Empty when nothing was judged: 0.0000 would read as "no drift".
    judged = decision.outcome != "not-judged"
    runner.set_output("drift-share", f"{decision.drift_share:.4f}" if judged else "")
    runner.set_output("report-path", str(out / "report.md"))
    runner.set_output("html-path", str(html_path.resolve()))
    runner.set_output(
        "artifact-name", runner.artifact_name("model-monitor-report", str(html_path.resolve()))
    )
    runner.set_output("dispatched", dispatched)
    if failed is not None:
        raise failed
    if decision.not_judged and runner.in_actions():
        level = "error" if fail_on == "degraded" else "warning"
        runner.annotate(level, "; ".join(decision.not_judged), title="model monitor: not judged")
    # Not judged is no all-clear: under fail-on: degraded it fails the step as degraded does.
    return EXIT_FAIL if decision.outcome != "ok" and fail_on == "degraded" else EXIT_PASS
