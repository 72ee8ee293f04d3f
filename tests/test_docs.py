"""The docs say only what the code does: the README opens with its two commands, every
`mlops-actions` command line in the docs names a real command and real options, and every
`with:` key of a documented step is an input of that action. (The README's user snippets are
run against the built wheel in test_package_install.py.)"""

import re
import shlex

import pytest
import yaml

from conftest import REPO
from mlops_actions import cli

DOCS = [
    REPO / "README.md",
    REPO / "CONTRIBUTING.md",
    REPO / "example-project" / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "actions").glob("*/README.md")),
]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(kind: str):
    for path in DOCS:
        for lang, body in FENCE.findall(path.read_text()):
            if lang == kind or (kind == "sh" and lang in ("sh", "bash", "console", "")):
                yield path, body


def test_the_readme_opens_with_its_two_commands():
    text = (REPO / "README.md").read_text()
    first = FENCE.search(text)
    assert first and text.index(first.group(0)) < 20, "the README must open with its commands"
    commands = [line.split("#")[0].strip() for line in first.group(2).splitlines()]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]


def _command_lines():
    """Each `mlops-actions ...` invocation in a shell block, continuation lines joined."""
    for path, body in [*blocks("sh"), *blocks("yaml")]:
        joined = re.sub(r"\\\n\s*", " ", body)
        for line in joined.splitlines():
            found = re.search(r"(?:^|[\s;&|(])mlops-actions\s+([a-z].*)", line)
            if found and "pip install" not in line and "/" not in line.split()[0]:
                yield path, found.group(1).split("#")[0]
    for path in DOCS:  # and inline, in prose: `mlops-actions gate --check-config ...`
        for span in re.findall(r"`mlops-actions ([a-z][^`]*)`", path.read_text()):
            if not span.startswith("<"):
                yield path, span


def _options(command: str) -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "subcommand")
    return {o for a in sub.choices[command]._actions for o in a.option_strings}


def test_every_documented_command_line_uses_real_commands_and_options():
    seen = 0
    for path, line in _command_lines():
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        command, rest = words[0], words[1:]
        assert command in cli.COMMANDS, (
            f"{path.relative_to(REPO)}: mlops-actions {command} is not a command"
        )
        known = _options(command)
        for word in rest:
            if word.startswith("--"):
                assert word.split("=")[0] in known, (
                    f"{path.relative_to(REPO)}: {command} has no {word}"
                )
        seen += 1
    assert seen >= 8, seen  # the check read the docs' command lines


def _steps(node):
    if isinstance(node, dict):
        if isinstance(node.get("uses"), str):
            yield node
        for value in node.values():
            yield from _steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _steps(item)


def test_every_documented_step_uses_inputs_its_action_has():
    checked = 0
    for path, body in blocks("yaml"):
        try:
            doc = yaml.safe_load(body.replace("...", "placeholder"))
        except yaml.YAMLError:
            continue  # a fragment with elisions; its keys are not checked
        for step in _steps(doc):
            found = re.match(r"org/mlops-actions/actions/([a-z-]+)@", step["uses"])
            if not found or not isinstance(step.get("with"), dict):
                continue
            action = yaml.safe_load((REPO / "actions" / found.group(1) / "action.yml").read_text())
            unknown = set(step["with"]) - set(action.get("inputs") or {})
            assert not unknown, f"{path.relative_to(REPO)}: {found.group(1)} has no {unknown}"
            checked += 1
    assert checked >= 10, checked


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_doc_refers_to_the_seed_or_a_missing_file(path):
    text = path.read_text()
    assert "the seed" not in text.lower(), f"{path.relative_to(REPO)} speaks of 'the seed'"
    for target in re.findall(r"\]\((?!https?://|#)([^)#\s]+)", text):
        assert (path.parent / target).exists(), f"{path.relative_to(REPO)}: no file {target}"
