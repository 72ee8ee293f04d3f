"""Inputs and the model card: parsing and assembling. Pure: no files, no Docker, no AWS.

The model card (`model-card.json`) records where a model came from: repository, commit, run,
trigger, the image by digest, the data by hash, the parameters, the metrics, the software
versions seen inside the container, and the timing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from mlops_actions import safe_yaml
from mlops_actions.errors import UserError, shown
from mlops_actions.inputs import IMAGE_BY_DIGEST

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env_lines(text: str, field: str = "env") -> dict[str, str]:
    out: dict[str, str] = {}
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        if line.lstrip().startswith("#"):
            continue
        key, sep, value = line.strip().partition("=")
        if not sep or not _ENV_NAME.match(key):
            raise UserError(
                f"{field}: line {number} {shown(line.strip())}: expected KEY=VALUE with KEY a "
                "variable name"
            )
        out[key] = value
    return out


def parse_params(text: str, source: str = "params") -> dict[str, Any]:
    """KEY=VALUE lines (values read as YAML scalars: 0.1 is a number) or a JSON/YAML mapping."""
    if not text.strip():
        return {}
    if "=" not in text.splitlines()[0]:
        data = safe_yaml.load(text, source)
        if not isinstance(data, Mapping):
            raise UserError(f"{source}: expected a mapping of parameter names to values")
        return dict(data)
    out: dict[str, Any] = {}
    for key, value in parse_env_lines(text, source).items():
        try:
            parsed = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            parsed = value
        out[key] = (
            parsed if isinstance(parsed, str | int | float | bool) or parsed is None else value
        )
    return out


def image_is_pinned(image: str) -> bool:
    return bool(IMAGE_BY_DIGEST.match(image))


def model_format(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(".skops"):
        return "skops"
    if lowered.endswith(PICKLE_SUFFIXES):
        return "pickle"
    if lowered.endswith((".onnx",)):
        return "onnx"
    return lowered.rsplit(".", 1)[-1] if "." in lowered else "unknown"


_SECRET_KEY = re.compile(
    r"token|secret|passw|pwd|^pass$|_pass$|key|credential|auth|cookie|session|bearer|jwt|"
    r"private|signature|webhook|cert",
    re.IGNORECASE,
)
# Text shaped like a credential, whatever key or place it has: a bearer or basic header, a
# JWT, GitHub, AWS, Slack, GitLab, Google and OpenAI-style keys, a PEM block, a URL's password.
_CREDENTIAL = re.compile(
    r"^\s*bearer\s|\b(bearer|basic)\s+\S{8,}|eyJ[\w-]{8,}\.[\w-]{8,}\.|gh[pousr]_\w{20,}|"
    r"github_pat_\w{20,}|(A3T|AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN|://[^\s:@/]+:[^\s@]+@|"
    r"xox[abprs]-[\w-]{10,}|glpat-[\w-]{20}|AIza[\w-]{35}|\bsk-[A-Za-z0-9_-]{20,}",
    re.IGNORECASE,
)
# Values that carry one: the above, `secret=...` written into text, a presigned or signed URL,
# a webhook.
_SECRET_VALUE = re.compile(
    _CREDENTIAL.pattern + r"|(secret|token|passw\w*|api[_-]?key|access[_-]?key|private[_-]?key)"
    r"\w*\s*[=:]\s*\S|x-amz-signature|x-goog-signature|[?&#](sig|signature|token|access_token|key)=|"
    r"hooks\.slack\.com|/api/webhooks/|webhook",
    re.IGNORECASE,
)
# The payload keys our dispatches send (model-monitor, `mlops-actions dispatch` as documented);
# others are named in the card, never copied: whoever dispatches chooses what they hold.
PAYLOAD_KEYS = frozenset({
    "reasons", "reason", "drift_share", "drifted_features", "metrics", "current_data",
    "data_uri", "data_version", "dataset", "rows", "monitor_run", "source_sha",
})  # fmt: skip
MAX_VALUE_CHARS = 256
MAX_DEPTH = 6
REDACTED = "***redacted***"


def _key(key: Any) -> str:
    """A key fit for the card: one shaped like a credential is itself redacted."""
    text = str(key)[:MAX_VALUE_CHARS]
    return REDACTED if _CREDENTIAL.search(text) else text


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of a payload fit for a model card (which ships inside the serving image, perhaps
    a public package): secret-looking keys and credential-looking values (and keys) hidden, a
    URL's query and fragment dropped (presigned URLs carry their signature there, OAuth
    redirects their token), long values cut."""
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        return {
            _key(k): REDACTED if _SECRET_KEY.search(str(k)) else redact(v, depth + 1)
            for k, v in list(value.items())[:100]
        }
    if isinstance(value, list):
        return [redact(v, depth + 1) for v in value[:100]]
    if isinstance(value, str):
        if _SECRET_VALUE.search(value):
            return REDACTED
        if "://" in value and ("?" in value or "#" in value):
            value = re.split(r"[?#]", value, maxsplit=1)[0] + "?…"
        if len(value) > MAX_VALUE_CHARS:
            return value[: MAX_VALUE_CHARS - 1] + "…"
    return value


