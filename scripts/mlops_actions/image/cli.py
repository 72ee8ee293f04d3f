"""`mlops-actions build` (the build-push-ghcr action): its options (each also an INPUT_* variable)
and the glue from them to the build, the runner's outputs and the job summary."""

from __future__ import annotations

import argparse
import json
import os

from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("build", help="build an image and push it with SHA/branch/PR/semver tags")
    add(p, "registry", "registry host", "ghcr.io")
    add(p, "image", "image name (default: <registry>/<owner>/<repo>, lower-cased)")
    add(p, "context", "build context directory", ".")
    add(p, "dockerfile", "Dockerfile path (default: <context>/Dockerfile)")
    add(p, "build-args", "KEY=VALUE lines passed as --build-arg")
    add(p, "target", "build stage to stop at")
    add(p, "push", "auto (not on fork PRs), true or false", "auto")
    add(p, "username", "registry user (default: GITHUB_ACTOR)")
    add(p, "password", "registry password or token (env: INPUT_PASSWORD)")
    add(p, "tags", "extra tags, one per line")
    add(p, "labels", "extra labels, key=value lines")
    add(p, "cache", "registry, gha or none", "registry")
    add(p, "platforms", "comma-separated target platforms (several need a container builder)")
    add(p, "builder", "a buildx builder the job has (default: BUILDX_BUILDER, else chosen)")
    add(p, "buildkit-image", "BuildKit image for a temporary container builder (a mirror)")
    add(p, "also-push-to", "more image names (other registries) for the same build, one per line")
    add(p, "ecr-registries", "hosts to log in to through the ECR API besides *.dkr.ecr.* ones")
    add(
        p,
        "reuse-existing",
        "reuse this commit's pushed image: auto (on dispatch/schedule), true, false",
        "auto",
    )


def run(args: argparse.Namespace) -> int:
    from mlops_actions.image import run as build_run
    from mlops_actions.image import tags as tg

    event = runner.event_payload()
    ctx = tg.context_from(os.environ, event)
    build_args = tg.parse_labels(args.build_args or "", "build-args")
    request = build_run.BuildRequest(
        registry=args.registry or "ghcr.io",
        image=args.image or "",
        context=args.context or ".",
        dockerfile=args.dockerfile or "",
        build_args=build_args,
        target=args.target or None,
        push=args.push or "auto",
        username=args.username or os.environ.get("GITHUB_ACTOR", ""),
        password=args.password or "",
        extra_tags=tuple(tg.parse_lines(args.tags or "", "tags")),
        extra_labels=tg.parse_labels(args.labels or ""),
        cache=(args.cache or "registry").strip().lower(),
        platforms=tuple(tg.parse_lines(args.platforms or "", "platforms")),
        reuse_existing=args.reuse_existing or "auto",
        builder=(args.builder or "").strip(),
        also_push_to=tuple(tg.parse_lines(args.also_push_to or "", "also-push-to")),
        ecr_registries=tuple(tg.parse_lines(args.ecr_registries or "", "ecr-registries")),
        buildkit_image=(args.buildkit_image or "").strip(),
    )
    result = build_run.build(request, ctx)
    text = build_run.summary(result)
    print(text)
    refs = result.plan.all_refs
    runner.set_output("image", result.plan.image)
    runner.set_output("digest", result.digest or "")
    runner.set_output("image-ref", result.image_ref)
    runner.set_output("image-refs", json.dumps(result.image_refs))
    runner.set_output("tags", json.dumps(refs))
    runner.set_output("labels", json.dumps(result.plan.labels))
    runner.set_output("pushed", "true" if result.digest else "false")
    runner.set_output("builder", result.builder)
    runner.append_summary(text)
    for note in result.notes:
        runner.annotate("notice", note, title="build-push-ghcr")
    return EXIT_PASS
