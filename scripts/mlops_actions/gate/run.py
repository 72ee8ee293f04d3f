"""Run the gate end to end: read inputs, compute, decide, write verdict.json and report.md."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlops_actions import outputs
from mlops_actions.errors import UserError
from mlops_actions.gate import curves, loader, paired, predictions
from mlops_actions.gate.config import (
    CROSS,
    Fairness,
    GateConfig,
    parse_inline_thresholds,
    with_overrides,
)
from mlops_actions.gate.decide import GroupResult, Groups, PairedComparison, decide
from mlops_actions.gate.metrics import BoolArray, Estimate, Evaluation, FloatArray, evaluate
from mlops_actions.gate.report import render_all
from mlops_actions.gate.verdict import GateResult, build_verdict
from mlops_actions.outputs import write_atomic

VERDICT_FILE = "verdict.json"
REPORT_FILE = "report.md"
HTML_FILE = "report.html"


@dataclass(frozen=True)
class GateRequest:
    output_dir: str
    predictions: str | None = None
    metrics: str | None = None
    config: str | None = None
    thresholds: str | None = None
    baseline: str | None = None
    champion_predictions: str | None = None  # the champion scored on this holdout, by id
    id_column: str | None = None
    label_column: str | None = None
    score_column: str | None = None
    prediction_column: str | None = None
    group_columns: tuple[str, ...] = ()
    positive_label: str | None = None
    decision_threshold: str | None = None
    name: str = "model-gate"
    html: str | None = None  # where report.html goes (default: in output_dir)


@dataclass(frozen=True)
class GateOutcome:
    result: GateResult
    verdict: dict[str, Any]
    report: str
    verdict_path: Path
    report_path: Path
    html_path: Path
    comment: str  # the report within GitHub's comment limit
    text: str  # the report for a terminal


def resolve_config(request: GateRequest, given: GateConfig | None = None) -> GateConfig:
    """The config file (or one already parsed, as the pytest fixture passes a dict), with the
    request's inputs on top."""
    if given is not None:
        config = given
    else:
        config = (
            loader.load_config(request.config) if request.config else GateConfig(source="inputs")
        )
    inline = parse_inline_thresholds(request.thresholds) if request.thresholds else None
    return with_overrides(
        config,
        label=request.label_column,
        score=request.score_column,
        prediction=request.prediction_column,
        group_columns=list(request.group_columns),
        positive_label=request.positive_label,
        decision_threshold=request.decision_threshold,
        inline_rules=inline,
    )


def _slice_codes(
    data: predictions.Predictions, columns: tuple[str, ...]
) -> tuple[np.ndarray[Any, Any], dict[int, str]]:
    """Each row's group in a slice (a column's groups, or the crossing of several columns'),
    and the names of the groups that occur: only those are built (three columns of 200 values
    each would otherwise name 8M groups)."""
    parts = [data.groups[column] for column in columns]
    codes = parts[0].codes.astype(np.int64)
    for other in parts[1:]:
        codes = codes * len(other.names) + other.codes
    sizes = [len(p.names) for p in parts]
    present = np.flatnonzero(np.bincount(codes, minlength=math.prod(sizes)))  # O(n), no sort
    if present.size > predictions.MAX_GROUPS:
        raise UserError(
            f"fairness slice {CROSS.join(columns)}: {present.size} groups, more than "
            f"{predictions.MAX_GROUPS}; cross fewer or coarser columns"
        )
    names = {}
    for code in present.tolist():
        labels, rest = [], code
        for part, size in zip(reversed(parts), reversed(sizes), strict=True):
            rest, index = divmod(rest, size)
            labels.append(part.names[index])
        names[code] = CROSS.join(reversed(labels))
    return codes, names


def _group_results(data: predictions.Predictions, config: GateConfig) -> Groups:
    out: dict[str, dict[str, GroupResult]] = {}
    for slice_ in config.fairness.slices:
        codes, names = _slice_codes(data, slice_)
        name = Fairness.name(slice_)
        out[name] = {}
        for code in names:
            mask = codes == code
            y = data.y_true[mask]
            evaluation = evaluate(
                y,
                score=None if data.score is None else data.score[mask],
                y_pred=None if data.y_pred is None else data.y_pred[mask],
                threshold=config.decision_threshold,
                level=config.confidence_level,
            )
            out[name][names[code]] = GroupResult(int(y.size), int(y.sum()), evaluation.metrics)
    return out


def _calls(y_pred: BoolArray | None, score: FloatArray | None, threshold: float) -> BoolArray:
    """Predicted positive: the prediction column, else score >= threshold (as evaluate())."""
    if y_pred is not None:
        return y_pred
    assert score is not None
    calls: BoolArray = score >= threshold
    return calls


