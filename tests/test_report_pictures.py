"""The reports' pictures as a person sees them: the gate's and the monitor's Markdown (every
Mermaid block parsed by the npm mermaid package in headless Chromium), report.html rendered by
that Chromium (its SVG charts' numbers equal to verdict.json and monitor.json), the terminal's
plain text, GitHub's size limits, hostile names from the data, and the curves against
scikit-learn."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_cli
from mlops_actions.gate import curves
from mlops_actions.reporting import doc, html, markdown
from support import browser

HOSTILE = ["<script>alert(1)</script>", 'a"b]c', "</svg><b>x</b>", "::warning::pwned"]


def _need_browser() -> None:
    try:
        browser.chromium()
        browser.mermaid_js()
    except browser.Missing as exc:
        pytest.fail(str(exc))


# ---------------------------------------------------------------- the curves against sklearn


@pytest.mark.parametrize("n,seed,ties", [(50, 1, False), (4000, 2, True), (700, 3, True)])
def test_curve_points_equal_sklearn(n, seed, ties):
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.2
    score = np.clip(rng.normal(0.3 + 0.35 * y, 0.2), 0, 1)
    if ties:
        score = score.round(2)  # many tied scores, as a coarse model gives
    drawn = curves.compute(y, score, 0.5)

    fpr, tpr, thr = roc_curve(y, score, drop_intermediate=False)
    at = {round(float(t), 4): (f, r) for f, r, t in zip(fpr, tpr, thr, strict=True)}
    roc = drawn["roc"]
    assert roc["points"][0] == {"threshold": None, "fpr": 0.0, "tpr": 0.0}
    assert 2 < len(roc["points"]) <= curves.MAX_POINTS + 2
    for p in roc["points"][1:]:
        f, r = at[p["threshold"]]
        assert p["fpr"] == pytest.approx(f, abs=6e-5) and p["tpr"] == pytest.approx(r, abs=6e-5)
    # The grid: the best TPR among sklearn's operating points with FPR at most x.
    for x, got in zip(roc["grid"]["fpr"], roc["grid"]["tpr"], strict=True):
        assert got == pytest.approx(tpr[fpr <= x + 1e-12].max(), abs=6e-5)

    precision, recall, thr = precision_recall_curve(y, score, drop_intermediate=False)
    at = {round(float(t), 4): (p, r) for p, r, t in zip(precision, recall, thr, strict=False)}
    for p in drawn["pr"]["points"]:
        want_p, want_r = at[p["threshold"]]
        assert p["precision"] == pytest.approx(want_p, abs=6e-5)
        assert p["recall"] == pytest.approx(want_r, abs=6e-5)
    # The grid: the precision at the highest threshold whose recall reaches r.
    for r, got in zip(drawn["pr"]["grid"]["recall"], drawn["pr"]["grid"]["precision"], strict=True):
        reached = recall[:-1] >= max(r, 1 / y.sum()) - 1e-12
        assert got == pytest.approx(precision[:-1][reached][np.argmax(thr[reached])], abs=6e-5)

    observed, predicted = calibration_curve(y, score, n_bins=10, strategy="uniform")
    bins = drawn["calibration"]
    assert [b["observed"] for b in bins] == pytest.approx(observed, abs=6e-5)
    assert [b["mean_score"] for b in bins] == pytest.approx(predicted, abs=6e-5)
    assert sum(b["rows"] for b in bins) == n and sum(b["positives"] for b in bins) == y.sum()

    hist = drawn["histogram"]
    want_pos, _ = np.histogram(score[y], bins=20, range=(0, 1))
    want_neg, _ = np.histogram(score[~y], bins=20, range=(0, 1))
    assert hist["positives"] == want_pos.tolist() and hist["negatives"] == want_neg.tolist()


def test_curves_need_both_classes():
    y = np.ones(30, dtype=bool)
    drawn = curves.compute(y, np.linspace(0, 1, 30), 0.5)
    assert drawn["roc"] is None and drawn["pr"] is not None


# ---------------------------------------------------------------- the gate's report


def _gate_inputs(tmp_path: Path, n: int = 3000, seed: int = 7) -> list[str]:
    """Fresh data (not the example project's): a challenger, its champion on the same rows,
    and a group column whose names are hostile."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    s = np.clip(rng.normal(0.3 + 0.4 * y, 0.17), 0, 1).round(6)
    c = np.clip(rng.normal(0.32 + 0.35 * y, 0.17), 0, 1).round(6)
    region = rng.choice(HOSTILE, n)

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    (tmp_path / "pred.csv").write_text(
        "id,label,p,region\n"
        + "".join(f"{i},{y[i]},{s[i]},{quoted(region[i])}\n" for i in range(n))
    )
    (tmp_path / "champ.csv").write_text(
        "id,label,p\n" + "".join(f"{i},{y[i]},{c[i]}\n" for i in range(n))
    )
    (tmp_path / "gate.yml").write_text(
        "columns: {id: id, label: label, score: p}\n"
        "metrics:\n  precision: {min: 0.5}\n  recall: {min: 0.5}\n"
        "baseline:\n  recall: {max_drop: 0.05}\n  roc_auc: {max_drop: 0.02}\n"
        "  log_loss: {max_drop: 0.05}\n"
        "fairness:\n  group_columns: [region]\n  metrics: {recall: {max_difference: 0.3}}\n"
    )
    return [
        "gate",
        "--predictions",
        str(tmp_path / "pred.csv"),
        "--champion-predictions",
        str(tmp_path / "champ.csv"),
        "--config",
        str(tmp_path / "gate.yml"),
    ]


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate")
    out = tmp / "out"
    proc = run_cli(*_gate_inputs(tmp), "--output-dir", str(out), "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    return {
        "proc": proc,
        "out": out,
        "verdict": json.loads((out / "verdict.json").read_text()),
        "markdown": (out / "report.md").read_text(),
        "html": out / "report.html",
    }


def test_gate_markdown_has_the_charts_and_every_mermaid_block_parses(gate_run):
    _need_browser()
    md = gate_run["markdown"]
    blocks = browser.mermaid_blocks(md)
    titles = [re.search(r'title "([^"]*)"', b).group(1) for b in blocks]
    for wanted in (
        "ROC curve",
        "Precision-recall curve",
        "Calibration",
        "Scores by class",
        "recall by region",
    ):
        assert any(t.startswith(wanted) for t in titles), (wanted, titles)
    # The differences go below zero: Mermaid would draw them as tall bars; report.html has them.
    assert not any(t.startswith("Challenger − champion") for t in titles)
    assert "Challenger − champion, with the allowed limit” is in report.html" in md
    results = browser.parse_mermaid(blocks)
    failed = [(t, r["error"]) for t, r in zip(titles, results, strict=True) if not r["ok"]]
    assert not failed, failed
    assert all(r["type"] == "xychart" for r in results)
    # A broken block does fail: the check is not vacuous.
    broken = browser.parse_mermaid([blocks[0].replace("line [", "line [,", 1)])
    assert not broken[0]["ok"]


def test_gate_mermaid_numbers_are_the_verdicts(gate_run):
    v = gate_run["verdict"]["curves"]
    roc = next(b for b in browser.mermaid_blocks(gate_run["markdown"]) if "ROC curve" in b)
    lines = [line for line in roc.splitlines() if line.strip().startswith("line [")]
    first = [float(x) for x in lines[0].strip()[len("line [") : -1].split(",")]
    second = [float(x) for x in lines[1].strip()[len("line [") : -1].split(",")]
    assert first == v["challenger"]["roc"]["grid"]["tpr"]
    assert second == v["champion"]["roc"]["grid"]["tpr"]


def test_gate_html_in_chromium_shows_the_verdicts_numbers(gate_run, tmp_path):
    _need_browser()
    page = gate_run["html"]
    text = page.read_text()
    # Self-contained: no script, no fetched resource (the SVG namespace is a name, not a fetch).
    assert "<script" not in text.lower()
    assert not re.search(r"(src|href)\s*=|url\(|@import", text, re.I)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    dom = browser.dump_dom(page)
    found = browser.charts(dom)
    assert "script" not in found.tags  # the hostile group names stayed text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    for key in ("roc", "pr", "calibration", "histogram", "differences", "fairness-0"):
        assert key in found.figures, (key, list(found.figures))
    v = gate_run["verdict"]
    mine, theirs = v["curves"]["challenger"], v["curves"]["champion"]

    def labelled(points, x, y):
        return {
            f"threshold {doc.num(p['threshold'])}: {x} {doc.num(p[x])}, {y} {doc.num(p[y])}"
            for p in points
        }

    roc_titles = set(found.figures["roc"]["titles"])
    assert {f"challenger: {t}" for t in labelled(mine["roc"]["points"], "fpr", "tpr")} <= roc_titles
    assert {f"champion: {t}" for t in labelled(theirs["roc"]["points"], "fpr", "tpr")} <= roc_titles
    pr_titles = set(found.figures["pr"]["titles"])
    assert {
        f"challenger: {t}" for t in labelled(mine["pr"]["points"], "recall", "precision")
    } <= pr_titles
    assert found.figures["pr"]["rules"] == [mine["pr"]["prevalence"]]
    calibration = found.figures["calibration"]["values"]
    bins = mine["calibration"]
    assert calibration == [b["observed"] for b in bins] + [b["mean_score"] for b in bins]
    hist = mine["histogram"]
    assert found.figures["histogram"]["values"] == hist["positive_share"] + hist["negative_share"]
    baseline = [c for c in v["checks"] if c["kind"] == "baseline"]
    diffs = found.figures["differences"]
    assert diffs["values"][: len(baseline)] == [round(c["difference"], 4) for c in baseline]
    assert diffs["values"][len(baseline) :] == [round(c["limit"], 4) for c in baseline]
    with_ci = [c["difference_ci"] for c in baseline if c["difference_ci"]]
    assert diffs["intervals"] == [(round(a, 4), round(b, 4)) for a, b in with_ci]
    fairness = next(c for c in v["checks"] if c["kind"] == "fairness")
    groups = sorted(v["groups"]["region"].items())
    assert found.figures["fairness-0"]["values"] == [
        round(g["metrics"]["recall"]["value"], 4) for _, g in groups
    ]
    assert found.figures["fairness-0"]["rules"] == [round(fairness["limit"], 4)]
    png = tmp_path / "gate.png"
    browser.screenshot(page, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gate_hostile_names_stay_text(gate_run):
    md, proc = gate_run["markdown"], gate_run["proc"]
    assert "<script>" not in md and "</svg>" not in md
    assert "\\<script\\>alert(1)\\</script\\>" in md
    for block in browser.mermaid_blocks(md):
        for line in block.splitlines()[2:]:  # past the init directive and the chart type
            # a quote inside a label would end it early: every label is one "..." string
            assert (
                line.count('"') % 2 == 0
                and "<" not in line
                and "]" not in line[:-1].split("[", 1)[-1]
            )
    assert not any(line.startswith("::warning::pwned") for line in proc.stdout.splitlines())


def _on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal, as a person at a shell does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env["PYTHONPATH"] = str(REPO / "scripts")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_actions", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_gate_on_a_terminal_prints_plain_text(tmp_path):
    code, shown = _on_a_terminal(
        [
            *_gate_inputs(tmp_path, n=800),
            "--output-dir",
            str(tmp_path / "out"),
            "--fail-on",
            "never",
        ]
    )
    assert code == 0, shown[-2000:]
    assert "Model gate" in shown and "[chart] ROC curve" in shown
    assert "roc_auc" in shown and "roc\\_auc" not in shown
    assert not re.search(r"\\[_<>|*\[\]`#]", shown), "a Markdown escape reached the terminal"
    assert "```" not in shown and "<!--" not in shown and "| ---" not in shown
    assert "(lower is better)" in shown  # log_loss's bar says which way is good
    assert "<script>alert(1)</script>" in shown  # shown as the text it is, not escaped


# ---------------------------------------------------------------- GitHub's size limits


def _big_report(rows: int) -> doc.Report:
    figure = doc.Figure("f", "t", "x", "y", ("a", "b"), (doc.Series("s", (0.1, 0.2)),), (0, 1))
    table = doc.Table(("name", "value"), tuple((f"row {i}" * 5, str(i)) for i in range(rows)))
    return doc.Report("big", (doc.Heading("Big"), figure, table, figure), marker="<!-- m -->")


def test_markdown_over_the_limit_cuts_charts_first_then_the_tail():
    report = _big_report(300)
    full = markdown.render(report)
    assert full.count("```mermaid") == 2
    lean = markdown.render(report, limit=len(full.encode()) - 10)
    assert "```mermaid" not in lean and "Charts left out" in lean and "row 299" in lean
    assert lean.startswith("<!-- m -->")
    tiny = markdown.render(report, limit=4000)
    assert len(tiny.encode()) <= 4000 and "report cut at GitHub's size limit" in tiny
    assert "```mermaid" not in tiny
    huge = _big_report(3000)
    comment = markdown.comment(huge)
    assert len(comment) <= markdown.COMMENT_LIMIT < len(markdown.render(huge))
    assert len(markdown.render(_big_report(40_000)).encode()) <= markdown.SUMMARY_LIMIT


def test_mermaid_labels_cannot_break_the_chart():
    _need_browser()
    names = (*HOSTILE, "%%{init: x}%%", "```", "a;b#c&d", "x\ny", "名前", "—")
    figure = doc.Figure(
        "h",
        'ti"tle]',
        'x"]',
        "y",
        names,
        (doc.Series("s", tuple(0.1 * i for i in range(len(names))), kind="bar"),),
        (0, 1),
    )
    block = markdown.mermaid(figure)
    assert "<" not in block.split("xychart-beta", 1)[1] and "```" not in block[3:-3]
    result = browser.parse_mermaid(browser.mermaid_blocks(block))
    assert result[0]["ok"], result


# ---------------------------------------------------------------- the monitor's report


def _feeds(tmp_path: Path, shift: float, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    n = 1500
    ref = tmp_path / "reference.csv"
    cur = tmp_path / f"current-{seed}.csv"
    kinds = ["card", "cash", HOSTILE[0], HOSTILE[1]]

    def write(path: Path, amount, kind, age):
        path.write_text(
            "amount,kind,age\n"
            + "".join(
                f'{a:.3f},"{k.replace(chr(34), chr(34) * 2)}",{g}\n'
                for a, k, g in zip(amount, kind, age, strict=True)
            )
        )

    write(
        ref,
        rng.normal(100, 15, n),
        rng.choice(kinds[:3], n, p=[0.6, 0.3, 0.1]),
        rng.integers(18, 80, n),
    )
    kind = (
        rng.choice(kinds, n, p=[0.4, 0.2, 0.1, 0.3])
        if shift
        else rng.choice(kinds[:3], n, p=[0.6, 0.3, 0.1])
    )
    write(cur, rng.normal(100 + shift, 15, n), kind, rng.integers(18, 80, n))
    return ref, cur


@pytest.fixture(scope="module")
def monitor_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monitor")
    history = tmp / "history"
    for i, shift in enumerate((0.0, 2.0)):
        ref, cur = _feeds(tmp, shift, seed=10 + i)
        proc = run_cli(
            "monitor",
            "--reference",
            str(ref),
            "--current",
            str(cur),
            "--output-dir",
            str(history / f"run-{i}"),
        )
        assert proc.returncode == 0, proc.stderr
    ref, cur = _feeds(tmp, 12.0, seed=20)
    out = tmp / "out"
    proc = run_cli(
        "monitor",
        "--reference",
        str(ref),
        "--current",
        str(cur),
        "--output-dir",
        str(out),
        "--history",
        str(history),
        "--html",
        str(tmp / "page.html"),
    )
    assert proc.returncode == 0, proc.stderr
    return {
        "proc": proc,
        "document": json.loads((out / "monitor.json").read_text()),
        "markdown": (out / "report.md").read_text(),
        "html": tmp / "page.html",
        "history": history,
    }


def test_monitor_markdown_charts_parse(monitor_run):
    _need_browser()
    md, document = monitor_run["markdown"], monitor_run["document"]
    assert document["features"]["amount"]["status"] == "drifted"
    assert document["features"]["kind"]["status"] == "drifted"
    blocks = browser.mermaid_blocks(md)
    titles = [re.search(r'title "([^"]*)"', b).group(1) for b in blocks]
    assert "Drift of each feature against its threshold" in titles
    assert "Drift level over time" in titles
    assert "amount: reference and current" in titles and "kind: reference and current" in titles
    results = browser.parse_mermaid(blocks)
    assert all(r["ok"] for r in results), results
    kind = next(b for b in blocks if "kind: reference" in b)
    assert "(unseen)" in kind  # the new categories' bin is drawn
    levels = next(b for b in blocks if "against its threshold" in b)
    bars = [float(x) for x in re.search(r"bar \[([^\]]*)\]", levels).group(1).split(",")]
    assert sorted(bars) == sorted(f["level"] for f in document["features"].values())


def test_monitor_html_in_chromium_shows_monitor_json_numbers(monitor_run):
    _need_browser()
    document = monitor_run["document"]
    dom = browser.dump_dom(monitor_run["html"])
    found = browser.charts(dom)
    assert "script" not in found.tags
    features = document["features"]
    assert sorted(found.figures["drift-levels"]["values"]) == sorted(
        f["level"] for f in features.values()
    )
    assert found.figures["drift-levels"]["rules"] == [1.0]
    for name in ("amount", "kind"):
        bins = features[name]["bins"]
        assert found.figures[f"bins-{name}"]["values"] == bins["reference"] + bins["current"]
    history = found.figures["drift-history"]
    earlier = sorted(
        (json.loads(p.read_text()) for p in monitor_run["history"].glob("*/monitor.json")),
        key=lambda d: d["generated_at"],
    )
    for name in ("amount", "kind"):
        wanted = [d["features"][name]["level"] for d in earlier] + [features[name]["level"]]
        titles = [t for t in history["titles"] if t.startswith(f"{name} · ")]
        assert [float(t.rsplit(": ", 1)[1]) for t in titles] == wanted


def test_monitor_bad_history_and_html_are_one_line_errors(tmp_path, monitor_run):
    ref, cur = _feeds(tmp_path, 0.0, seed=30)
    base = ["monitor", "--reference", str(ref), "--current", str(cur)]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "monitor.json").write_text('{"features": {"amount": {"level": "high"}}}')
    (tmp_path / "dir.html").mkdir()
    cases = [
        (["--history", str(tmp_path / "nope")], "does not exist"),
        (["--history", str(bad)], "field 'features.amount.level'"),
        (["--html", str(tmp_path / "dir.html")], "is a directory"),
    ]
    for extra, message in cases:
        out = tmp_path / f"out-{len(extra[1])}"
        proc = run_cli(*base, "--output-dir", str(out), *extra)
        assert proc.returncode == 2, (extra, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert not (out / "monitor.json").exists() and not (out / "report.md").exists()


def test_gate_html_that_is_a_directory_is_refused_before_the_work(tmp_path):
    (tmp_path / "r.html").mkdir()
    out = tmp_path / "out"
    proc = run_cli(
        *_gate_inputs(tmp_path, n=300), "--output-dir", str(out), "--html", str(tmp_path / "r.html")
    )
    assert proc.returncode == 2 and "html:" in proc.stderr and "is a directory" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (out / "verdict.json").exists()


# ---------------------------------------------------------------- docs


def test_readme_shows_the_screenshots():
    readme = (REPO / "README.md").read_text()
    for name in ("gate-report.png", "monitor-report.png"):
        png = REPO / "docs" / name
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"docs/{name}" in readme


def test_code_spans_cannot_be_closed_or_break_a_table():
    assert markdown.code("my_file.csv") == "`my_file.csv`"  # no escapes shown inside code
    assert markdown.code("a`b|c", in_table=True) == "``a`b\\|c``"
    # outside a table a backslash before | would show: none is written there
    assert markdown.code("a`b|c") == "``a`b|c``"
    table = doc.Table(("file",), ((doc.Code("x|y"),),))
    md = markdown.render(doc.Report("r", (doc.Paragraph(("see ", doc.Code("x|y"))), table)))
    assert "see `x|y`" in md and "| `x\\|y` |" in md
    assert markdown.code("`x") == "`` `x ``"
    assert markdown.code("two\nlines") == "`two lines`"


# ---------------------------------------------------------------- --html never over another file


def _one_line_refusal(proc, *names: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "--html" in proc.stderr and "of its own" in proc.stderr
    for name in names:
        assert name in proc.stderr, (name, proc.stderr)


def test_gate_html_over_an_input_or_an_output_is_refused_and_nothing_is_touched(tmp_path):
    args = _gate_inputs(tmp_path, n=300)
    out = tmp_path / "g9"
    before = {
        name: (tmp_path / name).read_bytes() for name in ("pred.csv", "champ.csv", "gate.yml")
    }
    cases = [
        (str(tmp_path / "pred.csv"), "predictions file"),
        (str(tmp_path / "champ.csv"), "champion-predictions file"),
        (str(tmp_path / "gate.yml"), "config file"),
        (str(out / "verdict.json"), "verdict.json output"),
        (str(out / ".." / "g9" / "report.md"), "report.md output"),
    ]
    for page, role in cases:
        proc = run_cli(*args, "--output-dir", str(out), "--html", page)
        _one_line_refusal(proc, role)
        assert not out.exists(), "refused before output-dir was made"
    # a hard link to an input is that input too
    os.link(tmp_path / "pred.csv", tmp_path / "linked.csv")
    _one_line_refusal(run_cli(*args, "--output-dir", str(out), "--html",
                              str(tmp_path / "linked.csv")), "predictions file")  # fmt: skip
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data, f"{name} was changed"


def test_gate_html_elsewhere_survives_a_failed_run_and_is_replaced_whole(tmp_path):
    args = _gate_inputs(tmp_path, n=300)
    mine = tmp_path / "keep" / "page.html"
    mine.parent.mkdir()
    mine.write_text("the user's own page")
    proc = run_cli(*args, "--thresholds", "recall>=", "--output-dir", str(tmp_path / "o"),
                   "--html", str(mine))  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert mine.read_text() == "the user's own page", "a failed run removed a file of the user's"
    proc = run_cli(*args, "--output-dir", str(tmp_path / "o"), "--html", str(mine),
                   "--fail-on", "never")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert mine.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in mine.parent.iterdir()] == ["page.html"]  # no temp file left


def test_monitor_html_over_an_input_or_an_output_is_refused(tmp_path, monitor_run):
    ref, cur = _feeds(tmp_path, 0.0, seed=31)
    before = {p: p.read_bytes() for p in (ref, cur)}
    earlier = next(monitor_run["history"].glob("*/monitor.json"))
    kept = earlier.read_bytes()
    out = tmp_path / "m"
    base = ["monitor", "--reference", str(ref), "--current", str(cur), "--output-dir", str(out)]
    cases = [
        (str(ref), "reference data"),
        (str(cur), "current data"),
        (str(out / "monitor.json"), "monitor.json output"),
        (str(earlier), "history file"),
    ]
    for page, role in cases:
        proc = run_cli(*base, "--history", str(monitor_run["history"]), "--html", page)
        _one_line_refusal(proc, role)
        assert not out.exists()
    for path, data in before.items():
        assert path.read_bytes() == data
    assert earlier.read_bytes() == kept


# ---------------------------------------------------------------- axis labels stay distinct


def _x_labels(block: str) -> list[str]:
    axis = next(line for line in block.splitlines() if line.strip().startswith("x-axis"))
    return re.findall(r'"([^"]*)"', axis.split("[", 1)[1])


COLLIDING = (
    "region_north_east_1",
    "region_north_east_2",
    "region_north_east_1 × tier_gold",  # a crossed fairness slice
    "region_north_east_2 × tier_gold",
    "a_very_long_prefix_here_then_same_end",
    "a_very_long_prefix_there_then_same_end",
    "short",
)


def test_mermaid_axis_labels_of_long_colliding_names_stay_distinct():
    _need_browser()
    figure = doc.Figure(
        "c", "t", "group", "recall", COLLIDING,
        (doc.Series("recall", tuple(0.1 * i for i in range(len(COLLIDING))), kind="bar"),),
        (0, 1),
    )  # fmt: skip
    block = markdown.mermaid(figure)
    labels = _x_labels(block)
    assert len(labels) == len(COLLIDING) and len(set(labels)) == len(labels), labels
    assert all(len(label) <= markdown.LABEL_LIMIT for label in labels), labels
    assert labels[0].endswith("_1") and labels[1].endswith("_2")  # the end is kept
    assert labels[-1] == "short"
    result = browser.parse_mermaid(browser.mermaid_blocks(block))
    assert result[0]["ok"], result


def test_html_axis_labels_of_long_colliding_names_stay_distinct():
    figure = doc.Figure(
        "c", "t", "group", "recall", COLLIDING,
        (doc.Series("recall", tuple(0.1 * i for i in range(len(COLLIDING))), kind="bar"),),
        (0, 1),
    )  # fmt: skip
    svg = html.svg(figure)
    labels = re.findall(r'<text [^>]*transform="rotate\(-30[^>]*>([^<]*)</text>', svg)
    assert len(labels) == len(COLLIDING) and len(set(labels)) == len(labels), labels


# ---------------------------------------------------------------- charts that cannot mislead


def _verdict_with_groups(metric: str, groups: dict[str, tuple[float, float, float]], limit):
    return {
        "checks": [
            {"kind": "fairness", "group_column": "region", "metric": metric,
             "rule": "max_difference", "limit": limit},
        ],
        "groups": {
            "region": {
                name: {"metrics": {metric: {"value": v, "ci": [lo, hi]}}}
                for name, (v, lo, hi) in groups.items()
            }
        },
    }  # fmt: skip


def test_negative_differences_are_not_drawn_as_mermaid_bars():
    from mlops_actions.gate.report import difference_figure

    verdict = {"checks": [
        {"kind": "baseline", "metric": "recall", "difference": -0.03,
         "difference_ci": [-0.05, -0.01], "limit": -0.05},
        {"kind": "baseline", "metric": "roc_auc", "difference": 0.01,
         "difference_ci": [-0.002, 0.02], "limit": -0.02},
    ]}  # fmt: skip
    figure = difference_figure(verdict)
    assert figure is not None and figure.y_range[0] < 0
    report = doc.Report("r", (doc.Heading("x"), figure))
    md = markdown.render(report)
    assert "```mermaid" not in md, "a negative difference would rise from the axis minimum"
    assert "report.html" in md
    # report.html draws it, with the bars going down from zero
    svg = html.svg(figure)
    assert 'data-value="-0.03"' in svg and 'data-value="0.01"' in svg


def test_mermaid_category_charts_leave_intervals_and_ticks_to_report_html():
    figure = doc.Figure(
        "f", "recall by region", "region", "recall", ("a", "b", "c"),
        (
            doc.Series("recall", (0.7, 0.8, 0.75), kind="bar", low=(0.6, 0.7, 0.7),
                       high=(0.8, 0.9, 0.8)),
            doc.Series("allowed", (0.5, 0.55, 0.6), kind="tick"),
        ),
        (0, 1),
        rules=(doc.Rule(0.6, "lowest allowed"),),
    )  # fmt: skip
    md = markdown.render(doc.Report("r", (figure,)))
    block = browser.mermaid_blocks(md)[0]
    plots = [
        line.strip() for line in block.splitlines() if line.strip().startswith(("bar", "line"))
    ]
    assert plots == ["bar [0.7, 0.8, 0.75]", "line [0.6, 0.6, 0.6]"], plots
    assert "recall intervals, allowed: in report.html and the table" in md


def test_fairness_axis_holds_every_value_interval_and_limit():
    from mlops_actions.gate.report import fairness_figures

    verdict = _verdict_with_groups("log_loss", {"a": (0.9, 0.7, 1.4), "b": (1.2, 1.0, 1.6)}, 0.95)
    figure = fairness_figures(None, verdict)[0]
    low, high = figure.y_range
    assert low <= 0.7 and high >= 1.6, figure.y_range  # log loss is not capped at 1
    verdict = _verdict_with_groups("recall", {"a": (0.5, 0.31, 0.69), "b": (0.9, 0.8, 0.97)}, 0.6)
    figure = fairness_figures(None, verdict)[0]
    low, high = figure.y_range
    assert low <= 0.31 and 0.97 <= high <= 1.0, figure.y_range  # a share: at most 1
    svg = html.svg(figure)
    assert "beyond the axis" not in svg


def test_html_never_clips_a_whisker_silently():
    figure = doc.Figure(
        "f", "t", "g", "v", ("a", "b"),
        (doc.Series("v", (0.5, 0.6), kind="bar", low=(0.4, -0.2), high=(0.6, 1.3)),),
        (0, 1),
    )  # fmt: skip
    svg = html.svg(figure)
    assert svg.count('data-clipped="true"') == 1 and svg.count('class="ci-cut"') == 2
    assert "interval -0.2 – 1.3 (beyond the axis: drawn to its edge)" in svg


# ---------------------------------------------------------------- control characters and mentions

NASTY = "\x1b[2J\x07grp\u202eevil\u2066x\u200b @team"


def _no_controls(text: str) -> None:
    import unicodedata

    bad = sorted({hex(ord(ch)) for ch in text if unicodedata.category(ch)[0] == "C"} - {"0xa"})
    assert not bad, bad


def test_markdown_cells_and_code_spans_carry_no_control_character_and_no_mention():
    from mlops_actions.charts import cell

    shown = cell(NASTY, 200)
    _no_controls(shown)
    assert "@team" not in shown and "@&#8203;team" in shown
    spans = markdown.code(NASTY)
    _no_controls(spans)
    assert "grp?evil?x?" in spans
    page = html.render(doc.Report("r", (doc.Paragraph(NASTY),)))
    _no_controls(page)


def test_gate_report_and_piped_stdout_carry_no_control_character_from_the_data(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1).round(4)
    groups = [NASTY, "plain"]
    (tmp_path / "p.csv").write_text(
        "label,p,region\n" + "".join(f'{y[i]},{s[i]},"{groups[i % 2]}"\n' for i in range(n))
    )
    proc = run_cli(
        "gate", "--predictions", str(tmp_path / "p.csv"), "--score-column", "p",
        "--group-columns", "region", "--thresholds", "recall>=0.1",
        "--output-dir", str(tmp_path / "out"), "--fail-on", "never",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "out" / "report.md").read_text()
    assert "grp" in md
    for shown in (md, proc.stdout):
        _no_controls(shown)
        assert "@team" not in shown


def test_monitor_levels_chart_counts_capped_and_unscored_features_apart():
    from types import SimpleNamespace

    from mlops_actions.monitor.report import levels_figure

    def feature(name: str, level):
        return SimpleNamespace(status="drifted" if level else "not_judged",
                               drift=SimpleNamespace(name=name))  # fmt: skip

    levels = {f"f{i:02d}": 1.0 + i / 100 for i in range(35)} | {"blank1": None, "blank2": None}
    decision = SimpleNamespace(features=[feature(n, v) for n, v in levels.items()])
    document = {"features": {n: {"level": v} for n, v in levels.items()}}
    figure = levels_figure(decision, document)
    assert len(figure.categories) == 30 and figure.title.endswith("(first 30 shown)")
    assert "The 30 most drifted of 35 scored features are shown" in figure.caption
    assert "2 features without a score are not drawn" in figure.caption
    assert figure.categories[0] == "f34"  # the most drifted kept


def test_champion_curves_reuse_the_scores_the_paired_comparison_sorted(tmp_path, monkeypatch):
    from mlops_actions.gate import run as gate_run_module

    rng = np.random.default_rng(5)
    n = 600
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1).round(4)
    c = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 1e-6, 0.99) + 1e-9  # off the 6-decimal grid
    (tmp_path / "p.csv").write_text("id,label,p\n" + "".join(
        f"{i},{y[i]},{s[i]}\n" for i in range(n)))  # fmt: skip
    (tmp_path / "c.csv").write_text("id,label,p\n" + "".join(
        f"{i},{y[i]},{float(c[i])!r}\n" for i in range(n)))  # fmt: skip
    (tmp_path / "gate.yml").write_text(
        "columns: {id: id, label: label, score: p}\nbaseline:\n  roc_auc: {max_drop: 0.05}\n"
    )
    calls = []
    real = curves.compute

    def spy(y_true, score, threshold, sorted_scores=None):
        calls.append(sorted_scores)
        return real(y_true, score, threshold, sorted_scores)

    monkeypatch.setattr(curves, "compute", spy)
    request = gate_run_module.GateRequest(
        output_dir=str(tmp_path / "o"), predictions=str(tmp_path / "p.csv"),
        champion_predictions=str(tmp_path / "c.csv"), config=str(tmp_path / "gate.yml"),
    )  # fmt: skip
    result = gate_run_module.compute(request)
    assert result.curves is not None and "champion" in result.curves
    assert len(calls) == 2 and calls[1] is not None, "the champion's scores were sorted twice"
    pos, neg = calls[1]
    champion_scores = np.array([float(x) for x in c])
    assert np.array_equal(pos, np.sort(champion_scores[y == 1]))
    assert np.array_equal(neg, np.sort(champion_scores[y == 0]))


def test_intervals_in_tables_are_written_as_the_charts_and_json_write_them(gate_run):
    md = gate_run["markdown"]
    intervals = gate_run["verdict"]["intervals"]
    with_ci = {n: (i["low"], i["high"]) for n, i in intervals.items() if i["low"] is not None}
    assert len(with_ci) >= 5
    for name, (low, high) in with_ci.items():
        shown = name.replace("_", "\\_")  # the Markdown escape of a name
        row = next(line for line in md.splitlines() if line.startswith(f"| {shown} |"))
        assert f"| {doc.num(low)} – {doc.num(high)} |" in row, (name, row)


def test_a_cut_comment_points_where_a_comment_reader_can_look():
    for report in (_big_report(300), _big_report(3000)):  # charts cut; then the tail as well
        comment = markdown.comment(report)
        if len(markdown.render(report)) <= markdown.COMMENT_LIMIT:
            continue
        note = [line for line in comment.splitlines() if "size limit" in line]
        assert note and all("job summary" in line and "report.html artifact" in line
                            for line in note), note  # fmt: skip
        assert not any("report.md" in line for line in note), note
    assert "report cut at GitHub's size limit" in markdown.comment(_big_report(3000))


def test_history_a_run_without_the_feature_is_a_gap_or_named_never_a_silent_drop():
    from mlops_actions.monitor.report import history_figure

    history = [
        {"label": "run-1", "features": {"amount": {"level": 0.5}, "kind": {"level": 0.4}}},
        {"label": "run-2", "features": {"amount": {"level": 0.7}}},  # no "kind" that day
        {"label": "run-3", "features": {"amount": {"level": 0.9}, "kind": {"level": 0.6}}},
    ]
    document = {"features": {"amount": {"level": 1.5}, "kind": {"level": 1.2}}}
    figure = history_figure(history, document)
    kind = next(s for s in figure.series if s.name == "kind")
    assert kind.values == (0.4, None, 0.6, 1.2)
    svg = html.svg(figure)
    assert svg.count("<polyline") == 3  # amount whole; kind in two pieces around the gap
    md = markdown.render(doc.Report("r", (figure,)))
    assert "not drawn (a value is undefined): kind" in md
    assert "leaves a gap in report.html" in figure.caption and "names it" in figure.caption


def test_y_axis_ticks_are_round_values_inside_the_range():
    from mlops_actions.reporting.html import nice_ticks

    assert nice_ticks(0, 0.9258) == [0.0, 0.2, 0.4, 0.6, 0.8]  # not 0.1852, 0.3703, …
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(-0.063, 0.02) == [-0.06, -0.04, -0.02, 0.0, 0.02]
    for low, high in [(0.5, 0.52), (0, 3.7), (-2.5, 40), (1e-4, 3e-4)]:
        ticks = nice_ticks(low, high)
        assert 2 <= len(ticks) <= 6 and all(low - 1e-12 <= t <= high + 1e-12 for t in ticks)
