"""Every Mermaid chart of the generated pages renders in headless Chromium, as GitHub draws it.

The pages are the golden files (tests/golden/render and the end-to-end branch in
tests/golden/e2e), so what is checked here is exactly what the golden tests pin. The pinned
`mermaid` and `playwright-core` come from tests/mermaid (`npm ci` there), Chromium from Debian
(`apt-get install chromium`); `.ci/run` installs both. A PNG per page (light and dark theme) goes
to build/charts/ for a person to look at. Without the browser or the node modules the test skips,
except under CI=true, where it fails: CI must never skip it silently.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # renders the pages in a browser

ROOT = Path(__file__).resolve().parent.parent
MERMAID_DIR = ROOT / "tests" / "mermaid"
GOLDEN = ROOT / "tests" / "golden"
OUT = ROOT / "build" / "charts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
BLOCK = re.compile(r"^```mermaid\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def mermaid_blocks(markdown: str) -> list[str]:
    """The code of every ```mermaid block of a Markdown page, in order."""
    return BLOCK.findall(markdown)


def pages_with_charts() -> dict[str, str]:
    """Golden page name (e.g. `render-repo_busy`, `e2e-octo-org-busy-lib`) -> Markdown."""
    pages = {}
    for path in sorted(GOLDEN.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if mermaid_blocks(text):
            relative = path.relative_to(GOLDEN).with_suffix("")
            name = "-".join(part for part in relative.parts if part != "README")
            pages[name] = text
    return pages


def missing_tools(chromium: Path = CHROMIUM, modules: Path = MERMAID_DIR / "node_modules") -> str:
    """Why the browser check cannot run here, or "" when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not chromium.exists():
        return f"{chromium} is missing (apt-get install chromium)"
    for package in ("mermaid", "playwright-core"):
        if not (modules / package / "package.json").exists():
            return f"{package} is not installed (npm ci in tests/mermaid)"
    return ""


def require_tools(reason: str, env: Mapping[str, str]) -> None:
    """Skip without the tools, but fail under CI=true: CI must never skip the check."""
    if reason and env.get("CI") == "true":
        pytest.fail(f"CI=true but the Mermaid browser check cannot run: {reason}")
    if reason:
        pytest.skip(f"Mermaid browser check skipped: {reason}")


def render_in_browser(pages: dict[str, str], out: Path) -> dict[str, dict[str, object]]:
    """Run tests/mermaid/render.mjs over the pages' blocks; its report by page name."""
    out.mkdir(parents=True, exist_ok=True)
    request = out / "pages.json"
    request.write_text(
        json.dumps([{"name": n, "blocks": mermaid_blocks(t)} for n, t in pages.items()]),
        encoding="utf-8",
    )
    result = subprocess.run(
        ["node", str(MERMAID_DIR / "render.mjs"), str(request), str(out)],
        cwd=MERMAID_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "CHROMIUM": str(CHROMIUM)},
    )
    assert result.returncode == 0, f"render.mjs failed:\n{result.stdout}\n{result.stderr}"
    return {page["name"]: page for page in json.loads(result.stdout)}


PAGES = pages_with_charts()


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, object]]:
    """All pages rendered once; skips (or, under CI=true, fails) without the tools."""
    require_tools(missing_tools(), os.environ)
    if OUT.exists():
        shutil.rmtree(OUT)
    return render_in_browser(PAGES, OUT)


def test_golden_pages_have_charts() -> None:
    """The golden pages hold charts to check (repo pages, the index and the summary)."""
    assert {"render-repo_busy", "render-repo_3_years", "render-index", "render-summary"} <= set(
        PAGES
    )
    assert any(name.startswith("e2e-") for name in PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_charts_render_without_errors(name: str, rendered: dict[str, dict[str, object]]) -> None:
    """Mermaid parses and draws every chart of the page; no two axis labels overlap."""
    page = rendered[name]
    assert page["charts"] == len(mermaid_blocks(PAGES[name]))
    assert page["errors"] == []
    assert page["collisions"] == []
    assert (OUT / f"{name}.png").stat().st_size > 0


def test_missing_tools_are_named(tmp_path: Path) -> None:
    """Without Chromium or the node modules, the reason names what to install."""
    assert "apt-get install chromium" in missing_tools(chromium=tmp_path / "chromium")
    assert "npm ci" in missing_tools(chromium=Path(shutil.which("node") or "/"), modules=tmp_path)


def test_without_tools_ci_fails_and_elsewhere_skips() -> None:
    """Missing tools skip the check on a laptop and fail it under CI=true."""
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_tools("chromium is missing", {"CI": "true"})
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        require_tools("chromium is missing", {})
    require_tools("", {"CI": "true"})  # the tools are there: nothing to say


def test_the_check_catches_broken_and_crowded_charts(tmp_path: Path) -> None:
    """A chart Mermaid cannot parse and one whose dates overlap are both reported."""
    require_tools(missing_tools(), os.environ)
    dates = ", ".join(f'"2026-01-{n:02}"' for n in range(1, 31))
    crowded = f"xychart-beta\n  x-axis [{dates}]\n  bar [{', '.join(['1'] * 30)}]"
    pages = {
        "broken": "```mermaid\nxychart-beta\n  bar [1, two]\n```\n",
        "crowded": f"```mermaid\n{crowded}\n```\n",
    }
    report = render_in_browser(pages, tmp_path)
    assert report["broken"]["errors"]
    assert not report["crowded"]["errors"]
    assert report["crowded"]["collisions"]
    assert (tmp_path / "crowded.png").exists()
