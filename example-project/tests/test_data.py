import hashlib
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_committed_data_is_what_the_generator_makes(tmp_path):
    out = tmp_path / "t.csv"
    subprocess.run(
        [sys.executable, str(PROJECT / "data" / "generate.py"), "--output", str(out)], check=True
    )
    committed = (PROJECT / "data" / "transactions.csv").read_bytes()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(committed).hexdigest()


def test_data_is_imbalanced_about_two_percent_fraud():
    lines = (PROJECT / "data" / "transactions.csv").read_text().splitlines()[1:]
    fraud = sum(line.endswith(",1") for line in lines)
    assert 0.015 <= fraud / len(lines) <= 0.025
    regions = {line.split(",")[7] for line in lines}
    assert regions == {"north", "south", "east", "west"}
