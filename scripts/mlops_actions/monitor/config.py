"""The monitor's configuration (e.g. `.mlops/monitor.yml`): parsed and validated. No I/O.

    columns:
      exclude: [is_fraud, score]        # not features: labels, scores, ids
      categorical: [merchant_category]  # default: every non-numeric column
    features: [amount, hour]            # default: every column both files share, minus exclude
    drift:
      numeric: auto                     # auto (KS, or chi-square on few values) | ks | psi
      categorical: chi_square           # chi_square | psi | jensen_shannon
      alpha: 0.01                       # the tests' significance level per feature
      bins: 10                          # quantile bins of the reference, for PSI
      psi: {warn: 0.10, major: 0.25}
      jensen_shannon: {threshold: 0.1}
      feature_drifted_at: major         # the PSI level at which a feature counts as drifted
      dataset_share: 0.5                # the dataset drifted when this share of features did
      min_rows: 100                     # fewer current rows: reported, not judged

Errors name the file and the field path, as the gate's do.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_actions.errors import UserError, shown

NUMERIC_METHODS = ("auto", "ks", "psi")
CATEGORICAL_METHODS = ("chi_square", "psi", "jensen_shannon")
_TOP = ("columns", "features", "drift")
_DRIFT = (
    "numeric",
    "categorical",
    "bins",
    "alpha",
    "psi",
    "jensen_shannon",
    "feature_drifted_at",
    "dataset_share",
    "min_rows",
)


@dataclass(frozen=True)
class MonitorConfig:
    source: str = "<defaults>"
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] | None = None  # None: decided by the column's type
    features: tuple[str, ...] | None = None  # None: every shared column not excluded
    numeric_method: str = "auto"
    categorical_method: str = "chi_square"
    bins: int = 10
    psi_warn: float = 0.10
    psi_major: float = 0.25
    # 1% per feature: an unattended retraining loop pays for each false alarm, and at 0.01 the
    # tests still find a 0.1 SD shift at 5,000 rows (bench_drift_alarms.py)
    alpha: float = 0.01
    js_threshold: float = 0.1
    feature_drifted_at: str = "major"
    dataset_share: float = 0.5
    min_rows: int = 100

    @property
    def psi_drifted(self) -> float:
        return self.psi_major if self.feature_drifted_at == "major" else self.psi_warn


def _fail(source: str, path: str, message: str) -> UserError:
    return UserError(f"{source}: {path}: {message}", file=source)


def _mapping(source: str, path: str, value: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(source, path, f"expected a mapping, got {type(value).__name__} {shown(value)}")
    for key in value:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            where = f"{path}.{key}" if path != "(top level)" else str(key)
            raise _fail(source, where, f"unknown key{hint}; allowed: {', '.join(allowed)}")
    return value


def _names(source: str, path: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(source, path, f"expected a list of column names, got {shown(value)}")
    twice = sorted({v for v in value if value.count(v) > 1})
    if twice:
        raise _fail(source, path, f"lists {shown(twice[0])} twice; name each column once")
    return tuple(value)


def _features(source: str, value: Any) -> tuple[str, ...] | None:
    names = _names(source, "features", value)
    if names == ():
        raise _fail(
            source, "features", "is empty, so nothing would be monitored; list the features, "
            "or remove the key to monitor every column both files share",
        )  # fmt: skip
    return names


def _number(source: str, path: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(
            source, path, f"expected a number between {low:g} and {high:g}, got {shown(value)}"
        )
    return float(value)


def _choice(source: str, path: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(source, path, f"expected one of {', '.join(choices)}, got {shown(value)}")
    return str(value)


def parse_config(data: Any, source: str) -> MonitorConfig:
    """Validate a parsed YAML document (None means all defaults) into a MonitorConfig."""
    doc = _mapping(source, "(top level)", data, _TOP)
    columns = _mapping(source, "columns", doc.get("columns"), ("exclude", "categorical"))
    if isinstance(doc.get("drift"), Mapping) and "ks" in doc["drift"]:
        # Renamed in 0.x: one alpha now serves every test a feature gets, not KS alone.
        raise _fail(source, "drift.ks", "was replaced by drift.alpha; write drift: {alpha: 0.01}")
    drift = _mapping(source, "drift", doc.get("drift"), _DRIFT)
    psi = _mapping(source, "drift.psi", drift.get("psi"), ("warn", "major"))
    js = _mapping(source, "drift.jensen_shannon", drift.get("jensen_shannon"), ("threshold",))
    defaults = MonitorConfig()
    warn = _number(source, "drift.psi.warn", psi.get("warn", defaults.psi_warn), 0, 10)
    major = _number(source, "drift.psi.major", psi.get("major", defaults.psi_major), 0, 10)
    if major < warn:
        raise _fail(source, "drift.psi.major", f"{major:g} is below drift.psi.warn ({warn:g})")
    bins = drift.get("bins", defaults.bins)
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 100:
        raise _fail(source, "drift.bins", f"expected a whole number 2-100, got {shown(bins)}")
    min_rows = drift.get("min_rows", defaults.min_rows)
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise _fail(source, "drift.min_rows", f"expected a whole number >= 1, got {min_rows!r}")
    return MonitorConfig(
        source=source,
        exclude=_names(source, "columns.exclude", columns.get("exclude")) or (),
        categorical=_names(source, "columns.categorical", columns.get("categorical")),
        features=_features(source, doc.get("features")),
        numeric_method=_choice(
            source, "drift.numeric", drift.get("numeric", defaults.numeric_method), NUMERIC_METHODS
        ),
        categorical_method=_choice(
            source,
            "drift.categorical",
            drift.get("categorical", defaults.categorical_method),
            CATEGORICAL_METHODS,
        ),
        bins=bins,
        psi_warn=warn,
        psi_major=major,
        alpha=_number(source, "drift.alpha", drift.get("alpha", defaults.alpha), 1e-12, 0.5),
        js_threshold=_number(
            source,
            "drift.jensen_shannon.threshold",
            js.get("threshold", defaults.js_threshold),
            0,
            1,
        ),
        feature_drifted_at=_choice(
            source,
            "drift.feature_drifted_at",
            drift.get("feature_drifted_at", "major"),
            ("warn", "major"),
        ),
        dataset_share=_number(
            source, "drift.dataset_share", drift.get("dataset_share", defaults.dataset_share), 0, 1
        ),
        min_rows=min_rows,
    )
