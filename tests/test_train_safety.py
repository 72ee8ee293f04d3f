"""containerized-train never touches files outside its artifacts directory, never publishes a
link, never lets the container's text act as a workflow command, and turns every bad input into
one line before anything is touched. Real Docker and the authenticated local registry."""

import json
import os
import stat

import pytest

from conftest import run_cli
from support.train_fixtures import TRAIN, train_cli

pytestmark = pytest.mark.act


# --- inputs are checked before any side effect (no Docker needed for these) -------------------


@pytest.fixture
def victim(tmp_path):
    """A file beside (and one far from) the artifacts directory that must survive every run."""
    near = tmp_path / "victim.txt"
    near.write_text("keep me")
    return near


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ("--model-path", "../victim.txt"),
            "model-path: '../victim.txt' must be a relative file path",
        ),
        (("--model-path", "@ABS@"), "must be a relative file path inside the artifacts directory"),
        (("--model-path", "."), "model-path: '.' names a directory"),
        (("--model-path", "sub/"), "names a directory"),
        (("--model-path", "a/../../victim.txt"), "without '..'"),
        (("--command", 'python "x'), "command: cannot split 'python \"x' into words"),
        (("--timeout-minutes", "nan"), "timeout-minutes: expected a number from 0.01"),
        (("--timeout-minutes", "inf"), "timeout-minutes: expected a number from 0.01"),
        (("--timeout-minutes", "-5"), "timeout-minutes: expected a number from 0.01"),
        (("--cpus", "nan"), "cpus: expected a number"),
        (("--memory", "lots"), "memory: 'lots' is not a size"),
        (("--image=--privileged",), "image: '--privileged' is not an image reference"),
        (("--user", "root"), "user: training never runs as root"),
        (("--s3-uri", "s3://b/p", "--model-name", "../x"), "model-name: '../x' must be"),
        (("--s3-uri", "s3://b/p", "--version", "a/b"), "version: 'a/b' must be"),
    ],
)
def test_bad_input_is_one_line_and_touches_nothing(tmp_path, victim, args, message):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "model-card.json").write_text("{}")
    args = tuple(str(victim) if a == "@ABS@" else a for a in args)
    base = ["--image", "registry.invalid/acme/app:1", "--command", TRAIN]
    proc = run_cli("train", *base, "--artifacts-dir", str(artifacts), *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert victim.read_text() == "keep me"
    # Nothing happened: the earlier card is still there, no staging directory was made.
    assert (artifacts / "model-card.json").exists() and not list(artifacts.glob(".staging-*"))


def test_a_symlinked_folder_in_artifacts_cannot_lead_outside(tmp_path, victim):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "out").symlink_to(tmp_path)
    proc = run_cli(
        "train", "--image", "registry.invalid/a/b:1", "--command", TRAIN,
        "--artifacts-dir", str(artifacts), "--model-path", "out/victim.txt",
    )  # fmt: skip
    assert proc.returncode == 2 and "resolves outside the artifacts directory" in proc.stderr
    assert victim.read_text() == "keep me"


# --- what the container leaves behind -------------------------------------------------------


HOSTILE_OUTPUTS = {
    "symlink model": (
        "ln -s /etc/hostname /app/artifacts/model.skops",
        "'model.skops' is a symlink",
    ),
    "symlink metrics": (
        "echo m > /app/artifacts/model.skops && ln -s /etc/passwd /app/artifacts/metrics.json",
        "'metrics.json' is a symlink",
    ),
    "symlinked folder": (
        "echo m > /app/artifacts/model.skops && ln -s /etc /app/artifacts/etc",
        "'etc' is a symlink",
    ),
    "hard link": (
        "echo m > /app/artifacts/model.skops && ln /app/artifacts/model.skops /app/artifacts/copy",
        "is a hard link",
    ),
    "fifo": (
        "echo m > /app/artifacts/model.skops && mkfifo /app/artifacts/pipe",
        "'pipe' is not a regular file",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_OUTPUTS))
def test_links_and_special_files_in_the_outputs_fail_the_run(pushed, tmp_path, case):
    script, message = HOSTILE_OUTPUTS[case]
    proc, artifacts = train_cli(pushed, tmp_path, command=f"sh -c '{script}'")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert message in proc.stderr, proc.stderr
    assert not (artifacts / "model.skops").exists() and not (artifacts / "model-card.json").exists()
    assert not list(artifacts.glob(".staging-*")) and not list(artifacts.glob("etc"))


def test_staging_is_private_to_the_container_user(pushed, tmp_path):
    command = (
        'sh -c \'stat -c "%a %u" /app/artifacts > /app/artifacts/model.skops; id -u >> '
        "/app/artifacts/model.skops'"
    )
    proc, artifacts = train_cli(pushed, tmp_path, command=command)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    mode_owner, uid = (artifacts / "model.skops").read_text().split("\n")[:2]
    mode, owner = mode_owner.split()
    assert mode == "700" and owner == uid  # the container's user owns it; nobody else may write
    assert not int(mode, 8) & stat.S_IWOTH


SMUGGLED = [
    "::set-output name=smuggled::from-the-container",
    "  ::add-mask::trainingsecret",
    "\t::error title=forged::a forged annotation",
    "log line ##[error]a legacy command",
    "::stop-commands::guessed-token",
    "::endgroup::",
    "``` a fence closer",
]


def test_container_output_cannot_act_as_a_workflow_command(pushed, tmp_path):
    printed = "; ".join(f"print({line!r})" for line in SMUGGLED)
    script = f"{printed}; import sys; sys.exit(4)"
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    outputs.write_text("")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
    }
    proc, _ = train_cli(pushed, tmp_path, command=f"python -c {json.dumps(script)}", env=env)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    # Every line the runner could parse as a command is defused, in the live log and the tail...
    for line in lines:
        assert not line.lstrip().startswith("::") or _ours(line), line
        assert "##[" not in line, line
    # ...and it all sits between stop-commands and the resume token, which the container could
    # not guess.
    stops = [ln.split("::")[2] for ln in lines if ln.startswith("::stop-commands::")]
    assert stops and all(len(t) == 32 and f"::{t}::" in lines for t in stops)
    assert "guessed-token" not in stops
    assert "smuggled" not in outputs.read_text()
    text = summary.read_text()
    fence = next(ln for ln in text.splitlines() if set(ln) == {"`"} and len(ln) > 3)
    assert text.count(fence) == 2  # the tail's fence is longer than the ``` the log printed


def _ours(line: str) -> bool:
    return line.startswith(
        ("::stop-commands::", "::group::", "::endgroup::", "::error title=containerized-train")
    ) or (line.startswith("::") and line.endswith("::") and len(line) == 36)


def test_docker_config_directory_is_removed_on_every_path(pushed, tmp_path):
    """The job-local DOCKER_CONFIG holds the registry password: gone after success and failure."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    ok, _ = train_cli(pushed, tmp_path / "ok", command=TRAIN, env=env)
    failed, _ = train_cli(pushed, tmp_path / "fail", command="false", env=env)
    assert ok.returncode == 0 and failed.returncode == 1, ok.stderr[-2000:]
    assert not list(tmp.glob("mlops-docker-config-*")), os.listdir(tmp)
    assert not list(tmp.glob("mlops-train-env-*"))
