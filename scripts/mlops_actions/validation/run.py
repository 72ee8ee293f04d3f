"""Validate a data file against its schema (every violation at once), or infer a schema from
reference data. The schema is pandera's YAML; it is read with the project's size-limited YAML
loader before pandera sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import outputs, safe_yaml, tables
from mlops_actions.errors import UserError, shown
from mlops_actions.validation import schema as sch
from mlops_actions.validation.findings import Finding, findings


@dataclass(frozen=True)
class Validation:
    data: str
    schema: str
    rows: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings


def read_frame(path: str) -> tuple[Any, int]:
    """The data as a pandas frame, and the file's number for its first data row. The header
    goes through the shared reader's checks first (the format its name claims, a column named
    twice, which pandas would rename quietly, UTF-8); nested Parquet columns are refused."""
    import pandas as pd

    fmt = tables.file_format(path)
    tables.column_names(path)
    try:
        if fmt == "parquet":
            tables.read_table(path, columns=None)  # nested and non-UTF-8 columns, named
            # Rows are reported by position: a saved index (dates, say) is not a row number.
            return pd.read_parquet(path).reset_index(drop=True), 1
        return pd.read_csv(path, low_memory=False), 2
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8", file=path
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"{path}: cannot be read as {fmt}: {shown(first[:300])}", file=path
        ) from None


_COLUMN_KEYS = (
    "dtype", "nullable", "unique", "coerce", "required", "regex", "default", "report_duplicates",
    "drop_invalid_rows", "description", "title", "checks", "name",
)  # fmt: skip


def _check_names(path: str, document: dict[str, Any]) -> None:
    """pandera skips keys it does not know, so a misspelt check would silently never run."""
    import difflib

    from pandera.api.checks import Check

    def known(name: str) -> bool:
        return callable(getattr(Check, name, None)) and not name.startswith("_")

    columns = document.get("columns") or {}
    if not isinstance(columns, dict):
        raise UserError(f"{path}: columns: expected a mapping of column names", file=path)
    for column, spec in columns.items():
        if spec is not None and not isinstance(spec, dict):
            raise UserError(
                f"{path}: columns.{column}: expected a mapping (dtype, nullable, checks), got "
                f"{shown(spec)}",
                file=path,
            )
        for key in spec or {}:
            if key not in _COLUMN_KEYS and not known(str(key)):
                close = difflib.get_close_matches(str(key), [n for n in dir(Check) if known(n)], 1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise UserError(
                    f"{path}: columns.{column}.{key}: unknown check or key{hint}", file=path
                )
    for index, check in enumerate(document.get("checks") or []):
        options = check.get("options") if isinstance(check, dict) else None
        name = options.get("check_name") if isinstance(options, dict) else None
        if not isinstance(name, str) or not known(name):
            raise UserError(
                f"{path}: checks[{index}]: unknown check {shown(name)}; data-set checks are "
                "min_rows, share_between and null_fraction_at_most",
                file=path,
            )


def load_schema(path: str) -> Any:
    from pandera.errors import SchemaDefinitionError
    from pandera.io.pandas_io import deserialize_schema

    sch.register_checks()
    file = Path(path)
    if not file.is_file():
        raise UserError(
            f"schema: {shown(path)} is not a file; write one with mlops-actions infer-schema"
        )
    document = safe_yaml.read(path, "schema")
    if not isinstance(document, dict) or document.get("schema_type") != "dataframe":
        raise UserError(
            f"{path}: not a pandera data-frame schema (schema_type: dataframe); write one with "
            "mlops-actions infer-schema",
            file=path,
        )
    _check_names(path, document)
    try:
        return deserialize_schema(document)
    except (SchemaDefinitionError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(
            f"{path}: not a valid pandera schema: {str(exc)[:300]}", file=path
        ) from None


def validate(data: str, schema_path: str) -> Validation:
    import warnings

    from pandera.errors import SchemaErrors

    schema = load_schema(schema_path)
    frame, first_row = read_frame(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas, inside pandera's reporting
            schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return Validation(
            data, schema_path, len(frame), findings(errors.failure_cases, frame, first_row)
        )
    return Validation(data, schema_path, len(frame))


def _require_positive(data: str, labels: Any, label: str, positive: str) -> None:
    """The positive label must be a value of the label column: a bound on the share of a value
    that never occurs (1 in a yes/no column) is a check that judges nothing."""
    values = sorted({str(v) for v in labels.dropna().unique()})
    as_text = {v.removesuffix(".0") for v in values}
    if positive not in values and positive.removesuffix(".0") not in as_text:
        shown_values = ", ".join(shown(v) for v in values[:10]) or "none"
        raise UserError(
            f"{data}: positive-label {shown(positive)} is not a value of label column "
            f"{shown(label)} (its values: {shown_values}); set positive-label to the positive one",
            file=data,
        )


def infer_schema(
    data: str, output: str, *, label: str | None, positive: str, exclude: tuple[str, ...],
    min_rows: int | None,
) -> tuple[Any, int]:  # fmt: skip
    target = outputs.file(output, "output")  # checked before the work
    frame, _ = read_frame(data)
    if len(frame) == 0:
        raise UserError(
            f"{data}: no rows to infer a schema from; give the data the model trains on"
        )
    wanted = [c for c in (label, *exclude) if c]
    tables.require_columns(data, list(frame.columns), wanted, "named by label/exclude")
    positive_value: Any = positive
    if label and frame[label].dtype.kind == "b":  # true/false labels: the value is a bool
        if positive.strip().lower() not in ("true", "false", "1", "0"):
            raise UserError(
                f"positive-label: {shown(positive)} for the true/false column {label}; give true"
            )
        positive_value = positive.strip().lower() in ("true", "1")
        positive = str(positive_value)
    if label:
        _require_positive(data, frame[label], label, positive)
    if label and frame[label].dtype.kind in "iuf":
        try:
            positive_value = int(positive) if float(positive).is_integer() else float(positive)
        except ValueError:
            raise UserError(
                f"positive-label: {shown(positive)} is not a value of the numeric column {label}"
            ) from None
    inferred = sch.infer(frame, label=label, positive=positive_value, exclude=exclude,
                         min_rows=min_rows)  # fmt: skip
    header = (
        f"# Inferred by mlops-actions infer-schema from {Path(data).name} ({len(frame):,} rows).\n"
        "# A pandera schema: review the ranges, categories and bounds, then commit it beside\n"
        "# the data; validate-data checks new data against it before training.\n"
    )
    outputs.write_atomic(target, header + inferred.to_yaml())  # never a half-written schema
    return inferred, len(frame)
