"""A user's mistake in any command, not only the gate: exit 2, one line on stderr that names the
file, field or column and the fix, and no traceback. Run in-process, so an exception that
escapes the commands' error handling fails the test as itself."""

import pandas as pd
import pytest

from mlops_actions import cli

DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Good and bad data files in a working folder the commands run in."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_API_URL", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    rows = [f"{i / 10},{'abc'[i % 3]},{i % 2}" for i in range(300)]
    (tmp_path / "ref.csv").write_text("amount,cat,y\n" + "\n".join(rows) + "\n")
    (tmp_path / "dup.csv").write_text("amount,amount,cat\n1,2,a\n3,4,b\n")
    (tmp_path / "semi.csv").write_text("amount;cat;y\n1,5;a;0\n2,5;b;1\n")
    (tmp_path / "yesno.csv").write_text("x,label\n" + "1,yes\n2,no\n" * 20)
    (tmp_path / "bad_header.csv").write_bytes(b"am\xffount,cat,y\n1,a,0\n")
    (tmp_path / "bad_value.csv").write_bytes(b"amount,cat,y\n1,\xff\xfe,0\n2,a,1\n")
    (tmp_path / "bad.yml").write_bytes(b"drift:\n  alpha: 0.01 # \xff\n")
    (tmp_path / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (tmp_path / "card_list.json").write_text('{"model": [1, 2], "schema_version": 1}')
    (tmp_path / "odd_verdict.json").write_text('{"passed": true, "checks": ["x"]}')
    (tmp_path / "twice.json").write_text('{"passed": false, "metrics": {}, "passed": true}')
    (tmp_path / "huge.yml").write_text("drift:\n  alpha: " + "9" * 5000 + "\n")
    import gzip

    (tmp_path / "packed.csv").write_bytes(gzip.compress(b"amount,cat,y\n1,a,0\n"))
    (tmp_path / "sheet.csv").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    (tmp_path / "header_only.csv").write_text("amount,cat,y\n")
    (tmp_path / "twice.yml").write_text("features: [amount, amount]\n")
    (tmp_path / "odd_schema.yml").write_text("schema_type: dataframe\ncolumns: {amount: 5}\n")
    (tmp_path / "a_dir").mkdir()
    for taken in ("verdict.json", "monitor.json"):
        (tmp_path / "taken" / taken).mkdir(parents=True)
    (tmp_path / "a_file").write_text("not a folder")
    pd.DataFrame({"amount": [1.0, 2.0], "nested": [{"a": 1}, {"a": 2}]}).to_parquet(
        "nested.parquet"
    )
    pd.DataFrame({"amount": [1.0, 2.0]}).to_parquet("parquet_named.csv")
    return tmp_path


MONITOR = ["monitor", "--reference", "ref.csv", "--output-dir", "out"]
GATE = ["gate", "--label-column", "y", "--score-column", "amount", "--output-dir", "out"]
STORE = ["--model-store", "s3://bucket/models", "--model-name", "fraud"]

CASES = {
    "monitor: a column named twice": (
        [*MONITOR, "--current", "dup.csv"],
        {},
        "dup.csv: the header names column 'amount' twice",
    ),
    "monitor: a header that is not UTF-8": (
        [*MONITOR, "--current", "bad_header.csv"],
        {},
        "bad_header.csv: not UTF-8 text (byte 2)",
    ),
    "monitor: a value that is not UTF-8": (
        [*MONITOR, "--current", "bad_value.csv"],
        {},
        "column 'cat' holds text that is not UTF-8",
    ),
    "monitor: a config that is not UTF-8": (
        [*MONITOR, "--current", "ref.csv", "--config", "bad.yml"],
        {},
        "bad.yml: not UTF-8 text",
    ),
    "monitor: Parquet named .csv": (
        [*MONITOR, "--current", "parquet_named.csv"],
        {},
        "this is a Parquet file; name it .parquet",
    ),
    "monitor: semicolon-separated": (
        [*MONITOR, "--current", "semi.csv"],
        {},
        "semi.csv: looks semicolon-separated",
    ),
    "monitor: a folder for a file": (
        [*MONITOR, "--current", "a_dir"],
        {},
        "a_dir: is a directory; give the data file inside it",
    ),
    "monitor: output-dir is a file": (
        ["monitor", "--reference", "ref.csv", "--current", "ref.csv", "--output-dir", "a_file"],
        {},
        "output-dir: 'a_file' exists and is not a directory",
    ),
    "monitor: a performance verdict with odd checks": (
        [*MONITOR, "--current", "ref.csv", "--performance-verdict", "odd_verdict.json"],
        {},
        "odd_verdict.json: field 'checks' must be a list of checks",
    ),
    "monitor: a config number too long to read": (
        [*MONITOR, "--current", "ref.csv", "--config", "huge.yml"],
        {},
        "huge.yml: a value cannot be read",
    ),
    "release-plan: a release tag with a space": (
        ["release-plan", *STORE, "--release-tag", "v1 2"],
        {},
        "release-tag: 'v1 2' is not a release tag name; give the tag",
    ),
    "release-plan: no release tag": (
        ["release-plan", *STORE],
        {},
        "release-tag: give the release's tag",
    ),
    "release-plan: min-staging-minutes that is not a number": (
        ["release-plan", *STORE, "--release-tag", "v1", "--min-staging-minutes", "soon"],
        {},
        "min-staging-minutes: expected a number from 0 to 525600, got 'soon'",
    ),
    "release-plan: an expect-version that is no version name": (
        ["release-plan", *STORE, "--release-tag", "v1", "--expect-version", "../v1"],
        {},
        "expect-version: '../v1' must be 1-128 letters",
    ),
    "release-plan: an output-dir that is a file": (
        ["release-plan", *STORE, "--release-tag", "v1", "--output-dir", "a_file"],
        {},
        "output-dir: 'a_file' is a file; give a folder",
    ),
    "release-plan: a model store that is not one": (
        ["release-plan", "--release-tag", "v1", "--model-store", "gs://bucket"],
        {},
        "model-store: 'gs://bucket' must look like s3://bucket/prefix",
    ),
    "release-plan: an expect-sequence that is no move number": (
        ["release-plan", *STORE, "--release-tag", "v1", "--expect-sequence", "-1"],
        {},
        "expect-sequence: '-1' is not a move number",
    ),
    "promote: a staging record that is not a file": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            '{"passed": true}',
            "--stage",
            "production",
            "--release-tag",
            "v1",
            "--staging-record",
            "missing.json",
        ],
        {},
        "staging-record: 'missing.json' is not a file; give release-plan's staging-record-path",
    ),
    "promote: a staging record for the staging champion": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            '{"passed": true}',
            "--staging-record",
            "ref.csv",
        ],
        {},
        "staging-record: only a production release names one (stage)",
    ),
    "release-readback: after-failure that is no flag": (
        ["release-readback", "--endpoint-name", "fraud", "--after-failure", "maybe"],
        {},
        "after-failure",
    ),
    "rollback-plan: an output-dir that is a file": (
        ["rollback-plan", *STORE, "--output-dir", "a_file"],
        {},
        "output-dir: 'a_file' is a file; give a folder",
    ),
    "promote: a stage that does not exist": (
        ["promote", *STORE, "--version", "v1", "--verdict", '{"passed": true}', "--stage", "prod"],
        {},
        "stage: expected champion or production, got 'prod'",
    ),
    "promote: a production promotion without a release tag": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            '{"passed": true}',
            "--stage",
            "production",
        ],
        {},
        "release-tag: a production promotion names its release: give the tag",
    ),
    "promote: a release tag for the staging champion": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            '{"passed": true}',
            "--release-tag",
            "v1.0.0",
        ],
        {},
        "release-tag: only a production promotion names a release (stage)",
    ),
    "promote: a release tag that is no tag name": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            '{"passed": true}',
            "--stage",
            "production",
            "--release-tag",
            "v1..2",
        ],
        {},
        "release-tag: 'v1..2' is not a release tag name",
    ),
    "release-readback: neither a service nor an endpoint": (
        ["release-readback", "--cluster", "production"],
        {},
        "cluster, service, endpoint-name: give an ECS cluster and service, or a SageMaker",
    ),
    "release-readback: an expected image by tag": (
        ["release-readback", "--endpoint-name", "fraud", "--expect-image", "ghcr.io/a/b:v1"],
        {},
        "expect-image: 'ghcr.io/a/b:v1' must be an image by digest",
    ),
    "release-readback: a region with spaces": (
        ["release-readback", "--endpoint-name", "fraud", "--aws-region", "us east 1"],
        {},
        "aws-region: 'us east 1' is not an AWS region name",
    ),
    "promote: a verdict with a key written twice": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            "twice.json",
            "--aws-region",
            "us-east-1",
        ],
        {},
        "twice.json: the key 'passed' is written twice",
    ),
    "monitor: gzip content named .csv": (
        [*MONITOR, "--current", "packed.csv"],
        {},
        "packed.csv: this is compressed; name it .csv.gz",
    ),
    "monitor: a spreadsheet named .csv": (
        [*MONITOR, "--current", "sheet.csv"],
        {},
        "sheet.csv: this is a zip archive",
    ),
    "monitor: a feature listed twice": (
        [*MONITOR, "--current", "ref.csv", "--config", "twice.yml"],
        {},
        "twice.yml: features: lists 'amount' twice",
    ),
    "infer-schema: a file with no rows": (
        ["infer-schema", "--data", "header_only.csv", "--output", "s.yml"],
        {},
        "header_only.csv: no rows to infer a schema from",
    ),
    "validate-data: a column spec that is not a mapping": (
        ["validate-data", "--data", "ref.csv", "--schema", "odd_schema.yml", "--output-dir", "v"],
        {},
        "odd_schema.yml: columns.amount: expected a mapping",
    ),
    "monitor: an event type with a space": (
        [
            *MONITOR,
            "--current",
            "ref.csv",
            "--dispatch",
            "true",
            "--github-token",
            "t",
            "--repository",
            "a/b",
            "--event-type",
            "model degraded",
        ],
        {},
        "event-type: 'model degraded' is not an event type",
    ),
    "infer-schema: output is a folder": (
        ["infer-schema", "--data", "ref.csv", "--output", "a_dir"],
        {},
        "output: 'a_dir' is a dir",
    ),
    "infer-schema: a positive label the column lacks": (
        ["infer-schema", "--data", "yesno.csv", "--label", "label", "--output", "s.yml"],
        {},
        "positive-label '1' is not a value of label column 'label'",
    ),
    "infer-schema: a nested column": (
        ["infer-schema", "--data", "nested.parquet", "--output", "s.yml"],
        {},
        "column 'nested' is nested (struct<a: int64>); flatten it",
    ),
    "validate-data: a schema that is not UTF-8": (
        ["validate-data", "--data", "ref.csv", "--schema", "bad.yml", "--output-dir", "v"],
        {},
        "bad.yml: not UTF-8 text",
    ),
    "validate-data: a schema nested too deeply": (
        ["validate-data", "--data", "ref.csv", "--schema", "deep.json", "--output-dir", "v"],
        {},
        "deep.json: nested too deeply to read",
    ),
    "gate: a folder for predictions": (
        [*GATE, "--predictions", "a_dir"],
        {},
        "a_dir: is a directory; give the predictions file",
    ),
    "gate: Parquet named .csv": (
        [*GATE, "--predictions", "parquet_named.csv"],
        {},
        "this is a Parquet file",
    ),
    "gate: semicolon-separated": (
        [*GATE, "--predictions", "semi.csv"],
        {},
        "semi.csv: looks semicolon-separated",
    ),
    "fetch-champion: a region with spaces": (
        ["fetch-champion", *STORE, "--aws-region", "us east 1", "--output-dir", "f"],
        {},
        "aws-region: 'us east 1' is not an AWS region name",
    ),
    "fetch-champion: an endpoint URL that does not parse": (
        ["fetch-champion", *STORE, "--aws-region", "us-east-1", "--output-dir", "f"],
        {"AWS_ENDPOINT_URL": "http://[::1"},
        "AWS_ENDPOINT_URL: 'http://[::1' is not a URL",
    ),
    "fetch-champion: an endpoint URL with no scheme": (
        ["fetch-champion", *STORE, "--aws-region", "us-east-1", "--output-dir", "f"],
        {"AWS_ENDPOINT_URL": "localhost:9"},
        "AWS_ENDPOINT_URL: 'localhost:9' is not an http(s) URL",
    ),
    "fetch-champion: an endpoint URL with a space": (
        ["fetch-champion", *STORE, "--aws-region", "us-east-1", "--output-dir", "f"],
        {"AWS_ENDPOINT_URL": "http://local host:4566"},
        "AWS_ENDPOINT_URL: 'http://local host:4566' holds a space",
    ),
    "fetch-champion: an endpoint URL with a newline": (
        ["fetch-champion", *STORE, "--aws-region", "us-east-1", "--output-dir", "f"],
        {"AWS_ENDPOINT_URL": "http://localhost:4566\n"},
        "AWS_ENDPOINT_URL: 'http://localhost:4566\\n' holds a space or control character",
    ),
    "gate: output-dir holds a folder named verdict.json": (
        [*GATE, "--predictions", "ref.csv", "--output-dir", "taken"],
        {},
        "is a directory, where the command writes a file",
    ),
    "monitor: output-dir holds a folder named monitor.json": (
        ["monitor", "--reference", "ref.csv", "--current", "ref.csv", "--output-dir", "taken"],
        {},
        "is a directory, where the command writes a file",
    ),
    "fetch-champion: a store URI that is neither S3 nor MLflow": (
        [
            "fetch-champion",
            "--model-store",
            "mlflow://[::1",
            "--model-name",
            "m",
            "--output-dir",
            "f",
        ],
        {},
        "model-store: 'mlflow://[::1' must look like s3://bucket/prefix",
    ),
    "promote: a verdict nested too deeply": (
        [
            "promote",
            *STORE,
            "--version",
            "v1",
            "--verdict",
            "deep.json",
            "--aws-region",
            "us-east-1",
        ],
        {},
        "deep.json: nested too deeply to read",
    ),
    "dispatch: an API URL with no scheme": (
        ["dispatch", "--repository", "a/b", "--github-token", "t"],
        {"GITHUB_API_URL": "api.github.com"},
        "GITHUB_API_URL: 'api.github.com' is not an http(s) URL",
    ),
    "dispatch: a payload nested too deeply": (
        ["dispatch", "--repository", "a/b", "--github-token", "t", "--payload", "[" * 3000],
        {},
        "payload: nested too deeply to read",
    ),
    "package: a model card that is a list": (
        [
            "package",
            "--image",
            f"r@{DIGEST}",
            "--model",
            "ref.csv",
            "--model-card",
            "card_list.json",
            "--version",
            "v1",
            "--serving-image",
            "ghcr.io/a/b",
        ],
        {},
        "model-card: card_list.json is not a model card with model.sha256",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_mistake_is_one_line_and_exit_2(files, monkeypatch, capsys, case):
    argv, env, expected = CASES[case]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert expected in lines[0], lines[0]
    # Nothing was written that could pass for a result.
    for out in ("out", "v", "f"):
        assert not (files / out / "verdict.json").exists()
        assert not (files / out / "report.json").exists()
    assert not (files / "s.yml").exists()


def test_the_table_covers_every_command_that_reads_user_files():
    covered = {case.split(":")[0] for case in CASES}
    readers = {"monitor", "infer-schema", "validate-data", "gate", "fetch-champion", "promote",
               "dispatch", "package"}  # fmt: skip
    assert readers <= covered and covered <= set(cli.COMMANDS)
