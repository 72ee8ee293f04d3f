"""The gate's configuration: parsed from a YAML mapping or inline lines, validated. No I/O.

Every error names the source and the field path, e.g.
`.mlops/gate.yml: metrics.precison: unknown metric 'precison' (did you mean 'precision'?)`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlops_actions.errors import UserError, shown
from mlops_actions.gate.metrics import METRICS

GATE_ON = ("point", "lower_bound", "upper_bound")
BASELINE_METHODS = ("auto", "paired", "unpaired")
BASELINE_RULES = ("point", "non_inferiority", "confident_regression")
DEFAULT_BASELINE_RULE = "point"  # chosen by the error rates in actions/model-gate/README.md
_TOP_KEYS = (
    "columns",
    "positive_label",
    "decision_threshold",
    "metrics",
    "baseline",
    "fairness",
    "confidence",
)
_RULE_KEYS = {
    "metrics": ("min", "max"),
    "baseline": ("max_drop", "max_drop_relative"),
    "fairness": ("max_difference", "min_ratio"),
}


@dataclass(frozen=True)
class Columns:
    label: str = "label"
    score: str | None = "score"
    prediction: str | None = None
    score_explicit: bool = False
    id: str | None = None  # joins the challenger's rows with the champion's predictions


@dataclass(frozen=True)
class Rule:
    """One bound on one metric; `kind` is value, baseline or fairness."""

    kind: str
    metric: str
    op: str  # min | max | max_drop | max_drop_relative | max_difference | min_ratio
    bound: float


CROSS = " × "  # a crossed slice's name: region × segment


@dataclass(frozen=True)
class Fairness:
    """Groups the fairness checks compare: each slice is a column, or a crossing of columns
    (TFMA's crossed slices), named by its columns joined with ' × '."""

    slices: tuple[tuple[str, ...], ...] = ()
    min_group_size: int = 30
    # a group counts for a metric that depends on positives (recall, precision, f1, roc_auc,
    # average_precision) only with this many positive labels as well
    min_group_positives: int = 30

    @property
    def group_columns(self) -> tuple[str, ...]:
        """Every column a slice uses, once."""
        return tuple(dict.fromkeys(c for s in self.slices for c in s))

    @staticmethod
    def name(slice_: tuple[str, ...]) -> str:
        return CROSS.join(slice_)


@dataclass(frozen=True)
class GateConfig:
    source: str = "<defaults>"
    columns: Columns = field(default_factory=Columns)
    positive_label: str | int | float | bool = 1
    decision_threshold: float = 0.5
    rules: tuple[Rule, ...] = ()
    fairness: Fairness = field(default_factory=Fairness)
    confidence_level: float = 0.95
    gate_on: str = "point"
    baseline_method: str = "auto"  # paired when the champion's predictions are given
    baseline_rule: str = DEFAULT_BASELINE_RULE

    def rules_of(self, kind: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == kind)


def _fail(source: str, path: str, message: str) -> UserError:
    return UserError(f"{source}: {path}: {message}", file=source)


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_keys(source: str, path: str, value: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in value:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise _fail(
                source,
                where,
                f"unknown key{_suggest(str(key), allowed)}; allowed: {', '.join(allowed)}",
            )


def _mapping(source: str, path: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(source, path, f"expected a mapping, got {type(value).__name__} {shown(value)}")
    return value


def _number(source: str, path: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(
            source, path, f"expected a number between {low:g} and {high:g}, got {shown(value)}"
        )
    if not low <= float(value) <= high:
        raise _fail(source, path, f"expected a number between {low:g} and {high:g}, got {value}")
    return float(value)


def _metric_name(source: str, path: str, name: Any) -> str:
    if name not in METRICS:
        known = list(METRICS)
        raise _fail(
            source,
            path,
            f"unknown metric {shown(name)}{_suggest(str(name), known)}; known: {', '.join(known)}",
        )
    return str(name)


def _column_name(source: str, path: str, value: Any, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, path, f"expected a column name, got {shown(value)}")
    return value


def _rules(source: str, section: str, body: Mapping[str, Any]) -> list[Rule]:
    kind = {"metrics": "value", "baseline": "baseline", "fairness": "fairness"}[section]
    allowed = _RULE_KEYS[section]
    out = []
    for name, spec in body.items():
        path = f"{section}.metrics.{name}" if section == "fairness" else f"{section}.{name}"
        metric = _metric_name(source, path, name)
        spec_map = _mapping(source, path, spec)
        if not spec_map:
            raise _fail(source, path, f"give at least one of: {', '.join(allowed)}")
        _check_keys(source, path, spec_map, allowed)
        for op, raw in spec_map.items():
            high = 1e9 if metric == "log_loss" or op == "max_drop_relative" else 1.0
            if op == "min_ratio":
                high = 1.0
            out.append(Rule(kind, metric, op, _number(source, f"{path}.{op}", raw, 0.0, high)))
    return out


def parse_config(data: Any, source: str) -> GateConfig:
    """Validate a parsed YAML document (None means empty) into a GateConfig."""
    doc = _mapping(source, "(top level)", data)
    _check_keys(source, "", doc, _TOP_KEYS)

    cols = _mapping(source, "columns", doc.get("columns"))
    _check_keys(source, "columns", cols, ("label", "score", "prediction", "id"))
    columns = Columns(
        label=_column_name(source, "columns.label", cols.get("label", "label"), False) or "label",
        score=_column_name(source, "columns.score", cols.get("score", "score"), True),
        prediction=_column_name(source, "columns.prediction", cols.get("prediction"), True),
        score_explicit="score" in cols,
        id=_column_name(source, "columns.id", cols.get("id"), True),
    )

    positive = doc.get("positive_label", 1)
    if not isinstance(positive, str | int | float | bool) or positive == "":
        raise _fail(
            source, "positive_label", f"expected a scalar label value, got {shown(positive)}"
        )

    threshold = _number(source, "decision_threshold", doc.get("decision_threshold", 0.5), 0, 1)

    rules: list[Rule] = []
    rules += _rules(source, "metrics", _mapping(source, "metrics", doc.get("metrics")))
    baseline = dict(_mapping(source, "baseline", doc.get("baseline")))
    method = _choice(source, "baseline.method", baseline.pop("method", "auto"), BASELINE_METHODS)
    how = _choice(source, "baseline.rule", baseline.pop("rule", DEFAULT_BASELINE_RULE),
                  BASELINE_RULES)  # fmt: skip
    rules += _rules(source, "baseline", baseline)

    fair = _mapping(source, "fairness", doc.get("fairness"))
    _check_keys(source, "fairness", fair,
                ("group_columns", "min_group_size", "min_group_positives", "metrics"))  # fmt: skip
    groups_raw = fair.get("group_columns", [])
    if isinstance(groups_raw, str):
        groups_raw = [groups_raw]
    if not isinstance(groups_raw, list):
        raise _fail(source, "fairness.group_columns", f"expected a list, got {shown(groups_raw)}")
    slices = []
    for i, entry in enumerate(groups_raw):
        path = f"fairness.group_columns[{i}]"
        if isinstance(entry, list):  # a crossed slice, e.g. [region, segment]
            if not 2 <= len(entry) <= 3:
                raise _fail(
                    source, path, "a crossed slice names 2 or 3 columns, e.g. [region, segment]"
                )
            slices.append(tuple(str(_column_name(source, f"{path}[{j}]", c, False))
                                for j, c in enumerate(entry)))  # fmt: skip
        else:
            slices.append((str(_column_name(source, path, entry, False)),))
    groups = tuple(slices)

    def whole(key: str) -> int:
        value = fair.get(key, 30)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(
                source, f"fairness.{key}", f"expected a whole number >= 1, got {shown(value)}"
            )
        return value

    min_size, min_positives = whole("min_group_size"), whole("min_group_positives")
    fair_rules = _rules(
        source, "fairness", _mapping(source, "fairness.metrics", fair.get("metrics"))
    )
    rules += fair_rules  # their group columns may come from the inputs: see with_overrides

    conf = _mapping(source, "confidence", doc.get("confidence"))
    _check_keys(source, "confidence", conf, ("level", "gate_on"))
    level = _number(source, "confidence.level", conf.get("level", 0.95), 0.5, 0.999)
    gate_on = _choice(source, "confidence.gate_on", conf.get("gate_on", "point"), GATE_ON)

    return GateConfig(
        source=source,
        columns=columns,
        positive_label=positive,
        decision_threshold=threshold,
        rules=tuple(rules),
        fairness=Fairness(groups, min_size, min_positives),
        confidence_level=level,
        gate_on=str(gate_on),
        baseline_method=method,
        baseline_rule=how,
    )


def _choice(source: str, path: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(
            source,
            path,
            f"expected one of {', '.join(choices)}{_suggest(str(value), choices)}, "
            f"got {shown(value)}",
        )
    return str(value)


_INLINE = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$")


def parse_inline_thresholds(text: str, source: str = "thresholds") -> list[Rule]:
    """`precision>=0.85` / `log_loss<=0.3` lines (or comma-separated) into value rules."""
    rules = []
    items = [p for line in text.splitlines() for p in line.split(",")]
    for number, item in enumerate(items, start=1):
        if not item.strip() or item.strip().startswith("#"):
            continue
        match = _INLINE.match(item)
        if not match:
            raise UserError(
                f"{source}: item {number} {shown(item.strip())}: expected 'metric>=value' or "
                "'metric<=value', e.g. 'precision>=0.85'"
            )
        name, op, raw = match.groups()
        metric = _metric_name(source, f"item {number}", name)
        try:
            value = float(raw)
        except ValueError:
            raise UserError(f"{source}: item {number}: {shown(raw)} is not a number") from None
        high = 1e9 if metric == "log_loss" else 1.0
        bound = _number(source, f"item {number}", value, 0.0, high)
        rules.append(Rule("value", metric, "min" if op == ">=" else "max", bound))
    return rules


def with_overrides(
    config: GateConfig,
    *,
    label: str | None = None,
    score: str | None = None,
    prediction: str | None = None,
    group_columns: list[str] | None = None,
    positive_label: str | None = None,
    decision_threshold: str | None = None,
    inline_rules: list[Rule] | None = None,
) -> GateConfig:
    """Apply CLI/action inputs on top of the file config; inputs win."""
    columns = config.columns
    if label:
        columns = replace(columns, label=label)
    if score:
        columns = replace(columns, score=score, score_explicit=True)
    if prediction:
        columns = replace(columns, prediction=prediction)
    out = replace(config, columns=columns)
    if group_columns:  # "region" or a crossing, "region*segment"
        slices = tuple(tuple(c.strip() for c in g.split("*") if c.strip()) for g in group_columns)
        out = replace(out, fairness=replace(out.fairness, slices=slices))
    if positive_label not in (None, ""):
        out = replace(out, positive_label=_coerce_scalar(str(positive_label)))
    if decision_threshold not in (None, ""):
        try:
            value = float(str(decision_threshold))
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise UserError(
                f"decision-threshold: expected a number between 0 and 1, got "
                f"{shown(decision_threshold)}"
            )
        out = replace(out, decision_threshold=value)
    if inline_rules:
        replaced = {(r.metric, r.op) for r in inline_rules}
        kept = tuple(r for r in out.rules if (r.metric, r.op) not in replaced or r.kind != "value")
        out = replace(out, rules=kept + tuple(inline_rules))
    if any(r.kind == "fairness" for r in out.rules) and not out.fairness.slices:
        raise _fail(
            out.source, "fairness.group_columns",
            "fairness metrics need at least one group column; list them there or give "
            "group-columns",
        )  # fmt: skip
    return out


def _coerce_scalar(text: str) -> str | int | float | bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
