"""Build the image and push it: plan the name/tags/labels, log in, build, push, report."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_actions import docker as dk
from mlops_actions.errors import UserError, shown
from mlops_actions.image import builders, capabilities
from mlops_actions.image import tags as tg

CACHE_MODES = ("registry", "gha", "none")


@dataclass(frozen=True)
class BuildRequest:
    registry: str = "ghcr.io"
    image: str = ""
    context: str = "."
    dockerfile: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    push: str = "auto"  # auto | true | false
    username: str = ""
    password: str = ""
    extra_tags: tuple[str, ...] = ()
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    cache: str = "registry"
    platforms: tuple[str, ...] = ()
    reuse_existing: str = "auto"  # auto | true | false
    builder: str = ""  # a buildx builder the job set up; else BUILDX_BUILDER, else chosen here
    buildkit_image: str = ""  # BuildKit image for a temporary container builder (a mirror)
    also_push_to: tuple[str, ...] = ()  # more image names (other registries): the same build
    ecr_registries: tuple[str, ...] = ()  # hosts logged in through ECR besides *.dkr.ecr.*


@dataclass(frozen=True)
class Plan:
    image: str
    tags: list[str]
    labels: dict[str, str]
    push: bool
    push_reason: str
    mirrors: tuple[str, ...] = ()  # the same image under other names (other registries)

    @property
    def refs(self) -> list[str]:
        return [f"{self.image}:{t}" for t in self.tags]

    @property
    def all_refs(self) -> list[str]:
        return [f"{name}:{t}" for name in (self.image, *self.mirrors) for t in self.tags]


@dataclass
class BuildResult:
    plan: Plan
    builder: str
    digest: str | None = None
    size: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    mirror_digests: dict[str, str] = field(default_factory=dict)  # name -> registry's digest

    @property
    def image_ref(self) -> str:
        return f"{self.plan.image}@{self.digest}" if self.digest else ""

    @property
    def image_refs(self) -> list[str]:
        """Every registry's reference to this build, as each registry answered."""
        if not self.digest:
            return []
        return [self.image_ref, *(f"{m}@{d}" for m, d in self.mirror_digests.items())]


def decide_push(setting: str, ctx: tg.GitContext) -> tuple[bool, str]:
    value = setting.strip().lower() or "auto"
    if value in ("true", "false"):
        return value == "true", f"push: {value}"
    if value != "auto":
        raise UserError(f"push: expected auto, true or false, got {shown(setting)}")
    if ctx.is_fork_pull_request:
        return False, "a pull request from a fork: its token cannot push (push: auto)"
    return True, "push: auto"


def commit_time(ctx: tg.GitContext, context_dir: str) -> str:
    """The commit's time, so `created` is reproducible; else SOURCE_DATE_EPOCH, else now."""
    if ctx.commit_time:
        return ctx.commit_time
    proc = subprocess.run(
        ["git", "-C", context_dir, "log", "-1", "--format=%cI", ctx.revision],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        return proc.stdout.strip()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        datetime.fromtimestamp(int(epoch), timezone.utc)
        if epoch and epoch.isdigit()
        else datetime.now(timezone.utc)
    )
    return moment.isoformat(timespec="seconds")


def plan(request: BuildRequest, ctx: tg.GitContext) -> Plan:
    if request.cache not in CACHE_MODES:
        raise UserError(
            f"cache: expected one of {', '.join(CACHE_MODES)}, got {shown(request.cache)}"
        )
    for name, value, what in (
        ("builder", request.builder, "a buildx builder name"),
        ("buildkit-image", request.buildkit_image, "an image reference"),
    ):
        if value.startswith("-") or any(c.isspace() for c in value):
            raise UserError(f"{name}: {shown(value)} is not {what}")
    image = tg.image_name(request.registry, request.image, ctx.repository)
    tags = tg.compute_tags(ctx, list(request.extra_tags))
    labels = tg.compute_labels(ctx, request.extra_labels, created=commit_time(ctx, request.context))
    should_push, reason = decide_push(request.push, ctx)
    mirrors = tuple(
        dict.fromkeys(tg.image_name(request.registry, m, "") for m in request.also_push_to)
    )
    if image in mirrors:
        raise UserError(f"also-push-to: {shown(image)} is the image itself; list other names")
    return Plan(image, tags, labels, should_push, reason, mirrors)


