"""pytest plugin: assert on the model gate's own metric definitions and checks.

    def test_the_model_is_good_enough(mlops_gate):
        result = mlops_gate(y_true=y_test, y_score=model.predict_proba(X_test)[:, 1],
                            config={"metrics": {"recall": {"min": 0.8}}})
        assert result.metrics["recall"] >= 0.8
        result.assert_passed()          # every check, and the failed ones named if not

    def test_fair_across_regions(mlops_gate):   # a file or a DataFrame, columns by keyword
        mlops_gate(holdout_df, label_column="is_fraud", score_column="fraud_probability",
                   group_columns=["region"], config=".mlops/gate.yml").assert_passed()

    def test_no_regression(mlops_gate):   # the champion scored on the same rows: paired
        mlops_gate("holdout.csv", champion_predictions="champion.csv", id_column="id",
                   config=".mlops/gate.yml").assert_passed()

Registered through the `pytest11` entry point, so installing mlops-actions makes the
`mlops_gate` fixture available. A mistake in the input (a missing column, a bad config) raises
UserError with the same one-line message the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlops_actions.errors import UserError

if TYPE_CHECKING:  # the gate (and numpy) load when the fixture is used, not at pytest's start
    from mlops_actions.gate.decide import Check
    from mlops_actions.gate.verdict import GateResult


@dataclass(frozen=True)
class GateView:
    """What the gate decided, as a test reads it.

    passed     every check passed (and at least one check judged something)
    failures   the failed checks: `.kind`, `.metric`, `.message`
    metrics    {metric: point value}
    intervals  {metric: (low, high)} at the config's confidence level
    groups     {group column: {group value: {metric: value}}} when group columns are given
    result     the whole GateResult (decision, paired comparison, config), as the action has it
    """

    result: GateResult

    @property
    def passed(self) -> bool:
        return self.result.decision.passed

    @property
    def failures(self) -> tuple[Check, ...]:
        return self.result.decision.failed

    @property
    def metrics(self) -> dict[str, float | None]:
        return {name: e.value for name, e in self.result.metrics.items()}

    @property
    def intervals(self) -> dict[str, tuple[float | None, float | None]]:
        return {name: (e.low, e.high) for name, e in self.result.metrics.items()}

    @property
    def groups(self) -> dict[str, dict[str, dict[str, float | None]]]:
        if self.result.groups is None:
            return {}
        return {
            column: {
                group: {name: e.value for name, e in found.metrics.items()}
                for group, found in by_group.items()
            }
            for column, by_group in self.result.groups.items()
        }

    def assert_passed(self) -> None:
        if not self.passed:
            lines = "\n".join(f"  - {c.kind}: {c.message}" for c in self.failures)
            if self.result.decision.judged_nothing:
                lines = "  - nothing was judged: add thresholds, baseline or fairness checks"
            raise AssertionError(f"model gate failed {len(self.failures)} check(s):\n{lines}")

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED {len(self.failures)} check(s)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items() if v is not None)
        return f"<model gate {verdict}: {shown}>"


Evaluate = Callable[..., GateView]
DataLike = Any  # a path, a pandas DataFrame, or a mapping of column name -> array


def _columns(
    y_true: Iterable[Any] | None, y_score: Iterable[Any] | None, y_pred: Iterable[Any] | None
) -> dict[str, list[Any]]:
    given = {"label": y_true, "score": y_score, "prediction": y_pred}
    return {name: list(values) for name, values in given.items() if values is not None}


def _slices(group_columns: str | Iterable[str | Iterable[str]]) -> tuple[str, ...]:
    """One column name, or a list of columns and crossings ([["region", "segment"]] or
    "region*segment"), as the gate's group-columns input spells them."""
    if isinstance(group_columns, str):
        return (group_columns,)
    return tuple(g if isinstance(g, str) else "*".join(g) for g in group_columns)


def _write(data: DataLike, folder: Path, stem: str) -> str:
    """A path as given; a DataFrame or a mapping of arrays written as Parquet for the reader."""
    if isinstance(data, str | Path):
        return str(data)
    path = folder / f"given-{stem}.parquet"  # the name errors quote
    if hasattr(data, "to_parquet"):
        data.to_parquet(path, index=False)
        return str(path)
    if isinstance(data, Mapping):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.table({str(k): list(v) for k, v in data.items()})
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise UserError(f"mlops_gate: the columns given cannot form a table ({exc})") from None
        pq.write_table(table, path)
        return str(path)
    raise UserError(
        f"mlops_gate: predictions must be a path, a DataFrame or a mapping of column -> array, "
        f"got {type(data).__name__}"
    )


@pytest.fixture
def mlops_gate(tmp_path_factory: pytest.TempPathFactory) -> Evaluate:
    """Evaluate predictions (or metrics) exactly as the model-gate action does."""

    def evaluate(
        predictions: DataLike = None,
        *,
        y_true: Iterable[Any] | None = None,
        y_score: Iterable[Any] | None = None,
        y_pred: Iterable[Any] | None = None,
        config: str | Path | Mapping[str, Any] | None = None,
        label_column: str | None = None,
        score_column: str | None = None,
        prediction_column: str | None = None,
        group_columns: str | Iterable[str | Iterable[str]] = (),
        positive_label: str | int | None = None,
        decision_threshold: float | None = None,
        thresholds: str | None = None,
        baseline: str | Path | None = None,
        metrics: str | Path | None = None,
        champion_predictions: DataLike = None,
        id_column: str | None = None,
    ) -> GateView:
        __tracebackhide__ = True  # a failure shows the test's line, not the plugin's frames
        try:
            from mlops_actions.gate.config import parse_config
            from mlops_actions.gate.run import GateRequest, compute
        except ModuleNotFoundError as exc:
            pytest.fail(
                f"mlops_gate needs the Python package '{exc.name}'; install it with: "
                'pip install "mlops-actions[gate]"',
                pytrace=False,
            )
        folder = tmp_path_factory.mktemp("mlops-gate")
        arrays = _columns(y_true, y_score, y_pred)
        if arrays:
            if predictions is not None:
                raise UserError("mlops_gate: give predictions or y_true/y_score, not both")
            if label_column or score_column or prediction_column:
                raise UserError(
                    "mlops_gate: with y_true/y_score/y_pred the columns are those arrays; "
                    "leave out label_column, score_column and prediction_column"
                )
            predictions = arrays
            label_column = "label"
            score_column = "score" if "score" in arrays else None
            prediction_column = "prediction" if "prediction" in arrays else None
        request = GateRequest(
            output_dir="",
            predictions=_write(predictions, folder, "predictions")
            if predictions is not None
            else None,
            metrics=str(metrics) if metrics else None,
            config=None if isinstance(config, Mapping) or not config else str(config),
            baseline=str(baseline) if baseline else None,
            thresholds=thresholds,
            champion_predictions=(
                _write(champion_predictions, folder, "champion")
                if champion_predictions is not None
                else None
            ),
            id_column=id_column,
            label_column=label_column,
            score_column=score_column,
            prediction_column=prediction_column,
            group_columns=_slices(group_columns),
            positive_label=None if positive_label is None else str(positive_label),
            decision_threshold=None if decision_threshold is None else str(decision_threshold),
        )
        parsed = parse_config(dict(config), "config") if isinstance(config, Mapping) else None
        return GateView(compute(request, config=parsed))

    return evaluate
