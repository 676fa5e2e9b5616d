"""Draw the README's pictures: the demo's index page and one repo page, as github.com shows them.

    .venv/bin/python scripts/screenshots.py [--out docs/images]

It runs the demo (the simulated GitHub, one sync a day) into a temporary folder, renders the
branch's README.md and a repo's README.md with GitHub's own Markdown renderer (cmark-gfm, a dev
dependency) and GitHub's Markdown stylesheet (`github-markdown-css`, pinned in tests/mermaid),
and has scripts/screenshots.mjs draw their Mermaid charts with the pinned `mermaid` in Debian's
Chromium through the pinned `playwright-core`, as tests/test_charts_browser.py does, then save
a PNG of each (made smaller by `optipng` where it is installed). It needs
`npm ci --prefix tests/mermaid` and /usr/bin/chromium.

The demo runs up to a fixed day, so the pictures change only when the pages do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cmarkgfm

from traffic_sync.cli_demo import write_demo

ROOT = Path(__file__).resolve().parent.parent
MERMAID_DIR = ROOT / "tests" / "mermaid"
STYLESHEET = MERMAID_DIR / "node_modules" / "github-markdown-css" / "github-markdown-light.css"
DEMO_DAYS = 30
DEMO_LAST_DAY = dt.date(2026, 3, 20)
REPO_PAGE = "acme-labs/rocket-sdk/README.md"  # the demo's busiest repo: every chart kind
PICTURES = {"index": "README.md", "repo": REPO_PAGE}  # PNG name -> page in the data branch
# cmark-gfm writes a fenced block as <pre lang="mermaid"><code>...</code></pre>; github.com
# draws those as charts, so the page gets them as Mermaid's own `<pre class="mermaid">`
MERMAID_BLOCK = re.compile(r'<pre lang="mermaid"><code>(.*?)</code></pre>', re.S)
# github.com's repository view: the README box is about 1,012 px wide with 32 px of padding
PAGE_STYLE = """
body { margin: 0; background: #ffffff; }
.markdown-body { box-sizing: border-box; width: 1012px; padding: 32px; }
.markdown-body pre.mermaid { background: none; padding: 0; text-align: center; }
"""


def page_html(markdown: str, stylesheet: str) -> str:
    """A whole HTML document showing the Markdown as github.com's README view shows it."""
    body = cmarkgfm.github_flavored_markdown_to_html(markdown)
    body = MERMAID_BLOCK.sub(lambda m: f'<pre class="mermaid">{m.group(1)}</pre>', body)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<style>{stylesheet}</style><style>{PAGE_STYLE}</style></head>\n"
        f'<body><article class="markdown-body">\n{body}</article></body></html>\n'
    )


def mermaid_sources(document: str) -> list[str]:
    """The chart code of each `<pre class="mermaid">` of a page built by page_html."""
    return [
        html.unescape(code)
        for code in re.findall(r'<pre class="mermaid">(.*?)</pre>', document, re.S)
    ]


def build_pages(branch: Path, folder: Path, stylesheet: str) -> list[dict[str, str]]:
    """Write each picture's HTML page into `folder`; the list scripts/screenshots.mjs reads."""
    pages = []
    for name, source in PICTURES.items():
        page = folder / f"{name}.html"
        page.write_text(page_html((branch / source).read_text(encoding="utf-8"), stylesheet))
        pages.append({"name": name, "html": str(page)})
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    if not STYLESHEET.exists():
        parser.error(f"{STYLESHEET} is missing: run npm ci --prefix tests/mermaid")
    with tempfile.TemporaryDirectory(prefix="traffic-sync-screens-") as temp:
        branch = Path(temp) / "traffic-demo"
        write_demo(branch, DEMO_DAYS, DEMO_LAST_DAY, say=lambda line: None)
        pages = build_pages(branch, Path(temp), STYLESHEET.read_text(encoding="utf-8"))
        request = Path(temp) / "pages.json"
        request.write_text(json.dumps(pages), encoding="utf-8")
        args.out.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["node", str(ROOT / "scripts" / "screenshots.mjs"), str(request), str(args.out)],
            check=True,
            timeout=300,
        )
    for name in PICTURES:
        png = args.out / f"{name}.png"
        if shutil.which("optipng"):  # lossless, a fifth smaller (Debian's `optipng`)
            subprocess.run(["optipng", "-quiet", "-o2", str(png)], check=True, timeout=120)
        print(f"{png}: {png.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
