"""`mlops-actions package` (the package-model action): its options (each also an INPUT_*
variable) and the glue to the packaging, the runner's outputs and the job summary."""

from __future__ import annotations

import argparse
import os

from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add, flag


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser(
        "package", help="build the serving image: the trained image plus the gated model"
    )
    add(p, "image", "the trained image by digest (repo@sha256:...)")
    add(p, "model", "the gated model file", "artifacts/model.skops")
    add(p, "model-card", "its model card (default: model-card.json beside the model)")
    add(p, "version", "the model version; the serving image is tagged model-<version>")
    add(p, "serving-image", "repository for the serving image (default: the trained image's)")
    add(p, "model-dir", "where the model goes in the image", "/app/artifacts")
    add(p, "registry", "registry to log in to (default: the serving image's host)")
    add(p, "username", "registry user (default: GITHUB_ACTOR)")
    add(p, "password", "registry password or token")
    add(p, "push", "push the serving image", "true")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.image import package as pkg

    request = pkg.PackageRequest(
        image=(args.image or "").strip(),
        model=args.model or "artifacts/model.skops",
        model_card=args.model_card or "",
        version=(args.version or "").strip(),
        serving_image=args.serving_image or "",
        model_dir=args.model_dir or "/app/artifacts",
        registry=args.registry or "",
        username=args.username or os.environ.get("GITHUB_ACTOR", ""),
        password=args.password or "",
        push=flag(args.push, "push", True),
    )
    result = pkg.package(request)
    text = pkg.summary(result)
    print(text)
    runner.append_summary(text)
    runner.set_output("serving-image-ref", result.ref)
    runner.set_output("digest", result.digest or "")
    runner.set_output("tag", result.plan.ref)
    runner.set_output("model-sha256", result.plan.model_sha256)
    return EXIT_PASS
