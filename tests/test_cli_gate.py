"""`mlops-actions gate` end to end, as a user runs it (a subprocess, real files)."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from conftest import make_predictions, run_cli, write_csv


def test_pass_writes_verdict_and_report(tmp_path, predictions_csv, gate_yml):
    out = tmp_path / "out"
    proc = run_cli(
        "gate",
        "--predictions",
        str(predictions_csv),
        "--config",
        str(gate_yml),
        "--output-dir",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["passed"] is True
    assert set(verdict["metrics"]) >= {
        "precision",
        "recall",
        "roc_auc",
        "average_precision",
        "log_loss",
    }
    assert {c["kind"] for c in verdict["checks"]} == {"value", "baseline", "fairness"}
    check = verdict["checks"][0]
    assert set(check) >= {"kind", "metric", "observed", "bound", "ci", "passed", "message"}
    assert verdict["groups"]["region"]["north"]["rows"] > 0
    assert len(verdict["inputs"]["predictions"]["sha256"]) == 64
    assert any("No baseline" in n for n in verdict["notes"])
    report = (out / "report.md").read_text()
    assert "Model gate passed" in report and "Confusion matrix" in report
    assert "Model gate passed" in proc.stdout


def test_fail_exits_1_and_never_exits_0(tmp_path, predictions_csv):
    args = [
        "gate",
        "--predictions",
        str(predictions_csv),
        "--label-column",
        "is_fraud",
        "--score-column",
        "fraud_probability",
        "--thresholds",
        "precision>=0.999",
        "--output-dir",
        str(tmp_path),
    ]
    proc = run_cli(*args)
    assert proc.returncode == 1
    assert json.loads((tmp_path / "verdict.json").read_text())["passed"] is False
    assert run_cli(*args, "--fail-on", "never").returncode == 0


def test_baseline_regression_fails(tmp_path, predictions_csv, gate_yml):
    baseline = tmp_path / "champion.json"
    baseline.write_text(json.dumps({"recall": 0.999, "precision": 0.5}))
    proc = run_cli(
        "gate",
        "--predictions",
        str(predictions_csv),
        "--config",
        str(gate_yml),
        "--baseline",
        str(baseline),
        "--output-dir",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 1
    verdict = json.loads((tmp_path / "o" / "verdict.json").read_text())
    failed = [c for c in verdict["checks"] if not c["passed"]]
    assert [(c["kind"], c["metric"]) for c in failed] == [("baseline", "recall")]
    assert verdict["baseline"]["recall"] == 0.999


def test_previous_verdict_is_a_valid_baseline(tmp_path, predictions_csv, gate_yml):
    first = tmp_path / "first"
    assert (
        run_cli(
            "gate",
            "--predictions",
            str(predictions_csv),
            "--config",
            str(gate_yml),
            "--output-dir",
            str(first),
        ).returncode
        == 0
    )
    proc = run_cli(
        "gate",
        "--predictions",
        str(predictions_csv),
        "--config",
        str(gate_yml),
        "--baseline",
        str(first / "verdict.json"),
        "--output-dir",
        str(tmp_path / "second"),
    )
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads((tmp_path / "second" / "verdict.json").read_text())
    assert [c["status"] for c in verdict["checks"] if c["kind"] == "baseline"] == ["pass"]


def test_precomputed_metrics_apply_value_and_baseline_checks(tmp_path):
    metrics = tmp_path / "metrics.json"
    metrics.write_text(
        json.dumps({"precision": 0.9, "recall": {"value": 0.7, "ci": [0.6, 0.8]}, "n_rows": 10})
    )
    proc = run_cli(
        "gate",
        "--metrics",
        str(metrics),
        "--thresholds",
        "precision>=0.85\nrecall>=0.75",
        "--output-dir",
        str(tmp_path),
    )
    assert proc.returncode == 1
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert [c["passed"] for c in verdict["checks"]] == [True, False]


def test_uncomputable_metric_fails_closed(tmp_path):
    data = write_csv(tmp_path / "p.csv", {"label": [1, 0, 1, 0], "pred": [1, 0, 0, 0]})
    proc = run_cli(
        "gate",
        "--predictions",
        str(data),
        "--prediction-column",
        "pred",
        "--thresholds",
        "roc_auc>=0.8",
        "--output-dir",
        str(tmp_path),
    )
    assert proc.returncode == 1
    check = json.loads((tmp_path / "verdict.json").read_text())["checks"][0]
    assert check["passed"] is False and "needs a score column" in check["message"]


def test_parquet_and_string_labels(tmp_path):
    cols = make_predictions(500, seed=3)
    table = pa.table(
        {"y": np.where(cols["is_fraud"] == 1, "fraud", "ok"), "p": cols["fraud_probability"]}
    )
    pq.write_table(table, tmp_path / "p.parquet")
    proc = run_cli(
        "gate",
        "--predictions",
        str(tmp_path / "p.parquet"),
        "--label-column",
        "y",
        "--score-column",
        "p",
        "--positive-label",
        "fraud",
        "--thresholds",
        "recall>=0.1",
        "--output-dir",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads((tmp_path / "o" / "verdict.json").read_text())
    assert verdict["support"]["positives"] == int(cols["is_fraud"].sum())


def test_lower_bound_is_stricter_than_point(tmp_path):
    data = write_csv(tmp_path / "p.csv", make_predictions(300, seed=9))
    first = run_cli(
        "gate",
        "--predictions",
        str(data),
        "--label-column",
        "is_fraud",
        "--score-column",
        "fraud_probability",
        "--thresholds",
        "accuracy>=0",
        "--output-dir",
        str(tmp_path / "a"),
    )
    verdict = json.loads((tmp_path / "a" / "verdict.json").read_text())
    value, low = verdict["metrics"]["accuracy"], verdict["intervals"]["accuracy"]["low"]
    assert first.returncode == 0 and low < value
    bar = round((low + value) / 2, 4)  # met by the point estimate, not by the lower bound
    for gate_on, expected in (("point", 0), ("lower_bound", 1), ("upper_bound", 0)):
        cfg = tmp_path / f"{gate_on}.yml"
        cfg.write_text(
            "columns: {label: is_fraud, score: fraud_probability}\n"
            f"metrics: {{accuracy: {{min: {bar}}}}}\nconfidence: {{gate_on: {gate_on}}}\n"
        )
        proc = run_cli(
            "gate",
            "--predictions",
            str(data),
            "--config",
            str(cfg),
            "--output-dir",
            str(tmp_path / gate_on),
        )
        assert proc.returncode == expected, gate_on


def test_github_outputs_summary_and_annotations(tmp_path, predictions_csv):
    output, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_PREDICTIONS": str(predictions_csv),
        "INPUT_LABEL_COLUMN": "is_fraud",
        "INPUT_SCORE_COLUMN": "fraud_probability",
        "INPUT_THRESHOLDS": "recall>=0.99",
        "RUNNER_TEMP": str(tmp_path),
    }
    proc = run_cli("gate", "--quiet", env=env)
    assert proc.returncode == 1
    assert "::error title=model gate%3A value check::recall" in proc.stdout
    text = output.read_text()
    assert "passed=false" in text and "failed-checks=1" in text
    assert f"verdict-path={tmp_path / 'model-gate' / 'model-gate' / 'verdict.json'}" in text
    assert "Model gate failed" in summary.read_text()


def test_crossed_slices_are_judged_as_groups_of_their_own(tmp_path):
    """TFMA's crossed slices: [region, segment] makes groups like 'north × new'."""
    rng = np.random.default_rng(4)
    n = 6000
    y = (rng.random(n) < 0.3).astype(int)
    region = rng.choice(["north", "south"], n)
    segment = rng.choice(["new", "old"], n)
    # Recall collapses only for new accounts in the south: invisible by region or by segment
    # alone (diluted), plain in the crossing.
    weak = (region == "south") & (segment == "new")
    score = np.where(y == 1, np.where(weak, 0.3, 0.8), 0.2) + rng.normal(0, 0.05, n)
    data = write_csv(tmp_path / "p.csv", {"label": y, "score": np.clip(score, 0, 1).round(4),
                                          "region": region, "segment": segment})  # fmt: skip
    config = tmp_path / "gate.yml"
    config.write_text("fairness:\n  group_columns: [region, [region, segment]]\n"
                      "  metrics: {recall: {max_difference: 0.6}}\n")  # fmt: skip
    proc = run_cli("gate", "--quiet", "--predictions", str(data), "--config", str(config),
                   "--output-dir", str(tmp_path / "out"))  # fmt: skip
    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    by_slice = {c["group_column"]: c["status"] for c in verdict["checks"]}
    assert by_slice == {"region": "pass", "region × segment": "fail"}, verdict["checks"]
    assert proc.returncode == 1 and "south × new" in verdict["groups"]["region × segment"]


