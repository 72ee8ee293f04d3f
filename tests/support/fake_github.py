"""A local stand-in for the GitHub REST API (no real one can run here): issue comments,
deployments, repository_dispatch and the Actions runs listing.

A real HTTP server on loopback, so the code under test (PyGithub) does real requests. Only the
routes the actions use exist; anything else is a 404, which makes a new dependency on
another endpoint show up as a test failure.

Tokens have identities, as on GitHub: the default token is an Actions installation token whose
comments are authored by `github-actions[bot]` and which gets 403 on `GET /user`; a user token
(`State.users`) authors comments as that user. Comments by others are planted with
`add_comment(..., author=...)`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class State:
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # Actions workflow runs
    deny_writes: bool = False
    token: str = "test-token"  # the workflow's installation token: github-actions[bot]
    users: dict[str, str] = field(default_factory=dict)  # personal token -> login
    next_id: int = 1000


class FakeGitHub:
    def __init__(self) -> None:
        self.state = State()
        handler = _make_handler(self)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_comment(self, repo: str, number: int, body: str, author: str) -> int:
        self.state.next_id += 1
        self.state.comments[self.state.next_id] = {
            "id": self.state.next_id,
            "body": body,
            "_issue": (repo, number),
            "_author": author,
        }
        return self.state.next_id

    def add_run(
        self, repo: str, title: str, status: str = "queued", event: str = "repository_dispatch",
        created_at: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A workflow run, as a dispatch (or anything else) would have started it."""
        from datetime import datetime, timezone

        self.state.next_id += 1
        run = {
            "id": self.state.next_id,
            "name": "ml-pipeline",
            "display_title": title,
            "event": event,
            "status": status,
            "conclusion": None if status != "completed" else "success",
            "created_at": created_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "html_url": f"https://github.example/{repo}/actions/runs/{self.state.next_id}",
            "_repo": repo,
        }
        self.state.runs.append(run)
        return run

    def author_of(self, token: str | None) -> str | None:
        if token == self.state.token:
            return "github-actions[bot]"
        return self.state.users.get(token or "")

    def comments_on(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.state.comments.values() if c["_issue"] == (repo, number)]

    def _comment_json(self, c: dict[str, Any]) -> dict[str, Any]:
        repo = c["_issue"][0]
        return {
            "id": c["id"],
            "body": c["body"],
            "url": f"{self.url}/repos/{repo}/issues/comments/{c['id']}",
            "html_url": f"https://github.example/{repo}/pull/{c['_issue'][1]}#issuecomment-{c['id']}",
            "user": {
                "login": c.get("_author", "github-actions[bot]"),
                "type": "Bot" if c.get("_author", "[bot]").endswith("[bot]") else "User",
            },
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }


def _make_handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _route(self, method: str) -> None:
            path = self.path.split("?", 1)[0].removeprefix("/api/v3")
            fake.state.requests.append((method, path))
            token = (self.headers.get("Authorization") or "").removeprefix("token ")
            author = fake.author_of(token)
            if author is None:
                self._send(401, {"message": "Bad credentials"})
                return
            if path == "/user" and method == "GET":
                if token == fake.state.token:  # an installation token has no user
                    self._send(403, {"message": "Resource not accessible by integration"})
                else:
                    self._send(200, {"login": author, "id": 1, "type": "User"})
                return
            if method in ("POST", "PATCH") and fake.state.deny_writes:
                self._send(403, {"message": "Resource not accessible by integration"})
                return
            if self._deployments(method, path) or self._actions(method, path):
                return
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)(/comments)?", path)
            if m and method == "GET" and not m.group(3):
                repo, number = m.group(1), int(m.group(2))
                self._send(
                    200,
                    {
                        "number": number,
                        "url": f"{fake.url}/repos/{repo}/issues/{number}",
                        "html_url": f"https://github.example/{repo}/pull/{number}",
                        "title": "PR",
                        "state": "open",
                    },
                )
            elif m and method == "GET":
                key = (m.group(1), int(m.group(2)))
                items = [
                    fake._comment_json(c)
                    for c in fake.state.comments.values()
                    if c["_issue"] == key
                ]
                self._send(200, items)
            elif m and method == "POST" and m.group(3):
                fake.state.next_id += 1
                comment = {
                    "id": fake.state.next_id,
                    "body": self._body()["body"],
                    "_issue": (m.group(1), int(m.group(2))),
                    "_author": author,
                }
                fake.state.comments[comment["id"]] = comment
                self._send(201, fake._comment_json(comment))
            elif (
                e := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", path)
            ) and method == "PATCH":
                comment = fake.state.comments.get(int(e.group(1)))
                if comment is None:
                    self._send(404, {"message": "Not Found"})
                    return
                if comment.get("_author") != author:  # only the author may edit a comment
                    self._send(403, {"message": "Must have admin rights to Repository."})
                    return
                comment["body"] = self._body()["body"]
                self._send(200, fake._comment_json(comment))
            else:
                self._send(404, {"message": "Not Found"})

        def _deployments(self, method: str, path: str) -> bool:
            created = re.fullmatch(r"/repos/([^/]+/[^/]+)/deployments", path)
            status = re.fullmatch(r"/repos/([^/]+/[^/]+)/deployments/(\d+)/statuses", path)
            if created and method == "POST":
                body = self._body()
                fake.state.next_id += 1
                record = {
                    **body,
                    "id": fake.state.next_id,
                    "statuses": [],
                    "url": f"{fake.url}/repos/{created.group(1)}/deployments/{fake.state.next_id}",
                }
                fake.state.deployments.append(record)
                self._send(201, {k: v for k, v in record.items() if k != "statuses"})
                return True
            if status and method == "POST":
                record = next(
                    (d for d in fake.state.deployments if d["id"] == int(status.group(2))), None
                )
                if record is None:
                    self._send(404, {"message": "Not Found"})
                    return True
                body = self._body()
                record["statuses"].append(body)
                fake.state.next_id += 1
                self._send(
                    201,
                    {
                        **body,
                        "id": fake.state.next_id,
                        "url": f"{record['url']}/statuses/{fake.state.next_id}",
                    },
                )
                return True
            return False

        def _actions(self, method: str, path: str) -> bool:
            """repository_dispatch (a dispatch starts a queued run titled with its event type,
            as a workflow whose run-name names it would) and the runs listing, filtered."""
            from urllib.parse import parse_qs, urlparse

            dispatch = re.fullmatch(r"/repos/([^/]+/[^/]+)/dispatches", path)
            runs = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs", path)
            if dispatch and method == "POST":
                body = self._body()
                fake.state.dispatches.append({"repo": dispatch.group(1), **body})
                fake.add_run(dispatch.group(1), str(body.get("event_type")))
                self.send_response(204)
                self.end_headers()
                return True
            if runs and method == "GET":
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                found = [r for r in fake.state.runs if r["_repo"] == runs.group(1)]
                if "event" in query:
                    found = [r for r in found if r["event"] == query["event"]]
                if "status" in query:
                    wanted = query["status"]
                    found = [r for r in found if wanted in (r["status"], r["conclusion"])]
                if query.get("created", "").startswith(">="):
                    found = [r for r in found if r["created_at"] >= query["created"][2:]]
                visible = [{k: v for k, v in r.items() if not k.startswith("_")} for r in found]
                self._send(200, {"total_count": len(visible), "workflow_runs": visible})
                return True
            return False

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler
