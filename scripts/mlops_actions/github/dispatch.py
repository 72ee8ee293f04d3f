"""`repository_dispatch` with a debounce, through PyGithub (GITHUB_API_URL honoured).

Before dispatching, the Actions API is asked whether a run for the same reason is queued or in
progress, or started within the quiet period. A run is for the same reason when its title names
the event type (the pipeline's `run-name` includes it); a dispatch run whose title names no known
event type may be one too, so it counts: a duplicate retraining costs more than a late one.

The token needs `contents: write` on the target repository to dispatch (the job's GITHUB_TOKEN
can: repository_dispatch is one of the events its runs may trigger) and `actions: read` to list
its runs.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from mlops_actions.errors import UserError, shown
from mlops_actions.github import api_base

KNOWN_EVENT_TYPES = ("model-degraded", "data-changed")
ACTIVE_STATUSES = ("queued", "in_progress", "waiting", "pending", "requested")
MAX_PAYLOAD_KEYS = 10  # GitHub's limit on client_payload's top-level properties


@dataclass(frozen=True)
class Blocking:
    """A run that holds a new dispatch back."""

    run_id: int
    status: str
    title: str
    created_at: str
    url: str
    why: str


@dataclass(frozen=True)
class DispatchResult:
    dispatched: bool
    blocking: Blocking | None = None
    run_url: str = ""  # the run the dispatch started, once the Actions API lists it


def same_reason(title: str, event_type: str) -> bool:
    if event_type in title:
        return True
    return not any(known in title for known in KNOWN_EVENT_TYPES)


def check_payload(payload: dict[str, Any]) -> None:
    if len(payload) > MAX_PAYLOAD_KEYS:
        raise UserError(
            f"payload: {len(payload)} top-level keys; GitHub allows at most {MAX_PAYLOAD_KEYS} "
            "in client_payload (nest the rest)"
        )


class Dispatcher:
    def __init__(self, *, token: str, repository: str, api_url: str | None = None):
        from github import Auth, Github

        if not token:
            raise UserError(
                "github-token: needed to dispatch (contents: write on the target repository, "
                "and actions: read to check its runs)"
            )
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise UserError(f"repository: expected owner/name, got {shown(repository)}")
        self.client = Github(
            base_url=api_base(api_url),
            auth=Auth.Token(token),
            retry=None,
            timeout=20,
        )
        self.repository = repository
        self.repo = self.client.get_repo(repository, lazy=True)

    def _call(self, action: str, call: Any) -> Any:
        from github import GithubException

        try:
            return call()
        except GithubException as exc:
            need = "contents: write" if action == "dispatch" else "actions: read"
            raise UserError(
                f"could not {action} on {self.repository}: HTTP {exc.status}; the token needs "
                f"`{need}` on that repository"
            ) from None
        except OSError as exc:
            raise UserError(f"could not {action} on {self.repository}: {exc}") from None

    def blocking_run(
        self, event_type: str, quiet_period: timedelta, now: datetime | None = None
    ) -> Blocking | None:
        """A dispatch run for the same reason that is active, or began in the quiet period."""
        now = now or datetime.now(timezone.utc)
        since = (now - quiet_period).strftime("%Y-%m-%dT%H:%M:%SZ")
        queries: list[tuple[str, dict[str, str]]] = [
            (status, {"status": status}) for status in ACTIVE_STATUSES
        ]
        if quiet_period > timedelta(0):
            queries.append(("recent", {"created": f">={since}"}))
        for label, query in queries:
            runs = self._call(
                "list the workflow runs",
                lambda q=query: list(
                    itertools.islice(
                        self.repo.get_workflow_runs(event="repository_dispatch", **q), 50
                    )
                ),
            )
            for run in runs:
                title = str(run.display_title or run.name or "")
                if not same_reason(title, event_type):
                    continue
                why = (
                    f"run {run.id} is {run.status}"
                    if label != "recent"
                    else f"run {run.id} started {run.created_at:%Y-%m-%d %H:%M} UTC, within the "
                    f"quiet period ({quiet_period.total_seconds() / 3600:g} h)"
                )
                return Blocking(run.id, str(run.status), title, str(run.created_at),
                                str(run.html_url), why)  # fmt: skip
        return None

    def dispatch(
        self,
        event_type: str,
        payload: dict[str, Any],
        quiet_period: timedelta = timedelta(0),
        debounce: bool = True,
    ) -> DispatchResult:
        check_payload(payload)
        if debounce:
            blocking = self.blocking_run(event_type, quiet_period)
            if blocking:
                return DispatchResult(False, blocking)
        before = {run.id for run in self._active_runs()}
        accepted = self._call(
            "dispatch",
            lambda: self.repo.create_repository_dispatch(event_type, client_payload=payload),
        )
        if not accepted:  # PyGithub returns False, not an exception, when GitHub refuses it
            raise UserError(
                f"could not dispatch on {self.repository}: GitHub did not accept the event; the "
                "token needs `contents: write` on that repository"
            )
        return DispatchResult(True, run_url=self._new_run(event_type, before))

    def _active_runs(self) -> list[Any]:
        runs: list[Any] = self._call(
            "list the workflow runs",
            lambda: list(
                itertools.islice(
                    self.repo.get_workflow_runs(event="repository_dispatch", status="queued"), 50
                )
            ),
        )
        return runs

    def _new_run(self, event_type: str, before: set[int], wait_seconds: float = 10.0) -> str:
        """The queued run the dispatch started, read back; empty when none shows up in time
        (no workflow listens to the event type, or GitHub is slow)."""
        deadline = time.monotonic() + wait_seconds
        while True:
            for run in self._active_runs():
                if run.id not in before and same_reason(str(run.display_title or ""), event_type):
                    return str(run.html_url)
            if time.monotonic() >= deadline:
                return ""
            time.sleep(2.0)
