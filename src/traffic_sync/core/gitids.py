"""The ids git gives a file's bytes and a folder's files, computed in Python.

Pure: the branch's planners name unchanged files and folders without running git, and the git
store skips the files whose bytes git already holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def blob_sha(data: bytes) -> str:
    """The id git gives these bytes, computed here to skip unchanged files without a process."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def tree_sha(files: Mapping[str, tuple[str, str]]) -> str:
    """The id git gives the folder holding `files` (path inside it -> (mode, blob sha)),
    computed here so a commit's folders can be named before git writes them."""
    own: dict[str, tuple[str, str]] = {}
    below: dict[str, dict[str, tuple[str, str]]] = {}
    for path, entry in files.items():
        head, _, rest = path.partition("/")
        if rest:
            below.setdefault(head, {})[rest] = entry
        else:
            own[head] = entry
    entries = [(name, mode, sha) for name, (mode, sha) in own.items()]
    entries += [(name, "40000", tree_sha(inside)) for name, inside in below.items()]
    # git sorts a folder's entries by name, a subfolder's name as if it ended with "/"
    entries.sort(
        key=lambda e: e[0].encode("utf-8", "surrogateescape") + (b"/" if e[1] == "40000" else b"")
    )
    body = b"".join(
        f"{mode} {name}\0".encode("utf-8", "surrogateescape") + bytes.fromhex(sha)
        for name, mode, sha in entries
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()
