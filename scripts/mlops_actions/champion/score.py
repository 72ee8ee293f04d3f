"""Score the champion on the challenger's holdout: the champion's own serving image, by digest,
run over the holdout's feature rows, so the gate compares both models on the same rows. The
champion's model is never loaded here: its own code and environment score it.

The serving image's batch contract, `predict` (a command on the image's PATH, as SageMaker's
`serve` is):

    docker run -i <serving image> predict  < features.csv  > predictions.csv

- stdin: CSV with a header, the id column (named in the environment variable MLOPS_ID_COLUMN;
  the training writes it first) and the feature columns (no label);
- stdout: CSV with a header, the id column and `score` (the probability of the positive class),
  one row per input row; nothing else goes to stdout (logs go to stderr);
- exit 0 on success.

A filter, and not a batch of HTTP calls, because it needs no port, no network and no wait for
a server to be healthy, streams a holdout of any size, and leaves nothing to clean up. The
container runs with no network, a read-only root file system, no capabilities and never as
root: the champion's code sees the feature rows and nothing else of the runner.

An image without the contract (a champion packaged before it, exit 127 or 126) is "not
scored": the gate then compares unpaired against the champion's stored verdict, and says so.
Any other failure (an image that cannot be pulled, a crash, output that is not the contract's)
is an error.
"""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mlops_actions.aws import ecr
from mlops_actions.docker import Docker, login_to_registry, resolve_image
from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST

NOBODY = "65534:65534"
UNSUPPORTED = (126, 127)  # the shell's "cannot execute" and "not found"


@dataclass(frozen=True)
class ScoreRequest:
    image: str
    features: str
    output: str
    id_column: str
    command: tuple[str, ...] = ("predict",)
    timeout_seconds: float = 1800
    registry: str | None = None
    username: str = ""
    password: str = ""


@dataclass
class ScoreResult:
    scored: bool
    reason: str
    rows: int
    seconds: float
    image: str
    path: Path | None = None


def _header(path: Path, what: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{what}: cannot read {path}: {type(exc).__name__}") from None


def id_column(features: str, given: str) -> str:
    """The id column: the one given, else the features file's first column (training writes
    the id first)."""
    if given:
        return given
    path = Path(features)
    header = _header(path, "features") if path.is_file() else []
    return header[0] if header else "id"


def check(request: ScoreRequest) -> None:
    """Every input, before anything is pulled or run."""
    if not IMAGE_BY_DIGEST.match(request.image):
        raise UserError(
            f"image: {shown(request.image)} is not pinned by digest; give the champion's serving "
            "image as repo@sha256:... (fetch-champion's serving-image-ref)"
        )
    features = Path(request.features)
    if not features.is_file():
        raise UserError(
            f"features: {shown(request.features)} is not a file; give the holdout's feature rows "
            "(containerized-train's holdout-features-path)"
        )
    header = _header(features, "features")
    if request.id_column not in header:
        raise UserError(
            f"{request.features}: no id column '{request.id_column}' (columns: "
            f"{', '.join(header[:12])}); set id-column to the column that names each row",
            file=request.features,
        )
    output = Path(request.output)
    if output.is_dir() or not output.parent.is_dir():
        raise UserError(
            f"output: {shown(request.output)} must be a file path in an existing folder"
        )
    if not request.command or any(not part for part in request.command):
        raise UserError("command: give the serving image's batch command, e.g. predict")


def run_user(image_user: str) -> str:
    """The image's own user, unless that is root: then nobody."""
    if image_user and image_user.split(":", 1)[0] not in ("0", "root"):
        return image_user
    return NOBODY


def score(docker: Docker, request: ScoreRequest, log: list[str]) -> ScoreResult:
    """Run the contract; `log` receives the container's stderr (untrusted: print it defused)."""
    started = time.monotonic()
    host = request.registry or request.image.split("/", 1)[0]
    if (request.username and request.password) or ecr.is_ecr_host(host):
        login_to_registry(docker, host, request.username, request.password)
    image = resolve_image(docker, request.image, None, "", "")
    output = Path(request.output)
    fd, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    tail: deque[str] = deque(maxlen=40)
    try:
        with open(request.features, "rb") as feature_rows, os.fdopen(fd, "wb") as out:
            proc = subprocess.Popen(
                [docker.binary, "--config", docker.config_dir, "run", "--rm", "-i",
                 "--network", "none", "--read-only", "--tmpfs", "/tmp:rw,size=512m",
                 "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                 "--env", f"MLOPS_ID_COLUMN={request.id_column}",
                 "--user", run_user(str(image["user"])), str(image["ref"]), *request.command],
                stdin=feature_rows, stdout=out, stderr=subprocess.PIPE,
            )  # fmt: skip
            assert proc.stderr is not None
            reader = threading.Thread(target=_keep_tail, args=(proc.stderr, tail), daemon=True)
            reader.start()
            try:
                code = proc.wait(timeout=request.timeout_seconds)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise UserError(
                    f"the champion's image did not finish scoring within "
                    f"{request.timeout_seconds:g} s; raise timeout-minutes"
                ) from None
            reader.join(timeout=10)
        log.extend(tail)
        seconds = time.monotonic() - started
        if code in UNSUPPORTED:
            reason = (
                f"the champion's serving image has no `{request.command[0]}` command (exit "
                f"{code}): it was packaged before the batch contract; the gate compares unpaired"
            )
            return ScoreResult(False, reason, 0, seconds, str(image["ref"]))
        if code != 0:
            last = tail[-1] if tail else "no output on stderr"
            raise UserError(
                f"the champion's image failed to score the holdout (exit {code}): {last[:300]}"
            )
        rows = _check_output(Path(partial), request.id_column)
        os.replace(partial, output)
        return ScoreResult(True, "", rows, seconds, str(image["ref"]), output)
    finally:
        Path(partial).unlink(missing_ok=True)


def _keep_tail(stream: IO[bytes], tail: deque[str]) -> None:
    for raw in stream:
        tail.append(raw.decode("utf-8", "replace").rstrip("\n"))


def _check_output(path: Path, id_column: str) -> int:
    """The contract's shape (a header with the id and `score`); the gate checks every id."""
    header = _header(path, "the champion's predictions")
    if id_column not in header or "score" not in header:
        shown_header = ", ".join(header[:8]) or "nothing"
        raise UserError(
            f"the champion's image wrote no CSV with columns '{id_column}' and score to stdout "
            f"(its first line has: {shown_header[:200]}); its predict command must print only "
            "the predictions"
        )
    with open(path, "rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)
