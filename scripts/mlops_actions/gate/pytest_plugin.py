"""pytest plugin: assert on the model gate's own metric definitions, from the same config.

    def test_precision(mlops_gate):
        result = mlops_gate("artifacts/holdout-predictions.csv", config=".mlops/gate.yml")
        assert result.metrics["precision"] >= 0.85
        result.assert_passed()          # every check of the config, with readable failures

    def test_no_regression(mlops_gate):   # the champion scored on the same rows: paired
        mlops_gate("holdout.csv", champion_predictions="champion.csv", id_column="id",
                   config=".mlops/gate.yml").assert_passed()

Registered through the `pytest11` entry point, so installing mlops-actions makes the
`mlops_gate` fixture available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_actions.gate.decide import Check
from mlops_actions.gate.run import GateRequest, compute
from mlops_actions.gate.verdict import GateResult


@dataclass(frozen=True)
class GateView:
    result: GateResult

    @property
    def metrics(self) -> dict[str, float | None]:
        return {name: e.value for name, e in self.result.metrics.items()}

    @property
    def intervals(self) -> dict[str, tuple[float | None, float | None]]:
        return {name: (e.low, e.high) for name, e in self.result.metrics.items()}

    @property
    def passed(self) -> bool:
        return self.result.decision.passed

    @property
    def failures(self) -> tuple[Check, ...]:
        return self.result.decision.failed

    def assert_passed(self) -> None:
        if not self.passed:
            lines = "\n".join(f"  - {c.kind}: {c.message}" for c in self.failures)
            raise AssertionError(f"model gate failed {len(self.failures)} check(s):\n{lines}")


Evaluate = Callable[..., GateView]


@pytest.fixture
def mlops_gate() -> Evaluate:
    """Evaluate predictions (or metrics) exactly as the model-gate action does."""

    def evaluate(
        predictions: str | Path | None = None,
        *,
        config: str | Path | None = None,
        baseline: str | Path | None = None,
        metrics: str | Path | None = None,
        thresholds: str | None = None,
        champion_predictions: str | Path | None = None,
        id_column: str | None = None,
    ) -> GateView:
        request = GateRequest(
            output_dir="",
            predictions=str(predictions) if predictions else None,
            metrics=str(metrics) if metrics else None,
            config=str(config) if config else None,
            baseline=str(baseline) if baseline else None,
            thresholds=thresholds,
            champion_predictions=str(champion_predictions) if champion_predictions else None,
            id_column=id_column,
        )
        return GateView(compute(request))

    return evaluate
