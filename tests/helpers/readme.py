"""Sections of the README and the docs, as the tests that hold them to the code read them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def doc_section(document: str, heading: str) -> str:
    """The text under `## <heading>` of a Markdown file (path from the repo's root) up to the
    next `## ` heading."""
    text = (ROOT / document).read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{document} has no '## {heading}' section"
    return match.group(1)


def readme_section(heading: str) -> str:
    """The text under `## <heading>` of README.md up to the next `## ` heading."""
    return doc_section("README.md", heading)
