"""Model versions in an MLflow model registry, for teams that run one: the same three moments as
the S3 store (a trained version, a promotion, the champion fetched as the next gate's baseline),
through MLflow's client (mlflow-skinny) against a tracking server.

- A trained version becomes a run (its parameters and metrics logged, the model, the card and
  the holdout predictions as artifacts) and a registered model version tagged with the git SHA,
  the image digest, the data hashes, the model's sha256 and our version name (`mlops.version`).
  Registering the same version again returns it, if it holds the same model.
- Promotion logs the gate's verdict to the version's run, moves the alias `champion` to it and
  gives the former champion the alias `previous`; the alias is read back.
- The champion is the version behind `champion`: its verdict is the gate's baseline.

Shared by containerized-train and promote-model / fetch-champion; imports no action package.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_actions.errors import UserError, shown

VERSION_TAG = "mlops.version"
CHAMPION, PREVIOUS = "champion", "previous"


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
            if exc.error_code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
                raise UserError(
                    f"MLflow at {self.uri}: {what} failed: {exc.error_code}; give the server's "
                    "credentials as MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and "
                    "MLFLOW_TRACKING_PASSWORD (the pipeline's mlflow-tracking-* secrets)"
                ) from None
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "error"
            raise UserError(f"MLflow at {self.uri}: {what} failed: {first}") from None
        except OSError as exc:
            raise UserError(f"MLflow at {self.uri}: {what} failed: {exc}") from None

    def find(self, label: str) -> Any:
        """The registered version our version name `label` became, or None."""
        versions = self._call(
            "list the model's versions",
            lambda: self.client.search_model_versions(
                f"name='{self.model_name}'", max_results=1000
            ),
        )
        return next((v for v in versions if (v.tags or {}).get(VERSION_TAG) == label), None)

    def register(
        self, label: str, files: list[Path], card_path: Path, metrics: dict[str, Any] | None
    ) -> dict[str, str]:
        """The trained version as a run and a registered model version (once)."""
        card = json.loads(card_path.read_text())
        sha = str(card["model"]["sha256"])
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
        source = card.get("source") or {}
        tags = {
            VERSION_TAG: label,
            "model_sha256": sha,
            "git_sha": str(source.get("sha") or ""),
            "image_digest": str((card.get("image") or {}).get("digest") or ""),
            "data_hash": ",".join(
                str(d.get("sha256") or (d.get("dvc") or {}).get("md5") or "")
                for d in card.get("data") or []
            ),
        }
        run = self._call(
            "create the run",
            lambda: self.client.create_run(experiment_id, tags=tags, run_name=label),
        )
        run_id = run.info.run_id
        for key, value in (card.get("params") or {}).items():
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
        version = self._call(
            "create the model version",
            lambda: self.client.create_model_version(
                self.model_name, f"{run.info.artifact_uri}/model/{model_file}", run_id, tags={
                    **tags, "model_card": json.dumps(card, sort_keys=True)[:4900]},
            ),
        )  # fmt: skip
        return {"status": "registered", "uri": f"models:/{self.model_name}/{version.version}"}

    def champion(self) -> Any:
        return self._call(
            f"read the alias {CHAMPION}",
            lambda: self.client.get_model_version_by_alias(self.model_name, CHAMPION),
            absent_ok=True,
        )

    def promote(
        self, label: str, verdict: dict[str, Any], *, serving_image: str, task_definition_arn: str,
        expected_sha256: str, source: dict[str, str],
    ) -> tuple[dict[str, Any], str]:  # fmt: skip
        version = self.find(label)
        if version is None:
            raise UserError(
                f"version: {shown(label)} is not a version of MLflow model {self.model_name}; "
                "promote what containerized-train registered"
            )
        sha = (version.tags or {}).get("model_sha256", "")
        if expected_sha256 and expected_sha256 != sha:
            raise UserError(
                f"model-sha256: {expected_sha256[:16]}… is not version {label}'s {sha[:16]}…"
            )
        folder = Path(tempfile.mkdtemp(prefix="mlops-promotion-"))
        (folder / "verdict.json").write_text(json.dumps(verdict, indent=2))
        self._call(
            "log the verdict",
            lambda: self.client.log_artifact(
                version.run_id, str(folder / "verdict.json"), "promotion"
            ),
        )
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for key, value in {
            "serving_image": serving_image, "task_definition_arn": task_definition_arn,
            "verdict_passed": str(bool(verdict.get("passed"))).lower(), "promoted_at": stamp,
            **{f"promoted_by_{k}": v for k, v in source.items()},
        }.items():  # fmt: skip
            self._call(
                "tag the version",
                lambda k=key, v=value: self.client.set_model_version_tag(
                    self.model_name, version.version, k, v
                ),
            )
        before = self.champion()
        status = (
            "unchanged" if before is not None and before.version == version.version else "promoted"
        )
        if status == "promoted":
            if before is not None:
                self._call(
                    "move the alias previous",
                    lambda: self.client.set_registered_model_alias(
                        self.model_name, PREVIOUS, before.version
                    ),
                )
            self._call(
                "move the alias champion",
                lambda: self.client.set_registered_model_alias(
                    self.model_name, CHAMPION, version.version
                ),
            )
        after = self.champion()  # read back
        if after is None or after.version != version.version:
            raise UserError(
                f"MLflow alias {CHAMPION} of {self.model_name} does not name {label} once moved"
            )
        record = self.record(after, verdict)
        record["previous_version"] = (
            (before.tags or {}).get(VERSION_TAG)
            if before is not None and status == "promoted"
            else record.get("previous_version")
        )
        return record, status

    def record(self, version: Any, verdict: dict[str, Any] | None) -> dict[str, Any]:
        tags = version.tags or {}
        return {
            "model_name": self.model_name,
            "version": tags.get(VERSION_TAG, str(version.version)),
            "registry_version": str(version.version),
            "model_sha256": tags.get("model_sha256", ""),
            "serving_image": tags.get("serving_image", ""),
            "task_definition_arn": tags.get("task_definition_arn", ""),
            "verdict": verdict,
        }

    def fetch(self, output_dir: Path) -> tuple[dict[str, Any] | None, Path | None, Path | None]:
        """(record, the champion's verdict as a baseline file, its model card) or Nones."""
        version = self.champion()
        if version is None:
            return None, None, None
        output_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="mlops-champion-"))
        verdict_file = Path(
            self._call(
                "download the verdict",
                lambda: self.client.download_artifacts(
                    version.run_id, "promotion/verdict.json", str(folder)
                ),
            )
        )
        verdict = json.loads(verdict_file.read_text())
        baseline = output_dir / "champion-verdict.json"
        baseline.write_text(json.dumps(verdict, indent=2) + "\n")
        card_path = None
        try:
            downloaded = Path(
                self.client.download_artifacts(version.run_id, "model/model-card.json", str(folder))
            )
            card_path = output_dir / "champion-model-card.json"
            card_path.write_text(downloaded.read_text())
        except Exception:  # an older version without a card: training is then never skipped
            card_path = None
        record = self.record(version, verdict)
        (output_dir / "champion.json").write_text(json.dumps(record, indent=2) + "\n")
        return record, baseline, card_path
