"""Image name, tags and labels over the event matrix (pure)."""

import pytest

from mlops_actions.errors import UserError
from mlops_actions.image.tags import compute_labels, compute_tags, context_from, image_name

SHA = "0123456789abcdef0123456789abcdef01234567"
HEAD = "fedcba9876543210fedcba9876543210fedcba98"
REPO = {"default_branch": "main", "description": "Fraud model", "license": {"spdx_id": "MIT"}}


def ctx(event_name, ref, payload=None, repository="acme/fraud-detector"):
    env = {
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_REF": ref,
        "GITHUB_SHA": SHA,
        "GITHUB_REPOSITORY": repository,
        "GITHUB_SERVER_URL": "https://github.com",
    }
    return context_from(env, {"repository": REPO, **(payload or {})})


def pr_payload(head_repo="acme/fraud-detector"):
    return {"pull_request": {"number": 42, "head": {"sha": HEAD, "repo": {"full_name": head_repo}}}}


@pytest.mark.parametrize(
    "name,event,ref,payload,expected",
    [
        ("push to main", "push", "refs/heads/main", {}, ["sha-0123456", SHA, "main", "latest"]),
        (
            "push to a branch",
            "push",
            "refs/heads/feature/new-model",
            {},
            ["sha-0123456", SHA, "feature-new-model"],
        ),
        (
            "PR from the same repo",
            "pull_request",
            "refs/pull/42/merge",
            pr_payload(),
            ["sha-fedcba9", HEAD, "pr-42"],
        ),
        (
            "PR from a fork",
            "pull_request",
            "refs/pull/42/merge",
            pr_payload("someone/fraud-detector"),
            ["sha-fedcba9", HEAD, "pr-42"],
        ),
        ("v1.2.3", "push", "refs/tags/v1.2.3", {}, ["sha-0123456", SHA, "1.2.3", "1.2", "1"]),
        ("v2.0.0-rc.1", "push", "refs/tags/v2.0.0-rc.1", {}, ["sha-0123456", SHA, "2.0.0-rc.1"]),
        (
            "v0.3.1 has no bare 0",
            "push",
            "refs/tags/v0.3.1",
            {},
            ["sha-0123456", SHA, "0.3.1", "0.3"],
        ),
        ("schedule on main", "schedule", "refs/heads/main", {}, ["sha-0123456", SHA, "main"]),
        (
            "workflow_dispatch on main",
            "workflow_dispatch",
            "refs/heads/main",
            {},
            ["sha-0123456", SHA, "main"],
        ),
    ],
)
def test_tags(name, event, ref, payload, expected):
    assert compute_tags(ctx(event, ref, payload)) == expected


def test_latest_only_on_the_default_branch_from_the_payload():
    env_ctx = ctx("push", "refs/heads/trunk", {"repository": {**REPO, "default_branch": "trunk"}})
    assert "latest" in compute_tags(env_ctx)
    assert "latest" not in compute_tags(
        ctx("push", "refs/heads/main", {"repository": {"default_branch": "trunk"}})
    )


def test_fork_pr_is_detected():
    assert ctx(
        "pull_request", "refs/pull/42/merge", pr_payload("someone/fraud-detector")
    ).is_fork_pull_request
    assert not ctx("pull_request", "refs/pull/42/merge", pr_payload()).is_fork_pull_request


def test_mixed_case_repository_gives_a_lowercase_image():
    c = ctx("push", "refs/heads/main", repository="Acme/Fraud-Detector")
    assert image_name("ghcr.io", "", c.repository) == "ghcr.io/acme/fraud-detector"
    assert (
        compute_labels(c)["org.opencontainers.image.source"]
        == "https://github.com/Acme/Fraud-Detector"
    )


@pytest.mark.parametrize(
    "registry,image,expected",
    [
        ("ghcr.io", "", "ghcr.io/acme/fraud-detector"),
        ("127.0.0.1:5000", "", "127.0.0.1:5000/acme/fraud-detector"),
        ("ghcr.io", "Acme/Other", "ghcr.io/acme/other"),
        ("ghcr.io", "registry.example.com/team/app", "registry.example.com/team/app"),
        ("ghcr.io", "localhost:5000/app", "localhost:5000/app"),
    ],
)
def test_image_names(registry, image, expected):
    assert image_name(registry, image, "Acme/Fraud-Detector") == expected


