"""Read and write a data branch in a bare repo with plain git, independently of gitstore.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    # repos another user owns (a runner's workspace, uid 1001) are read as they are
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
}


def git(*args: str, cwd: Path | None = None, input_bytes: bytes | None = None) -> bytes:
    """Run git and return stdout; fail loudly."""
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, input=input_bytes, capture_output=True, check=True
    ).stdout


def init_bare(path: Path) -> Path:
    git("init", "--bare", "--quiet", str(path))
    return path


def install_hook(remote: Path, script: str, name: str = "pre-receive") -> None:
    """Give a bare repo a server-side hook (`script`, a shell script with its #! line)."""
    hook = remote / "hooks" / name
    hook.write_text(script)
    hook.chmod(0o755)


def tip(remote: Path, branch: str = "traffic-data") -> str:
    """The branch's commit sha, or "" when it does not exist."""
    try:
        return git("-C", str(remote), "rev-parse", "--verify", "-q", branch).decode().strip()
    except subprocess.CalledProcessError:
        return ""


def files(remote: Path, branch: str = "traffic-data") -> dict[str, bytes]:
    """Every file on the branch (or at a commit): path -> bytes, read by one `cat-file`."""
    listing = git("-C", str(remote), "ls-tree", "-r", "-z", branch).decode()
    entries = [line.split("\t", 1) for line in listing.split("\0") if line]
    shas = {path: meta.split()[2] for meta, path in entries}
    wanted = "".join(f"{sha}\n" for sha in shas.values()).encode()
    out = git("-C", str(remote), "cat-file", "--batch", input_bytes=wanted)
    blobs: dict[str, bytes] = {}
    position = 0
    for sha in shas.values():
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        blobs[sha] = out[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
    return {path: blobs[sha] for path, sha in shas.items()}


def commit_count(remote: Path, branch: str = "traffic-data") -> int:
    return int(git("-C", str(remote), "rev-list", "--count", branch).decode())


def write_file(
    remote: Path, path: str, data: bytes, tmp: Path, branch: str = "traffic-data"
) -> None:
    """Commit one file onto the branch as a person would (clone, edit, push)."""
    work = tmp / "editor"
    git("clone", "--quiet", "--branch", branch, str(remote), str(work))
    target = work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    git("add", path, cwd=work)
    git("commit", "--quiet", "-m", f"edit {path}", cwd=work)
    git("push", "--quiet", "origin", branch, cwd=work)


def dataset_files(
    tree: dict[str, bytes], folder: str, dataset: str, ext: str = "json"
) -> list[str]:
    """The paths of a dataset's period files in a repo folder, in name (so date) order:
    `<folder>/<dataset>/<year>.<ext>` or `<folder>/<dataset>/<year>/<month>.<ext>`, as a
    user's glob finds them."""
    start = f"{folder}/{dataset}/"
    return sorted(
        path
        for path in tree
        if path.startswith(start)
        and path[len(start) :].count("/") <= 1
        and path.endswith(f".{ext}")
    )


def rows(tree: dict[str, bytes], folder: str, dataset: str) -> list[dict[str, Any]]:
    """A dataset's rows: its period JSON files read and joined in name order."""
    return [row for path in dataset_files(tree, folder, dataset) for row in json.loads(tree[path])]


def repo_folders(tree: dict[str, bytes]) -> set[str]:
    """`owner/name` of every folder that holds a period file (at the branch's root)."""
    return {
        "/".join(path.split("/")[:2])
        for path in tree
        if path.count("/") >= 3 and not path.startswith(".")
    }


def assert_rows_kept(
    before: dict[str, bytes], after: dict[str, bytes], *, data_path: str = ""
) -> None:
    """Every row of every period JSON file (`<data_path>/<owner>/<name>/<dataset>/...`) of
    `before` is in `after`: none dropped, no number lower, no `final` day made not final."""
    prefix = f"{data_path}/" if data_path else ""
    for path, data in before.items():
        inside = path[len(prefix) :] if path.startswith(prefix) else ""
        if not inside.endswith(".json") or inside.count("/") < 3 or inside.startswith("."):
            continue
        assert path in after, f"{path} was dropped"
        new_rows = json.loads(after[path])
        for row in json.loads(data):
            key = {k: v for k, v in row.items() if not isinstance(v, int | bool)}
            same = [r for r in new_rows if all(r.get(k) == v for k, v in key.items())]
            assert same, f"{path}: {row} was dropped"
            for name, value in row.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    assert max(r[name] for r in same) >= value, f"{path}: {row} was lowered"
            if row.get("final") is True:
                assert any(r["final"] for r in same), f"{path}: {row} was made not final"