def redact_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A dispatch's client_payload for the card: the allow-listed keys, redacted; the names of
    the others."""
    kept = redact({k: v for k, v in payload.items() if k in PAYLOAD_KEYS})
    others = sorted(_key(k)[:64] for k in payload if k not in PAYLOAD_KEYS)[:20]
    return {**kept, **({"omitted_keys": others} if others else {})}


def github_source(env: Mapping[str, str], event: Mapping[str, Any]) -> dict[str, Any]:
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    repository, run_id = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    inputs = event.get("inputs") if isinstance(event.get("inputs"), Mapping) else None
    return {
        "source": {
            "repository": repository,
            "sha": env.get("GITHUB_SHA"),
            "ref": env.get("GITHUB_REF"),
            "run_id": run_id,
            # With the attempt, what orders versions: an older run never replaces the champion.
            "run_number": env.get("GITHUB_RUN_NUMBER"),
            # Run numbers count per workflow file: the file (without its @ref) says whose.
            "workflow": (env.get("GITHUB_WORKFLOW_REF") or "").split("@", 1)[0] or None,
            "run_attempt": env.get("GITHUB_RUN_ATTEMPT"),
            "run_url": f"{server}/{repository}/actions/runs/{run_id}"
            if repository and run_id
            else None,
        },
        "trigger": {
            "event_name": env.get("GITHUB_EVENT_NAME"),
            "actor": env.get("GITHUB_ACTOR"),
            # Whoever sends a dispatch chooses these: never copy secrets or bulk into the card.
            "dispatch_inputs": redact(inputs) if inputs is not None else None,
            "client_payload": redact_payload(event["client_payload"])
            if isinstance(event.get("client_payload"), Mapping)
            else None,
        },
    }


def build_card(
    *,
    model: Mapping[str, Any],
    files: Mapping[str, str],
    image: Mapping[str, Any],
    data: list[Mapping[str, Any]],
    params: Mapping[str, Any],
    metrics: Mapping[str, Any] | None,
    environment: Mapping[str, Any],
    run: Mapping[str, Any],
    github: Mapping[str, Any],
    command: list[str],
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "model": dict(model),
        "files": dict(files),
        **{k: dict(v) for k, v in github.items()},
        "image": dict(image),
        "data": [dict(d) for d in data],
        "params": dict(params),
        "metrics": dict(metrics) if metrics is not None else None,
        "environment": dict(environment),
        "command": list(command),
        "run": dict(run),
    }


def card_json(card: Mapping[str, Any]) -> str:
    return json.dumps(card, indent=2, sort_keys=False, default=str) + "\n"


def _fingerprint(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    return (entry.get("mount"), entry.get("sha256"), json.dumps(entry.get("dvc"), sort_keys=True))


def unchanged_since(
    card: Mapping[str, Any],
    *,
    image_digest: str,
    data: list[Mapping[str, Any]],
    command: list[str],
    params: Mapping[str, Any],
) -> str | None:
    """Why retraining would repeat the card's run (same image by digest, same data by hash, same
    command and parameters), or None when something differs or the card cannot tell."""
    image = card.get("image")
    theirs = card.get("data")
    if not isinstance(image, Mapping) or not isinstance(theirs, list) or not image_digest:
        return None
    if image.get("digest") != image_digest or not all(isinstance(d, Mapping) for d in theirs):
        return None
    if sorted(map(_fingerprint, theirs)) != sorted(map(_fingerprint, data)):
        return None
    if card.get("command") != list(command) or card.get("params") != dict(params):
        return None
    hashes = ", ".join(
        str(d.get("sha256") or (d.get("dvc") or {}).get("md5") or "?")[:12] for d in data
    )
    return (
        f"the same image ({image_digest[:19]}…), data ({hashes or 'none'}), command and "
        "parameters as the champion: retraining would repeat its run"
    )
