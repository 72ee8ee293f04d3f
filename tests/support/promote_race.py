"""Two (or more) promotions at once, from separate processes, as two workflow runs would race:
each process waits for the same start instant, then promotes its version through the real
store (S3 on the emulator, or an MLflow server) and prints what it concluded as JSON.

    python promote_race.py STORE MODEL START_AT VERSION VERDICT_JSON
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    from mlops_actions.champion import run as champion
    from mlops_actions.errors import UserError
    from mlops_actions.model_store import open_store

    uri, model, start_at, version, verdict = sys.argv[1:6]
    store = open_store(uri, model)
    time.sleep(max(0.0, float(start_at) - time.time()))
    try:
        promotion = champion.promote(store, version, json.loads(verdict), log=lambda _: None)
    except UserError as exc:
        print(json.dumps({"version": version, "status": "refused", "message": exc.message}))
        return 2
    previous = promotion.record.get("previous_version")
    print(json.dumps({"version": version, "status": promotion.status, "previous": previous}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
