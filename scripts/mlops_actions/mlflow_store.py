"""Model versions in an MLflow model registry, for teams that run one: the same three moments as
the S3 store (a trained version, a promotion, the champion fetched as the next gate's baseline),
through MLflow's client (mlflow-skinny) against a tracking server.

- A trained version becomes a run (its parameters and metrics logged, the model, the card and
  the holdout predictions as artifacts) and a registered model version tagged with the git SHA,
  the image digest, the data hashes, the model's sha256 and our version name (`mlops.version`).
  Registering the same version again returns it, if it holds the same model.
- Promotion writes the version's record (the gate's verdict, the serving image, what serves
  it) to its run once (`promotion/record-<stage>.json`), moves the alias `champion` to it and
  gives the former champion the alias `previous`. The move itself (what it replaced, when, its
  sequence number) is a tag of the registered model, and each move is kept as another
  (`mlops.<stage>.history.<sequence>`).
- MLflow has no conditional alias update, so a move is made under a lock: the registered model
  `<name>.mlops-lock`, which only one client can create (the name is unique in the registry).
  A lock older than LOCK_STALE_SECONDS is a crashed promotion's, and is broken.
- The champion is the version behind `champion`: its verdict is the gate's baseline.

Implements model_store.ModelStore, the interface the S3 store shares; the rules are in
mlops_actions.champion.record. Shared by containerized-train and promote-model /
fetch-champion; imports no action package.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlops_actions import safe_json
from mlops_actions.errors import UserError, shown

VERSION_TAG = "mlops.version"
CHAMPION, PREVIOUS = "champion", "previous"
ALIASES = {"champion": (CHAMPION, PREVIOUS), "production": ("production", "production-previous")}
LOCK_SUFFIX = ".mlops-lock"
LOCK_STALE_SECONDS = 600  # a promotion takes seconds; a lock this old was left by a crash
LOCK_WAIT_SECONDS = 120
MAX_TAG = 4900  # under every MLflow version's tag-value limit


def is_mlflow(uri: str) -> bool:
    """An MLflow tracking URI (a tracking server), as opposed to an s3:// model store."""
    return uri.strip().startswith(("http://", "https://"))