def test_invalid_image_name():
    with pytest.raises(UserError, match=r"image: .* is not a valid image name"):
        image_name("ghcr.io", "acme/bad name!", "acme/x")


def test_extra_tags_are_validated():
    with pytest.raises(UserError, match="tags: 'bad tag' is not a valid image tag"):
        compute_tags(ctx("push", "refs/heads/main"), ["bad tag"])
    assert compute_tags(ctx("push", "refs/heads/dev"), ["nightly"])[-1] == "nightly"


def test_labels():
    labels = compute_labels(
        ctx("push", "refs/tags/v1.2.3", {"head_commit": {"timestamp": "2026-11-01T10:00:00Z"}}),
        {"team": "risk"},
    )
    assert labels == {
        "org.opencontainers.image.source": "https://github.com/acme/fraud-detector",
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.created": "2026-11-01T10:00:00Z",
        "org.opencontainers.image.title": "fraud-detector",
        "org.opencontainers.image.description": "Fraud model",
        "org.opencontainers.image.url": "https://github.com/acme/fraud-detector",
        "org.opencontainers.image.version": "1.2.3",
        "org.opencontainers.image.licenses": "MIT",
        "team": "risk",
    }


def test_pr_revision_label_is_the_head_sha():
    assert (
        compute_labels(ctx("pull_request", "refs/pull/42/merge", pr_payload()))[
            "org.opencontainers.image.revision"
        ]
        == HEAD
    )


def test_bad_context():
    with pytest.raises(UserError, match="GITHUB_SHA"):
        context_from({"GITHUB_REPOSITORY": "a/b", "GITHUB_SHA": "abc"}, {})


@pytest.mark.parametrize(
    "event,ref",
    [
        ("push", "refs/tags/latest"),
        ("push", "refs/heads/latest"),
        ("workflow_dispatch", "refs/heads/main"),
    ],
)
def test_latest_comes_only_from_a_push_to_the_default_branch(event, ref):
    assert "latest" not in compute_tags(ctx(event, ref))


def test_latest_is_refused_as_an_extra_tag():
    with pytest.raises(UserError, match="'latest' is added on pushes to the default branch only"):
        compute_tags(ctx("push", "refs/heads/feature"), ["latest"])


@pytest.mark.parametrize(
    "pr,message",
    [
        ({"number": "42", "head": {"sha": HEAD}}, "pull_request.number is '42'"),
        ({"number": 42, "head": {"sha": 12345}}, "pull_request.head.sha is 12345"),
        ({"number": 42, "head": {"sha": "not/a sha!"}}, "not a full commit SHA"),
        ({"number": True, "head": {"sha": HEAD}}, "pull_request.number is True"),
    ],
)
def test_malformed_pull_request_payload_is_an_error(pr, message):
    with pytest.raises(UserError, match=message):
        ctx("pull_request", "refs/pull/42/merge", {"pull_request": pr})


@pytest.mark.parametrize("head", [{"sha": HEAD, "repo": None}, {"sha": HEAD}])
def test_unknown_head_repository_counts_as_a_fork(head):
    from mlops_actions.image.run import decide_push

    context = ctx(
        "pull_request", "refs/pull/42/merge", {"pull_request": {"number": 42, "head": head}}
    )
    assert context.is_fork_pull_request
    assert decide_push("auto", context)[0] is False


@pytest.mark.parametrize(
    "ref,expected",
    [
        ("refs/tags/v1.2.3+build.5", ["1.2.3", "1.2", "1", "1.2.3_build.5"]),
        ("refs/tags/v2.0.0-rc.1+b7", ["2.0.0-rc.1_b7"]),
    ],
)
def test_semver_build_metadata_does_not_make_a_prerelease(ref, expected):
    assert compute_tags(ctx("push", ref))[2:] == expected


@pytest.mark.parametrize("content", ["", "not json", "[]", "{broken"])
def test_unreadable_event_payload_fails_closed(tmp_path, content, monkeypatch):
    from mlops_actions.github import runner

    path = tmp_path / "event.json"
    path.write_text(content)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    with pytest.raises(UserError, match="GITHUB_EVENT_PATH"):
        runner.event_payload()
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "missing.json"))
    with pytest.raises(UserError, match="cannot read the event payload"):
        runner.event_payload()
