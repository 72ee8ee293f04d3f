"""What the gate decides. Pure: metrics, config and baseline in; checks and a verdict out.

Three kinds of check:
- value:    a metric against a fixed bound (`min` / `max`);
- baseline: a metric against the champion's (`max_drop` absolute, `max_drop_relative`);
- fairness: the spread of a metric across groups (`max_difference`, `min_ratio`).

Baseline checks are paired when the champion was scored on the challenger's own holdout rows
(champion predictions, joined by id): the gate judges the difference challenger − champion
and its paired interval (gate/paired.py), by the config's `baseline.rule`:
- `point`: the difference is at least −tolerance;
- `non_inferiority`: its lower bound is (the challenger is shown to be no worse);
- `confident_regression`: it fails only when its upper bound is below −tolerance (the
  challenger is shown to be worse).
Every paired check says what the holdout can detect: the interval's half-width, and, when the
tolerance is smaller, how many rows would resolve it. Without champion predictions the check
is unpaired, against the champion's stored metrics, and says so; with `gate_on: lower_bound`
it compares the same end of both intervals, never a bound with a point.

Rules of judgement:
- `gate_on: point` judges the point estimate; `lower_bound` judges the unfavourable end of the
  confidence interval (lower end where higher is better, upper end for log_loss/brier), so a pass
  means the bar is met with confidence; `upper_bound` judges the favourable end, so only a
  confident miss fails. Fairness spreads are judged on group point estimates.
- "Drop" means worsening: a fall for metrics where higher is better, a rise for losses.
- A check whose metric cannot be computed fails closed, with the reason. So does a bound check
  (`gate_on: lower_bound|upper_bound`, or a paired rule other than `point`) on a metric
  without an interval: too few rows, or a metrics file that gives none.
- A fairness check fails when a group large enough to count (>= min_group_size rows) has the
  metric undefined (e.g. precision of a group never predicted positive), naming the group.
- Without a baseline, baseline checks are skipped and the verdict says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.gate.config import Fairness, GateConfig, Rule
from mlops_actions.gate.metrics import METRICS, Estimate


@dataclass(frozen=True)
class GroupResult:
    rows: int
    positives: int
    metrics: Mapping[str, Estimate]


# group column -> group value -> result
Groups = Mapping[str, Mapping[str, GroupResult]]


@dataclass(frozen=True)
class PairedComparison:
    """The champion scored on the challenger's own holdout rows."""

    rows: int
    positives: int
    differences: Mapping[str, Estimate]  # challenger − champion, with its paired interval
    champion: Mapping[str, Estimate]  # the champion's metrics on these rows


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
    # baseline checks: how the champion was compared, and what the data can see
    comparison: str | None = None  # paired | unpaired
    difference: float | None = None  # challenger − champion
    difference_ci: tuple[float, float] | None = None
    detectable: float | None = None  # the difference interval's half-width
    # the line a chart draws: baseline, the worst challenger − champion allowed (signed, in the
    # metric's own units); fairness, the lowest group value the highest one allows
    limit: float | None = None

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

    @property
    def judged_nothing(self) -> bool:
        return not any(c.status in ("pass", "fail") for c in self.checks)


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


def _tolerance(rule: Rule, champion: float) -> float:
    """The allowed worsening, as an absolute difference."""
    return rule.bound if rule.op == "max_drop" else rule.bound * abs(champion)


def _tolerance_text(rule: Rule) -> str:
    return _fmt(rule.bound) if rule.op == "max_drop" else f"{rule.bound:.1%}"


NOTHING_JUDGED = (
    "Nothing was judged, so the gate fails: add a threshold (metrics: {recall: {min: 0.8}}, or "
    "the thresholds input), a fairness check, or a baseline check with a champion to compare with"
)

# metrics that rest on one class of labels, and how the report names that class
POSITIVE_BASED = ("recall", "precision", "f1", "roc_auc", "average_precision")
NEGATIVE_BASED = ("specificity", "false_positive_rate")


