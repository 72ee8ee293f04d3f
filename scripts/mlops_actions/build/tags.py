"""Image name, tags and OCI labels from the GitHub context. Pure: env and event in, lists out.

Tag rules (as docker/metadata-action's defaults, made explicit):
- `sha-<7>` and the full commit SHA, always; on pull requests the PR *head* SHA, not the merge
  commit GitHub builds;
- the sanitized branch name on branch refs (pushes, schedules, dispatches);
- `pr-<N>` on pull requests;
- on `vX.Y.Z` tags: `X.Y.Z`, `X.Y` and `X` (no bare `0` for 0.x); a pre-release or build
  (`v2.0.0-rc.1`) gets only its full version; other git tags get their sanitized name;
- `latest` only on a push to the repository's default branch (read from the event payload);
- extra tags from the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_actions.errors import UserError, shown

SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?P<pre>-[0-9A-Za-z.-]+)?(?P<build>\+[0-9A-Za-z.-]+)?$"
)
_TAG_OK = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NAME_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_REGISTRY = re.compile(
    r"^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+|[a-z0-9-]+:\d+|[a-z0-9.-]+:\d+)$"
)


@dataclass(frozen=True)
class GitContext:
    event_name: str
    ref: str
    sha: str
    repository: str  # owner/name, as GitHub spells it
    server_url: str = "https://github.com"
    default_branch: str | None = None
    pr_number: int | None = None
    pr_head_sha: str | None = None
    pr_head_repo: str | None = None
    description: str | None = None
    license: str | None = None
    commit_time: str | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pr_number is not None

    @property
    def is_fork_pull_request(self) -> bool:
        return (
            self.is_pull_request
            and bool(self.pr_head_repo)
            and self.pr_head_repo != self.repository
        )

    @property
    def revision(self) -> str:
        return self.pr_head_sha if self.is_pull_request and self.pr_head_sha else self.sha


def context_from(env: Mapping[str, str], event: Mapping[str, Any]) -> GitContext:
    """Read the standard GITHUB_* variables and the event payload."""
    repository = env.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise UserError(
            "GITHUB_REPOSITORY is not set; run inside GitHub Actions or set it (owner/name)"
        )
    sha = env.get("GITHUB_SHA", "")
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise UserError(f"GITHUB_SHA {shown(sha)} is not a full commit SHA")

    def section(value: Any) -> Mapping[str, Any]:
        return value if isinstance(value, Mapping) else {}

    repo = section(event.get("repository"))
    pr = section(event.get("pull_request"))
    head = section(pr.get("head"))
    license_id = section(repo.get("license")).get("spdx_id")
    return GitContext(
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        ref=env.get("GITHUB_REF", ""),
        sha=sha,
        repository=repository,
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com"),
        default_branch=repo.get("default_branch"),
        pr_number=int(pr["number"]) if isinstance(pr.get("number"), int) else None,
        pr_head_sha=head.get("sha"),
        pr_head_repo=section(head.get("repo")).get("full_name"),
        description=repo.get("description"),
        license=license_id if license_id not in (None, "NOASSERTION") else None,
        commit_time=section(event.get("head_commit")).get("timestamp"),
    )


def image_name(registry: str, image: str, repository: str) -> str:
    """`registry/owner/name`, lower-cased (GHCR rejects upper case); `image` may override."""
    registry = registry.strip().rstrip("/").lower() or "ghcr.io"
    name = (image.strip() or repository).lower()
    first = name.split("/", 1)[0]
    if "/" in name and (
        _REGISTRY.match(first) and ("." in first or ":" in first or first == "localhost")
    ):
        full = name
    else:
        full = f"{registry}/{name}"
    host, _, path = full.partition("/")
    bad = [c for c in path.split("/") if not _NAME_COMPONENT.match(c)]
    if not path or bad:
        raise UserError(
            f"image: {shown(full)} is not a valid image name; use lowercase letters, digits and "
            "'.', '_', '-' separated path parts, e.g. ghcr.io/acme/fraud-detector"
        )
    return f"{host}/{path}"


def sanitize_tag(text: str) -> str:
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).lstrip(".-")[:128]
    return tag or "unnamed"


def check_tag(tag: str, field: str = "tags") -> str:
    if not _TAG_OK.match(tag):
        raise UserError(
            f"{field}: {shown(tag)} is not a valid image tag (letters, digits, '_', "
            f"'.', '-'; max 128)"
        )
    return tag


def version_of(ctx: GitContext) -> str:
    if ctx.ref.startswith("refs/tags/"):
        name = ctx.ref.removeprefix("refs/tags/")
        match = SEMVER.match(name)
        return name.removeprefix("v") if match else sanitize_tag(name)
    if ctx.is_pull_request:
        return f"pr-{ctx.pr_number}"
    if ctx.ref.startswith("refs/heads/"):
        return sanitize_tag(ctx.ref.removeprefix("refs/heads/"))
    return f"sha-{ctx.revision[:7]}"


def compute_tags(ctx: GitContext, extra: list[str] | None = None) -> list[str]:
    tags = [f"sha-{ctx.revision[:7]}", ctx.revision]
    if ctx.is_pull_request:
        tags.append(f"pr-{ctx.pr_number}")
    elif ctx.ref.startswith("refs/heads/"):
        tags.append(sanitize_tag(ctx.ref.removeprefix("refs/heads/")))
    elif ctx.ref.startswith("refs/tags/"):
        name = ctx.ref.removeprefix("refs/tags/")
        match = SEMVER.match(name)
        if match and not match.group("pre") and not match.group("build"):
            major, minor, patch = match.group("major", "minor", "patch")
            tags += [f"{major}.{minor}.{patch}", f"{major}.{minor}"] + (
                [major] if major != "0" else []
            )
        elif match:
            tags.append(sanitize_tag(name.removeprefix("v")))
        else:
            tags.append(sanitize_tag(name))
    on_default = ctx.default_branch is not None and ctx.ref == f"refs/heads/{ctx.default_branch}"
    if ctx.event_name == "push" and on_default:
        tags.append("latest")
    tags += [check_tag(t) for t in extra or []]
    return list(dict.fromkeys(tags))


def compute_labels(
    ctx: GitContext, extra: Mapping[str, str] | None = None, created: str | None = None
) -> dict[str, str]:
    source = f"{ctx.server_url.rstrip('/')}/{ctx.repository}"
    labels = {
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.revision": ctx.revision,
        "org.opencontainers.image.created": created or ctx.commit_time or "",
        "org.opencontainers.image.title": ctx.repository.split("/")[-1],
        "org.opencontainers.image.description": ctx.description or "",
        "org.opencontainers.image.url": source,
        "org.opencontainers.image.version": version_of(ctx),
        "org.opencontainers.image.licenses": ctx.license or "",
    }
    labels = {k: v for k, v in labels.items() if v}
    labels.update(extra or {})
    return labels


def parse_lines(text: str, field: str) -> list[str]:
    return [p.strip() for line in text.splitlines() for p in line.split(",") if p.strip()]


def parse_labels(text: str, field: str = "labels") -> dict[str, str]:
    out = {}
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        key, sep, value = line.strip().partition("=")
        if not sep or not key.strip():
            raise UserError(f"{field}: line {number} {shown(line.strip())}: expected 'key=value'")
        out[key.strip()] = value.strip()
    return out
