"""Data schemas are pandera schemas (its YAML form), so a team can read, review and extend them
with the tool it may already use. Three checks pandera lacks are registered here, and survive
the YAML round trip by name: `null_fraction_at_most` (a column's missing values),
`share_between` (a label's balance) and `min_rows` (the data set). All three are data-set checks,
listed under the schema's top-level `checks`.

`infer(frame, ...)` writes a schema from reference data: columns and types, ranges with a margin,
allowed categories, null-fraction bounds, label-balance bounds and a minimum row count.
"""

from __future__ import annotations

import math
from typing import Any

MAX_CATEGORIES = 50  # text columns with more distinct values (ids, free text) get no isin check
FEW_VALUES = 30  # integer columns with at most this many values (flags, hours, codes) get isin
RANGE_MARGIN = 1.0  # ranges widen by the observed span on each side: heavy tails are not errors

_registered = False


def register_checks() -> None:
    """Register the custom checks once; the schema YAML names them."""
    global _registered
    if _registered:
        return
    import pandas as pd
    from pandera import extensions

    # On the whole frame: pandera hands column checks the values without their nulls.
    def null_fraction_at_most(frame: Any, *, column: str, max_fraction: float) -> bool:
        if column not in frame or not len(frame):
            return True  # a missing column is reported by its own check
        return bool(float(frame[column].isna().mean()) <= max_fraction)

    def share_between(frame: Any, *, column: str, value: Any, low: float, high: float) -> bool:
        if column not in frame or not len(frame):
            return True
        share = float((frame[column] == value).mean())
        return bool(low <= share <= high)

    def min_rows(frame: Any, *, rows: int) -> bool:
        return len(frame) >= rows

    register = extensions.register_check_method
    register(statistics=["column", "max_fraction"], supported_types=pd.DataFrame)(
        null_fraction_at_most
    )
    register(statistics=["column", "value", "low", "high"], supported_types=pd.DataFrame)(
        share_between
    )
    register(statistics=["rows"], supported_types=pd.DataFrame)(min_rows)
    _registered = True


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def _range(series: Any) -> tuple[float, float]:
    """Loose on purpose: [min - span, max + span], and 0 for a column never negative, so a
    sample's tail is no violation but an impossible value (a negative amount) is."""
    low, high = float(series.min()), float(series.max())
    margin = (high - low) * RANGE_MARGIN
    lower = 0.0 if low >= 0 and low - margin < 0 else low - margin
    return _round(lower), _round(high + margin)


def infer(
    frame: Any,
    *,
    label: str | None = None,
    positive: Any = 1,
    exclude: tuple[str, ...] = (),
    min_rows: int | None = None,
) -> Any:
    """A pandera DataFrameSchema describing `frame`, with bounds loose enough for fresh data."""
    import numpy as np
    import pandas as pd
    import pandera.pandas as pa

    register_checks()
    columns = {}
    frame_checks = [
        pa.Check.min_rows(
            rows=min_rows if min_rows is not None else max(1, min(1000, len(frame) // 10))
        )
    ]
    for name in frame.columns:
        if name in exclude:
            continue
        series = frame[name]
        present = series.dropna()
        null_share = float(series.isna().mean())
        frame_checks.append(
            pa.Check.null_fraction_at_most(
                column=name, max_fraction=_round(max(0.01, 2 * null_share))
            )
        )
        checks = []
        if pd.api.types.is_bool_dtype(series):
            dtype: Any = "boolean"
        elif pd.api.types.is_numeric_dtype(series) and not np.isfinite(present).all():
            dtype = "float64"  # inf occurs: no range can bound it, and it is no whole number
        elif pd.api.types.is_numeric_dtype(series) and (
            pd.api.types.is_integer_dtype(series)
            or (len(present) and bool((present == present.round()).all()))
        ):
            dtype = "Int64"
            values = sorted(int(v) for v in present.unique())
            if 0 < len(values) <= FEW_VALUES:
                checks.append(pa.Check.isin(values))
            elif values:
                checks.append(pa.Check.in_range(*_range(present)))
        elif pd.api.types.is_numeric_dtype(series):
            dtype = "float64"
            if len(present):
                checks.append(pa.Check.in_range(*_range(present)))
        else:
            dtype = "str"
            categories = sorted(str(v) for v in present.unique())
            if 0 < len(categories) <= MAX_CATEGORIES:
                checks.append(pa.Check.isin(categories))
        columns[name] = pa.Column(dtype, checks, nullable=True, required=True)
    if label is not None:
        share = float((frame[label] == positive).mean())
        sigma = math.sqrt(share * (1 - share) / max(len(frame), 1))
        low = _round(max(0.0, min(share / 2, share - 4 * sigma)))
        high = _round(min(1.0, max(share * 2, share + 4 * sigma)))
        frame_checks.append(
            pa.Check.share_between(column=label, value=positive, low=low, high=high)
        )
    return pa.DataFrameSchema(columns, checks=frame_checks, coerce=True, strict=False)
