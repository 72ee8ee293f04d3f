"""Adapters to GitHub: the runner's files and annotations, and the REST API."""

from __future__ import annotations

import os


def api_base(api_url: str | None = None) -> str:
    """The REST API's base URL: given, else GITHUB_API_URL (GitHub Enterprise Server, test
    servers), else github.com's; checked, so a malformed one is a one-line error."""
    from mlops_actions.inputs import service_url

    if api_url:
        return service_url(api_url, "api-url")
    if os.environ.get("GITHUB_API_URL"):
        return service_url(os.environ["GITHUB_API_URL"], "GITHUB_API_URL")
    return "https://api.github.com"
