"""`--help` works for the top level and every command (a stray % in a help text used to crash
`deploy-sagemaker --help` with a traceback)."""

import pytest

from mlops_actions import cli


@pytest.mark.parametrize("command", [None, *cli.COMMANDS])
def test_help_prints_and_exits_zero(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main([command, "--help"] if command else ["--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: mlops-actions") and (command or "") in out


def test_a_percent_in_help_text_is_shown_as_written(capsys):
    with pytest.raises(SystemExit):
        cli.main(["deploy-sagemaker", "--help"])
    assert "in % of capacity" in " ".join(capsys.readouterr().out.split())
