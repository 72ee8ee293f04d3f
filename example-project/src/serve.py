"""Serve the fraud detector over HTTP: GET /health, GET /version, POST /predict; and SageMaker's
contract on the same port, GET /ping and POST /invocations (JSON or CSV), so one image serves
both ECS and a SageMaker endpoint (SageMaker starts it as `<image> serve`).

    MODEL_PATH=artifacts/model.skops uvicorn serve:app --app-dir src --port 8080

The model is loaded once, at start-up, with skops and an explicit list of trusted types (never
pickle), and only after its sha256 matches the one it must have:
- baked into the serving image (the default): the model card beside it (MODEL_CARD, default
  `model-card.json` next to MODEL_PATH) names the sha256;
- too large to bake: MODEL_URI (an immutable s3:// version) is downloaded and MODEL_SHA256 must
  be given and match.
On a mismatch, or with nothing to check against (no card, no MODEL_SHA256), the service refuses
to start. Running it by hand after training: give the sha256 yourself,
`MODEL_SHA256=$(sha256sum artifacts/model.skops | cut -d' ' -f1)`. /health answers 200 only with
the model loaded, so the ECS health check gates traffic on it; /version says which model is
live.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io as sio
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

# Types the saved pipeline may contain beyond skops' defaults; anything else is refused.
TRUSTED_TYPES = [
    "numpy.dtype",
    "numpy.log1p",
    "scipy._lib.array_api_compat.numpy._aliases.asarray",
    "scipy.interpolate._bsplines.BSpline",
]
THRESHOLD = float(os.environ.get("DECISION_THRESHOLD", "0.5"))


class Transaction(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)  # inf passes ge=0, then breaks the model

    amount: float = Field(ge=0)
    hour: int = Field(ge=0, le=23)
    merchant_category: str
    is_international: int = Field(ge=0, le=1)
    account_age_days: int = Field(ge=0)
    distance_from_home_km: float = Field(ge=0)
    region: str


def load_model(path: str) -> Any:
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise RuntimeError(f"{path}: refusing to load untrusted types {unexpected}")
    # Trust the fixed list, never what the file says it contains.
    return sio.load(path, trusted=TRUSTED_TYPES)


state: dict[str, Any] = {}


class ModelMismatch(RuntimeError):
    """The model is not the one the card or MODEL_SHA256 names: never serve it."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(uri: str) -> Path:
    import boto3  # only for MODEL_URI; AWS_ENDPOINT_URL works as everywhere else

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ModelMismatch(f"MODEL_URI {uri!r} is not s3://bucket/key")
    target = Path(tempfile.mkdtemp(prefix="model-")) / Path(key).name
    boto3.client("s3").download_file(bucket, key, str(target))
    return target


def locate_model() -> tuple[Path, str | None, dict[str, Any]]:
    """The model file, the sha256 it must have (None: nothing to check) and its card."""
    uri = os.environ.get("MODEL_URI", "")
    if uri:
        expected = os.environ.get("MODEL_SHA256", "").strip().lower()
        if len(expected) != 64:
            raise ModelMismatch("MODEL_URI needs MODEL_SHA256, the model's sha256 from its card")
        return _download(uri), expected, {}
    path = Path(os.environ.get("MODEL_PATH", "/app/artifacts/model.skops"))
    card_path = Path(os.environ.get("MODEL_CARD", str(path.with_name("model-card.json"))))
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    expected = os.environ.get("MODEL_SHA256") or (card.get("model") or {}).get("sha256")
    return path, expected, card


def load_verified() -> None:
    path, expected, card = locate_model()
    if not path.is_file():
        return  # an image without a model (e.g. the training image): /health stays 503
    if not expected:
        raise ModelMismatch(
            f"{path}: no model card beside it and no MODEL_SHA256, so nothing says which model "
            "this must be; an unverified model is never served (set MODEL_SHA256)"
        )
    actual = sha256_of(path)
    if actual != expected.strip().lower():
        raise ModelMismatch(f"{path}: sha256 {actual} is not the expected {expected}")
    state.update(
        model=load_model(str(path)),
        path=str(path),
        sha256=actual,
        verified=True,
        version=os.environ.get("MODEL_VERSION") or card.get("version"),
        source=(card.get("source") or {}).get("sha"),
    )


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    load_verified()  # raising here stops the server: a wrong model is never served
    yield


app = FastAPI(title="fraud-detector", lifespan=lifespan)


@app.get("/health")
def health() -> dict[str, Any]:
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    return {"status": "ok", "model": state["path"]}


@app.get("/version")
def version() -> dict[str, Any]:
    """Which model is live: anyone can compare it with the champion record."""
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    return {
        "model_version": state["version"],
        "model_sha256": state["sha256"],
        "verified": state["verified"],
        "source_commit": state["source"],
    }


def _score(frame: pd.DataFrame) -> dict[str, Any]:
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    proba = state["model"].predict_proba(frame)[:, 1]
    return {
        "fraud_probability": [round(float(p), 6) for p in proba],
        "is_fraud": [bool(p >= THRESHOLD) for p in proba],
        "model_sha256": state["sha256"],
    }


@app.post("/predict")
def predict(transactions: list[Transaction]) -> dict[str, Any]:
    return _score(pd.DataFrame([t.model_dump() for t in transactions]))


@app.get("/ping")
def ping() -> dict[str, Any]:
    """SageMaker's health check: 200 only with the verified model loaded."""
    return health()


@app.post("/invocations")
async def invocations(request: Request) -> dict[str, Any]:
    """SageMaker's inference route: a JSON list of transactions (or {"instances": [...]}), or
    CSV with a header row."""
    body = await request.body()
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    try:
        if kind == "text/csv":
            table = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
            missing = [c for c in Transaction.model_fields if c not in table.columns]
            if missing:
                raise HTTPException(
                    status_code=400, detail=f"missing columns: {', '.join(missing)}"
                )
            rows = table[list(Transaction.model_fields)].to_dict(orient="records")
        else:
            data = json.loads(body or b"[]")
            rows = data.get("instances") if isinstance(data, dict) else data
        # One validation for both bodies: every row a Transaction (types and ranges)
        frame = pd.DataFrame([Transaction(**row).model_dump() for row in rows or []])
    except (ValueError, TypeError) as exc:
        raise HTTPException(status_code=400, detail=f"unreadable {kind} body: {exc}") from None
    if frame.empty:
        raise HTTPException(status_code=400, detail="no rows to score")
    return _score(frame[list(Transaction.model_fields)])