def _paired(
    data: predictions.Predictions,
    champion: predictions.Champion,
    config: GateConfig,
    evaluation: Evaluation,
) -> tuple[PairedComparison, tuple[FloatArray, FloatArray] | None]:
    """The champion on the challenger's rows: its metrics there, and each difference; and the
    champion's scores of each class, sorted, when the comparison sorted them."""
    threshold, level = config.decision_threshold, config.confidence_level
    pair = paired.Pair(
        data.y_true, _calls(data.y_pred, data.score, threshold),
        _calls(champion.y_pred, champion.score, threshold),
        data.score if champion.score is not None else None,
        champion.score if data.score is not None else None,
        evaluation.sorted_scores, evaluation.metrics["roc_auc"].value,
    )  # fmt: skip
    wanted = tuple(dict.fromkeys(r.metric for r in config.rules_of("baseline")))
    comparison = paired.compare(pair, wanted, level)
    return PairedComparison(
        rows=data.rows,
        positives=int(data.y_true.sum()),
        differences=comparison.differences,
        champion=comparison.champion,
    ), comparison.champion_sorted


def compute(request: GateRequest, config: GateConfig | None = None) -> GateResult:
    if bool(request.predictions) == bool(request.metrics):
        raise UserError(
            "give exactly one of predictions (a CSV/Parquet file of labels and scores) or "
            "metrics (a JSON of pre-computed metrics)"
        )
    config = resolve_config(request, config)
    if request.champion_predictions and not request.predictions:
        raise UserError(
            "champion-predictions needs predictions (the challenger's, with the same id "
            "column), not pre-computed metrics"
        )
    inputs: dict[str, dict[str, str]] = {}
    confusion = None
    groups: Groups | None = None
    comparison: PairedComparison | None = None
    metrics: dict[str, Estimate]
    drawn: dict[str, dict[str, Any]] = {}  # each model's curves (gate/curves.py)
    if request.predictions:
        id_column = request.id_column or config.columns.id
        if request.champion_predictions and not id_column:
            raise UserError(
                "champion-predictions: name the id column both files share (id-column, or "
                "columns.id in the config), so the rows are matched by id"
            )
        data = predictions.load_predictions(
            request.predictions, config, id_column if request.champion_predictions else None
        )
        evaluation = evaluate(
            data.y_true,
            score=data.score,
            y_pred=data.y_pred,
            threshold=config.decision_threshold,
            level=config.confidence_level,
            keep_sorted=data.score is not None,
        )
        metrics, confusion = evaluation.metrics, evaluation.confusion
        if data.score is not None and data.rows:
            drawn["challenger"] = curves.compute(
                data.y_true, data.score, config.decision_threshold, evaluation.sorted_scores
            )
        groups = _group_results(data, config) if data.groups else None
        inputs["predictions"] = _fingerprint(request.predictions)
        if request.champion_predictions:
            champion = predictions.align_champion(request.champion_predictions, config, data)
            comparison, champion_sorted = _paired(data, champion, config, evaluation)
            if champion.score is not None and "challenger" in drawn:
                drawn["champion"] = curves.compute(
                    data.y_true, champion.score, config.decision_threshold, champion_sorted
                )
            inputs["champion_predictions"] = _fingerprint(request.champion_predictions)
    else:
        assert request.metrics is not None
        metrics = loader.load_metrics_file(request.metrics)
        inputs["metrics"] = _fingerprint(request.metrics)
    baseline = loader.load_baseline(request.baseline) if request.baseline else None
    if request.config:
        inputs["config"] = _fingerprint(request.config)
    if request.baseline:
        inputs["baseline"] = _fingerprint(request.baseline)
    decision = decide(metrics, config, baseline, groups, comparison)
    return GateResult(
        config=config,
        metrics=metrics,
        decision=decision,
        confusion=confusion,
        groups=groups,
        baseline=baseline,
        inputs=inputs,
        paired=comparison,
        curves=drawn or None,
    )


def _fingerprint(path: str) -> dict[str, str]:
    return {"path": path, "sha256": loader.sha256_file(path)}


def run(request: GateRequest) -> GateOutcome:
    planned = Path(request.output_dir)
    if request.html:  # before anything is made or removed: never over an input or an output
        outputs.apart(Path(request.html), "--html", {
            "predictions file": request.predictions, "metrics file": request.metrics,
            "config file": request.config, "baseline file": request.baseline,
            "champion-predictions file": request.champion_predictions,
            f"{VERDICT_FILE} output": planned / VERDICT_FILE,
            f"{REPORT_FILE} output": planned / REPORT_FILE,
        })  # fmt: skip
    out_dir = outputs.directory(
        request.output_dir, "output-dir", (VERDICT_FILE, REPORT_FILE, HTML_FILE)
    )
    verdict_path, report_path = out_dir / VERDICT_FILE, out_dir / REPORT_FILE
    html_path = outputs.file(request.html, "html") if request.html else out_dir / HTML_FILE
    # A verdict from an earlier run must not survive a failed one and look current. Only our
    # own files in output-dir are removed: an --html elsewhere is replaced whole when written.
    for stale in (verdict_path, report_path, out_dir / HTML_FILE):
        stale.unlink(missing_ok=True)
    result = compute(request)
    verdict = build_verdict(result)
    drawn = render_all(result, verdict, request.name)
    write_atomic(html_path, drawn["html"])
    write_atomic(report_path, drawn["markdown"])
    write_atomic(verdict_path, json.dumps(verdict, indent=2, sort_keys=False) + "\n")
    return GateOutcome(
        result, verdict, drawn["markdown"], verdict_path, report_path, html_path,
        drawn["comment"], drawn["text"],
    )  # fmt: skip
