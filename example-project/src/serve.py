"""Serve the fraud detector over HTTP: GET /health, POST /predict.

    MODEL_PATH=artifacts/model.skops uvicorn serve:app --app-dir src --port 8080

The model is loaded with skops and an explicit list of trusted types (never pickle). /health
answers 200 only once the model is loaded, so the ECS health check gates traffic on it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io as sio
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

# Types the saved pipeline may contain beyond skops' defaults; anything else is refused.
TRUSTED_TYPES = [
    "numpy.dtype",
    "numpy.log1p",
    "scipy._lib.array_api_compat.numpy._aliases.asarray",
    "scipy.interpolate._bsplines.BSpline",
]
THRESHOLD = float(os.environ.get("DECISION_THRESHOLD", "0.5"))


class Transaction(BaseModel):
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


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    path = os.environ.get("MODEL_PATH", "/app/artifacts/model.skops")
    if Path(path).is_file():
        state["model"] = load_model(path)
        state["path"] = path
    yield


app = FastAPI(title="fraud-detector", lifespan=lifespan)


@app.get("/health")
def health() -> dict[str, Any]:
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    return {"status": "ok", "model": state["path"]}


@app.post("/predict")
def predict(transactions: list[Transaction]) -> dict[str, Any]:
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    frame = pd.DataFrame([t.model_dump() for t in transactions])
    proba = state["model"].predict_proba(frame)[:, 1]
    return {
        "fraud_probability": [round(float(p), 6) for p in proba],
        "is_fraud": [bool(p >= THRESHOLD) for p in proba],
    }
