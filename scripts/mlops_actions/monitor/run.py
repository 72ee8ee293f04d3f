"""Read the reference and current data, measure each feature's drift, decide. The files are read
once, only the feature columns, and converted one column at a time."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mlops_actions import tables
from mlops_actions.errors import UserError, shown
from mlops_actions.monitor import drift
from mlops_actions.monitor.config import MonitorConfig
from mlops_actions.monitor.decide import MonitorDecision, decide


@dataclass(frozen=True)
class MonitorRequest:
    reference: str
    current: str
    config: MonitorConfig
    performance_verdict: str = ""  # the gate's verdict.json on labelled live data


def choose_features(
    request: MonitorRequest, reference_columns: list[str], current_columns: list[str]
) -> tuple[list[str], list[str]]:
    """(features, notes). Explicit features must be in both files; by default every shared
    column that is not excluded, in the reference's order."""
    config = request.config
    where = config.source if config.source != "<defaults>" else "a monitor config (config input)"
    for key, names in (("columns.exclude", config.exclude),
                       ("columns.categorical", config.categorical or ())):  # fmt: skip
        unknown = [n for n in names if n not in reference_columns and n not in current_columns]
        if unknown:
            close = difflib.get_close_matches(unknown[0], reference_columns, n=1)
            hint = f" (did you mean {shown(close[0])}?)" if close else ""
            raise UserError(
                f"{config.source}: {key}: {shown(unknown[0])} is a column of neither "
                f"{request.reference} nor {request.current}{hint}; fix or remove it",
                file=config.source,
            )
    if config.features is not None:
        tables.require_columns(request.reference, reference_columns, config.features,
                               f"listed under features in {config.source}")  # fmt: skip
        tables.require_columns(request.current, current_columns, config.features,
                               f"listed under features in {config.source}")  # fmt: skip
        return list(config.features), []
    shared = [c for c in reference_columns if c in current_columns and c not in config.exclude]
    notes = []
    gone = [c for c in reference_columns if c not in current_columns and c not in config.exclude]
    if gone:
        notes.append(
            f"not in the current data, so not compared: {', '.join(gone[:10])} "
            "(validate-data reports dropped columns)"
        )
    if not shared:
        raise UserError(
            f"{request.current}: shares no feature column with {request.reference}; list the "
            f"features to compare under features: in {where}"
        )
    return shared, notes


def measure(request: MonitorRequest) -> tuple[list[drift.FeatureDrift], list[str]]:
    features, notes = choose_features(
        request, tables.column_names(request.reference), tables.column_names(request.current)
    )
    reference = tables.read_table(request.reference, features)
    if reference.num_rows == 0:
        raise UserError(f"{request.reference}: the reference data has no rows; give the data "
                        "the model was trained on")  # fmt: skip
    current = tables.read_table(request.current, features)
    categorical = set(request.config.categorical or ())
    results = []
    for name in features:
        ref_col, cur_col = reference.column(name), current.column(name)
        ref_numeric = tables.is_numeric(ref_col.type)
        cur_numeric = tables.is_numeric(cur_col.type) or tables.is_null_type(cur_col.type)
        if name not in categorical and ref_numeric and cur_numeric:
            results.append(
                drift.numeric_drift(
                    name, tables.as_float(ref_col), tables.as_float(cur_col), request.config.bins
                )
            )
            continue
        if name not in categorical and ref_numeric:
            # A number column that reads as text now (a stray token): still numbers, with what
            # is not one counted as missing, so its share is tested too.
            values, junk, examples = tables.text_as_float(cur_col)
            quoted = ", ".join(repr(e)[:40] for e in examples)
            notes.append(
                f"{name}: {tables.type_name(ref_col.type)} in the reference but "
                f"{tables.type_name(cur_col.type)} now; {junk} values are not numbers "
                f"(e.g. {quoted}) and count as missing"
            )
            results.append(
                drift.numeric_drift(name, tables.as_float(ref_col), values, request.config.bins)
            )
            continue
        if name not in categorical and tables.is_numeric(cur_col.type):
            notes.append(
                f"{name}: {tables.type_name(ref_col.type)} in the reference but "
                f"{tables.type_name(cur_col.type)} now; compared as text"
            )
        results.append(
            drift.categorical_drift(
                name, tables.category_counts(ref_col), tables.category_counts(cur_col)
            )
        )
    return results, notes


def read_performance(path: str) -> Mapping[str, Any]:
    from mlops_actions import safe_json

    data = safe_json.read(path, "performance-verdict (the model gate's verdict.json)")
    if not isinstance(data, dict) or not isinstance(data.get("passed"), bool):
        raise UserError(
            f"{path}: not a model-gate verdict (no boolean 'passed'); performance-verdict takes "
            "the verdict.json the gate writes"
        )
    checks = data.get("checks", [])
    if not isinstance(checks, list) or not all(
        isinstance(c, dict) and isinstance(c.get("status"), str) for c in checks
    ):
        raise UserError(
            f"{path}: field 'checks' must be a list of checks, each with a text 'status'; "
            "performance-verdict takes the verdict.json the gate writes"
        )
    return data


def monitor(request: MonitorRequest) -> MonitorDecision:
    verdict = request.performance_verdict
    performance = read_performance(verdict) if verdict else None
    drifts, notes = measure(request)
    decision = decide(drifts, request.config, performance)
    if notes:
        decision = replace(decision, notes=(*notes, *decision.notes))
    return decision