def _flat(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _is_absent(exc: Any) -> bool:
    """No such registered model, or (MLflow answers 400 for it) no such alias."""
    if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return (
        exc.error_code == "INVALID_PARAMETER_VALUE"
        and "alias" in str(exc).lower()
        and ("not found" in str(exc).lower())
    )


class MlflowStore:
    def __init__(self, tracking_uri: str, model_name: str):
        # MLflow's own defaults retry an unreachable server for about 4 minutes; half a minute
        # rides out a restart and fails a wrong URI sooner. The user's own settings win.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        from mlflow import MlflowClient

        self.uri, self.model_name = tracking_uri.strip().rstrip("/"), model_name
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self._found: dict[str, Any] = {}

    def _call(self, what: str, call: Any, *, absent_ok: bool = False) -> Any:
        """`call()`, its MLflow errors as one line. With `absent_ok`, a model, version or alias
        that does not exist is None; anything else (a refused login, an unreachable server)
        stays an error, so a store we cannot read is never taken for an empty one."""
        from mlflow.exceptions import MlflowException

        try:
            return call()
        except MlflowException as exc:
            if absent_ok and _is_absent(exc):
                return None
            raise self._error(what, exc) from None
        except OSError as exc:
            raise UserError(f"MLflow at {self.uri}: {what} failed: {exc}") from None

    def _error(self, what: str, exc: Any) -> UserError:
        if exc.error_code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            return UserError(
                f"MLflow at {self.uri}: {what} failed: {exc.error_code}; give the server's "
                "credentials as MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD (the pipeline's mlflow-tracking-* secrets)"
            )
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "error"
        return UserError(f"MLflow at {self.uri}: {what} failed: {first}")

    def find(self, label: str) -> Any:
        """The registered version our version name `label` became, or None. Remembered: a
        version's name, number and run never change (its other tags may; read them afresh)."""
        if label in self._found:
            return self._found[label]
        versions = self._call(
            "list the model's versions",
            lambda: self.client.search_model_versions(
                f"name='{self.model_name}'", max_results=1000
            ),
        )
        found = next((v for v in versions if (v.tags or {}).get(VERSION_TAG) == label), None)
        if found is not None:
            self._found[label] = found
        return found

    def register(
        self, version: str, files: list[Path], card: Path, metrics: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The trained version as a run and a registered model version (once)."""
        label, card_path = version, card
        document = safe_json.read_object(card_path, "model card")
        model = document.get("model")
        if not isinstance(model, dict) or not isinstance(model.get("sha256"), str):
            raise UserError(f"{card_path}: not a model card with model.sha256")
        sha = model["sha256"]
        existing = self.find(label)
        if existing is not None:
            if (existing.tags or {}).get("model_sha256") != sha:
                raise UserError(
                    f"MLflow model {self.model_name} already has version {label} with another "
                    "model; give this run a new version"
                )
            return {"status": "exists", "uri": f"models:/{self.model_name}/{existing.version}"}
        experiment = self._call(
            "get the experiment",
            lambda: self.client.get_experiment_by_name(f"mlops-actions/{self.model_name}"),
        )
        experiment_id = (
            experiment.experiment_id
            if experiment
            else self._call(
                "create the experiment",
                lambda: self.client.create_experiment(f"mlops-actions/{self.model_name}"),
            )
        )
        source = document.get("source") or {}
        tags = {
            VERSION_TAG: label,
            "model_sha256": sha,
            "git_sha": str(source.get("sha") or ""),
            "image_digest": str((document.get("image") or {}).get("digest") or ""),
            "data_hash": ",".join(
                str(d.get("sha256") or (d.get("dvc") or {}).get("md5") or "")
                for d in document.get("data") or []
            ),
        }
        run = self._call(
            "create the run",
            lambda: self.client.create_run(experiment_id, tags=tags, run_name=label),
        )
        run_id = run.info.run_id
        for key, value in (document.get("params") or {}).items():
            self._call(
                "log a parameter",
                lambda k=key, v=value: self.client.log_param(run_id, k, _flat(v)[:6000]),
            )
        for key, value in (metrics or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                self._call(
                    "log a metric",
                    lambda k=key, v=value: self.client.log_metric(run_id, k, float(v)),
                )
        for path in [*files, card_path]:
            self._call(
                f"upload {path.name}",
                lambda p=path: self.client.log_artifact(run_id, str(p), "model"),
            )
        self._call("end the run", lambda: self.client.set_terminated(run_id))
        registered = self._call(
            "look up the registered model",
            lambda: self.client.get_registered_model(self.model_name),
            absent_ok=True,
        )
        if registered is None:
            self._call(
                "register the model", lambda: self.client.create_registered_model(self.model_name)
            )
        model_file = next(p.name for p in files)
        created = self._call(
            "create the model version",
            lambda: self.client.create_model_version(
                self.model_name, f"{run.info.artifact_uri}/model/{model_file}", run_id, tags={
                    **tags, "model_card": json.dumps(document, sort_keys=True)[:4900]},
            ),
        )  # fmt: skip
        return {"status": "registered", "uri": f"models:/{self.model_name}/{created.version}"}

    def where(self, stage: str) -> str:
        return f"models:/{self.model_name}@{ALIASES[stage][0]}"

    def where_version(self, version: str) -> str:
        return f"MLflow model {self.model_name}, tag {VERSION_TAG}={version}"

    def _by_alias(self, alias: str) -> Any:
        return self._call(
            f"read the alias {alias}",
            lambda: self.client.get_model_version_by_alias(self.model_name, alias),
            absent_ok=True,
        )

    def _download(self, run_id: str, path: str) -> Any:
        """A JSON artifact of the run, or None when the run has no such file."""
        folder, _, name = path.rpartition("/")
        listed = self._call(
            f"list the artifacts in {folder}",
            lambda: self.client.list_artifacts(run_id, folder or None),
        )
        if not any(str(f.path).rsplit("/", 1)[-1] == name for f in listed or []):
            return None
        target = tempfile.mkdtemp(prefix="mlops-mlflow-")
        local = Path(
            self._call(
                f"download {path}", lambda: self.client.download_artifacts(run_id, path, target)
            )
        )
        try:
            return json.loads(local.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            raise UserError(
                f"MLflow at {self.uri}: {path} of run {run_id} is not JSON; the registry is "
                "damaged there"
            ) from None

    def _upload(self, run_id: str, folder: str, name: str, data: Any) -> None:
        staging = Path(tempfile.mkdtemp(prefix="mlops-mlflow-"))
        (staging / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        self._call(
            f"upload {name}", lambda: self.client.log_artifact(run_id, str(staging / name), folder)
        )

    def card(self, version: str) -> dict[str, Any] | None:
        found = self.find(version)
        if found is None:
            return None
        card = self._download(found.run_id, "model/model-card.json")
        return card if isinstance(card, dict) else None

    def _record(self, stage: str, version: Any) -> dict[str, Any] | None:
        """The version's record for the stage; for a version promoted before records existed,
        one made from its tags and its logged verdict."""
        record = self._download(version.run_id, f"promotion/record-{stage}.json")
        if isinstance(record, dict):
            return record
        if stage != "champion":
            return None
        verdict = self._download(version.run_id, "promotion/verdict.json")
        tags = version.tags or {}
        return {
            "model_name": self.model_name,
            "version": tags.get(VERSION_TAG, str(version.version)),
            "model_sha256": tags.get("model_sha256", ""),
            "serving_image": tags.get("serving_image") or None,
            "task_definition_arn": tags.get("task_definition_arn") or None,
            "verdict": verdict,
        }

    def _model_tags(self) -> dict[str, str]:
        model = self._call(
            "read the registered model",
            lambda: self.client.get_registered_model(self.model_name),
            absent_ok=True,
        )
        return dict(model.tags or {}) if model is not None else {}

    def _state(self, stage: str) -> tuple[Any, dict[str, Any], str | None]:
        """(the version behind the alias, the last move's tag, the token naming both). A move
        sets the alias and the tag under the lock; a reader outside it may see one without the
        other, and its token then matches no state, so its compare-and-swap fails."""
        version = self._by_alias(ALIASES[stage][0])
        try:
            move = json.loads(self._model_tags().get(f"mlops.{stage}.pointer", "{}"))
        except (ValueError, RecursionError):  # a tag anyone with edit rights can set
            move = {}
        move = move if isinstance(move, dict) else {}
        if version is None:
            return None, move, None
        return (
            version,
            move,
            f"{version.version}:{move.get('registry_version')}:{move.get('sequence')}",
        )

    def read_pointer(self, stage: str) -> tuple[dict[str, Any] | None, Any]:
        version, move, token = self._state(stage)
        if version is None:
            return None, None
        record = self._record(stage, version) or {}
        if move.get("registry_version") != str(version.version):
            # The alias was moved outside mlops-actions (or before moves were kept).
            move = {"sequence": move.get("sequence")}
        pointer = {**record, **{k: v for k, v in move.items() if k != "registry_version"}}
        pointer["version"] = (version.tags or {}).get(VERSION_TAG, str(version.version))
        pointer["registry_version"] = str(version.version)
        return pointer, token

    def _lock_nonce(self, name: str) -> tuple[str | None, float]:
        """(the nonce of whoever holds the lock, its age in seconds), or (None, 0) if free."""
        held = self._call(
            "read the promotion lock",
            lambda: self.client.get_registered_model(name),
            absent_ok=True,
        )
        if held is None:
            return None, 0.0
        age = time.time() - (held.creation_timestamp or 0) / 1000
        return str((held.tags or {}).get("mlops.lock", "")), age

    @contextmanager
    def _locked(self) -> Iterator[str]:
        """Hold this model's promotion lock: a registered model only one client can create
        (the name is unique in a database-backed registry), tagged with a nonce of ours that is
        checked before every move and before the lock is let go, so a lock broken as stale (or
        a file store's lost create race) is never taken for ours."""
        from mlflow.exceptions import MlflowException

        name = f"{self.model_name}{LOCK_SUFFIX}"
        nonce = uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                self.client.create_registered_model(
                    name,
                    tags={"mlops.lock": nonce},
                    description="held by mlops-actions while it moves an alias",
                )
                if self._lock_nonce(name)[0] == nonce:
                    break
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise self._error("take the promotion lock", exc) from None
            holder, age = self._lock_nonce(name)
            if holder is not None and age > LOCK_STALE_SECONDS:
                if self._lock_nonce(name)[0] == holder:  # still that stale holder's: break it
                    self._call(
                        "break a stale promotion lock",
                        lambda: self.client.delete_registered_model(name),
                        absent_ok=True,
                    )
                continue
            if time.monotonic() > deadline:
                raise UserError(
                    f"MLflow at {self.uri}: another promotion of {self.model_name} holds the "
                    f"lock {name} (for {age:.0f} s); if none runs, delete that registered model"
                )
            time.sleep(0.2 + random.random() * 0.5)
        try:
            yield nonce
        finally:
            if self._lock_nonce(name)[0] == nonce:
                self._call(
                    "release the promotion lock",
                    lambda: self.client.delete_registered_model(name),
                    absent_ok=True,
                )

    def _still_held(self, nonce: str) -> None:
        if self._lock_nonce(f"{self.model_name}{LOCK_SUFFIX}")[0] != nonce:
            raise UserError(
                f"MLflow at {self.uri}: this promotion lost its lock (held over "
                f"{LOCK_STALE_SECONDS} s, and broken as stale); nothing was moved: run it again"
            )

    def swap_pointer(
        self, stage: str, pointer: dict[str, Any], token: Any
    ) -> dict[str, Any] | None:
        alias, previous = ALIASES[stage]
        version = self.find(str(pointer["version"]))
        if version is None:
            raise UserError(f"version: {shown(pointer['version'])} is not in {self.where(stage)}")
        with self._locked() as nonce:
            now, move, now_token = self._state(stage)
            if now_token != token:
                return None  # moved since it was read
            # The sequence is the last move's, as its tag says, read under the lock.
            last = move.get("sequence")
            stored = {**pointer, "sequence": (last if isinstance(last, int) else 0) + 1}
            self._still_held(nonce)
            if now is not None:
                self._call(
                    f"move the alias {previous}",
                    lambda: self.client.set_registered_model_alias(
                        self.model_name, previous, now.version
                    ),
                )
            self._call(
                f"move the alias {alias}",
                lambda: self.client.set_registered_model_alias(
                    self.model_name, alias, version.version
                ),
            )
            record = {
                k: stored.get(k)
                for k in ("previous_version", "promoted_at", "sequence", "source", "forced")
            }
            if isinstance(stored.get("release"), dict):  # production: the tag and the staging
                record["release"] = stored["release"]
            record["registry_version"] = str(version.version)
            self._call(
                "record the move",
                lambda: self.client.set_registered_model_tag(
                    self.model_name, f"mlops.{stage}.pointer", _fit(record)
                ),
            )
        return stored

    def create_record(
        self, stage: str, version: str, record: dict[str, Any]
    ) -> dict[str, Any] | None:
        found = self.find(version)
        if found is None:
            raise UserError(
                f"version: {shown(version)} is not a version of MLflow model {self.model_name}; "
                "promote what containerized-train registered"
            )
        with self._locked():
            existing = self._download(found.run_id, f"promotion/record-{stage}.json")
            if isinstance(existing, dict):
                return existing
            self._upload(found.run_id, "promotion", f"record-{stage}.json", record)
            if stage == "champion":  # what older readers and the MLflow UI show
                self._upload(found.run_id, "promotion", "verdict.json", record.get("verdict"))
            for key, value in {
                "serving_image": record.get("serving_image") or "",
                "task_definition_arn": record.get("task_definition_arn") or "",
                "verdict_passed": str(bool((record.get("verdict") or {}).get("passed"))).lower(),
                f"{stage}_promoted_at": record.get("promoted_at") or "",
            }.items():
                self._call(
                    "tag the version",
                    lambda k=key, v=value: self.client.set_model_version_tag(
                        self.model_name, found.version, k, v
                    ),
                )
        return None

    def record(self, stage: str, version: str) -> dict[str, Any] | None:
        found = self.find(version)
        return self._record(stage, found) if found is not None else None

    def add_history(self, stage: str, entry: dict[str, Any]) -> None:
        key = f"mlops.{stage}.history.{int(entry['sequence']):06d}"
        if key in self._model_tags():
            return
        self._call(
            "keep the move in the history",
            lambda: self.client.set_registered_model_tag(self.model_name, key, _fit(entry)),
        )

    def history(self, stage: str, limit: int) -> list[dict[str, Any]]:
        prefix = f"mlops.{stage}.history."
        entries: list[dict[str, Any]] = []
        for key, value in sorted(self._model_tags().items(), reverse=True):
            if key.startswith(prefix) and len(entries) < limit:
                try:
                    entry = json.loads(value)
                except (ValueError, RecursionError):
                    continue
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries


def _fit(data: dict[str, Any]) -> str:
    """JSON for a tag value, the run's source dropped first when it would not fit."""
    text = json.dumps(data, sort_keys=True, default=str)
    if len(text) > MAX_TAG:
        text = json.dumps({**data, "source": {}}, sort_keys=True, default=str)[:MAX_TAG]
    return text
