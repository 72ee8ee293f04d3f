"""The runner adapter: annotations, outputs and summaries escape what they carry; untrusted text is
defused and fenced. Checked on the bytes the runner would read."""

import pytest

from mlops_actions.github import runner
from mlops_actions.train.lineage import REDACTED, github_source, redact


@pytest.fixture
def actions(monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    return tmp_path


def test_annotation_message_and_properties_cannot_break_out(actions, capsys):
    runner.annotate(
        "error",
        "line one\n::add-mask::x\r\n100% bad",
        file="a,b:c.yml",
        title="t::x,y",
        line=3,
    )
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one command line, whatever the message holds
    assert out == (
        "::error file=a%2Cb%3Ac.yml,line=3,title=t%3A%3Ax%2Cy::"
        "line one%0A::add-mask::x%0D%0A100%25 bad\n"
    )


def test_multiline_output_uses_a_delimiter_the_value_cannot_contain(actions):
    value = "a\nb=c\nghadelimiter_x\nEOF"
    runner.set_output("report", value)
    text = (actions / "out").read_text()
    head, *body, tail = text.rstrip("\n").split("\n")
    delimiter = head.removeprefix("report<<")
    assert tail == delimiter and delimiter not in value and "\n".join(body) == value


@pytest.mark.parametrize(
    "line,expected",
    [
        ("::set-output name=a::b", ": :set-output name=a::b"),
        ("   ::add-mask::x", "   : :add-mask::x"),
        ("\t::error::x", "\t: :error::x"),
        ("text ##[error]x", "text ## [error]x"),
        ("plain :: text", "plain :: text"),
    ],
)
def test_defuse(line, expected):
    assert runner.defuse(line) == expected


def test_untrusted_output_is_wrapped_in_a_fresh_token(actions, capsys):
    runner.print_untrusted("::warning::x")
    runner.print_untrusted("::warning::y")
    first, _, _, second, *_ = capsys.readouterr().out.splitlines()
    assert first.startswith("::stop-commands::") and second.startswith("::stop-commands::")
    assert first != second  # a token seen once is no use the next time


def test_code_fence_is_longer_than_any_backtick_run():
    assert runner.code_fence("no ticks") == "```"
    assert runner.code_fence("a ```` b") == "`````"


def test_model_card_keeps_only_known_payload_keys_and_hides_credentials():
    payload = {
        "data_uri": "s3://bucket/new?X-Amz-Signature=abc&X-Amz-Credential=AKIA",
        "current_data": "https://feeds.example/today.csv?sig=abcdef",
        "reasons": ["drift", "x" * 1000],
        "metrics": {"recall": 0.8, "db_pwd": "hunter2", "pass": "p", "bearer": "b", "jwt": "j",
                    "private": "k"},
        "monitor_run": "https://user:secret@ci.example/run/1",
        "source_sha": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
        "rows": 40000,
        "api_token": "ghp_xxx",
        "webhook": "https://hooks.slack.com/services/T/B/X",
    }  # fmt: skip
    card = github_source({}, {"client_payload": payload, "inputs": {"signing_key": "k",
                                                                    "note": "Bearer abc"}})  # fmt: skip
    trigger = card["trigger"]
    shown = trigger["client_payload"]
    # keys outside the allow-list are named, never copied
    assert shown["omitted_keys"] == ["api_token", "webhook"] and "ghp_xxx" not in str(card)
    assert shown["data_uri"] == REDACTED  # a presigned URL is a credential
    assert shown["current_data"] == REDACTED
    assert shown["monitor_run"] == REDACTED and shown["source_sha"] == REDACTED
    assert shown["rows"] == 40000 and len(shown["reasons"][1]) == 256
    assert shown["metrics"]["recall"] == 0.8
    assert all(shown["metrics"][k] == REDACTED for k in ("db_pwd", "pass", "bearer", "jwt",
                                                         "private"))  # fmt: skip
    assert trigger["dispatch_inputs"] == {"signing_key": REDACTED, "note": REDACTED}
    plain = github_source({}, {"client_payload": {"data_uri": "https://data.example/x.csv?v=2"}})
    assert plain["trigger"]["client_payload"]["data_uri"] == "https://data.example/x.csv?…"
    # Credentials inside longer text, in other vendors' shapes, in a URL fragment, and as keys.
    for leaked in (
        "curl -H 'Authorization: Bearer sk-abcdefghijklmnop'",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG",
        "xoxb-1234567890-abcdefghij",
        "glpat-abcdefghijklmnopqrst",
        "AIza" + "B" * 35,
        "https://cb.example/done#access_token=abc123",
        "https://user:pa/ss@host.example/x",
    ):
        assert redact({"reasons": [leaked]})["reasons"] == [REDACTED], leaked
    token = "ghp_" + "a" * 36
    keyed = github_source({}, {"client_payload": {"metrics": {token: 1}, token: 2}})["trigger"]
    assert token not in str(keyed) and keyed["client_payload"]["omitted_keys"] == [REDACTED]
    deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}
    assert "…" in str(redact(deep))
