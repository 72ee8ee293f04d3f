"""The Docker command lines, what each builder keeps or loses, and registry error messages
(the pure parts of the build adapter)."""

import pytest

from mlops_actions.docker import registry_error
from mlops_actions.errors import UserError
from mlops_actions.image.builders import buildx_build_args, classic_build_args, on_builder
from mlops_actions.image.capabilities import Builder, features, wants_container_builder

COMMON = dict(
    dockerfile="ctx/Dockerfile",
    context="ctx",
    refs=["r/a:1", "r/a:sha-1"],
    labels={"k": "v"},
    build_args={"BASE_IMAGE": "b"},
    target="runtime",
)


def test_classic_build():
    args = classic_build_args(**COMMON, cache_from="r/a:buildcache")
    assert args == [
        "build",
        "--file",
        "ctx/Dockerfile",
        "--tag",
        "r/a:1",
        "--tag",
        "r/a:sha-1",
        "--label",
        "k=v",
        "--build-arg",
        "BASE_IMAGE=b",
        "--target",
        "runtime",
        "--cache-from",
        "r/a:buildcache",
        "ctx",
    ]


CONTAINER = Builder("buildx", "ci", "docker-container")
DEFAULT = Builder("buildx", "default", "docker")
CLASSIC = Builder("classic")


def _buildx(builder, *, push, cache="registry", platforms=()):
    wanted = features(builder, push=push, cache=cache, platforms=platforms, host="linux/amd64")
    args = buildx_build_args(**COMMON, features=wanted, cache_ref="r/a:buildcache", push=push,
                             metadata_file="/tmp/m.json")  # fmt: skip
    return args, wanted


def test_buildx_push_on_a_container_builder_keeps_every_feature():
    args, wanted = _buildx(CONTAINER, push=True, platforms=["linux/amd64", "linux/arm64"])
    assert args[:2] == ["buildx", "build"] and args[-1] == "ctx" and wanted.lost == ()
    joined = " ".join(args)
    assert "--platform linux/amd64,linux/arm64" in joined
    assert "--cache-from type=registry,ref=r/a:buildcache" in joined
    assert "--cache-to type=registry,ref=r/a:buildcache,mode=max" in joined
    assert "--push --provenance=mode=max --sbom=true" in joined
    assert "--metadata-file /tmp/m.json" in joined


def test_buildx_without_push_loads_and_writes_no_cache():
    args, _ = _buildx(CONTAINER, push=False)
    assert "--load" in args and "--push" not in args and "--cache-to" not in args


def test_the_docker_driver_gets_no_attestations_and_an_inline_cache_and_says_so():
    args, wanted = _buildx(DEFAULT, push=True)
    joined = " ".join(args)
    assert "--provenance" not in joined and "--sbom" not in joined
    assert "--cache-to type=inline" in joined and "--tag r/a:buildcache" in joined
    assert "--cache-from type=registry,ref=r/a:buildcache" in joined
    assert [item.split(" (")[0] for item in wanted.lost] == [
        "provenance and SBOM attestations",
        "registry cache mode=max",
    ]


def test_gha_cache_is_lost_aloud_without_a_container_builder():
    for builder in (DEFAULT, CLASSIC):
        args, wanted = _buildx(builder, push=True, cache="gha")
        assert "type=gha" not in " ".join(args)
        assert "the gha cache (built without one)" in wanted.lost


def test_platforms_keep_the_host_with_a_warning_or_fail_without_it():
    for builder in (DEFAULT, CLASSIC):
        wanted = features(builder, push=False, cache="none", host="linux/amd64",
                          platforms=["linux/amd64", "linux/arm64"])  # fmt: skip
        assert wanted.lost == ("multi-platform: built for linux/amd64 only, not linux/arm64",)
        with pytest.raises(UserError, match="platforms: linux/arm64 cannot be built by the"):
            features(builder, push=False, cache="none", host="linux/amd64",
                     platforms=["linux/arm64"])  # fmt: skip
    assert features(CONTAINER, push=False, cache="none", host="linux/amd64",
                    platforms=["linux/arm64"]).platforms == ("linux/arm64",)  # fmt: skip


def test_the_classic_builder_keeps_its_image_cache():
    wanted = features(CLASSIC, push=True, cache="registry", platforms=(), host="linux/amd64")
    assert wanted.cache_import and wanted.cache_export == "image"
    assert wanted.lost == ("provenance and SBOM attestations (none attached)",)


def test_when_a_container_builder_is_wanted():
    assert wants_container_builder(push=True, cache="none", platforms=())
    assert wants_container_builder(push=False, cache="none", platforms=["a", "b"])
    assert not wants_container_builder(push=False, cache="registry", platforms=["linux/amd64"])


def test_docker_driver_builders_are_reached_through_their_context():
    assert on_builder(DEFAULT, ["buildx", "build", "."]) == [
        "--context",
        "default",
        "buildx",
        "build",
        ".",
    ]
    assert on_builder(CONTAINER, ["buildx", "build", "."]) == [
        "buildx",
        "--builder",
        "ci",
        "build",
        ".",
    ]


def test_registry_errors():
    assert "(403)" in str(
        registry_error("ghcr.io", "me", "denied: permission_denied: write_package")
    )
    assert "packages: write" in str(
        registry_error("ghcr.io", "me", "unexpected status: 403 Forbidden")
    )
    assert "(401)" in str(
        registry_error("ghcr.io", "me", "Error response from daemon: unauthorized: incorrect")
    )
    assert registry_error("ghcr.io", "me", "no space left on device") is None
