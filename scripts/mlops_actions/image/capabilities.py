"""What a builder can do, and what a build keeps or loses on it. Pure: no I/O.

Three kinds of builder reach us:
- the classic builder (`docker build`, no buildx plugin);
- a buildx builder with the docker driver (the engine's own BuildKit: the `default` builder);
- a buildx builder with a container driver (docker-container, kubernetes, remote), which has
  BuildKit's full feature set: registry/gha cache export, attestations, multi-platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mlops_actions.errors import UserError

FULL_FEATURE_DRIVERS = ("docker-container", "kubernetes", "remote")


@dataclass(frozen=True)
class Builder:
    kind: str  # classic | buildx
    name: str = ""
    driver: str = ""
    temporary: bool = False

    @property
    def full_features(self) -> bool:
        return self.kind == "buildx" and self.driver in FULL_FEATURE_DRIVERS

    def describe(self) -> str:
        if self.kind == "classic":
            return "classic docker builder (no buildx on this runner)"
        made = ", temporary" if self.temporary else ""
        return f"buildx builder '{self.name}' ({self.driver} driver{made})"


@dataclass(frozen=True)
class Features:
    """What the build uses on the chosen builder, and what it had to give up (said aloud).

    cache_export: "" (none), "registry" or "gha" (BuildKit cache, mode=max), "inline" (buildx
    docker driver: cache metadata inside an extra `buildcache` tag of the image), "image"
    (classic builder: the image itself pushed as `buildcache`, for --cache-from next time on
    a daemon that does not hold it).
    """

    attestations: bool
    cache_import: bool  # read the registry cache image
    cache_export: str
    platforms: tuple[str, ...]
    lost: tuple[str, ...] = field(default=())


def wants_container_builder(*, push: bool, cache: str, platforms: Sequence[str]) -> bool:
    """Whether a build would use a feature only a container builder has."""
    return push or cache == "gha" or len(platforms) > 1


def features(
    builder: Builder, *, push: bool, cache: str, platforms: Sequence[str], host: str
) -> Features:
    """The features the build keeps on `builder`; what it loses is listed, never dropped silently.

    Platforms that leave out the host cannot be built at all without multi-platform support:
    that is an error, not a silent host-only image.
    """
    registry_cache = cache == "registry" and push
    if builder.full_features:
        return Features(
            attestations=push,
            cache_import=cache == "registry",
            cache_export=cache if push and cache != "none" else "",
            platforms=tuple(platforms),
        )
    where = builder.describe()
    lost: list[str] = []
    if push:
        lost.append("provenance and SBOM attestations (none attached)")
    if registry_cache and builder.kind == "buildx":
        lost.append("registry cache mode=max (the cache is inline: final stage layers only)")
    if cache == "gha":
        lost.append("the gha cache (built without one)")
    kept_platforms: tuple[str, ...] = ()
    if platforms:
        if host not in platforms:
            raise UserError(
                f"platforms: {', '.join(platforms)} cannot be built by the {where}, which "
                f"builds only for the host ({host}); set up a container builder "
                "(docker/setup-buildx-action with QEMU) or drop the input"
            )
        others = [p for p in platforms if p != host]
        if others:
            lost.append(f"multi-platform: built for {host} only, not {', '.join(others)}")
        kept_platforms = (host,) if builder.kind == "buildx" else ()
    export = ("inline" if builder.kind == "buildx" else "image") if registry_cache else ""
    return Features(
        attestations=False,
        cache_import=registry_cache,
        cache_export=export,
        platforms=kept_platforms,
        lost=tuple(lost),
    )
