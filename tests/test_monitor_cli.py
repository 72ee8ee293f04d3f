"""`mlops-actions monitor` as a user runs it: files in, report and outputs out, and a debounced
repository_dispatch against the local GitHub API stand-in."""

import csv
import json

import pytest

from conftest import REPO, run_cli
from support.fake_github import FakeGitHub

REFERENCE = REPO / "example-project" / "data" / "transactions.csv"
CONFIG = "columns:\n  exclude: [transaction_id, is_fraud]\n"


def _write(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _feed(tmp_path, name="current.csv", drifted=False, hostile=False):
    with open(REFERENCE, newline="") as handle:
        rows = list(csv.reader(handle))[:3001]
    header, body = rows[0], rows[1:]
    if drifted:
        for i, r in enumerate(body):
            r[1] = f"{float(r[1]) * 1.8:.2f}"
            r[4] = "1" if i % 3 == 0 else r[4]
            r[5] = str(int(r[5]) // 3 + 1)
            r[3] = "crypto" if i % 4 == 0 else r[3]
    if hostile:
        for i, r in enumerate(body):
            r[3] = "<b>x</b>|\n::set-output name=degraded::false" if i % 2 else r[3]
    return _write(tmp_path / name, [header, *body])


def _monitor(tmp_path, current, *args, env=None):
    config = tmp_path / "monitor.yml"
    config.write_text(CONFIG)
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("")
    proc = run_cli(
        "monitor", "--reference", str(REFERENCE), "--current", str(current), "--config",
        str(config), "--output-dir", str(tmp_path / "out"), *args,
        env={"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
             **(env or {})},
    )  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def test_an_undrifted_feed_is_not_degraded(tmp_path):
    proc, out = _monitor(tmp_path, _feed(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert out["degraded"] == "false" and float(out["drift-share"]) == 0.0
    assert out["report-path"].endswith("report.md") and out["dispatched"] == "false"
    document = json.loads((tmp_path / "out" / "monitor.json").read_text())
    assert document["degraded"] is False and set(document["features"]) == {
        "amount", "hour", "merchant_category", "is_international", "account_age_days",
        "distance_from_home_km", "region",
    }  # fmt: skip
    assert "no degradation" in (tmp_path / "summary.md").read_text()


def test_a_drifted_feed_is_degraded_and_explained(tmp_path):
    proc, out = _monitor(tmp_path, _feed(tmp_path, drifted=True), "--fail-on", "degraded")
    assert proc.returncode == 1, proc.stderr
    assert out["degraded"] == "true" and float(out["drift-share"]) == pytest.approx(4 / 7, abs=1e-4)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Model degraded" in report and "4 of 7 features drifted" in report
    assert (
        "#### amount: KS p=" in report
        and "Unseen in the reference (25.0% of current rows): crypto" in report
    )


def test_names_from_the_data_cannot_act_as_commands_or_markup(tmp_path):
    proc, out = _monitor(
        tmp_path, _feed(tmp_path, drifted=True, hostile=True), env={"GITHUB_ACTIONS": "true"}
    )
    assert proc.returncode == 0
    assert out["degraded"] == "true"  # the planted set-output line did not set it
    report = (tmp_path / "out" / "report.md").read_text()
    assert "<b>" not in report and "\\<b\\>x\\</b\\>\\|" in report
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::stop-commands::")  # everything printed with commands suspended
    assert not any(line.startswith("::set-output") for line in lines)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--current", "missing.csv"], "missing.csv: no such file"),
        (["--current", "data.xlsx"], "data.xlsx: unsupported data format"),
        (["--fail-on", "always"], "fail-on: expected degraded or never, got 'always'"),
        (["--dispatch", "true", "--repository", "Acme/X"], "github-token: needed to dispatch"),
        (["--quiet-period-hours", "-1"], "quiet-period-hours: expected a number from 0"),
        (
            ["--performance-verdict", "nope.json"],
            "nope.json: performance-verdict (the model gate's verdict.json) file not found",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, expected):
    current = _feed(tmp_path)
    if "--current" in args:
        args = [str(tmp_path / a) if a.endswith((".csv", ".xlsx")) else a for a in args]
        current = args[1]
        args = args[2:]
    proc, _ = _monitor(tmp_path, current, *args)
    assert proc.returncode == 2, proc.stdout[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert not (tmp_path / "out" / "monitor.json").exists()  # nothing half-written


def test_config_and_column_errors_name_the_file(tmp_path):
    current = _feed(tmp_path)
    config = tmp_path / "monitor.yml"
    bad = tmp_path / "bad.yml"
    bad.write_text("drift:\n  sharre: 0.5\n")
    proc, _ = _monitor(tmp_path, current, "--config", str(bad))
    assert proc.returncode == 2 and "bad.yml: drift.sharre: unknown key" in proc.stderr
    listed = tmp_path / "listed.yml"
    listed.write_text("features: [amount, velocity]\n")
    proc, _ = _monitor(tmp_path, current, "--config", str(listed))
    assert proc.returncode == 2
    assert "no column 'velocity' (listed under features in " in proc.stderr and config.exists()
    broken = _write(tmp_path / "broken.csv", [["amount", "hour"], ["1.0", "2", "3"]])
    proc, _ = _monitor(tmp_path, broken)
    assert proc.returncode == 2 and "broken.csv: cannot be read as csv" in proc.stderr


def test_a_misspelt_excluded_column_is_refused_not_monitored(tmp_path):
    current = _feed(tmp_path)
    typo = tmp_path / "typo.yml"
    typo.write_text("columns:\n  exclude: [transaction_id, is_frud]\n")
    proc, _ = _monitor(tmp_path, current, "--config", str(typo))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "typo.yml: columns.exclude: 'is_frud' is a column of neither" in line, line
    assert "(did you mean 'is_fraud'?)" in line


def test_an_empty_feed_is_not_judged_and_fails_under_fail_on(tmp_path):
    """0 rows: no all-clear. The step fails as degraded would, and says why."""
    header = _feed(tmp_path).read_text().splitlines()[0]
    empty = tmp_path / "empty.csv"
    empty.write_text(header + "\n")
    proc, out = _monitor(tmp_path, empty, "--fail-on", "degraded", env={"GITHUB_ACTIONS": "true"})
    assert proc.returncode == 1, proc.stderr
    assert out["outcome"] == "not-judged" and out["degraded"] == "false"
    assert out["drift-share"] == ""  # not 0.0000, which would read as "no drift"
    assert "::error title=model monitor%3A not judged::the current data has no rows" in proc.stdout
    report = (tmp_path / "out" / "report.md").read_text()
    assert "not judged (no all-clear)" in report
    assert json.loads((tmp_path / "out" / "monitor.json").read_text())["outcome"] == "not-judged"
    quiet, out = _monitor(tmp_path, empty)  # fail-on never: reported, not failed
    assert quiet.returncode == 0 and out["outcome"] == "not-judged"


def test_a_degraded_model_is_dispatched_once_then_debounced(tmp_path):
    current = _feed(tmp_path, drifted=True)
    with FakeGitHub() as github:
        env = {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
               "GITHUB_TOKEN": github.state.token}  # fmt: skip
        args = ("--dispatch", "true", "--data-uri", "s3://feeds/2026-11-29.csv")
        first, out1 = _monitor(tmp_path, current, *args, env=env)
        second, out2 = _monitor(tmp_path, current, *args, env=env)
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        assert out1["dispatched"] == "true" and out2["dispatched"] == "false"
        assert out1["dispatch-run-url"].endswith(f"/actions/runs/{github.state.runs[0]['id']}")
        assert len(github.state.dispatches) == 1  # the queued retraining holds the second back
        sent = github.state.dispatches[0]
        assert sent["event_type"] == "model-degraded" and sent["repo"] == "Acme/Fraud-Detector"
        payload = sent["client_payload"]
        assert payload["current_data"] == "s3://feeds/2026-11-29.csv" and len(payload) <= 10
        assert payload["reasons"][0].startswith("drift: 4 of 7 features drifted")
        assert "Not dispatched again: run" in second.stdout and "is queued" in second.stdout

        # Finished, but within the quiet period: still held back; with no quiet period: sent.
        github.state.runs[0]["status"] = "completed"
        third, out3 = _monitor(tmp_path, current, *args, env=env)
        assert out3["dispatched"] == "false" and "within the quiet period (12 h)" in third.stdout
        _, out4 = _monitor(tmp_path, current, *args, "--quiet-period-hours", "0", env=env)
        assert out4["dispatched"] == "true" and len(github.state.dispatches) == 2


def test_a_retraining_for_another_reason_does_not_hold_a_dispatch_back(tmp_path):
    with FakeGitHub() as github:
        github.add_run("Acme/Fraud-Detector", "ml-pipeline: data-changed", status="in_progress")
        env = {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
               "GITHUB_TOKEN": github.state.token}  # fmt: skip
        proc, out = _monitor(tmp_path, _feed(tmp_path, drifted=True), "--dispatch", "true", env=env)
        assert proc.returncode == 0 and out["dispatched"] == "true"


def test_a_token_that_cannot_dispatch_is_one_line(tmp_path):
    with FakeGitHub() as github:
        github.state.deny_writes = True
        env = {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "Acme/Fraud-Detector",
               "GITHUB_TOKEN": github.state.token}  # fmt: skip
        proc, _ = _monitor(tmp_path, _feed(tmp_path, drifted=True), "--dispatch", "true", env=env)
    assert proc.returncode == 2
    assert (
        "could not dispatch on Acme/Fraud-Detector: GitHub did not accept the event; the token needs `contents: write`"
        in proc.stderr
    )
    # The report is kept, and says the dispatch did not happen.
    document = json.loads((tmp_path / "out" / "monitor.json").read_text())
    assert document["degraded"] is True and document["dispatched"] is False
    assert "Not dispatched: could not dispatch" in (tmp_path / "out" / "report.md").read_text()


def _dispatch(github, *args, token=None):
    env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": token or github.state.token}
    return run_cli("dispatch", "--repository", "Acme/Fraud-Detector", *args, env=env)


def test_an_external_data_job_dispatches_data_changed_once(tmp_path):
    payload = json.dumps({"data_uri": "s3://acme-data/2026-11-29/", "rows": 4000})
    with FakeGitHub() as github:
        first = _dispatch(github, "--payload", payload)
        second = _dispatch(github, "--payload", payload)
        forced = _dispatch(github, "--payload", payload, "--debounce", "false")
        sent = list(github.state.dispatches)
    assert first.returncode == second.returncode == forced.returncode == 0, first.stderr
    assert "dispatched data-changed to Acme/Fraud-Detector: https://github.example/" in first.stdout
    assert "not dispatched: run" in second.stdout and "is queued" in second.stdout
    assert len(sent) == 2 and all(s["event_type"] == "data-changed" for s in sent)
    assert sent[0]["client_payload"] == {"data_uri": "s3://acme-data/2026-11-29/", "rows": 4000}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--payload", "[1, 2]"], "payload: expected a JSON object"),
        (["--payload", "{oops"], "payload: line 1: not JSON"),
        (["--event-type", "data changed!"], "event-type: 'data changed!' is not an event type"),
        (["--payload", json.dumps({str(i): i for i in range(11)})], "payload: 11 top-level keys"),
        (["--repository", "just-a-name"], "repository: expected owner/name, got 'just-a-name'"),
    ],
)
def test_dispatch_bad_input_is_one_line(args, expected):
    with FakeGitHub() as github:
        proc = _dispatch(github, *args)
        assert github.state.dispatches == []
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr


def test_one_stray_token_in_a_number_column_keeps_it_numeric(tmp_path):
    """`amount` gets one 'oops' and a shift: it is still judged as numbers (the token counts as
    missing), not compared as text, where every value is too rare to test."""
    with open(REFERENCE, newline="") as handle:
        rows = list(csv.reader(handle))[:3001]
    for r in rows[1:]:
        r[1] = f"{float(r[1]) * 3 + 500:.2f}"
    rows[7][1] = "oops"
    proc, out = _monitor(tmp_path, _write(tmp_path / "junk.csv", rows))
    assert proc.returncode == 0 and out["outcome"] == "ok", proc.stderr  # 1 of 7 drifted
    document = json.loads((tmp_path / "out" / "monitor.json").read_text())
    amount = document["features"]["amount"]
    assert amount["status"] == "drifted" and amount["method"] == "ks", amount
    assert any("1 values are not numbers (e.g. 'oops')" in n for n in document["notes"])
