"""infer-schema and validate-data as a user runs them: a pandera schema inferred from the
example's training data, every kind of violation in a broken feed reported at once, clean feeds
left alone, and bad input as one line."""

import json
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, run_cli

EXAMPLE = REPO / "example-project"
REFERENCE = EXAMPLE / "data" / "transactions.csv"


def _feed(tmp_path, feed, seed, rows=3000, name=None):
    path = tmp_path / (name or f"{feed}-{seed}.csv")
    subprocess.run([sys.executable, str(EXAMPLE / "data" / "generate.py"), "--feed", feed, "--rows",
                    str(rows), "--seed", str(seed), "--output", str(path)], check=True)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "transactions.schema.yml"
    proc = run_cli("infer-schema", "--data", str(REFERENCE), "--output", str(path), "--label",
                   "is_fraud", "--exclude", "transaction_id")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return path


def _validate(tmp_path, data, schema_path):
    outputs = tmp_path / "outputs.txt"
    outputs.write_text("")
    proc = run_cli("validate-data", "--data", str(data), "--schema", str(schema_path),
                   "--output-dir", str(tmp_path / "dv"), env={"GITHUB_OUTPUT": str(outputs),
                   "GITHUB_ACTIONS": "true"})  # fmt: skip
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc, out


def test_the_inferred_schema_is_a_reviewable_pandera_schema(schema):
    text = schema.read_text()
    assert text.startswith("# Inferred by mlops-actions infer-schema from transactions.csv")
    doc = yaml.safe_load(text)
    assert doc["schema_type"] == "dataframe" and doc["coerce"] is True
    columns = doc["columns"]
    assert "transaction_id" not in columns and set(columns) >= {"amount", "hour", "is_fraud"}
    assert columns["merchant_category"]["isin"] == sorted(
        ["grocery", "fuel", "restaurant", "online_retail", "electronics", "travel", "gaming"]
    )
    assert (
        columns["hour"]["isin"] == list(range(24))
        and columns["amount"]["in_range"]["min_value"] == 0
    )
    checks = {
        c["options"]["check_name"]: c
        for c in doc["checks"]
        if "column" not in c or c["options"]["check_name"] != "null_fraction_at_most"
    }
    balance = checks["share_between"]
    assert balance["column"] == "is_fraud" and balance["value"] == 1
    assert balance["low"] < 0.02 < balance["high"]  # about 2% fraud in the example
    assert checks["min_rows"]["rows"] == 1000
    nulls = [c for c in doc["checks"] if c["options"]["check_name"] == "null_fraction_at_most"]
    assert {c["column"] for c in nulls} == set(columns)


def test_the_reference_and_clean_feeds_pass(schema, tmp_path):
    proc, out = _validate(tmp_path, REFERENCE, schema)
    assert proc.returncode == 0 and out["passed"] == "true" and out["violations"] == "0"
    for seed in range(40, 46):  # other seeds of the same generator: no false alarm
        proc, out = _validate(tmp_path, _feed(tmp_path, "normal", seed), schema)
        assert proc.returncode == 0, proc.stdout[-2000:]


def test_a_broken_feed_reports_every_violation_at_once(schema, tmp_path):
    proc, out = _validate(tmp_path, _feed(tmp_path, "broken", 12), schema)
    assert proc.returncode == 1 and out["passed"] == "false"
    document = json.loads((tmp_path / "dv" / "validation.json").read_text())
    found = {(f["column"], f["kind"]) for f in document["findings"]}
    assert found == {
        ("distance_from_home_km", "missing-column"),  # a dropped column
        ("account_age_days", "type"),  # a type change
        ("amount", "range"),  # an out-of-range value
        ("merchant_category", "category"),  # a new category
        ("hour", "nulls"),  # a null spike
        ("is_fraud", "label-balance"),  # a flipped label balance
    }
    by_kind = {f["kind"]: f for f in document["findings"]}
    assert by_kind["range"]["rows"][:2] == [2, 99] and "'-12.5'" in by_kind["range"]["message"]
    assert by_kind["type"]["count"] == 60 and "'unknown'" in by_kind["type"]["message"]
    assert by_kind["category"]["count"] == 300 and "'crypto'" in by_kind["category"]["message"]
    assert "of rows are 1, expected" in by_kind["label-balance"]["message"]
    # One annotation per finding, on the first failing line of the CSV where there is one.
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 6
    assert any(",line=99," in a or ",line=2," in a for a in annotations if "amount" in a)
    report = (tmp_path / "dv" / "report.md").read_text()
    assert "Data invalid: 6 problems" in report and "Nothing was trained on it" in report
    # Each failing column says how much of the file it touches: the type change, 60 rows.
    type_row = next(line for line in report.splitlines() if "type change" in line)
    assert f"| 60 ({100 * 60 / document['rows']:.1f}%) |" in type_row, type_row
    label_row = next(line for line in report.splitlines() if "label balance" in line)
    assert label_row.split("|")[4].strip() == "—"  # a data-set check: no rows in particular


