"""The sticky PR comment: one comment per report, found by a hidden marker, edited in place.

Uses PyGithub against GITHUB_API_URL (GitHub Enterprise Server and test servers work). Any
failure to comment is a warning for the caller, never an exception: a read-only token on a fork
PR must not fail the gate.

Only a comment written by the token's own identity is ours to edit: anyone can paste the hidden
marker (and a "passed" report) into a comment. The identity is `GET /user` for a user token;
an installation token (the workflow's GITHUB_TOKEN) has no user, and writes as
`github-actions[bot]`; for a GitHub App's token, set MLOPS_COMMENT_AUTHOR (e.g. `my-app[bot]`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_actions.github import api_base, runner

MAX_BODY = 65_000  # GitHub rejects comment bodies over 65,536 characters


@dataclass(frozen=True)
class CommentResult:
    action: str  # created | updated | skipped | failed
    detail: str
    url: str | None = None


def pull_request_number(
    event: Mapping[str, Any] | None = None, ref: str | None = None
) -> int | None:
    """The PR this run belongs to: from the event payload, else from refs/pull/N/merge."""
    event = runner.event_payload() if event is None else event
    if event:
        pr = event.get("pull_request") or {}
        if isinstance(pr, dict) and isinstance(pr.get("number"), int):
            return int(pr["number"])
        issue = event.get("issue") or {}
        if (
            isinstance(issue, dict)
            and issue.get("pull_request")
            and isinstance(issue.get("number"), int)
        ):
            return int(issue["number"])
    match = re.fullmatch(r"refs/pull/(\d+)/(merge|head)", ref or os.environ.get("GITHUB_REF", ""))
    return int(match.group(1)) if match else None


def _truncate(body: str, marker: str) -> str:
    if len(body) <= MAX_BODY:
        return body
    note = "\n\n… report truncated; the full report is in the job summary and report.md.\n"
    return body[: MAX_BODY - len(note) - len(marker) - 1] + note + marker


ACTIONS_BOT = "github-actions[bot]"


def _our_login(client: Any) -> str:
    """Who the token writes as: a user token's login, else the installation's bot."""
    from github import GithubException

    override = os.environ.get("MLOPS_COMMENT_AUTHOR", "").strip()
    if override:
        return override
    try:
        return str(client.get_user().login)
    except GithubException as exc:
        if exc.status in (403, 404):  # "Resource not accessible by integration"
            return ACTIONS_BOT
        raise


def upsert_sticky_comment(
    *,
    token: str,
    repository: str,
    number: int,
    body: str,
    marker: str,
    api_url: str | None = None,
) -> CommentResult:
    from github import Auth, Github, GithubException

    api_url = api_base(api_url)
    body = _truncate(body if body.startswith(marker) else f"{marker}\n{body}", marker)
    client = Github(base_url=api_url, auth=Auth.Token(token), retry=None, timeout=20)
    try:
        me = _our_login(client)
        issue = client.get_repo(repository, lazy=True).get_issue(number)
        for comment in issue.get_comments():
            author = comment.user.login if comment.user is not None else None
            if author == me and (comment.body or "").startswith(marker):
                comment.edit(body)
                return CommentResult(
                    "updated", f"updated comment {comment.id} on #{number}", comment.html_url
                )
        created = issue.create_comment(body)
        return CommentResult(
            "created", f"created comment {created.id} on #{number}", created.html_url
        )
    except GithubException as exc:
        if exc.status in (401, 403, 404):
            why = {
                401: "the token was rejected (401)",
                403: "the token may not write comments (403)",
                404: f"PR #{number} or the repository is not visible to the token (404)",
            }[exc.status]
            return CommentResult(
                "failed",
                f"could not comment on PR #{number}: {why}; grant `pull-requests: write` "
                "(fork PRs get a read-only token); the report is in the job summary",
            )
        return CommentResult("failed", f"could not comment on PR #{number}: HTTP {exc.status}")
    except Exception as exc:  # network errors must not fail the gate
        return CommentResult(
            "failed", f"could not comment on PR #{number}: {type(exc).__name__}: {exc}"
        )
    finally:
        client.close()
