"""What the gate decides. Pure: metrics, config and baseline in; checks and a verdict out.

Three kinds of check:
- value:    a metric against a fixed bound (`min` / `max`);
- baseline: a metric against the champion's value (`max_drop` absolute, `max_drop_relative`);
- fairness: the spread of a metric across groups (`max_difference`, `min_ratio`).

Rules of judgement:
- `gate_on: point` judges the point estimate; `lower_bound` judges the unfavourable end of the
  confidence interval (lower end where higher is better, upper end for log_loss/brier), so a pass
  means the bar is met with confidence; `upper_bound` judges the favourable end, so only a
  confident miss fails. Fairness spreads are judged on group point estimates.
- "Drop" means worsening: a fall for metrics where higher is better, a rise for losses.
- A check whose metric cannot be computed fails closed, with the reason. So does a bound check
  (`gate_on: lower_bound|upper_bound`) on a metric without an interval: too few rows, or a
  metrics file that gives none.
- A fairness check fails when a group large enough to count (>= min_group_size rows) has the
  metric undefined (e.g. precision of a group never predicted positive), naming the group.
- Without a baseline, baseline checks are skipped and the verdict says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.gate.config import GateConfig, Rule
from mlops_actions.gate.metrics import METRICS, Estimate


@dataclass(frozen=True)
class GroupResult:
    rows: int
    positives: int
    metrics: Mapping[str, Estimate]


# group column -> group value -> result
Groups = Mapping[str, Mapping[str, GroupResult]]


@dataclass(frozen=True)
class Check:
    kind: str
    metric: str
    op: str
    bound: float
    status: str  # pass | fail | skipped
    message: str
    observed: float | None = None
    ci: tuple[float, float] | None = None
    baseline: float | None = None
    group_column: str | None = None

    @property
    def passed(self) -> bool:
        return self.status != "fail"


@dataclass(frozen=True)
class Decision:
    passed: bool
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "fail")


def _result(rule: Rule, status: str, message: str, **details: Any) -> Check:
    return Check(rule.kind, rule.metric, rule.op, rule.bound, status, message, **details)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def judged_value(metric: str, estimate: Estimate, gate_on: str) -> float | None:
    """The number a check compares: the point, or one end of the interval (None: no interval)."""
    if estimate.value is None or gate_on == "point":
        return estimate.value
    if estimate.low is None or estimate.high is None:
        return None
    higher_better = METRICS[metric].higher_is_better
    want_low = (gate_on == "lower_bound") == higher_better
    return estimate.low if want_low else estimate.high


def _unjudgeable(rule: Rule, estimate: Estimate, gate_on: str) -> Check:
    ci = _ci(estimate)
    reason = estimate.reason or "not available"
    if estimate.value is None:
        return _result(rule, "fail", f"{rule.metric} cannot be computed: {reason}", ci=ci)
    what = gate_on.replace("_", " ")
    if not estimate.reason:
        reason = "the metrics given have no interval for it"
    message = f"{rule.metric} has no confidence interval ({reason}), so its {what} cannot be judged"
    return _result(rule, "fail", message, ci=ci)


def _ci(estimate: Estimate) -> tuple[float, float] | None:
    if estimate.low is None or estimate.high is None:
        return None
    return (estimate.low, estimate.high)


def _value_check(rule: Rule, estimate: Estimate, gate_on: str) -> Check:
    observed = judged_value(rule.metric, estimate, gate_on)
    ci = _ci(estimate)
    if observed is None:
        return _unjudgeable(rule, estimate, gate_on)
    what = rule.metric if gate_on == "point" else f"{rule.metric} ({gate_on.replace('_', ' ')})"
    if rule.op == "min":
        ok = observed >= rule.bound
        relation = ">=" if ok else "is below the minimum"
    else:
        ok = observed <= rule.bound
        relation = "<=" if ok else "is above the maximum"
    message = f"{what} {_fmt(observed)} {relation} {_fmt(rule.bound)}"
    return _result(rule, "pass" if ok else "fail", message, observed=observed, ci=ci)


def _baseline_check(
    rule: Rule, estimate: Estimate, baseline: Mapping[str, float] | None, gate_on: str
) -> Check:
    ci = _ci(estimate)
    if baseline is None:
        return _result(rule, "skipped", "no baseline given", ci=ci)
    observed = judged_value(rule.metric, estimate, gate_on)
    if observed is None:
        return _unjudgeable(rule, estimate, gate_on)
    champion = baseline.get(rule.metric)
    if champion is None:
        message = f"the baseline has no {rule.metric}, so the change cannot be judged"
        return _result(rule, "fail", message, observed=observed, ci=ci)
    higher_better = METRICS[rule.metric].higher_is_better
    drop = champion - observed if higher_better else observed - champion
    if rule.op == "max_drop":
        worsening, limit_text = drop, _fmt(rule.bound)
    elif champion == 0:
        worsening, limit_text = (float("inf") if drop > 0 else 0.0), f"{rule.bound:.1%}"
    else:
        worsening, limit_text = drop / abs(champion), f"{rule.bound:.1%}"
    ok = worsening <= rule.bound
    if drop <= 0:
        change = "no worsening"
    elif rule.op == "max_drop":
        change = f"worsened by {_fmt(worsening)}"
    else:
        change = f"worsened by {worsening:.1%}"
    message = (
        f"{rule.metric} {_fmt(observed)} vs baseline {_fmt(champion)}: {change} "
        f"({'within' if ok else 'over'} the allowed {limit_text})"
    )
    return _result(
        rule, "pass" if ok else "fail", message, observed=observed, ci=ci, baseline=champion
    )


def _fairness_check(
    rule: Rule, column: str, groups: Mapping[str, GroupResult], min_size: int
) -> Check:
    column_detail = {"group_column": column}
    values: dict[str, float] = {}
    undefined: list[str] = []
    for name, g in groups.items():
        if g.rows < min_size:
            continue
        estimate = g.metrics[rule.metric]
        if estimate.value is None:
            undefined.append(f"{name} ({estimate.reason or 'undefined'})")
        else:
            values[name] = estimate.value
    if undefined:
        # A group that counts but has no value is not "no difference": it cannot be judged.
        message = (
            f"{rule.metric} by {column}: undefined for group {', '.join(sorted(undefined))} "
            f"with >= {min_size} rows, so the spread cannot be judged"
        )
        return _result(rule, "fail", message, **column_detail)
    if len(values) < 2:
        message = (
            f"{rule.metric} by {column}: fewer than 2 groups with >= {min_size} rows and a "
            f"defined {rule.metric}, so the spread cannot be judged"
        )
        return _result(rule, "fail", message, **column_detail)
    low_name = min(values, key=values.__getitem__)
    high_name = max(values, key=values.__getitem__)
    low, high = values[low_name], values[high_name]
    if rule.op == "max_difference":
        observed = high - low
        ok = observed <= rule.bound
        text = f"difference {_fmt(observed)} {'<=' if ok else '>'} {_fmt(rule.bound)}"
    else:
        observed = low / high if high > 0 else 1.0
        ok = observed >= rule.bound
        text = f"ratio {_fmt(observed)} {'>=' if ok else '<'} {_fmt(rule.bound)}"
    message = (
        f"{rule.metric} by {column}: {text} "
        f"(lowest {low_name} {_fmt(low)}, highest {high_name} {_fmt(high)})"
    )
    return _result(rule, "pass" if ok else "fail", message, observed=observed, **column_detail)


def decide(
    metrics: Mapping[str, Estimate],
    config: GateConfig,
    baseline: Mapping[str, float] | None = None,
    groups: Groups | None = None,
) -> Decision:
    checks: list[Check] = []
    notes: list[str] = []
    missing = Estimate.undefined("not in the metrics given")
    for rule in config.rules_of("value"):
        checks.append(_value_check(rule, metrics.get(rule.metric, missing), config.gate_on))
    baseline_rules = config.rules_of("baseline")
    for rule in baseline_rules:
        estimate = metrics.get(rule.metric, missing)
        checks.append(_baseline_check(rule, estimate, baseline, config.gate_on))
    if baseline is None and baseline_rules:
        notes.append(
            "No baseline was given: baseline checks were skipped; value checks alone apply."
        )
    elif baseline is None:
        notes.append("No baseline was given: value checks alone apply.")
    fairness_rules = config.rules_of("fairness")
    for column in config.fairness.group_columns:
        column_groups = (groups or {}).get(column)
        for rule in fairness_rules:
            if column_groups is None:
                message = (
                    f"{rule.metric} by {column}: no per-group metrics (needs a predictions file)"
                )
                checks.append(
                    Check(
                        "fairness",
                        rule.metric,
                        rule.op,
                        rule.bound,
                        "fail",
                        message,
                        group_column=column,
                    )
                )
            else:
                checks.append(
                    _fairness_check(rule, column, column_groups, config.fairness.min_group_size)
                )
        if column_groups is not None:
            small = [g for g, r in column_groups.items() if r.rows < config.fairness.min_group_size]
            if small:
                notes.append(
                    f"Groups of {column} below min_group_size {config.fairness.min_group_size} "
                    f"were left out of fairness checks: {', '.join(sorted(small))}."
                )
    if not checks:
        notes.append("No checks are configured: the gate reports metrics only.")
    return Decision(passed=all(c.passed for c in checks), checks=tuple(checks), notes=tuple(notes))
