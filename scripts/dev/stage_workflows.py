"""The stage workflows (mlops-ci, -build, -train, -deploy), cut from mlops-pipeline.yml.

The pipeline is the one source of truth: each stage workflow is some of its jobs, as text (so
pin and zizmor comments survive), with the pipeline's own `needs.<job>.outputs.<name>` turned
into inputs of the stage, and only the inputs, secrets and outputs those jobs use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
PIPELINE = WORKFLOWS / "mlops-pipeline.yml"


@dataclass(frozen=True)
class Stage:
    file: str
    title: str
    jobs: tuple[str, ...]
    outputs: dict[str, str]  # stage output -> "jobs.<job>.outputs.<name>"
    # inputs that replace the pipeline's `needs.<job>.outputs.<name>`: name -> description
    handed_in: dict[str, str]
    drop_if: tuple[str, ...] = ()  # jobs whose whole `if:` only fits the whole pipeline


STAGES = (
    Stage(
        "mlops-ci.yml",
        "CI: the tests across Python versions, and on pull requests the model gate",
        ("tests", "pr-gate"),
        {"gate-passed": "jobs.pr-gate.outputs.passed"},
        {},
        drop_if=("tests",),
    ),
    Stage(
        "mlops-build.yml",
        "Build: the image, built and pushed with SHA, branch and latest tags",
        ("build",),
        {"image-ref": "jobs.build.outputs.image-ref"},
        {},
        drop_if=("build",),
    ),
    Stage(
        "mlops-train.yml",
        "CT: train in the image by digest, gate against the champion, package the gated model",
        ("train",),
        {
            "model-version": "jobs.train.outputs.model-version",
            "training-skipped": "jobs.train.outputs.skipped",
            "model-sha256": "jobs.train.outputs.model-sha256",
            "gate-passed": "jobs.train.outputs.gate-passed",
            "verdict": "jobs.train.outputs.verdict",
            "serving-image-ref": "jobs.train.outputs.serving-image-ref",
        },
        {"image-ref": "The image to train in, by digest (mlops-build's image-ref)."},
    ),
    Stage(
        "mlops-deploy.yml",
        "CD: deploy the serving image to ECS in an environment, then promote it to champion",
        ("deploy", "deploy-sagemaker", "promote"),
        {"task-definition-arn": "jobs.deploy.outputs.task-definition-arn"},
        {
            "serving-image-ref": "The serving image by digest (mlops-train's serving-image-ref).",
            "model-version": "The model version (mlops-train's model-version).",
            "model-sha256": "The model's sha256 (mlops-train's model-sha256).",
            "verdict": "The gate's verdict JSON (mlops-train's verdict).",
        },
    ),
)


def _blocks(text: str, indent: int) -> dict[str, str]:
    """Top keys at `indent` spaces in `text`, each with its lines (comments kept)."""
    out: dict[str, list[str]] = {}
    current = None
    key = re.compile(rf"^ {{{indent}}}([A-Za-z0-9_-]+):")
    for line in text.splitlines(keepends=True):
        match = key.match(line)
        if match:
            current = match.group(1)
            out[current] = [line]
        elif current is not None and (line.startswith(" " * (indent + 1)) or not line.strip()):
            out[current].append(line)
        else:
            current = None
    return {k: "".join(v).rstrip("\n") + "\n" for k, v in out.items()}


def _section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def _kept_needs(match: re.Match[str], outside: list[str]) -> str:
    """A `needs:` line without the jobs this stage does not have (none left: no line)."""
    kept = [n.strip() for n in match.group(1).split(",") if n.strip() and n.strip() not in outside]
    if not kept:
        return "\n"
    return f"\n    needs: {kept[0] if len(kept) == 1 else '[' + ', '.join(kept) + ']'}\n"


def _terms(expression: str) -> list[str]:
    """The top-level `&&` terms of an expression (parentheses and quotes respected)."""
    terms, depth, quoted, current = [], 0, False, ""
    i = 0
    while i < len(expression):
        c = expression[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        if not quoted and depth == 0 and expression.startswith("&&", i):
            terms.append(current.strip())
            current, i = "", i + 2
            continue
        current += c
        i += 1
    return [t for t in [*terms, current.strip()] if t]


_IF = re.compile(r"\n    if: (?:>-\n((?:      [^\n]*\n)+)|([^\n]+)\n)")


def _condition(job: str, outside: list[str], drop: bool) -> str:
    """The job's `if:` without the terms about jobs this stage does not have: its caller
    decides those (the caller of a later stage calls it only when the earlier one passed)."""
    match = _IF.search(job)
    if not match:
        return job
    expression = " ".join((match.group(1) or match.group(2)).split())
    kept = [] if drop else [
        t for t in _terms(expression)
        if not any(re.search(rf"needs\.{o}\.", t) for o in outside)
    ]  # fmt: skip
    replacement = "\n"
    if kept:
        lines, line = [], ""
        for term in kept:
            piece = f"{line} && {term}" if line else term
            if len(piece) > 90 and line:
                lines.append(line + " &&")
                line = term
            else:
                line = piece
        lines.append(line)
        replacement = "\n    if: >-\n" + "".join(f"      {ln}\n" for ln in lines)
    return job[: match.start()] + replacement + job[match.end() :]


def render(stage: Stage, pipeline: str) -> str:
    inputs = _blocks(_section(pipeline, "    inputs:\n", "    secrets:\n"), 6)
    secrets = _blocks(_section(pipeline, "    secrets:\n", "    outputs:\n"), 6)
    jobs = _blocks(pipeline.split("\njobs:\n", 1)[1], 2)
    body = ""
    outside = [j for j in jobs if j not in stage.jobs]
    for name in stage.jobs:
        job = jobs[name]
        job = re.sub(r"\n    needs: \[?([a-z, -]+)\]?\n", lambda m: _kept_needs(m, outside), job)
        job = _condition(job, outside, drop=name in stage.drop_if)
        for handed in stage.handed_in:
            job = re.sub(rf"needs\.[a-z-]+\.outputs\.{handed}\b", f"inputs.{handed}", job)
        body += job
    used = set(re.findall(r"inputs\.([a-z0-9-]+)", body))
    out = [
        "# GENERATED from mlops-pipeline.yml by scripts/dev/sync_actions.py; do not edit.\n",
        f"# {stage.title}.\n",
        "# The same jobs as in the whole pipeline, for callers who want only this stage.\n",
        f"name: {stage.file.removesuffix('.yml')}\n\n",
        "on:\n  workflow_call:\n    inputs:\n",
    ]
    for handed, description in stage.handed_in.items():
        out.append(f"      {handed}:\n        description: {description}\n")
        out.append("        type: string\n        required: true\n")
    out += [block for name, block in inputs.items() if name in used and name not in stage.handed_in]
    used_secrets = [s for s in secrets if f"secrets.{s}" in body]
    if used_secrets:
        out.append("    secrets:\n")
        out += [secrets[s] for s in used_secrets]
    out.append("    outputs:\n")
    for name, source in stage.outputs.items():
        out.append(f"      {name}:\n        value: ${{{{ {source} }}}}\n")
    out.append("\npermissions: {}\n\njobs:\n")
    out.append(body)
    return "".join(out)


def targets() -> dict[Path, str]:
    pipeline = PIPELINE.read_text(encoding="utf-8")
    return {WORKFLOWS / stage.file: render(stage, pipeline) for stage in STAGES}
