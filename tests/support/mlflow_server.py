"""A real MLflow tracking server for the tests: `mlflow server` with a SQLite backend and local
artifacts (served through the server), from a venv of its own made once and cached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MLFLOW = "mlflow==3.17.2"
VENV = Path.home() / ".cache" / "mlops-actions" / "mlflow-server-venv"


def server_binary() -> Path:
    binary = VENV / "bin" / "mlflow"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", MLFLOW],
                       check=True, timeout=900)  # fmt: skip
    return binary


@contextmanager
def mlflow_server(root: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(root / "mlflow-server.log", "wb")  # noqa: SIM115 - the server's output
    process = subprocess.Popen(
        [str(server_binary()), "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        stdout=log, stderr=log, start_new_session=True, env={**os.environ, "MLFLOW_ENABLE_JOBS": "false"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"mlflow server did not start; see {root / 'mlflow-server.log'}")
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(30)
        log.close()