def _check_paths(request: BuildRequest) -> str:
    if not Path(request.context).is_dir():
        raise UserError(f"context: {shown(request.context)} is not a directory")
    dockerfile = request.dockerfile or str(Path(request.context) / "Dockerfile")
    if not Path(dockerfile).is_file():
        raise UserError(f"dockerfile: {shown(dockerfile)} not found; set the dockerfile input")
    return dockerfile


# Events where the code did not change: the commit's image, if pushed before, is the one to use.
REUSE_EVENTS = ("repository_dispatch", "schedule", "workflow_dispatch")


def decide_reuse(setting: str, ctx: tg.GitContext) -> bool:
    value = setting.strip().lower() or "auto"
    if value not in ("auto", "true", "false"):
        raise UserError(f"reuse-existing: expected auto, true or false, got {shown(setting)}")
    return value == "true" or (value == "auto" and ctx.event_name in REUSE_EVENTS)


def _existing(docker: dk.Docker, the_plan: Plan, revision: str) -> str | None:
    """The registry digest of `<image>:<full sha>` when that tag exists, else None."""
    ref = f"{the_plan.image}:{revision}"
    if docker.run("pull", "--quiet", ref).returncode != 0:
        return None
    inspect = docker.run("image", "inspect", "--format", "{{json .RepoDigests}}", ref)
    try:
        digests = json.loads(inspect.stdout) if inspect.returncode == 0 else []
    except ValueError:
        digests = []
    for entry in digests or []:
        repository, _, digest = str(entry).partition("@")
        if repository == the_plan.image and digest.startswith("sha256:"):
            return digest
    return None


def build(
    request: BuildRequest, ctx: tg.GitContext, log: Callable[[str], None] = print
) -> BuildResult:
    the_plan = plan(request, ctx)
    dockerfile = _check_paths(request)
    reuse = decide_reuse(request.reuse_existing, ctx)
    registry = the_plan.image.split("/", 1)[0]
    cache_ref = f"{the_plan.image}:buildcache"
    with dk.job_docker_config() as docker:
        job_builder = find_job_builder(docker, request)  # checked before anything happens
        host = builders.host_platform(docker)
        try_container = job_builder.kind == "buildx" and not (
            job_builder.full_features or request.builder or os.environ.get("BUILDX_BUILDER")
        )
        wants = capabilities.wants_container_builder(
            push=the_plan.push, cache=request.cache, platforms=request.platforms
        )
        if not (try_container and wants):  # the builder is settled: refuse what it cannot do now
            capabilities.features(job_builder, push=the_plan.push, cache=request.cache,
                                  platforms=request.platforms, host=host)  # fmt: skip
        if the_plan.push:  # every registry, before building: bad credentials fail fast
            result_logins = registry_logins(docker, request, the_plan)
        started = time.monotonic()
        digest = _existing(docker, the_plan, ctx.revision) if reuse and the_plan.push else None
        if digest:
            result = BuildResult(the_plan, f"reused: {the_plan.image}:{ctx.revision} exists")
            result.digest = digest
            result.notes.append(
                f"this commit's image was pushed before ({ctx.event_name}): reused, not rebuilt"
            )
            result.seconds = time.monotonic() - started
            return result

        builder, notes = job_builder, list[str]()
        if try_container and wants:
            builder, notes = container_or_fallback(docker, job_builder, request.buildkit_image)
        try:
            wanted = capabilities.features(
                builder,
                push=the_plan.push,
                cache=request.cache,
                platforms=request.platforms,
                host=host,
            )
            notes += [f"lost on this builder: {item}" for item in wanted.lost]
            for note in notes:
                log(f"warning: {note}")
            if builder.kind == "classic":
                result = _build_classic(
                    docker, request, the_plan, dockerfile, cache_ref, registry, wanted, log
                )
            else:
                result = _build_buildx(
                    docker, request, the_plan, dockerfile, cache_ref, builder, wanted
                )
        finally:
            if builder.temporary:
                docker.run("buildx", "rm", builder.name)
        result.notes[:0] = notes
        if the_plan.push:
            result.notes[:0] = result_logins
        result.seconds = time.monotonic() - started
        result.size = builders.image_size(docker, the_plan.refs[0])
    return result


