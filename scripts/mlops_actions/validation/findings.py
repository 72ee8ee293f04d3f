"""From pandera's failure cases to findings a person can act on: one per column and kind of
problem, with how many values fail, which rows (as the file numbers them) and a few examples.
Pure: data frames in, findings out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_ROWS_SHOWN = 10
MAX_EXAMPLES = 5
_STATS = re.compile(r"(\w+)=([^,)]+)")


@dataclass(frozen=True)
class Finding:
    column: str | None  # None: the data set as a whole
    kind: str  # missing-column | type | range | category | nulls | label-balance | rows | other
    message: str
    count: int = 0  # failing values (0 for data-set checks)
    rows: tuple[int, ...] = ()  # the first failing rows, as numbered in the file


def counted(count: int, noun: str) -> str:
    """`1 value`, `2 values`, `1,200 values`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _stats(check: str) -> dict[str, str]:
    return dict(_STATS.findall(check))


def _examples(values: list[Any]) -> str:
    seen: list[str] = []
    for value in values:
        text = str(value)
        if text not in seen:
            seen.append(text)
        if len(seen) == MAX_EXAMPLES:
            break
    return ", ".join(repr(v) for v in seen)


def _bounds(check: str) -> str:
    """`in_range(0.0, 2880.78)` as "0 to 2880.78"; other comparisons as pandera names them."""
    if check.startswith("in_range("):
        low, _, high = check[len("in_range(") : -1].partition(", ")
        return f"{float(low):g} to {float(high):g}"
    return check


def _frame_finding(check: str, frame: Any) -> Finding:
    name = check.split("(", 1)[0]
    stats = _stats(check)
    if name == "null_fraction_at_most":
        column = stats.get("column", "?")
        share = float(frame[column].isna().mean()) if column in frame else 0.0
        limit = float(stats.get("max_fraction", "0"))
        return Finding(column, "nulls", f"{share:.1%} of values missing, more than {limit:.1%}")
    if name == "share_between":
        column = stats.get("column", "?")
        value = stats.get("value", "?")
        observed = frame[column].astype(str).eq(value).mean() if column in frame else float("nan")
        low, high = float(stats.get("low", "nan")), float(stats.get("high", "nan"))
        return Finding(
            column, "label-balance",
            f"label balance: {observed:.1%} of rows are {value}, expected {low:.1%} to {high:.1%}",
        )  # fmt: skip
    if name == "min_rows":
        return Finding(None, "rows", f"{len(frame):,} rows, fewer than {stats.get('rows')}")
    return Finding(None, "other", f"failed {check}")


def findings(failure_cases: Any, frame: Any, first_row: int) -> list[Finding]:
    """`failure_cases` is pandera's table (schema_context, column, check, failure_case, index);
    `first_row` is the file's number for index 0 (2 for a CSV with a header line)."""
    out: list[Finding] = []
    typed: set[str] = set()
    cases = failure_cases.astype({"check": str})
    for check, group in cases[cases["schema_context"] == "DataFrameSchema"].groupby(
        "check", sort=False
    ):
        if check == "column_in_dataframe":
            for column in group["failure_case"]:
                out.append(Finding(str(column), "missing-column", "column missing"))
        else:
            out.append(_frame_finding(str(check), frame))
    columns = cases[cases["schema_context"] != "DataFrameSchema"]
    for (column, check), group in columns.groupby(["column", "check"], sort=False):
        check, column = str(check), str(column)
        kind = (
            "type" if check.startswith(("coerce_dtype(", "dtype("))
            else "category" if check.startswith("isin(")
            else "range" if check.startswith(("in_range(", "greater_than", "less_than"))
            else "nulls" if check == "not_nullable"
            else "other"
        )  # fmt: skip
        if kind == "type":
            if column in typed:
                continue  # pandera reports a failed coercion and the dtype it left: one finding
            typed.add(column)
        elif column in typed:
            continue  # checks on values of the wrong type only repeat the type change
        indexes = sorted(int(i) for i in group["index"].dropna())
        rows = tuple(i + first_row for i in indexes[:MAX_ROWS_SHOWN])
        values = list(group["failure_case"])
        count = len(indexes) or len(values)
        n, verb = counted(count, "value"), "is" if count == 1 else "are"
        what = {
            "type": f"type change: {n} {verb} not {check.split('(', 1)[1].rstrip(')')}",
            "category": f"{n} outside the known categories",
            "range": f"{n} outside {_bounds(check)}",
            "nulls": f"{counted(count, 'missing value')} where none are allowed",
            "other": f"{n} {'fails' if count == 1 else 'fail'} {check}",
        }[kind]
        out.append(Finding(column, kind, f"{what}, e.g. {_examples(values)}", count, rows))
    return out
