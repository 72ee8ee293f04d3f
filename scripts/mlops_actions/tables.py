"""Reading a data file (CSV, optionally compressed, or Parquet) into an Arrow table, and the
column conversions the monitor and data validation share. Problems are one-line UserErrors
naming the file (and the column, where there is one).

Only the columns asked for are read. CSV types are inferred per file, as pyarrow does; a column
that reads as numeric in one file and as text in another is a type change the callers report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mlops_actions.errors import UserError, shown

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2")
PARQUET_SUFFIXES = (".parquet", ".pq")
MISSING = "(missing)"


def file_format(path: str, what: str = "data") -> str:
    """ "csv" or "parquet", from the file name; `what` names the file's role in the error."""
    if Path(path).is_dir():
        raise UserError(f"{path}: is a directory; give the {what} file inside it", file=path)
    lowered = path.lower()
    if lowered.endswith(CSV_SUFFIXES):
        return "csv"
    if lowered.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise UserError(f"{path}: unsupported {what} format; use .csv (optionally .gz) or .parquet")


PARQUET_MAGIC = b"PAR1"


def sniff(path: str, fmt: str) -> None:
    """Name what a file really is when its name says otherwise, from its first bytes: Parquet
    named .csv, or a CSV separated by semicolons (a spreadsheet's export with decimal commas)."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such file", file=path)
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if fmt == "csv" and head.startswith(PARQUET_MAGIC):
        raise UserError(f"{path}: this is a Parquet file; name it .parquet", file=path)
    compressed = path.lower().endswith((".gz", ".bz2"))
    if fmt == "csv" and not compressed and head.startswith((b"\x1f\x8b", b"BZh")):
        raise UserError(f"{path}: this is compressed; name it .csv.gz (or .csv.bz2)", file=path)
    if head.startswith(b"PK\x03\x04"):
        raise UserError(
            f"{path}: this is a zip archive (a spreadsheet?); export the sheet as CSV", file=path
        )
    if fmt == "parquet" and head and not head.startswith(PARQUET_MAGIC):
        raise UserError(f"{path}: not a Parquet file (no PAR1 header); is it a CSV?", file=path)
    if fmt == "csv" and not path.lower().endswith((".gz", ".bz2")):
        first = head.split(b"\n", 1)[0]
        if first.count(b";") and not first.count(b","):
            raise UserError(
                f"{path}: looks semicolon-separated; save it comma-separated, with decimal points",
                file=path,
            )


def column_names(path: str) -> list[str]:
    """The header, without reading the data."""
    return list(read_table(path, columns=None, header_only=True).column_names)


def read_table(
    path: str, columns: Sequence[str] | None = None, *, header_only: bool = False
) -> Any:
    """The file as a pyarrow.Table of `columns` (all when None). Every way a file can be
    unreadable is a one-line UserError here, the boundary: the wrong format for its name, a
    header naming a column twice, text that is not UTF-8, nested columns."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fmt = file_format(path)
    sniff(path, fmt)
    try:
        if fmt == "parquet":
            if header_only:
                table = pq.read_schema(path).empty_table()
            else:
                table = pq.read_table(path, columns=list(columns) if columns is not None else None)
        elif header_only:
            table = pacsv.open_csv(path).schema.empty_table()
        else:
            include = list(columns) if columns is not None else []
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    include_columns=include, strings_can_be_null=True
                ),
            )
        _check_columns(path, table, header_only)  # reading the names decodes them
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8", file=path
        ) from None
    except (pa.ArrowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "UTF8" in first or "utf-8" in first:
            raise UserError(f"{path}: not UTF-8 text ({first[:120]}); save it as UTF-8",
                            file=path) from None  # fmt: skip
        raise UserError(
            f"{path}: cannot be read as {fmt}: {shown(first[:300])}", file=path
        ) from None
    return table


def _check_columns(path: str, table: Any, header_only: bool) -> None:
    """A name twice in the header; and in the columns read, nested or non-UTF-8 ones."""
    import pyarrow.types as pat

    names = table.column_names
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        raise UserError(
            f"{path}: the header names column {shown(repeated)} twice; each column needs its "
            "own name",
            file=path,
        )
    for field in [] if header_only else table.schema:
        if pat.is_nested(field.type):
            raise UserError(
                f"{path}: column {shown(field.name)} is nested ({field.type}); flatten it into "
                "plain columns, or leave it out",
                file=path,
            )
        if pat.is_binary(field.type) or pat.is_large_binary(field.type):
            raise UserError(
                f"{path}: column {shown(field.name)} holds text that is not UTF-8; save the "
                "file as UTF-8",
                file=path,
            )


def is_numeric(arrow_type: Any) -> bool:
    import pyarrow.types as pat

    return bool(
        pat.is_integer(arrow_type) or pat.is_floating(arrow_type) or pat.is_decimal(arrow_type)
    )


def is_null_type(arrow_type: Any) -> bool:
    import pyarrow.types as pat

    return bool(pat.is_null(arrow_type))


def type_name(arrow_type: Any) -> str:
    """A short, user-facing name: integer, number, boolean, text, date/time, empty."""
    import pyarrow.types as pat

    if pat.is_integer(arrow_type):
        return "integer"
    if pat.is_floating(arrow_type) or pat.is_decimal(arrow_type):
        return "number"
    if pat.is_boolean(arrow_type):
        return "boolean"
    if pat.is_string(arrow_type) or pat.is_large_string(arrow_type):
        return "text"
    if pat.is_temporal(arrow_type):
        return "date/time"
    if pat.is_null(arrow_type):
        return "empty"
    return str(arrow_type)


def as_float(column: Any) -> npt.NDArray[np.float64]:
    """A numeric Arrow column as float64, nulls as NaN."""
    import pyarrow as pa

    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


NUMBER_TEXT = r"(?i)^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|infinity|nan)$"


def text_as_float(column: Any) -> tuple[npt.NDArray[np.float64], int, list[str]]:
    """A text column read as numbers: each value that is one, and NaN for the rest. Returns the
    floats, how many present values were not numbers, and a few of them to quote."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    is_number = pc.fill_null(pc.match_substring_regex(text, NUMBER_TEXT), False)
    numbers = pc.if_else(is_number, text, pa.scalar(None, pa.string())).cast(pa.float64())
    junk = pc.and_(pc.invert(is_number), pc.is_valid(text))
    examples = pc.unique(pc.filter(text, junk)).to_pylist()[:3]
    values = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    return values, int(pc.sum(junk).as_py() or 0), [str(e) for e in examples]


def category_counts(column: Any) -> dict[str, int]:
    """Counts of each value as text; nulls under MISSING."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counts: dict[str, int] = {}
    if column.null_count == len(column):
        return {MISSING: len(column)} if len(column) else {}
    for entry in pc.value_counts(column.cast(pa.string())).to_pylist():
        key = MISSING if entry["values"] is None else str(entry["values"])
        counts[key] = counts.get(key, 0) + int(entry["counts"])
    return counts


def require_columns(path: str, present: Sequence[str], wanted: Sequence[str], why: str) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UserError(
            f"{path}: no column {shown(missing[0])} ({why}); the file has: "
            f"{', '.join(shown(c) for c in list(present)[:20])}",
            file=path,
        )
