"""The local container testbed: a Docker engine, an authenticated registry, a base image.

    python scripts/dev/testbed.py up        # idempotent: start what is missing
    python scripts/dev/testbed.py status    # what runs, where (add --json for tests)
    python scripts/dev/testbed.py down      # stop only what `up` started

- Engine: uses a running Docker engine, or starts `dockerd` (Debian's docker.io) itself.
- Registry: the distribution registry (Debian's docker-registry) on 127.0.0.1 with htpasswd
  auth, a GHCR stand-in: pushing needs a login. Docker treats loopback registries as insecure,
  so plain HTTP works.
- Base image: Docker Hub is unreachable here, so `local/python:3.11-bookworm` is built with
  debootstrap (with the host's CA bundle, which the TLS-intercepting proxy needs) and cached
  as a tarball under ~/.cache, so later runs import it in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

STATE_DIR = Path(
    os.environ.get("MLOPS_TESTBED_DIR", Path.home() / ".cache" / "mlops-actions" / "testbed")
)
STATE_FILE = STATE_DIR / "state.json"
BASE_IMAGE = "local/python:3.11-bookworm"
BASE_TARBALL = STATE_DIR.parent / "base-python-3.11-bookworm.tar"
REGISTRY_USER = "mlops"
# The buildx plugin, unpacked from Debian 13's docker-buildx (Debian 12 has none), so the tests
# can run both build paths. Nothing is installed system-wide: tests opt in per DOCKER_CONFIG.
BUILDX_DIR = STATE_DIR.parent / "buildx"
BUILDX_PLUGIN = BUILDX_DIR / "cli-plugins" / "docker-buildx"
BUILDX_SUITE = "trixie"
PACKAGES = {
    "dockerd": "docker.io",
    "docker-registry": "docker-registry",
    "debootstrap": "debootstrap",
    "htpasswd": "apache2-utils",
}


def log(message: str) -> None:
    print(f"testbed: {message}", file=sys.stderr, flush=True)


def load_state() -> dict[str, Any]:
    try:
        return dict(json.loads(STATE_FILE.read_text()))
    except (OSError, ValueError):
        return {}


def save_state(state: dict[str, Any]) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))


def docker(*args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, **kwargs)


def engine_up() -> bool:
    return docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=20).returncode == 0


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def require_tools() -> None:
    missing = [pkg for tool, pkg in PACKAGES.items() if not shutil.which(tool)]
    if missing:
        raise SystemExit(
            f"testbed: missing Debian packages: {' '.join(missing)} (apt-get install them)"
        )


def start_engine(state: dict[str, Any]) -> None:
    if engine_up():
        log("docker engine: already running")
        return
    logfile = open(STATE_DIR / "dockerd.log", "ab")  # noqa: SIM115 - kept open for the daemon
    process = subprocess.Popen(["dockerd"], stdout=logfile, stderr=logfile, start_new_session=True)
    state["dockerd_pid"] = process.pid
    save_state(state)
    for _ in range(120):
        if engine_up():
            log(f"docker engine: started (pid {process.pid})")
            return
        if process.poll() is not None:
            raise SystemExit(f"testbed: dockerd exited; see {STATE_DIR / 'dockerd.log'}")
        time.sleep(0.5)
    raise SystemExit(f"testbed: dockerd did not come up; see {STATE_DIR / 'dockerd.log'}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def registry_answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2)
    except urllib.error.HTTPError as exc:
        return exc.code == 401  # up, and asking for a login
    except OSError:
        return False
    return False


# The ECR stand-in: a second registry whose one user is what the AWS emulator's ECR
# GetAuthorizationToken hands out for this account, so the token exchange is the real login.
ECR_ACCOUNT = "123456789012"
ECR_USER, ECR_PASSWORD = "AWS", f"{ECR_ACCOUNT}-auth-token"


def root_of(registry: str) -> Path:
    return STATE_DIR / registry


# One full run of the suite grows the engine and the caches by a few GB; below this it can
# fail halfway with ENOSPC, so say so up front.
LOW_DISK_BYTES = 10 * 1024**3


def warn_if_disk_low() -> None:
    root = docker("info", "--format", "{{.DockerRootDir}}", check=False).stdout.strip()
    for path in {Path(root) if root else None, STATE_DIR}:
        if path is not None and path.exists():
            free = shutil.disk_usage(path).free
            if free < LOW_DISK_BYTES:
                log(
                    f"warning: only {free / 1024**3:.1f} GB free under {path}; the suite needs "
                    "about 10 GB (docker system df shows what the engine holds)"
                )


def start_registry(
    state: dict[str, Any], name: str = "registry", user: str = REGISTRY_USER,
    fixed_password: str | None = None,
) -> None:  # fmt: skip
    port = state.get(f"{name}_port")
    if alive(state.get(f"{name}_pid")) and port and registry_answers(port):
        log(f"{name}: already running on 127.0.0.1:{port}")
        return
    port = port or free_port()
    shutil.rmtree(root_of(name) / "data", ignore_errors=True)  # images of an earlier run
    password = fixed_password or state.get(f"{name}_password") or secrets.token_urlsafe(18)
    root = root_of(name)
    (root / "data").mkdir(parents=True, exist_ok=True)
    entry = subprocess.run(
        ["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True
    )
    (root / "htpasswd").write_text(entry.stdout)
    (root / "config.yml").write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: mlops-testbed\n    path: {root / 'htpasswd'}\n"
    )
    logfile = open(root / "registry.log", "ab")  # noqa: SIM115 - kept open for the daemon
    process = subprocess.Popen(
        ["docker-registry", "serve", str(root / "config.yml")],
        stdout=logfile,
        stderr=logfile,
        start_new_session=True,
    )
    state.update({f"{name}_pid": process.pid, f"{name}_port": port, f"{name}_password": password})
    save_state(state)
    for _ in range(60):
        if registry_answers(port):
            log(f"{name}: started on 127.0.0.1:{port} (pid {process.pid})")
            return
        time.sleep(0.25)
    raise SystemExit(f"testbed: {name} did not come up; see {root / 'registry.log'}")


def ensure_base_image() -> None:
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        log(f"base image: {BASE_IMAGE} present")
        return
    if not BASE_TARBALL.exists():
        build_rootfs_tarball()
    with open(BASE_TARBALL, "rb") as tar:
        subprocess.run(
            [
                "docker",
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["python3"]',
                "-",
                BASE_IMAGE,
            ],
            stdin=tar,
            check=True,
            capture_output=True,
        )
    log(f"base image: imported {BASE_IMAGE} from {BASE_TARBALL}")


def build_rootfs_tarball() -> None:
    log("base image: building with debootstrap (about a minute, cached afterwards)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rootfs-") as rootfs:
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip,ca-certificates",
                "bookworm",
                rootfs,
                "http://deb.debian.org/debian",
            ],
            check=True,
            capture_output=True,
        )
        bundle = os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
        shutil.copy(bundle, Path(rootfs) / "etc/ssl/certs/ca-certificates.crt")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (Path(rootfs) / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        BASE_TARBALL.parent.mkdir(parents=True, exist_ok=True)
        partial = BASE_TARBALL.with_suffix(".partial")
        subprocess.run(["tar", "-C", rootfs, "-cf", str(partial), "."], check=True)
        partial.replace(BASE_TARBALL)
    log(f"base image: rootfs built in {time.monotonic() - started:.0f}s")


def ensure_buildx() -> None:
    """Fetch docker-buildx from Debian's trixie archive with a private apt state (signed by the
    Debian archive keyring, checked by apt) and unpack only the plugin binary. Best effort:
    machines without apt or the archive keep the classic-builder tests only."""
    if BUILDX_PLUGIN.exists():
        log(f"buildx: plugin present at {BUILDX_PLUGIN}")
        return
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        log("buildx: no apt-get/dpkg-deb here; buildx tests will be skipped")
        return
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    with tempfile.TemporaryDirectory(prefix="buildx-apt-") as work:
        root = Path(work)
        (root / "lists" / "partial").mkdir(parents=True)
        (root / "cache" / "archives" / "partial").mkdir(parents=True)
        (root / "sources.list").write_text(
            f"deb [signed-by={keyring}] http://deb.debian.org/debian {BUILDX_SUITE} main\n"
        )
        options = [
            "-o", f"Dir::Etc::SourceList={root / 'sources.list'}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={root / 'lists'}",
            "-o", f"Dir::Cache={root / 'cache'}",
            "-o", "Debug::NoLocking=1",
            "-o", "APT::Sandbox::User=root",
        ]  # fmt: skip
        for step in (["update", "-qq"], ["download", "-qq", "docker-buildx"]):
            proc = subprocess.run(["apt-get", *options, *step], cwd=work, capture_output=True,
                                  text=True, timeout=300)  # fmt: skip
            if proc.returncode != 0:
                log(f"buildx: apt-get {step[0]} failed; buildx tests will be skipped: "
                    f"{(proc.stderr or proc.stdout).strip()[-300:]}")  # fmt: skip
                return
        deb = next(root.glob("docker-buildx_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root / "x")], check=True)
        plugin = root / "x" / "usr" / "libexec" / "docker" / "cli-plugins" / "docker-buildx"
        BUILDX_PLUGIN.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(plugin, BUILDX_PLUGIN.with_suffix(".partial"))
        BUILDX_PLUGIN.with_suffix(".partial").replace(BUILDX_PLUGIN)
    log(f"buildx: unpacked {deb.name} to {BUILDX_PLUGIN}")


def buildx_version() -> str | None:
    if not BUILDX_PLUGIN.exists():
        return None
    proc = subprocess.run([str(BUILDX_PLUGIN), "version"], capture_output=True, text=True)
    return (proc.stdout.strip() or None) if proc.returncode == 0 else None


def status(state: dict[str, Any]) -> dict[str, Any]:
    port = state.get("registry_port")
    version = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=20)
    base = docker("image", "inspect", "--format", "{{.Id}} {{.Size}}", BASE_IMAGE, check=False)
    return {
        "engine": {
            "running": version.returncode == 0,
            "version": version.stdout.strip() or None,
            "started_by_testbed": alive(state.get("dockerd_pid")),
        },
        "registry": {
            "running": bool(port and registry_answers(port)),
            "host": f"127.0.0.1:{port}" if port else None,
            "username": REGISTRY_USER,
            "password": state.get("registry_password"),
            "started_by_testbed": alive(state.get("registry_pid")),
        },
        "ecr_registry": {
            "running": bool(state.get("ecr_registry_port"))
            and registry_answers(int(state["ecr_registry_port"])),
            "host": f"127.0.0.1:{state['ecr_registry_port']}"
            if state.get("ecr_registry_port")
            else None,
            "username": ECR_USER,
            "account": ECR_ACCOUNT,
        },
        "base_image": {
            "name": BASE_IMAGE,
            "present": base.returncode == 0,
            "id": base.stdout.split()[0] if base.returncode == 0 else None,
            "cached_tarball": str(BASE_TARBALL) if BASE_TARBALL.exists() else None,
        },
        "buildx": {
            "plugins_dir": str(BUILDX_PLUGIN.parent) if buildx_version() else None,
            "version": buildx_version(),
        },
    }


def stop(pid: int | None, name: str) -> None:
    if alive(pid):
        assert pid is not None
        os.kill(pid, signal.SIGTERM)
        for _ in range(60):
            if not alive(pid):
                break
            time.sleep(0.25)
        log(f"{name}: stopped (pid {pid})")


def remove_test_images(state: dict[str, Any]) -> None:
    """Remove the images tests tagged for the testbed's registries, so runs do not pile up.

    Every test image is named after a testbed registry (127.0.0.1:<port>/...), so nothing else
    on a shared engine is touched. Dangling layers and the build cache are pruned only on an
    engine the testbed started itself.
    """
    if not engine_up():
        return
    hosts = tuple(
        f"127.0.0.1:{state[f'{name}_port']}/"
        for name in ("registry", "ecr_registry")
        if state.get(f"{name}_port")
    )
    listing = docker("images", "--format", "{{.Repository}}:{{.Tag}}", check=False)
    ours = [ref for ref in listing.stdout.split() if hosts and ref.startswith(hosts)]
    for start in range(0, len(ours), 100):
        docker("rmi", "--force", *ours[start : start + 100], check=False, timeout=600)
    if alive(state.get("dockerd_pid")):
        docker("image", "prune", "--force", check=False, timeout=600)
        docker("builder", "prune", "--force", check=False, timeout=600)
    if ours:
        log(f"removed {len(ours)} test image tags")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--json", action="store_true", help="status as JSON")
    args = parser.parse_args()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    state = load_state()
    if args.command == "up":
        require_tools()
        start_engine(state)
        if not any(alive(state.get(f"{name}_pid")) for name in ("registry", "ecr_registry")):
            remove_test_images(state)  # left by a run that ended without `down`
        warn_if_disk_low()
        start_registry(state)
        start_registry(state, "ecr_registry", ECR_USER, ECR_PASSWORD)
        ensure_base_image()
        ensure_buildx()
    elif args.command == "down":
        remove_test_images(state)
        for name in ("registry", "ecr_registry"):
            if alive(state.get(f"{name}_pid")):
                stop(state.pop(f"{name}_pid"), name)
                # What the tests pushed; a next `up` starts with empty registries.
                shutil.rmtree(root_of(name) / "data", ignore_errors=True)
        stop(state.pop("dockerd_pid", None), "docker engine")
        save_state(state)
        return 0
    info = status(state)
    if args.json or args.command == "status":
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            e, r, b = info["engine"], info["registry"], info["base_image"]
            print(
                f"engine:     {'running ' + str(e['version']) if e['running'] else 'not running'}"
                f"{' (started by testbed)' if e['started_by_testbed'] else ''}"
            )
            print(
                f"registry:   {'http://' + str(r['host']) if r['running'] else 'not running'} "
                f"user {r['username']}{' (started by testbed)' if r['started_by_testbed'] else ''}"
            )
            print(
                f"base image: {b['name']} {'present' if b['present'] else 'missing'}"
                f"{', cached at ' + str(b['cached_tarball']) if b['cached_tarball'] else ''}"
            )
            x = info["buildx"]
            print(f"buildx:     {x['version'] or 'not available'}"
                  f"{' in ' + str(x['plugins_dir']) if x['plugins_dir'] else ''}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
