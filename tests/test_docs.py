"""The README and the docs hold together: every link resolves, the README stays short.

Links are checked offline: a relative link must name a file of the repository, and its
`#anchor` a heading of that file by GitHub's slug rules; an absolute link may only go to a
documentation host (it is not fetched).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_LIMIT = 16 * 1024  # bytes: read in minutes by a stranger; the rest lives in docs/
DOC_HOSTS = {
    "docs.github.com",
    "github.com",  # projects named in the docs (other tools, actions), by their repository page
    "duckdb.org",
    "pandas.pydata.org",
    "posthog.com",
}

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target), the text possibly holding [brackets], the target optionally
# in <...> and followed by a "title"
MARKDOWN_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)="([^"]+)\"""", re.I)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def documents() -> list[Path]:
    """The Markdown a user or contributor reads: README.md, CONTRIBUTING.md and docs/*.md."""
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(markdown: str) -> str:
    """The Markdown without its code: fenced blocks and inline code hold no links."""
    return INLINE_CODE.sub("", FENCE.sub("", markdown))


def links(markdown: str) -> list[str]:
    """Every link target of the page's prose: Markdown links and images, HTML a and img."""
    text = prose(markdown)
    return MARKDOWN_LINK.findall(text) + HTML_LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text as shown, lower case, punctuation other than `-`
    and `_` dropped, each space a `-`."""
    shown = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    shown = re.sub(r"[`*]", "", shown)
    return re.sub(r"[^\w\- ]", "", shown.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings; a repeated slug gets `-1`, `-2`, ..."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def link_problems(source: Path, target: str, root: Path = ROOT) -> list[str]:
    """What is wrong with one link of `source`: a missing file or heading, a host that is not
    documentation; [] when it resolves."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        documentation = parts.scheme == "https" and parts.hostname in DOC_HOSTS
        return [] if documentation else [f"{target}: not https to {sorted(DOC_HOSTS)}"]
    path = (source.parent / unquote(parts.path)).resolve() if parts.path else source
    if not path.is_relative_to(root):
        return [f"{target}: outside the repository"]
    if not path.exists():
        return [f"{target}: no file {path.relative_to(root)}"]
    return anchor_problems(target, path, parts.fragment, root)


def anchor_problems(target: str, path: Path, fragment: str, root: Path) -> list[str]:
    """A `#fragment` must name a heading of the Markdown file it points into."""
    if not fragment:
        return []
    if path.suffix != ".md":
        return [f"{target}: an anchor into a file that is not Markdown"]
    if fragment not in anchors(path.read_text(encoding="utf-8")):
        return [f"{target}: no heading #{fragment} in {path.relative_to(root)}"]
    return []


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(document: Path) -> None:
    """Each link of the page reaches a file and heading of the repo, or a documentation host."""
    text = document.read_text(encoding="utf-8")
    found = links(text)
    assert found, "a page with no link at all: is the link pattern still right?"
    problems = [p for target in found for p in link_problems(document, target)]
    assert problems == []


def test_readme_is_short_and_links_into_docs() -> None:
    """README.md stays under 16 KB and links every page of docs/ (none is orphaned)."""
    readme = ROOT / "README.md"
    assert readme.stat().st_size <= README_LIMIT
    targets = {urlsplit(t).path for t in links(readme.read_text(encoding="utf-8"))}
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    assert pages - targets == set()
    assert "CONTRIBUTING.md" in targets


def test_readme_shows_the_pictures_it_links() -> None:
    """The README shows the index and a repo page as images committed in docs/images/."""
    readme = ROOT / "README.md"
    images = re.findall(r"""<img\b[^>]*?\bsrc="([^"]+)\"""", readme.read_text(encoding="utf-8"))
    assert images == ["docs/images/index.png", "docs/images/repo.png"]
    for image in images:
        data = (ROOT / image).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), image
        assert len(data) < 400_000, f"{image} is {len(data)} bytes: optimise it"


def test_the_checker_finds_broken_links(tmp_path: Path) -> None:
    """A missing file, a missing heading and a non-documentation host are each reported, and
    links inside code are not links."""
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text("# Title\n\n## The `data` branch: layout\n\n## Again\n\n## Again\n")
    good = ["#the-data-branch-layout", "#again-1", "page.md#title", "https://duckdb.org/docs/"]
    assert [p for t in good for p in link_problems(page, t, tmp_path)] == []
    assert link_problems(page, "missing.md", tmp_path) == ["missing.md: no file docs/missing.md"]
    assert link_problems(page, "#nowhere", tmp_path)
    assert link_problems(page, "../../outside.md", tmp_path)
    assert link_problems(page, "https://tracker.example/x", tmp_path)
    assert link_problems(page, "http://github.com/x", tmp_path)
    markdown = 'see `[not](a.md)` and\n```\n[no](b.md)\n```\n[yes](c.md) <img src="d.png">'
    assert links(markdown) == ["c.md", "d.png"]
