"""The demo's local AWS: moto in server mode (S3, ECS) with the local staging in the same
process, so ECS services really run on the Docker engine. Runs until SIGTERM, then stops every
container it started.

    python scripts/dev/local_stack.py --state STATE.json --docker-config DIR

It writes {"schema", "endpoint", "pid", "services": {"cluster/service": url}, "stack"} to
STATE.json and keeps `services` current as rollouts complete; `stack` is the label value its
containers carry.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_staging import LocalStaging


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True)
    parser.add_argument("--docker-config", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    staging = LocalStaging(docker_config=args.docker_config, health_timeout=120).install()
    state_path = Path(args.state)
    stop = threading.Event()

    def write_state() -> None:
        services = {name: staging.url(name) for name in list(staging.serving)}  # rollouts add keys
        state = {
            "schema": 2,  # services by "cluster/service" (demo.py's STACK_SCHEMA)
            "endpoint": f"http://{host}:{port}",
            "pid": os.getpid(),
            "services": services,
            "stack": staging.stack,
        }
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(state_path)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    write_state()
    try:
        while not stop.wait(1.0):
            write_state()
    finally:
        staging.down()
        server.stop()
        state_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
