"""A GitHub Deployment record with its status, through PyGithub (GITHUB_API_URL honoured).

Failures are returned as warnings for the caller: a missing `deployments: write` permission
must not fail a deploy that worked.
"""

from __future__ import annotations

from typing import Any

from mlops_actions.github import api_base


class DeploymentRecord:
    def __init__(
        self, *, token: str, repository: str, environment: str, ref: str, api_url: str | None = None
    ):
        from github import Auth, Github

        self.client = Github(
            base_url=api_base(api_url),
            auth=Auth.Token(token),
            retry=None,
            timeout=20,
        )
        self.repository, self.environment, self.ref = repository, environment, ref
        self.deployment: Any = None
        self.warning: str | None = None

    def _guard(self, action: str, call: Any) -> Any:
        from github import GithubException

        try:
            return call()
        except GithubException as exc:
            self.warning = (
                f"could not {action} the GitHub deployment: HTTP {exc.status}; the job needs "
                "`permissions: deployments: write`"
            )
        except Exception as exc:  # network errors must not fail the deploy
            self.warning = f"could not {action} the GitHub deployment: {type(exc).__name__}: {exc}"
        return None

    def start(self, description: str) -> None:
        repo = self.client.get_repo(self.repository, lazy=True)
        self.deployment = self._guard(
            "create",
            lambda: repo.create_deployment(
                ref=self.ref,
                environment=self.environment,
                auto_merge=False,
                required_contexts=[],
                description=description[:140],
                transient_environment=False,
                production_environment=False,
            ),
        )
        if self.deployment is not None:
            self._guard(
                "update",
                lambda: self.deployment.create_status("in_progress", description=description[:140]),
            )

    def finish(
        self, state: str, description: str, environment_url: str = "", log_url: str = ""
    ) -> None:
        if self.deployment is None:
            return
        self._guard(
            "update",
            lambda: self.deployment.create_status(
                state,
                description=description[:140],
                environment_url=environment_url,
                target_url=log_url,
            ),
        )
        self.client.close()