def _resolution(
    metric: str, detectable: float, tolerance: float, rows: int, positives: int
) -> str | None:
    """A note when the tolerance is finer than what this holdout can see: how many rows (and
    of the class the metric rests on) would shrink the interval's half-width to the tolerance
    (it scales as 1/√n)."""
    # A relative margin of rounding (1e-9) keeps an interval exactly as wide as the tolerance
    # from being reported as too wide.
    if tolerance <= 0 or detectable <= tolerance * (1 + 1e-9):
        return None
    factor = (detectable / tolerance) ** 2
    if metric in NEGATIVE_BASED:
        of_class = f" ({math.ceil((rows - positives) * factor):,} negatives)"
    elif metric in POSITIVE_BASED:
        of_class = f" ({math.ceil(positives * factor):,} positives)"
    else:
        of_class = ""
    return (
        f"{metric}: the tolerance {_fmt(tolerance)} is below what {rows:,} holdout rows can "
        f"detect (±{_fmt(detectable)}): about {math.ceil(rows * factor):,} rows{of_class} "
        "would resolve it."
    )


def _baseline_check(
    rule: Rule,
    estimate: Estimate,
    baseline: Mapping[str, Estimate] | None,
    gate_on: str,
) -> Check:
    """Unpaired: against the champion's stored metrics, measured on its own holdout."""
    ci = _ci(estimate)
    if baseline is None:
        return _result(rule, "skipped", "no baseline given", ci=ci)
    observed = judged_value(rule.metric, estimate, gate_on)
    if observed is None:
        return _unjudgeable(rule, estimate, gate_on)
    stored = baseline.get(rule.metric)
    if stored is None or stored.value is None:
        message = f"the baseline has no {rule.metric}, so the change cannot be judged"
        return _result(rule, "fail", message, observed=observed, ci=ci, comparison="unpaired")
    # Bound to bound: the same end of both intervals, never a bound against a point.
    champion = judged_value(rule.metric, stored, gate_on)
    if champion is None:
        message = (
            f"the baseline has no interval for {rule.metric}, so its "
            f"{gate_on.replace('_', ' ')} cannot be compared; use gate_on: point, or a paired "
            "comparison (champion predictions)"
        )
        return _result(rule, "fail", message, observed=observed, ci=ci, comparison="unpaired")
    higher_better = METRICS[rule.metric].higher_is_better
    drop = champion - observed if higher_better else observed - champion
    if rule.op == "max_drop":
        worsening = drop
    elif champion == 0:
        worsening = float("inf") if drop > 0 else 0.0
    else:
        worsening = drop / abs(champion)
    ok = worsening <= rule.bound
    if drop <= 0:
        change = "no worsening"
    elif rule.op == "max_drop":
        change = f"worsened by {_fmt(worsening)}"
    else:
        change = f"worsened by {worsening:.1%}"
    message = (
        f"{rule.metric} {_fmt(observed)} vs baseline {_fmt(champion)}: {change} "
        f"({'within' if ok else 'over'} the allowed {_tolerance_text(rule)}; unpaired: the "
        "champion was measured on its own holdout)"
    )
    detectable = None
    allowed = _tolerance(rule, champion) * (-1.0 if higher_better else 1.0)
    if estimate.low is not None and estimate.high is not None and stored.low is not None:
        assert stored.high is not None
        # Two independent intervals: the difference's half-width is their quadrature sum.
        detectable = math.hypot((estimate.high - estimate.low) / 2, (stored.high - stored.low) / 2)
    return _result(
        rule, "pass" if ok else "fail", message, observed=observed, ci=ci, baseline=champion,
        comparison="unpaired", difference=observed - champion, detectable=detectable,
        limit=allowed,
    )  # fmt: skip


