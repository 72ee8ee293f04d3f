"""Headless Debian Chromium for the report tests: load a page, read its DOM after scripts ran,
take a screenshot, and parse Mermaid blocks with the npm `mermaid` package in that browser.

Nothing here reaches a network: the pages are local files, Chromium runs with its background
networking off, and mermaid is loaded from node_modules (scripts/dev/env.sh installs it into
~/.cache/mlops-actions/node, or MLOPS_NODE_MODULES names another node_modules).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

NODE_MODULES = Path(
    os.environ.get("MLOPS_NODE_MODULES")
    or Path.home() / ".cache" / "mlops-actions" / "node" / "node_modules"
)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "dev"))
# The browser itself is shared with scripts/dev/screenshots.py; the tests use it from here.
from chromium import Missing, screenshot  # noqa: E402, F401
from chromium import binary as chromium  # noqa: E402, F401
from chromium import run as _run  # noqa: E402


def mermaid_js() -> Path:
    path = NODE_MODULES / "mermaid" / "dist" / "mermaid.min.js"
    if not path.is_file():
        raise Missing(f"{path} is missing: npm install mermaid there (scripts/dev/env.sh)")
    return path


def dump_dom(page: Path, budget_ms: int = 10_000, allow_files: bool = False) -> str:
    """The page's DOM once it loaded and its scripts ran (within the virtual-time budget)."""
    extra = ["--allow-file-access-from-files"] if allow_files else []
    return _run(
        [*extra, f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri()]
    )


_PARSE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="{src}"></script></head><body><pre id="result">pending</pre>
<script id="blocks" type="application/json">{blocks}</script>
<script>
(async () => {{
  const blocks = JSON.parse(document.getElementById('blocks').textContent);
  const out = [];
  mermaid.initialize({{startOnLoad: false}});
  for (const b of blocks) {{
    try {{ const r = await mermaid.parse(b); out.push({{ok: true, type: r && r.diagramType}}); }}
    catch (e) {{ out.push({{ok: false, error: String((e && e.message) || e).slice(0, 500)}}); }}
  }}
  document.getElementById('result').textContent = JSON.stringify(out);
}})();
</script></body></html>
"""


def parse_mermaid(blocks: list[str]) -> list[dict[str, Any]]:
    """mermaid.parse() on each block, in headless Chromium: [{ok, type} or {ok, error}]."""
    if not blocks:
        return []
    payload = json.dumps(blocks).replace("</", "<\\/")  # no early </script>
    with tempfile.TemporaryDirectory(prefix="mermaid-parse-") as tmp:
        page = Path(tmp) / "parse.html"
        page.write_text(_PARSE_PAGE.format(src=mermaid_js().as_uri(), blocks=payload))
        dom = dump_dom(page, allow_files=True)
    start = dom.find('<pre id="result">')
    end = dom.find("</pre>", start)
    raw = dom[start + len('<pre id="result">') : end]
    import html

    text = html.unescape(raw)
    if text == "pending":
        raise RuntimeError("mermaid did not finish parsing within the time budget")
    results: list[dict[str, Any]] = json.loads(text)
    return results


def mermaid_blocks(markdown: str) -> list[str]:
    """The body of every ```mermaid fence in a Markdown text."""
    blocks, current = [], None
    for line in markdown.splitlines():
        if current is None and line.strip() == "```mermaid":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


class Charts(HTMLParser):
    """The SVG charts of a rendered page: per data-figure, its plotted values (data-value and
    the <title> of each), its intervals and its rules; and every element name seen."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, dict[str, list[Any]]] = {}
        self.tags: list[str] = []
        self._figure: str | None = None
        self._element: dict[str, Any] | None = None
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "svg" and a.get("data-figure"):
            self._figure = a["data-figure"]
            self.figures[self._figure] = {"values": [], "titles": [], "intervals": [], "rules": []}
        if self._figure is None:
            return
        cls = a.get("class") or ""
        if cls in ("pt", "ci", "rule"):
            self._element = {"class": cls, **a}
        if tag == "title" and self._element is not None:
            self._title = []

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None and self._element is not None:
            e, title = self._element, "".join(self._title)
            assert self._figure is not None
            fig = self.figures[self._figure]
            if e["class"] == "pt":
                fig["values"].append(float(e["data-value"]))
                fig["titles"].append(title)
            elif e["class"] == "ci":
                fig["intervals"].append((float(e["data-low"]), float(e["data-high"])))
            else:
                fig["rules"].append(float(e["data-value"]))
            self._title, self._element = None, None
        if tag == "svg":
            self._figure = None


def charts(dom: str) -> Charts:
    parser = Charts()
    parser.feed(dom)
    return parser
