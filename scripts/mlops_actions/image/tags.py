"""Image name, tags and OCI labels from the GitHub context. Pure: env and event in, lists out.

Tag rules (as docker/metadata-action's defaults, made explicit):
- `sha-<7>` and the full commit SHA, always; on pull requests the PR *head* SHA, not the merge
  commit GitHub builds;
- the sanitized branch name on branch refs (pushes, schedules, dispatches);
- `pr-<N>` on pull requests;
- on `vX.Y.Z` tags: `X.Y.Z`, `X.Y` and `X` (no bare `0` for 0.x); a pre-release
  (`v2.0.0-rc.1`) gets only its full version. Build metadata does not change precedence
  (semver 2.0.0, item 10): `v1.2.3+build.5` is release 1.2.3 and gets `1.2.3`, `1.2`, `1`, plus
  `1.2.3_build.5` (a Docker tag cannot hold `+`; `_` is the usual stand-in);
- other git tags get their sanitized name;
- `latest` only on a push to the repository's default branch (read from the event payload):
  a git tag or branch named `latest`, or `latest` in the extra tags, never yields it;
- extra tags from the input.

Sanitizing: characters outside `[A-Za-z0-9_.-]` become `-`, leading `.`/`-` are dropped and the
result is cut to 128 characters (Docker's limit).

The context fails closed: a pull request whose head repository is unknown (a deleted fork) counts
as a fork, and a malformed payload (a non-integer number, a head SHA that is not 40 hex digits)
is an error, not a silent loss of `pr-N`.
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
        """A PR from another repository, or one whose origin is unknown (fail closed)."""
        return self.is_pull_request and self.pr_head_repo != self.repository

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
    number, head_sha = pr.get("number"), head.get("sha")
    if pr and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        raise UserError(
            f"event payload: pull_request.number is {shown(number)}, not a PR number; "
            "GITHUB_EVENT_PATH should be the runner's own event file"
        )
    if pr and not (isinstance(head_sha, str) and re.fullmatch(r"[0-9a-f]{40}", head_sha)):
        raise UserError(
            f"event payload: pull_request.head.sha is {shown(head_sha)}, not a full commit SHA"
        )
    head_repo = section(head.get("repo")).get("full_name")
    return GitContext(
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        ref=env.get("GITHUB_REF", ""),
        sha=sha,
        repository=repository,
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com"),
        default_branch=repo.get("default_branch"),
        pr_number=number if pr and isinstance(number, int) else None,
        pr_head_sha=head_sha if pr else None,
        pr_head_repo=head_repo if isinstance(head_repo, str) else None,
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
        return name.removeprefix("v") if match else sanitize_tag(name)  # a label keeps the '+'
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
        if match and not match.group("pre"):
            major, minor, patch = match.group("major", "minor", "patch")
            tags += [f"{major}.{minor}.{patch}", f"{major}.{minor}"] + (
                [major] if major != "0" else []
            )
            if match.group("build"):
                tags.append(sanitize_tag(name.removeprefix("v").replace("+", "_")))
        elif match:
            tags.append(sanitize_tag(name.removeprefix("v").replace("+", "_")))
        else:
            tags.append(sanitize_tag(name))
    # `latest` means "the default branch's newest push", whatever a ref happens to be named.
    tags = [t for t in tags if t != "latest"]
    for tag in extra or []:
        if check_tag(tag) == "latest":
            raise UserError(
                "tags: 'latest' is added on pushes to the default branch only; remove it from "
                "the extra tags"
            )
        tags.append(tag)
    on_default = ctx.default_branch is not None and ctx.ref == f"refs/heads/{ctx.default_branch}"
    if ctx.event_name == "push" and on_default:
        tags.append("latest")
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