def _paired_check(rule: Rule, paired: PairedComparison, estimate: Estimate, how: str) -> Check:
    """Challenger − champion on the same rows, judged by `how` (the baseline rule)."""
    ci = _ci(estimate)
    difference = paired.differences.get(rule.metric, Estimate.undefined("not computed"))
    champion = paired.champion.get(rule.metric, Estimate.undefined("not computed"))
    details: dict[str, Any] = {"comparison": "paired", "ci": ci, "observed": estimate.value}
    if difference.value is None or champion.value is None:
        reason = difference.reason or champion.reason or "not available"
        message = f"{rule.metric} vs the champion on the same rows cannot be computed: {reason}"
        return _result(rule, "fail", message, **details)
    higher_better = METRICS[rule.metric].higher_is_better
    sign = 1.0 if higher_better else -1.0  # in "improvement" terms: negative is worse
    change = sign * difference.value
    interval = None
    if difference.low is not None and difference.high is not None:
        interval = tuple(sorted((sign * difference.low, sign * difference.high)))
    tolerance = _tolerance(rule, champion.value)
    details.update(
        baseline=champion.value,
        difference=difference.value,
        difference_ci=(difference.low, difference.high) if interval else None,
        detectable=(interval[1] - interval[0]) / 2 if interval else None,
        limit=-sign * tolerance,
    )
    if how != "point" and interval is None:
        message = (
            f"{rule.metric}: the paired difference has no interval "
            f"({difference.reason or 'not available'}), so the {how.replace('_', ' ')} rule "
            "cannot be judged"
        )
        return _result(rule, "fail", message, **details)
    # In "worsening" terms (positive is worse), whatever the metric's direction.
    worsening = -change
    if how == "point":
        judged, which = worsening, "worse by"
    elif how == "non_inferiority":
        assert interval is not None
        judged, which = -interval[0], "worse by at most"
    else:  # confident_regression
        assert interval is not None
        judged, which = -interval[1], "worse by at least"
    ok = judged <= tolerance
    shown_ci = "" if interval is None else (
        f" [{difference.low:+.4f}, {difference.high:+.4f}]"
    )  # fmt: skip
    if how == "confident_regression" and judged <= 0 < worsening:
        state = f"worse by {_fmt(worsening)}, not confidently"
    elif how == "non_inferiority" and judged <= 0:
        state = f"better by at least {_fmt(-judged)}"
    else:
        state = f"{which} {_fmt(judged)}" if judged > 0 else "not worse"
    message = (
        f"{rule.metric} {_fmt(estimate.value or 0.0)} vs the champion's {_fmt(champion.value)} on "
        f"the same {paired.rows:,} rows: {difference.value:+.4f}{shown_ci} (paired, "
        f"{difference.method}); {state} ({'within' if ok else 'over'} the allowed "
        f"{_fmt(tolerance)}, rule {how})"
    )
    return _result(rule, "pass" if ok else "fail", message, **details)


def _counts(group: GroupResult, metric: str, fairness: Fairness) -> bool:
    """Is the group large enough to judge `metric` on? A metric that rests on one class (recall
    on the positives, specificity on the negatives) needs min_group_positives of that class."""
    if group.rows < fairness.min_group_size:
        return False
    if metric in POSITIVE_BASED:
        return group.positives >= fairness.min_group_positives
    if metric in NEGATIVE_BASED:
        return group.rows - group.positives >= fairness.min_group_positives
    return True


def _fairness_check(
    rule: Rule, column: str, groups: Mapping[str, GroupResult], fairness: Fairness
) -> Check:
    column_detail = {"group_column": column}
    values: dict[str, float] = {}
    undefined: list[str] = []
    min_size = fairness.min_group_size
    for name, g in groups.items():
        if not _counts(g, rule.metric, fairness):
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
        enough = f">= {min_size} rows"
        if rule.metric in POSITIVE_BASED:
            enough += f" and {fairness.min_group_positives} positives"
        elif rule.metric in NEGATIVE_BASED:
            enough += f" and {fairness.min_group_positives} negatives"
        message = (
            f"{rule.metric} by {column}: fewer than 2 groups with {enough} and a "
            f"defined {rule.metric}, so the spread cannot be judged"
        )
        return _result(rule, "fail", message, **column_detail)
    low_name = min(values, key=values.__getitem__)
    high_name = max(values, key=values.__getitem__)
    low, high = values[low_name], values[high_name]
    if rule.op == "max_difference":
        observed = high - low
        limit = high - rule.bound
        ok = observed <= rule.bound
        text = f"difference {_fmt(observed)} {'<=' if ok else '>'} {_fmt(rule.bound)}"
    else:
        observed = low / high if high > 0 else 1.0
        limit = high * rule.bound
        ok = observed >= rule.bound
        text = f"ratio {_fmt(observed)} {'>=' if ok else '<'} {_fmt(rule.bound)}"
    message = (
        f"{rule.metric} by {column}: {text} "
        f"(lowest {low_name} {_fmt(low)}, highest {high_name} {_fmt(high)})"
    )
    return _result(
        rule, "pass" if ok else "fail", message, observed=observed, limit=limit, **column_detail
    )


