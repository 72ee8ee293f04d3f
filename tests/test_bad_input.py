"""Every user mistake: exit 2, one line naming the file/field/column and the fix, no traceback,
and no verdict left that looks valid."""

import json

import pytest

from conftest import make_predictions, run_cli, write_csv

GOOD_CFG = (
    "columns: {label: is_fraud, score: fraud_probability}\nmetrics: {precision: {min: 0.5}}\n"
)


def _csv(tmp_path, **changes):
    cols = {k: list(v) for k, v in make_predictions(200).items()}
    for key, value in changes.items():
        if value is None:
            cols.pop(key)
        else:
            cols[key] = value
    return write_csv(tmp_path / "p.csv", cols)


def _file(path, text):
    path.write_text(text)
    return str(path)


def _scores_with(bad):
    scores = list(make_predictions(200)["fraud_probability"])
    scores[5] = bad
    return scores


CASES = {
    "unquoted yes in YAML": (
        lambda t: [
            str(write_csv(t / "p.csv", {"label": ["yes", "no"] * 50, "score": [0.9, 0.1] * 50}))
        ],
        "columns: {label: label, score: score}\npositive_label: yes\nmetrics: {recall: {min: 0.1}}\n",
        "YAML reads an unquoted yes/no as true/false: quote it, positive_label: 'yes'",
    ),
    "missing label column": (
        lambda t: [str(_csv(t, is_fraud=None))],
        None,
        "no label column 'is_fraud'",
    ),
    "missing score column": (
        lambda t: [str(_csv(t, fraud_probability=None))],
        None,
        "no score column 'fraud_probability'",
    ),
    "typo column suggests": (
        lambda t: [str(write_csv(t / "p.csv", {"is_fraud": [0, 1], "fraud_prob": [0.1, 0.9]}))],
        None,
        "did you mean 'fraud_prob'",
    ),
    "NaN score": (
        lambda t: [str(_csv(t, fraud_probability=_scores_with("nan")))],
        None,
        "row 7: score column 'fraud_probability' is missing a value (empty, NA or NaN",
    ),
    "score above 1": (
        lambda t: [str(_csv(t, fraud_probability=_scores_with(1.7)))],
        None,
        "= 1.7 is outside [0, 1]",
    ),
    "text score": (
        lambda t: [str(_csv(t, fraud_probability=_scores_with("high")))],
        None,
        "must hold numbers",
    ),
    "empty score cell": (
        lambda t: [str(_csv(t, fraud_probability=_scores_with("")))],
        None,
        "row 7: score column 'fraud_probability' is missing a value",
    ),
    "non-binary labels": (
        lambda t: [str(_csv(t, is_fraud=[i % 3 for i in range(200)]))],
        None,
        "must be binary but has 3 distinct values",
    ),
    "positive label absent": (
        lambda t: [str(_csv(t, is_fraud=["yes" if i % 9 else "no" for i in range(200)]))],
        None,
        "positive_label 1 is not a value",
    ),
    "empty file": (lambda t: [_file(t / "p.csv", "")], None, "predictions file is empty"),
    "header only": (
        lambda t: [_file(t / "p.csv", "is_fraud,fraud_probability\n")],
        None,
        "has a header but no rows",
    ),
    "missing file": (lambda t: [str(t / "nope.csv")], None, "predictions file not found"),
    "unsupported format": (
        lambda t: [_file(t / "p.xlsx", "x")],
        None,
        "unsupported predictions format",
    ),
    "unknown metric": (
        None,
        "metrics: {precison: {min: 0.8}}\n",
        "unknown metric 'precison' (did you mean 'precision'?)",
    ),
    "malformed YAML": (None, "metrics: {precision: {min: 0.8}\n", "malformed YAML"),
    "bound out of range": (
        None,
        "metrics: {recall: {min: 1.5}}\n",
        "metrics.recall.min: expected a number between 0 and 1",
    ),
    "unknown top key": (
        None,
        "metric: {recall: {min: 0.5}}\n",
        "unknown key (did you mean 'metrics'?)",
    ),
    "bad gate_on": (
        None,
        "confidence: {gate_on: lower}\n",
        "confidence.gate_on: expected one of point, lower_bound, upper_bound",
    ),
    "rule without bound": (
        None,
        "metrics: {recall: {}}\n",
        "metrics.recall: give at least one of: min, max",
    ),
    "fairness without groups": (
        None,
        "fairness: {metrics: {recall: {max_difference: 0.1}}}\n",
        "fairness metrics need at least one group column",
    ),
    "duplicate column": (
        lambda t: [_file(t / "dup.csv", "is_fraud,fraud_probability,is_fraud\n1,0.9,0\n0,0.1,1\n")],
        None,
        "column 'is_fraud' appears twice in the header",
    ),
    "metrics file given as predictions": (
        lambda t: [_file(t / "metrics.json", '{"recall": 0.9}')],
        None,
        "pass it as metrics (--metrics)",
    ),
    "YAML aliases that expand": (
        None,
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        "expands to more than 20000 values",
    ),
    "long value is quoted short": (
        None,
        "confidence: {gate_on: " + "x" * 5000 + "}\n",
        "confidence.gate_on: expected one of point, lower_bound, upper_bound",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_error(tmp_path, case):
    make_args, config_text, expected = CASES[case]
    out = tmp_path / "out"
    out.mkdir()
    (out / "verdict.json").write_text('{"passed": true}')  # a stale verdict must not survive
    predictions = make_args(tmp_path) if make_args else [str(_csv(tmp_path))]
    config = tmp_path / "gate.yml"
    config.write_text(config_text if config_text is not None else GOOD_CFG)
    proc = run_cli(
        "gate", "--predictions", *predictions, "--config", str(config), "--output-dir", str(out)
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert len(lines[0]) < 600, len(lines[0])  # a value is quoted, never pasted whole
    assert not (out / "verdict.json").exists()


def test_error_is_an_annotation_with_file_and_line_in_actions(tmp_path):
    config = tmp_path / "gate.yml"
    config.write_text("metrics:\n  recall: {min: 0.8\n")
    proc = run_cli(
        "gate",
        "--predictions",
        str(_csv(tmp_path)),
        "--config",
        str(config),
        "--output-dir",
        str(tmp_path / "o"),
        env={"GITHUB_ACTIONS": "true"},
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"::error file={config},line=")
    assert "malformed YAML" in proc.stdout


@pytest.mark.parametrize(
    "content,expected",
    [
        ("[0.9, 0.8]", "got a JSON list"),
        ('{"accuracy_score": 0.9}', "no known metric found"),
        ('{"recall": "high"}', "field 'recall': expected a finite number"),
        ('{"recall": 0.9', "not JSON"),
        ('{"recall": 1.4}', "outside [0, 1]"),
        ('{"passed": false, "metrics": {"recall": 0.9}}', "field 'passed' is false"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_baseline(tmp_path, content, expected):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    proc = run_cli(
        "gate",
        "--predictions",
        str(_csv(tmp_path)),
        "--label-column",
        "is_fraud",
        "--score-column",
        "fraud_probability",
        "--baseline",
        str(baseline),
        "--output-dir",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr
    assert str(baseline) in proc.stderr


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--thresholds", "precision=>0.8"], "expected 'metric>=value'"),
        (["--fail-on", "sometimes"], "fail-on: expected 'failure' or 'never'"),
        (["--decision-threshold", "2"], "decision-threshold: expected a number between 0 and 1"),
        (["--comment-on-pr", "maybe"], "comment-on-pr: expected true or false"),
        (["--decision-threshold", "nan"], "decision-threshold: expected a number between 0 and 1"),
        (["--name", "../../x"], "name: '../../x' must be 1-100 letters"),
        (["--name", "a/b"], "name: 'a/b' must be 1-100 letters"),
    ],
)
def test_bad_options(tmp_path, args, expected):
    proc = run_cli(
        "gate",
        "--predictions",
        str(_csv(tmp_path)),
        "--label-column",
        "is_fraud",
        "--score-column",
        "fraud_probability",
        "--output-dir",
        str(tmp_path / "o"),
        *args,
    )
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_both_or_neither_input(tmp_path):
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"recall": 0.9}))
    both = run_cli(
        "gate",
        "--predictions",
        str(_csv(tmp_path)),
        "--metrics",
        str(metrics),
        "--output-dir",
        str(tmp_path),
    )
    neither = run_cli("gate", "--output-dir", str(tmp_path))
    for proc in (both, neither):
        assert proc.returncode == 2 and "exactly one of predictions" in proc.stderr
