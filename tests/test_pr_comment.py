"""The sticky PR comment against a local GitHub API server, via the CLI in an Actions-like env."""

import json

import pytest

from conftest import run_cli
from fake_github import FakeGitHub

REPO = "Acme/Fraud-Detector"


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        yield fake


def _env(tmp_path, github, token="test-token"):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": token,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "out.txt"),
    }


def _gate(tmp_path, predictions_csv, env, thresholds="recall>=0.5"):
    return run_cli(
        "gate",
        "--quiet",
        "--predictions",
        str(predictions_csv),
        "--label-column",
        "is_fraud",
        "--score-column",
        "fraud_probability",
        "--thresholds",
        thresholds,
        "--output-dir",
        str(tmp_path / "o"),
        env=env,
    )


def test_second_run_updates_the_same_comment(tmp_path, predictions_csv, github):
    github.state.comments[1] = {"id": 1, "body": "an unrelated human comment", "_issue": (REPO, 7)}
    env = _env(tmp_path, github)
    first = _gate(tmp_path, predictions_csv, env)
    assert first.returncode == 0, first.stdout + first.stderr
    ours = [c for c in github.comments_on(REPO, 7) if "mlops-actions:model-gate" in c["body"]]
    assert len(ours) == 1 and "Model gate passed" in ours[0]["body"]
    second = _gate(tmp_path, predictions_csv, env, thresholds="recall>=0.999")
    assert second.returncode == 1
    comments = github.comments_on(REPO, 7)
    assert len(comments) == 2  # the human's and ours: updated, not added
    ours_after = [c for c in comments if "mlops-actions:model-gate" in c["body"]]
    assert ours_after[0]["id"] == ours[0]["id"] and "Model gate failed" in ours_after[0]["body"]
    assert comments[0]["body"] == "an unrelated human comment"
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{ours[0]['id']}") in github.state.requests


def test_read_only_token_warns_and_gate_still_reports(tmp_path, predictions_csv, github):
    github.state.deny_writes = True
    proc = _gate(tmp_path, predictions_csv, _env(tmp_path, github))
    assert proc.returncode == 0
    assert "::warning title=model gate%3A PR comment::could not comment on PR #7" in proc.stdout
    assert "403" in proc.stdout and "pull-requests: write" in proc.stdout
    assert "Model gate passed" in (tmp_path / "summary.md").read_text()
    assert github.comments_on(REPO, 7) == []


def test_bad_token_warns(tmp_path, predictions_csv, github):
    proc = _gate(tmp_path, predictions_csv, _env(tmp_path, github, token="wrong"))
    assert proc.returncode == 0 and "401" in proc.stdout


def test_two_named_gates_keep_two_comments(tmp_path, predictions_csv, github):
    env = _env(tmp_path, github)
    for name in ("fraud", "fraud-small"):
        assert (
            run_cli(
                "gate",
                "--quiet",
                "--name",
                name,
                "--predictions",
                str(predictions_csv),
                "--label-column",
                "is_fraud",
                "--score-column",
                "fraud_probability",
                "--output-dir",
                str(tmp_path / name),
                env=env,
            ).returncode
            == 0
        )
    assert len(github.comments_on(REPO, 7)) == 2


def test_no_comment_outside_pull_requests(tmp_path, predictions_csv, github):
    env = _env(tmp_path, github)
    (tmp_path / "event.json").write_text(json.dumps({"ref": "refs/heads/main"}))
    assert _gate(tmp_path, predictions_csv, env).returncode == 0
    assert github.state.requests == []