def registry_logins(docker: dk.Docker, request: BuildRequest, the_plan: Plan) -> list[str]:
    """Log in to every registry the build pushes to: ECR hosts (and `ecr_registries`) with a
    token from the ECR API, the others with username and password."""
    hosts = dict.fromkeys(name.split("/", 1)[0] for name in (the_plan.image, *the_plan.mirrors))
    notes = [
        dk.login_to_registry(
            docker, host, request.username, request.password, ecr=host in request.ecr_registries
        )
        for host in hosts
    ]
    return [note for note in notes if note]


def find_job_builder(docker: dk.Docker, request: BuildRequest) -> capabilities.Builder:
    """The builder the job named (builder input, else BUILDX_BUILDER), else the current buildx
    builder, else the classic builder where there is no buildx. No side effects."""
    named = request.builder or os.environ.get("BUILDX_BUILDER", "")
    source = "builder" if request.builder else "BUILDX_BUILDER"
    if os.environ.get("DOCKER_BUILDKIT") == "0":  # Docker's own switch to the classic builder
        if named:
            raise UserError(
                f"{source}: {shown(named)} is a buildx builder, but DOCKER_BUILDKIT=0 asks for "
                "the classic builder; unset one of them"
            )
        return capabilities.Builder("classic")
    if not builders.has_buildx(docker):
        if named:
            raise UserError(
                f"{source}: {shown(named)} is a buildx builder, but this runner has no buildx "
                "plugin; install it (docker/setup-buildx-action) or leave the input empty"
            )
        return capabilities.Builder("classic")
    if named:
        found = builders.find_builder(docker, named)
        if found is None:
            raise UserError(
                f"{source}: no buildx builder named {shown(named)} on this runner; "
                "`docker buildx ls` lists them (create one with docker/setup-buildx-action)"
            )
        return found
    return builders.find_builder(docker) or capabilities.Builder("buildx", "default", "docker")


def container_or_fallback(
    docker: dk.Docker, current: capabilities.Builder, buildkit_image: str
) -> tuple[capabilities.Builder, list[str]]:
    """A temporary docker-container builder; when it cannot start, `current`, and a note why."""
    made, why = builders.create_container_builder(docker, buildkit_image)
    if made:
        return made, []
    image = buildkit_image or "moby/buildkit (Docker Hub)"
    return current, [
        f"could not start a docker-container builder from {image}: {why}; "
        f"built with the {current.describe()} instead (set buildkit-image to a mirror, or "
        "set up a builder with docker/setup-buildx-action)"
    ]


def _classic_cache_source(docker: dk.Docker, cache_ref: str) -> tuple[str | None, str]:
    """(--cache-from for the classic builder, what the build notes). With --cache-from, the
    classic builder reuses a local layer only if it is in the history of a cache-from image, so
    a multi-stage build's earlier stages (the dependency install) are rebuilt every time. A
    daemon that holds the cache image's tag (a self-hosted runner's; a proxy for its own layer
    cache of every stage, which a prune may have emptied: that costs time, never correctness)
    builds without --cache-from. A fresh daemon pulls the cache image."""
    if docker.run("image", "inspect", "--format", "{{.Id}}", cache_ref).returncode == 0:
        return None, f"registry cache: this daemon's own layer cache (it holds {cache_ref})"
    pulled = docker.run("pull", "--quiet", cache_ref)
    if pulled.returncode != 0:
        return None, "registry cache: no cache image yet"
    return cache_ref, f"registry cache: reused {cache_ref}"


