"""A real MLflow tracking server for the tests: `mlflow server` with a SQLite backend and local
artifacts (served through the server), from a venv of its own made once and cached. With
`credentials`, MLflow's own basic-auth app guards it, as a shared team server would be: every
API call then needs that user (the admin) or is refused with 401."""

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

MLFLOW = "mlflow[auth]==3.17.2"  # [auth]: Flask-WTF, which the basic-auth app needs
VENV = Path.home() / ".cache" / "mlops-actions" / "mlflow-server-venv"


def server_binary() -> Path:
    import fcntl

    binary, marker = VENV / "bin" / "mlflow", VENV / ".installed"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "mlflow-server-venv.lock", "w") as lock:  # parallel test workers
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists() or not marker.exists() or marker.read_text() != MLFLOW:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            MLFLOW], check=True, timeout=900)  # fmt: skip
            marker.write_text(MLFLOW)
    return binary


@contextmanager
def mlflow_server(root: Path, credentials: tuple[str, str] | None = None) -> Iterator[str]:
    """The server's URL while it runs; `credentials` (user, password) turn basic auth on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MLFLOW_ENABLE_JOBS": "false"}
    auth: list[str] = []
    if credentials:
        (root / "auth.ini").write_text(
            "[mlflow]\ndefault_permission = NO_PERMISSIONS\n"
            f"database_uri = sqlite:///{root / 'auth.db'}\n"
            f"admin_username = {credentials[0]}\nadmin_password = {credentials[1]}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            # MLflow's own credential cache (off by default): without it every request pays a
            # PBKDF2 check, about a second on these machines, which a team's server would not.
            "auth_cache_ttl_seconds = 300\n"
        )
        env.update(MLFLOW_AUTH_CONFIG_PATH=str(root / "auth.ini"),
                   MLFLOW_FLASK_SERVER_SECRET_KEY=os.urandom(16).hex())  # fmt: skip
        auth = ["--app-name", "basic-auth"]
    log = open(root / "mlflow-server.log", "wb")  # noqa: SIM115 - the server's output
    process = subprocess.Popen(
        [str(server_binary()), "server", *auth, "--backend-store-uri",
         f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination", str(root / "artifacts"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=log, stderr=log, start_new_session=True, env=env,
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