def test_parquet_rows_are_numbered_from_one(schema, tmp_path):
    import pandas as pd

    broken = pd.read_csv(_feed(tmp_path, "broken", 12))
    path = tmp_path / "broken.parquet"
    broken.to_parquet(path)
    proc, _ = _validate(tmp_path, path, schema)
    assert proc.returncode == 1
    document = json.loads((tmp_path / "dv" / "validation.json").read_text())
    ranges = next(f for f in document["findings"] if f["kind"] == "range")
    assert ranges["rows"][:2] == [1, 98]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["validate-data", "--data", "{ref}", "--schema", "{tmp}/none.yml"],
         "is not a file; write one with mlops-actions infer-schema"),  # the path may be cut
        (["validate-data", "--data", "{tmp}/missing.csv", "--schema", "{schema}"],
         "{tmp}/missing.csv: no such file"),
        (["validate-data", "--data", "{tmp}/data.json", "--schema", "{schema}"],
         "{tmp}/data.json: unsupported data format"),
        (["validate-data", "--data", "{ref}", "--schema", "{tmp}/list.yml"],
         "{tmp}/list.yml: not a pandera data-frame schema"),
        (["validate-data", "--data", "{ref}", "--schema", "{tmp}/unknown-check.yml"],
         "{tmp}/unknown-check.yml: columns.amount.in_rnage: unknown check or key (did you mean 'in_range'?)"),
        (["infer-schema", "--data", "{ref}", "--output", "{tmp}/s.yml", "--label", "fraud"],
         "no column 'fraud' (named by label/exclude)"),
        (["infer-schema", "--data", "{ref}", "--output", "{tmp}/s.yml", "--label", "is_fraud",
          "--positive-label", "yes"], "positive-label 'yes' is not a value of label column"),
        (["infer-schema", "--data", "{ref}", "--output", "{tmp}/s.yml", "--min-rows", "0"],
         "min-rows: expected a whole number from 1"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(schema, tmp_path, args, expected):
    (tmp_path / "list.yml").write_text("- a\n- b\n")
    (tmp_path / "unknown-check.yml").write_text(
        "schema_type: dataframe\napi: pandas\ncolumns:\n  amount:\n    dtype: float64\n"
        "    in_rnage: {min_value: 0, max_value: 1}\n"
    )
    (tmp_path / "data.json").write_text("{}")
    fill = {"ref": str(REFERENCE), "tmp": str(tmp_path), "schema": str(schema)}
    where = ["--output-dir", str(tmp_path / "dv")] if args[0] == "validate-data" else []
    proc = run_cli(*[a.format(**fill) for a in args], *where)
    assert proc.returncode == 2, proc.stdout[-1000:] + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected.format(**fill) in lines[0], proc.stderr
    assert not (tmp_path / "s.yml").exists()
    assert not any((tmp_path / "dv").glob("*")), "nothing written that looks like a result"


def test_values_from_the_data_cannot_act_as_commands_or_markup(schema, tmp_path):
    # A feed whose new category tries to set the step's output and to inject HTML.
    rows = REFERENCE.read_text().splitlines()
    header = rows[0].split(",")
    column = header.index("merchant_category")
    hostile = '"<b>x</b>|\n::set-output name=passed::true\n::warning::planted"'
    cells = rows[1].split(",")
    cells[column] = hostile
    data = tmp_path / "hostile.csv"
    data.write_text("\n".join([rows[0], ",".join(cells), *rows[2:]]) + "\n")
    proc, out = _validate(tmp_path, data, schema)
    assert proc.returncode == 1 and out["passed"] == "false"
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::stop-commands::")  # the report is printed with commands off
    resumed = lines.index(next(line for line in lines if line == f"::{lines[0].split('::')[2]}::"))
    after = lines[resumed + 1 :]  # what runs with commands on: the annotations
    assert not any(line.startswith(("::set-output", "::warning")) for line in after)
    # The value is shown as a Python literal: its line breaks stay on the annotation's line.
    (annotation,) = (line for line in after if line.startswith("::error "))
    assert "merchant_category: 1 value outside the known categories" in annotation
    assert "\\n::set-output name=passed::true" in annotation
    report = (tmp_path / "dv" / "report.md").read_text()
    assert "Data invalid: 1 problem\n" in report
    assert "<b>" not in report and "\\<b\\>x\\</b\\>\\|" in report


def test_a_true_false_label_gets_a_balance_check_that_fires(tmp_path):
    """`positive-label true` on a true/false column: the bound is on True, not the text 'True'
    (which no bool equals, so every file passed)."""
    rows = [f"{i / 200},{'true' if i % 4 == 0 else 'false'}" for i in range(200)]
    data = tmp_path / "labels.csv"
    data.write_text("x,y\n" + "\n".join(rows) + "\n")
    schema = tmp_path / "labels.yml"
    made = run_cli("infer-schema", "--data", str(data), "--output", str(schema), "--label", "y",
                   "--positive-label", "true")  # fmt: skip
    assert made.returncode == 0, made.stderr
    none_positive = tmp_path / "none.csv"
    none_positive.write_text("x,y\n" + "\n".join(r for r in rows if r.endswith("false")) + "\n")
    proc = run_cli("validate-data", "--data", str(none_positive), "--schema", str(schema),
                   "--output-dir", str(tmp_path / "v"))  # fmt: skip
    assert proc.returncode == 1 and "0.0% of rows are True" in proc.stdout + proc.stderr


def test_annotations_give_a_line_only_when_rows_are_lines():
    import os
    import tempfile

    from mlops_actions.validation.cli import _one_line_per_row

    with tempfile.TemporaryDirectory() as folder:
        plain = os.path.join(folder, "plain.csv")
        with open(plain, "w") as handle:
            handle.write("a,b\n1,2\n3,4")  # no final newline
        spanning = os.path.join(folder, "spanning.csv")
        with open(spanning, "w") as handle:
            handle.write('a,b\n"x\ny",2\n\n1,3\n')  # a value over two lines, a blank line
        assert _one_line_per_row(plain, 2) and not _one_line_per_row(spanning, 2)
        assert not _one_line_per_row(plain + ".gz", 2)
