"""The Docker command lines and registry error messages (pure parts of the build adapter)."""

from mlops_actions.docker import registry_error
from mlops_actions.image.builders import buildx_build_args, classic_build_args

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


def test_buildx_push_with_registry_cache_and_attestations():
    args = buildx_build_args(
        **COMMON,
        cache="registry",
        cache_ref="r/a:buildcache",
        platforms=["linux/amd64", "linux/arm64"],
        push=True,
        metadata_file="/tmp/m.json",
    )
    assert args[:2] == ["buildx", "build"] and args[-1] == "ctx"
    joined = " ".join(args)
    assert "--platform linux/amd64,linux/arm64" in joined
    assert "--cache-from type=registry,ref=r/a:buildcache" in joined
    assert "--cache-to type=registry,ref=r/a:buildcache,mode=max" in joined
    assert "--push --provenance=mode=max --sbom=true" in joined
    assert "--metadata-file /tmp/m.json" in joined


def test_buildx_without_push_loads_and_writes_no_cache():
    args = buildx_build_args(
        **COMMON,
        cache="registry",
        cache_ref="r/a:buildcache",
        platforms=[],
        push=False,
        metadata_file="m",
    )
    assert "--load" in args and "--push" not in args and "--cache-to" not in args


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
