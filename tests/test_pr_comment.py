"""The sticky PR comment against a local GitHub API server, via the CLI in an Actions-like env."""

import json

import pytest

from conftest import run_cli
from support.fake_github import FakeGitHub

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
    github.add_comment(REPO, 7, "an unrelated human comment", author="octocat")
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
                "--thresholds",
                "recall>=0",
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


PLANTED = "<!-- mlops-actions:model-gate -->\n## ✅ Model gate passed\n(planted)"


@pytest.mark.parametrize("deny_writes", [False, True])
def test_a_planted_marker_comment_is_never_ours(tmp_path, predictions_csv, github, deny_writes):
    """Someone else's comment carrying our marker and a pass is left alone; ours is separate."""
    planted = github.add_comment(REPO, 7, PLANTED, author="mallory")
    github.state.deny_writes = deny_writes
    proc = _gate(tmp_path, predictions_csv, _env(tmp_path, github), thresholds="recall>=0.999")
    assert proc.returncode == 1
    assert github.state.comments[planted]["body"] == PLANTED  # untouched either way
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{planted}") not in github.state.requests
    ours = [c for c in github.comments_on(REPO, 7) if c["_author"] == "github-actions[bot]"]
    if deny_writes:
        assert ours == [] and "::warning" in proc.stdout
    else:
        assert len(ours) == 1 and "Model gate failed" in ours[0]["body"]


def test_a_user_token_edits_only_its_own_comment(tmp_path, predictions_csv, github):
    github.state.users["pat-alice"] = "alice"
    github.add_comment(REPO, 7, PLANTED, author="github-actions[bot]")  # not alice's
    env = _env(tmp_path, github, token="pat-alice")
    assert _gate(tmp_path, predictions_csv, env).returncode == 0
    assert _gate(tmp_path, predictions_csv, env).returncode == 0
    alice = [c for c in github.comments_on(REPO, 7) if c["_author"] == "alice"]
    assert len(alice) == 1 and "Model gate passed" in alice[0]["body"]
    assert ("GET", "/user") in github.state.requests