def test_a_crossed_slice_of_too_many_groups_is_refused_before_naming_them(tmp_path):
    """Three columns of 150 values each could name 3.4M groups: only the groups that occur
    count, and more than 200 of them is a one-line error."""
    rng = np.random.default_rng(5)
    n = 3000
    values = [f"v{i}" for i in range(150)]
    columns = {"label": (rng.random(n) < 0.3).astype(int), "score": rng.random(n).round(4)}
    columns.update({c: rng.choice(values, n) for c in ("a", "b", "c")})
    data = write_csv(tmp_path / "p.csv", columns)
    config = tmp_path / "gate.yml"
    config.write_text("fairness:\n  group_columns: [a, [a, b, c]]\n"
                      "  metrics: {recall: {max_difference: 0.6}}\n")  # fmt: skip
    proc = run_cli("gate", "--quiet", "--predictions", str(data), "--config", str(config),
                   "--output-dir", str(tmp_path / "out"))  # fmt: skip
    assert proc.returncode == 2 and not (tmp_path / "out" / "verdict.json").exists()
    (line,) = proc.stderr.strip().splitlines()
    assert "fairness slice a × b × c" in line and "more than 200; cross fewer" in line, line


def test_a_gate_with_nothing_to_judge_fails_and_names_what_to_add(tmp_path):
    data = write_csv(tmp_path / "p.csv", make_predictions(300, seed=9))
    proc = run_cli("gate", "--quiet", "--predictions", str(data), "--label-column", "is_fraud",
                   "--score-column", "fraud_probability", "--output-dir", str(tmp_path / "o"))  # fmt: skip
    assert proc.returncode == 1
    assert "error: Nothing was judged, so the gate fails: add a threshold" in proc.stderr
    assert json.loads((tmp_path / "o" / "verdict.json").read_text())["passed"] is False
    assert "Model gate failed: nothing was judged" in (tmp_path / "o" / "report.md").read_text()


def test_check_config_validates_without_data(tmp_path):
    good = tmp_path / "gate.yml"
    good.write_text(
        "metrics: {recall: {min: 0.8}}\nfairness: {metrics: {recall: {max_difference: 0.1}}}\n"
    )
    ok = run_cli("gate", "--check-config", str(good))
    assert ok.returncode == 0, ok.stderr
    assert f"{good}: valid; 1 threshold, 1 fairness check(s)" in ok.stdout
    assert "fairness checks need group-columns" in ok.stdout
    typo = tmp_path / "typo.yml"
    typo.write_text("metrics: {recal: {min: 0.8}}\n")
    bad = run_cli("gate", "--check-config", str(typo))
    assert bad.returncode == 2 and "did you mean 'recall'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "model-gate").exists()