def decide(
    metrics: Mapping[str, Estimate],
    config: GateConfig,
    baseline: Mapping[str, Estimate] | None = None,
    groups: Groups | None = None,
    paired: PairedComparison | None = None,
) -> Decision:
    checks: list[Check] = []
    notes: list[str] = []
    missing = Estimate.undefined("not in the metrics given")
    for rule in config.rules_of("value"):
        checks.append(_value_check(rule, metrics.get(rule.metric, missing), config.gate_on))
    baseline_rules = config.rules_of("baseline")
    method = config.baseline_method
    for rule in baseline_rules:
        estimate = metrics.get(rule.metric, missing)
        if paired is not None and method != "unpaired":
            check = _paired_check(rule, paired, estimate, config.baseline_rule)
        elif method == "paired" and baseline is not None:
            message = (
                f"{rule.metric}: baseline.method is paired, but the champion was not scored on "
                "this holdout (give champion-predictions)"
            )
            check = _result(rule, "fail", message, comparison="paired")
        else:
            check = _baseline_check(rule, estimate, baseline, config.gate_on)
        checks.append(check)
        if check.detectable is not None and check.baseline is not None:
            rows = paired.rows if paired is not None else 0
            positives = paired.positives if paired is not None else 0
            if check.comparison == "paired":
                note = _resolution(rule.metric, check.detectable,
                                   _tolerance(rule, check.baseline), rows, positives)  # fmt: skip
                if note:
                    notes.append(note)
    if baseline is None and paired is None and baseline_rules:
        notes.append(
            "No baseline (no champion to compare with): baseline checks were skipped; value "
            "checks alone apply."
        )
    elif baseline is None and paired is None:
        notes.append("No baseline was given: value checks alone apply.")
    elif paired is None and baseline_rules and method != "paired":
        notes.append(
            "Unpaired: the champion's metrics come from its own holdout, not these rows; give "
            "champion-predictions to compare on the same rows."
        )
    fairness_rules = config.rules_of("fairness")
    for slice_ in config.fairness.slices:
        column = Fairness.name(slice_)
        column_groups = (groups or {}).get(column)
        for rule in fairness_rules:
            if column_groups is None:
                message = (
                    f"{rule.metric} by {column}: no per-group metrics (needs a predictions file)"
                )
                checks.append(
                    Check("fairness", rule.metric, rule.op, rule.bound, "fail", message,
                          group_column=column)
                )  # fmt: skip
            else:
                checks.append(_fairness_check(rule, column, column_groups, config.fairness))
        if column_groups is not None:
            fair = config.fairness
            small = sorted(g for g, r in column_groups.items() if r.rows < fair.min_group_size)
            if small:
                notes.append(
                    f"Groups of {column} below min_group_size {fair.min_group_size} "
                    f"were left out of fairness checks: {', '.join(small)}."
                )
            for label, based in (("positives", POSITIVE_BASED), ("negatives", NEGATIVE_BASED)):
                judged = {r.metric for r in fairness_rules} & set(based)
                few = sorted(
                    g for g, r in column_groups.items()
                    if r.rows >= fair.min_group_size
                    and (r.positives if label == "positives" else r.rows - r.positives)
                    < fair.min_group_positives
                )  # fmt: skip
                if few and judged:
                    notes.append(
                        f"Groups of {column} with fewer than {fair.min_group_positives} {label} "
                        f"(min_group_positives) were left out of the {', '.join(sorted(judged))} "
                        f"checks: {', '.join(few)}."
                    )
    if not any(c.status in ("pass", "fail") for c in checks):
        # A gate that judged nothing (no checks, or only skipped ones) has not let the model
        # through: say what would judge it.
        notes.insert(0, NOTHING_JUDGED)
        return Decision(passed=False, checks=tuple(checks), notes=tuple(notes))
    return Decision(passed=all(c.passed for c in checks), checks=tuple(checks), notes=tuple(notes))
