"""Reading the gate's input files: predictions (CSV/Parquet), metrics/baseline JSON, config YAML.

This is the I/O edge: everything that can be wrong in a user's file is turned into a UserError
naming the file, the column or field, the row where one is at fault, and the fix.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mlops_actions.errors import UserError
from mlops_actions.gate.config import Columns, GateConfig, parse_config
from mlops_actions.gate.metrics import METRICS, BoolArray, Estimate, FloatArray

MAX_GROUPS = 200
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class Group:
    codes: np.ndarray[Any, np.dtype[np.int32]]
    names: list[str]


@dataclass
class Predictions:
    path: str
    rows: int
    y_true: BoolArray
    score: FloatArray | None
    y_pred: BoolArray | None
    groups: dict[str, Group] = field(default_factory=dict)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: {what} file not found; check the path (relative to {Path.cwd()})")
    if p.is_dir():
        raise UserError(f"{path}: is a directory; give the {what} file inside it")
    if p.stat().st_size == 0:
        raise UserError(f"{path}: {what} file is empty", file=path)
    return p


def load_config(path: str) -> GateConfig:
    text = _require_file(path, "config").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        raise UserError(
            f"{path}: line {line}: malformed YAML: {problem}", file=path, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: malformed YAML: {exc}", file=path) from None
    return parse_config(data, path)


def _load_json(path: str, what: str) -> Any:
    text = _require_file(path, what).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: line {exc.lineno}: malformed JSON: {exc.msg}", file=path, line=exc.lineno
        ) from None


def _as_estimate(path: str, key: str, raw: Any, intervals: Mapping[str, Any]) -> Estimate:
    ci = intervals.get(key)
    if isinstance(raw, Mapping):
        ci = raw.get("ci", ci)
        raw = raw.get("value")
    if raw is None:
        return Estimate.undefined("not computed in the metrics file")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise UserError(f"{path}: field '{key}': expected a finite number, got {raw!r}", file=path)
    value = float(raw)
    high = math.inf if key == "log_loss" else 1.0
    if not 0.0 <= value <= high:
        raise UserError(
            f"{path}: field '{key}': {value} is outside [0, {high:g}]; {key} is a rate", file=path
        )
    low_ci = high_ci = None
    if isinstance(ci, Mapping):
        ci = [ci.get("low"), ci.get("high")]
    if (
        isinstance(ci, list | tuple)
        and len(ci) == 2
        and all(isinstance(v, int | float) for v in ci)
    ):
        low_ci, high_ci = float(ci[0]), float(ci[1])
    return Estimate(value, low_ci, high_ci, "given" if low_ci is not None else "")


def load_metrics_file(path: str, what: str = "metrics") -> dict[str, Estimate]:
    """A plain metrics JSON ({"precision": 0.91, ...}) or a previous verdict.json."""
    data = _load_json(path, what)
    shape_hint = (
        f'expected a {what} JSON object like {{"precision": 0.91, "recall": 0.84}} '
        "or a verdict.json from a previous gate run"
    )
    if not isinstance(data, Mapping):
        raise UserError(f"{path}: {shape_hint}, got a JSON {type(data).__name__}", file=path)
    intervals: Mapping[str, Any] = {}
    if isinstance(data.get("metrics"), Mapping):
        intervals = data.get("intervals") if isinstance(data.get("intervals"), Mapping) else {}  # type: ignore[assignment]
        data = data["metrics"]
    found = {k: _as_estimate(path, k, v, intervals) for k, v in data.items() if k in METRICS}
    if not found:
        raise UserError(
            f"{path}: no known metric found; {shape_hint} (known: {', '.join(METRICS)})", file=path
        )
    return found


def load_baseline(path: str) -> dict[str, float]:
    estimates = load_metrics_file(path, "baseline")
    return {k: e.value for k, e in estimates.items() if e.value is not None}


# --- predictions -------------------------------------------------------------------------


def _format(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(_CSV_SUFFIXES):
        return "csv"
    if lowered.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    raise UserError(
        f"{path}: unsupported predictions format; use a .csv (optionally .gz) or .parquet file"
    )


def _header(path: str, fmt: str) -> list[str]:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise UserError(f"{path}: not a readable Parquet file ({exc})", file=path) from None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if path.lower().endswith(".csv"):
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = next(csv.reader(handle), [])
    else:
        try:
            reader = pacsv.open_csv(path)
        except pa.ArrowInvalid as exc:
            raise UserError(f"{path}: cannot read CSV ({exc})", file=path) from None
        first = list(reader.schema.names)
    if not first or all(not c.strip() for c in first):
        raise UserError(
            f"{path}: the first line must be a header naming the columns", file=path, line=1
        )
    return first


def _missing_column(path: str, role: str, name: str, header: list[str], option: str) -> UserError:
    close = difflib.get_close_matches(name, header, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
    return UserError(
        f"{path}: no {role} column '{name}'; {hint}set {option} (columns: {shown})",
        file=path,
        line=1,
    )


def _resolve_columns(path: str, header: list[str], columns: Columns) -> Columns:
    if columns.label not in header:
        raise _missing_column(path, "label", columns.label, header, "columns.label / label-column")
    score = columns.score
    if score is not None and score not in header:
        if columns.score_explicit or columns.prediction is None:
            raise _missing_column(path, "score", score, header, "columns.score / score-column")
        score = None
    if columns.prediction is not None and columns.prediction not in header:
        raise _missing_column(
            path, "prediction", columns.prediction, header, "columns.prediction / prediction-column"
        )
    return Columns(columns.label, score, columns.prediction, columns.score_explicit)


def _row(index: int, fmt: str) -> int:
    return index + 2 if fmt == "csv" else index + 1  # CSV line numbers count the header


def _read_table(path: str, fmt: str, names: list[str], group_columns: tuple[str, ...]) -> Any:
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path, columns=names)
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(
            include_columns=names,
            column_types={g: pa.string() for g in group_columns},
            strings_can_be_null=True,
        )
        return pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, OSError) as exc:
        message = str(exc).splitlines()[0]
        raise UserError(f"{path}: cannot parse the file: {message}", file=path) from None


def _no_nulls(path: str, fmt: str, name: str, column: Any, role: str) -> None:
    if column.null_count:
        import pyarrow.compute as pc

        first = int(pc.index(pc.is_null(column), True).as_py())
        row = _row(first, fmt)
        raise UserError(
            f"{path}: row {row}: {role} column '{name}' is missing a value (empty, NA or NaN; "
            f"{column.null_count} such rows in all); every row needs a value",
            file=path,
            line=row if fmt == "csv" else None,
        )


def _same_label(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() in (str(b).lower(), {"true": "1", "false": "0"}.get(str(b).lower()))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a).strip() == str(b).strip()


def _binary_mask(path: str, name: str, column: Any, positive: Any, role: str) -> BoolArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.unique(column).to_pylist()
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:5])
        raise UserError(
            f"{path}: {role} column '{name}' must be binary but has {len(values)} distinct values "
            f"({shown}{' ...' if len(values) > 5 else ''}); map it to two classes",
            file=path,
        )
    matches = [v for v in values if _same_label(v, positive)]
    if not matches:
        if len(values) == 2:
            raise UserError(
                f"{path}: positive_label {positive!r} is not a value of {role} column '{name}' "
                f"(values: {values[0]!r}, {values[1]!r}); set positive_label / positive-label",
                file=path,
            )
        return np.zeros(len(column), dtype=bool)
    mask = pc.equal(column, pa.scalar(matches[0], type=column.type))
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _score_array(path: str, fmt: str, name: str, column: Any) -> FloatArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        bad = next((i for i, v in enumerate(column.to_pylist()) if not _is_number(v)), 0)
        row = _row(bad, fmt)
        raise UserError(
            f"{path}: row {row}: score column '{name}' must hold numbers (probabilities in "
            f"[0, 1]); found {column[bad].as_py()!r}",
            file=path,
            line=row if fmt == "csv" else None,
        )
    score = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    ok = score >= 0.0
    ok &= score <= 1.0
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        row = _row(first, fmt)
        value = score[first]
        problem = "is NaN" if math.isnan(value) else f"= {value:g} is outside [0, 1]"
        raise UserError(
            f"{path}: row {row}: score column '{name}' {problem}; scores must be probabilities "
            "of the positive class (use a prediction column for hard labels)",
            file=path,
            line=row if fmt == "csv" else None,
        )
    return np.asarray(score, dtype=np.float64)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _group(path: str, name: str, column: Any) -> Group:
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pc.fill_null(pc.cast(column, pa.string()), "(missing)")
    encoded = pc.dictionary_encode(column).combine_chunks()
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    if len(names) > MAX_GROUPS:
        raise UserError(
            f"{path}: group column '{name}' has {len(names)} distinct values; fairness groups must "
            f"be categories (at most {MAX_GROUPS}); bucket it or pick another column",
            file=path,
        )
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return Group(codes=codes, names=names)


def load_predictions(path: str, config: GateConfig) -> Predictions:
    _require_file(path, "predictions")
    fmt = _format(path)
    header = _header(path, fmt)
    columns = _resolve_columns(path, header, config.columns)
    groups = config.fairness.group_columns
    for g in groups:
        if g not in header:
            raise _missing_column(
                path, "group", g, header, "fairness.group_columns / group-columns"
            )
    wanted = [c for c in (columns.label, columns.score, columns.prediction, *groups) if c]
    table = _read_table(path, fmt, list(dict.fromkeys(wanted)), groups)
    rows = table.num_rows
    if rows == 0:
        raise UserError(f"{path}: has a header but no rows; the gate needs predictions", file=path)

    label = table.column(columns.label)
    _no_nulls(path, fmt, columns.label, label, "label")
    y_true = _binary_mask(path, columns.label, label, config.positive_label, "label")
    score = None
    if columns.score:
        column = table.column(columns.score)
        _no_nulls(path, fmt, columns.score, column, "score")
        score = _score_array(path, fmt, columns.score, column)
    y_pred = None
    if columns.prediction:
        column = table.column(columns.prediction)
        _no_nulls(path, fmt, columns.prediction, column, "prediction")
        y_pred = _binary_mask(path, columns.prediction, column, config.positive_label, "prediction")
    found = {name: _group(path, name, table.column(name)) for name in groups}
    return Predictions(path, rows, y_true, score, y_pred, found)
