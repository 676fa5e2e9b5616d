"""Markdown's building blocks for the pages and the step summary, and untrusted text made safe.

Text that comes from GitHub (referrers, paths, page titles, error messages quoting it) is
untrusted: it goes through `escape_text`/`escape_cell`, so it can never break a table, make a
link, image or HTML, start emphasis or a code span, or forge a `::` workflow command. The rest
are the small pieces every page is made of: tables, numbers, plurals, code spans, and a page's
lines joined with one trailing newline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

DASH = "—"


# Characters Markdown, a GFM table or HTML would act on, as entities GitHub shows as themselves.
_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "&#124;",
    "[": "&#91;",
    "]": "&#93;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "~": "&#126;",
    "\\": "&#92;",
    "$": "&#36;",  # GitHub renders $...$ as math
}


# A block marker is only one at the start of a line; escaped text may be put there.
_LINE_START = {"#": "&#35;", "-": "&#45;", "+": "&#43;", "=": "&#61;"}


_ORDERED_LIST = re.compile(r"\A(\d{1,9})([.)])")


# Zero-width, unbreakable: after "@" it stops e-mail autolinks and @mentions, which GitHub
# finds in the decoded text, so an entity alone does not defuse them.
_WORD_JOINER = "&#8288;"


# Bidirectional overrides could make a row read as something else (CVE-2021-42574).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def escape_text(text: str) -> str:
    """Untrusted text as inline Markdown that GitHub shows verbatim, on one line, anywhere.

    Line breaks and other control characters become spaces (so no line can start with `::`),
    and edges are trimmed. `:` before `/` or next to `:` (URL autolinks, `::` commands), `.`
    after `www` and `@` (e-mail autolinks) are defused; `_` between letters stays, since
    GFM never reads it as emphasis there.
    """
    clean = "".join(" " if _is_break(char) else char for char in text).strip()
    out: list[str] = []
    for i, char in enumerate(clean):
        before = clean[i - 1] if i else ""
        after = clean[i + 1] if i + 1 < len(clean) else ""
        if char == "_" and before.isalnum() and after.isalnum():
            out.append(char)
        elif char == ":" and (after in {"/", ":"} or before == ":"):
            out.append("&#58;")
        elif char == "." and clean[max(i - 3, 0) : i].lower() == "www":
            out.append("&#46;")
        elif char == "@":
            out.append("@" + _WORD_JOINER)
        else:
            out.append(_ENTITIES.get(char, char))
    if out and out[0] in _LINE_START:
        out[0] = _LINE_START[out[0]]
    escaped = "".join(out)
    return _ORDERED_LIST.sub(lambda m: f"{m[1]}&#{ord(m[2])};", escaped, count=1)


def escape_cell(text: str) -> str:
    """Untrusted text inside a GitHub Markdown table cell: one line, no raw `|`.

    `escape_text` already guarantees both, so this names the place rather than adding rules.
    """
    return escape_text(text)


def code(text: str) -> str:
    """A code span (readable in a terminal too) when it can hold the text, else escaped text."""
    if text and not any(char in "`|" or _is_break(char) for char in text):
        return f"`{text}`"
    return escape_text(text)


def table(header: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; `align` has one letter per column, `l` or `r`."""
    rule = ["---:" if side == "r" else "---" for side in align]
    return [row(header), row(rule), *(row(cells) for cells in rows)]


def row(cells: Sequence[str]) -> str:
    """One row of a GFM table."""
    return "| " + " | ".join(cells) + " |"


def number(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def plural(count: int, noun: str, nouns: str = "") -> str:
    """`1 repo`, `2 repos`: the count and its noun (`nouns` when the plural is irregular)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {nouns or noun + 's'}"


def _is_break(char: str) -> bool:
    """Control characters, line/paragraph separators and bidi overrides become a space."""
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI


def size(lines: Sequence[str]) -> int:
    """Bytes these lines take in a page (UTF-8, a newline each)."""
    return sum(len(line.encode()) + 1 for line in lines)


def page(lines: Sequence[str]) -> str:
    """The lines as one page: one trailing newline."""
    return "\n".join(lines).rstrip("\n") + "\n"
