"""scripts/screenshots.py, which draws the README's pictures, builds pages as github.com shows them.

The fast tests check the HTML it builds from the golden pages (the same Markdown a run writes);
one slow test draws a golden page in the browser through scripts/screenshots.mjs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
MERMAID_DIR = ROOT / "tests" / "mermaid"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?\n)```$", re.M | re.S)
STYLESHEET = ".markdown-body { color: #1f2328; }"  # the test's stand-in for GitHub's CSS


def load_script() -> ModuleType:
    """scripts/screenshots.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "screenshots", ROOT / "scripts" / "screenshots.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


screenshots = load_script()


@pytest.mark.parametrize("page", ["repo_busy.md", "index.md"])
def test_each_chart_reaches_mermaid_as_written(page: str) -> None:
    """Every ```mermaid block of a page becomes a `<pre class="mermaid">` holding its code
    exactly (quotes and `<` escaped for HTML and read back whole), in order."""
    markdown = (GOLDEN / "render" / page).read_text(encoding="utf-8")
    blocks = MERMAID_BLOCK.findall(markdown)
    assert blocks
    document = screenshots.page_html(markdown, STYLESHEET)
    assert screenshots.mermaid_sources(document) == blocks
    assert 'lang="mermaid"' not in document


def test_the_page_is_github_flavoured_in_github_style() -> None:
    """Tables, links and headings are rendered as GFM, inside GitHub's `markdown-body` article
    with the given stylesheet; nothing is loaded from elsewhere."""
    markdown = (GOLDEN / "render" / "index.md").read_text(encoding="utf-8")
    document = screenshots.page_html(markdown, STYLESHEET)
    assert "<table>" in document
    assert "|" not in re.sub(r"<pre.*?</pre>", "", document, flags=re.S)  # no table left as text
    assert '<article class="markdown-body">' in document
    assert STYLESHEET in document
    assert re.search(r"<h1>.+</h1>", document)
    assert not re.search(r"""(src|href)="https?://[^"]*\.(js|css)""", document)


def test_the_pictures_are_the_index_and_a_repo_page_of_the_demo(tmp_path: Path) -> None:
    """build_pages writes one HTML page per picture, from the branch's index and the repo page."""
    for source in screenshots.PICTURES.values():
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / source).write_text(f"# {source}\n", encoding="utf-8")
    pages = screenshots.build_pages(tmp_path, tmp_path, STYLESHEET)
    assert [page["name"] for page in pages] == ["index", "repo"]
    for page, source in zip(pages, screenshots.PICTURES.values(), strict=True):
        assert f"<h1>{source}</h1>" in Path(page["html"]).read_text(encoding="utf-8")


@pytest.mark.slow  # a browser
def test_screenshots_mjs_draws_a_page_in_the_browser(tmp_path: Path) -> None:
    """scripts/screenshots.mjs draws a golden repo page's charts and saves a PNG of it."""
    modules = MERMAID_DIR / "node_modules"
    missing = [
        p
        for p in ("mermaid", "playwright-core", "github-markdown-css")
        if not (modules / p).exists()
    ]
    if not CHROMIUM.exists() or missing:
        reason = f"browser or node modules missing: {CHROMIUM}, {missing}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    markdown = (GOLDEN / "render" / "repo_busy.md").read_text(encoding="utf-8")
    stylesheet = screenshots.STYLESHEET.read_text(encoding="utf-8")
    page = tmp_path / "repo.html"
    page.write_text(screenshots.page_html(markdown, stylesheet), encoding="utf-8")
    request = tmp_path / "pages.json"
    request.write_text(json.dumps([{"name": "repo", "html": str(page)}]), encoding="utf-8")
    result = subprocess.run(
        ["node", str(ROOT / "scripts" / "screenshots.mjs"), str(request), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "CHROMIUM": str(CHROMIUM)},
    )
    assert result.returncode == 0, result.stderr
    png = (tmp_path / "out" / "repo.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 1012  # github.com's README width