def _build_classic(
    docker: dk.Docker,
    request: BuildRequest,
    the_plan: Plan,
    dockerfile: str,
    cache_ref: str,
    registry: str,
    wanted: capabilities.Features,
    log: Callable[[str], None],
) -> BuildResult:
    result = BuildResult(the_plan, capabilities.Builder("classic").describe())
    cache_from = None
    if wanted.cache_import:
        cache_from, note = _classic_cache_source(docker, cache_ref)
        result.notes.append(note)
    args = builders.classic_build_args(
        **_build_inputs(request, the_plan, dockerfile), cache_from=cache_from
    )
    proc = docker.run(*args, env={"DOCKER_BUILDKIT": "0"}, stream=True)
    if proc.returncode != 0:
        raise _build_failed("docker build", dockerfile, proc.stdout)
    if not the_plan.push:
        return result
    digests = {
        ref: builders.push(docker, ref, ref.split("/", 1)[0], request.username)
        for ref in the_plan.all_refs
    }
    if len(set(digests.values())) != 1:
        raise UserError(f"pushed tags have different digests: {digests}")
    result.digest = next(iter(digests.values()))
    result.mirror_digests = {m: result.digest for m in the_plan.mirrors}
    if wanted.cache_export == "image":
        docker.run("tag", the_plan.refs[0], cache_ref)
        builders.push(docker, cache_ref, registry, request.username)
    log(f"pushed {len(the_plan.refs)} tags: {result.image_ref}")
    return result


def _build_buildx(
    docker: dk.Docker,
    request: BuildRequest,
    the_plan: Plan,
    dockerfile: str,
    cache_ref: str,
    builder: capabilities.Builder,
    wanted: capabilities.Features,
) -> BuildResult:
    metadata = Path(docker.config_dir) / "build-metadata.json"
    args = builders.buildx_build_args(
        **_build_inputs(request, the_plan, dockerfile),
        features=wanted,
        cache_ref=cache_ref,
        push=the_plan.push,
        metadata_file=str(metadata),
    )
    proc = docker.run(*builders.on_builder(builder, args), stream=True)
    if proc.returncode != 0:
        registry = the_plan.image.split("/", 1)[0]
        error = dk.registry_error(registry, request.username, proc.stdout)
        if error:
            raise error
        raise _build_failed("docker buildx build", dockerfile, proc.stdout)
    result = BuildResult(the_plan, builder.describe())
    if the_plan.push:
        result.digest = builders.read_metadata(str(metadata)).get("containerimage.digest")
        if not result.digest:
            raise UserError(
                f"docker buildx build pushed {the_plan.image} but reported no digest "
                "(containerimage.digest in --metadata-file); update the buildx plugin"
            )
        # Read each other registry back: it holds the same manifest, or the push is not done.
        for mirror in the_plan.mirrors:
            ref = f"{mirror}:{the_plan.tags[0]}"
            answer = docker.run("buildx", "imagetools", "inspect", ref)
            found = builders.DIGEST_LINE.search(answer.stdout)
            if answer.returncode != 0 or not found:
                raise UserError(
                    f"{ref} cannot be read back after the push: {answer.stderr.strip()[-200:]}"
                )
            if found.group(1) != result.digest:
                raise UserError(f"{ref} is {found.group(1)} in its registry, not {result.digest}")
            result.mirror_digests[mirror] = found.group(1)
    if wanted.attestations:
        result.notes.append("provenance (mode=max) and SBOM attestations attached")
    return result


def _build_inputs(request: BuildRequest, the_plan: Plan, dockerfile: str) -> dict[str, Any]:
    """What both builders get: the Dockerfile, context, tags, labels, build args and target."""
    return {
        "dockerfile": dockerfile,
        "context": request.context,
        "refs": the_plan.all_refs,
        "labels": the_plan.labels,
        "build_args": request.build_args,
        "target": request.target,
    }


def _build_failed(tool: str, dockerfile: str, output: str) -> UserError:
    last = [ln for ln in output.strip().splitlines() if ln.strip()][-1:] or ["see the log above"]
    return UserError(f"{tool} of {dockerfile} failed: {last[0]}")


def summary(result: BuildResult) -> str:
    the_plan = result.plan
    size = f"{result.size / 1e6:.1f} MB" if result.size else "—"
    status = "pushed" if result.digest else f"built, not pushed ({the_plan.push_reason})"
    lines = [
        f"## 🐳 Image {status}",
        "",
        "| | |",
        "|---|---|",
        f"| Image | `{the_plan.image}` |",
        f"| Digest | `{result.digest or '—'}` |",
        f"| Tags | {' '.join(f'`{t}`' for t in the_plan.tags)} |",
        f"| Size | {size} |",
        f"| Build time | {result.seconds:.1f}s |",
        f"| Builder | {result.builder} |",
        *(f"| Also in | `{m}@{d}` (read back) |" for m, d in result.mirror_digests.items()),
        "",
    ]
    lines += [f"> {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
