"""`traffic-sync import`: another tool's history for one repo, merged into the data branch in one
commit. `imports` reads the folder (pure); this module reads the files from disk and writes the
branch the way a sync does: fetch the tip, merge into the repo's folder, redraw its page and the
index, commit only when a file changed, push, and on a moved branch fetch and merge again.

An import that brings nothing new (the same folder again, or after a sync kept those days)
changes no data file, so it makes no commit: not even the pages are redrawn.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traffic_sync.branch.codec import DATASETS
from traffic_sync.branch.folders import Folder, merge_history
from traffic_sync.branch.state import state_path

# A run's own branch plumbing, so that an import writes exactly as a run does.
from traffic_sync.branch.view import folder_prefix, survey_branch
from traffic_sync.core.models import History
from traffic_sync.imports.formats import (
    Imported,
    ImportFormatError,
    Skipped,
    Tool,
    read_import,
    wanted_files,
)
from traffic_sync.sinks.gitremote import Remote, prepare_local
from traffic_sync.stages.plan import index_files, repo_files
from traffic_sync.stages.store import StoreOptions, open_branch, push_attempts, until_pushed

TOOL_NAMES = {Tool.GHRS: "github-repo-stats", Tool.SANGONZAL: "repository-traffic-action"}
# the folder inside a checkout of the tool's data that holds its files
TOOL_FOLDERS = {Tool.GHRS: "ghrs-data", Tool.SANGONZAL: "traffic"}


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: rows read per dataset, rows new or raised in the branch, what was
    left out, and the commit (empty when nothing changed)."""

    repo: str
    tool: Tool
    folder: str
    read: Mapping[str, int]
    changed: Mapping[str, int]
    skipped: tuple[Skipped, ...]
    commit_sha: str = ""
    location: str = ""  # the data repository and branch, as safe to print

    def lines(self) -> list[str]:
        """The report as a terminal shows it."""
        out = [f"Import from {TOOL_NAMES[self.tool]} ({self.folder}) into {self.repo}:"]
        for name, count in self.read.items():
            if count:
                changed = self.changed.get(name, 0)
                out.append(
                    f"  {name}: {count:,} rows read, {changed:,} new or raised in the branch"
                )
        out += [f"  skipped {s.what}: {s.why}" for s in self.skipped]
        if self.commit_sha:
            out.append(f"Committed {self.commit_sha} to {self.location}.")
        else:
            out.append("Nothing changed: the data branch already holds all of it (no commit).")
        return out


def load_folder(tool: Tool, path: Path) -> tuple[Path, dict[str, str], tuple[Skipped, ...]]:
    """The tool's data folder at `path` (or in its `ghrs-data` / `traffic` subfolder): the
    folder, the files the import reads (name inside it -> text) and the files it leaves."""
    inner = path / TOOL_FOLDERS[tool]
    folder = inner if inner.is_dir() else path
    if not folder.is_dir():
        raise ImportFormatError(
            f"{path} is not a folder.",
            fix=f"Give the folder that holds the {TOOL_NAMES[tool]} files; nothing was written.",
        )
    names = [p.name for p in folder.iterdir() if p.is_file()]
    if (folder / "snapshots").is_dir():
        names += [f"snapshots/{p.name}" for p in (folder / "snapshots").iterdir() if p.is_file()]
    wanted = wanted_files(tool, names)
    files: dict[str, str] = {}
    for name in wanted:
        try:
            files[name] = (folder / name).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{folder / name} is not UTF-8 text.",
                fix="Nothing was written. Remove the file if it is not the tool's, then import "
                "again.",
            ) from exc
    left = tuple(
        Skipped(name, f"not a {TOOL_NAMES[tool]} data file")
        for name in sorted(set(names) - set(wanted))
    )
    return folder, files, left


def import_folder(
    options: StoreOptions,
    *,
    remote: Remote,
    tool: Tool,
    path: Path,
    repo: str,
    today: dt.date,
    workdir: Path,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportReport:
    """Read the folder (ImportFormatError names the file and line it cannot read, before any
    git command), then merge it into `repo`'s folder of the data branch in one commit.
    StoreError when the branch cannot be read or written, HistoryFormatError when the repo's
    stored files cannot be trusted; nothing is written then."""
    folder, files, left = load_folder(tool, path)
    imported = read_import(tool, files, where=str(folder))
    target = options.target
    prepare_local(remote, branch=target.branch)
    branch = open_branch(options, remote, workdir)
    changed: dict[str, int] = {}

    def attempt() -> str:
        branch.fetch()
        prefix = folder_prefix(target.data_path)
        name = stored_name(branch.list_folders(target.data_path, depth=2), repo, prefix)
        read = survey_branch(branch, [], today=today, target=target, whole=[name])
        folder = read.folders.get(name) or Folder.of(f"{prefix}{name}", {})
        merged = merge_history(folder, imported.history)
        changed.clear()
        changed.update(_changed_rows(merged.before, merged.after))
        if not merged.deletes and all(
            folder.files.get(file) == data for file, data in merged.files.items()
        ):
            return ""  # every row is in the branch already: no page to redraw, no commit
        written, entry = repo_files(
            target.data_path,
            name,
            merged,
            today=newest_day(merged.after) or today,
            server_url=target.server_url,
            listing=read.listings.get(name, {}),
        )
        index_files(read, {name: entry}, prefix=target.data_path, today=None, into=written)
        # the fingerprint of a repo state.json knows (by name: an import has no repo id), so
        # the next run still takes the fast way; a repo not synced yet gets no entry: its
        # first run reads the folder strictly and records it. state.json is always written:
        # it is what makes a new branch a data branch
        state = read.state.with_fingerprint(name, merged.fingerprint)
        written[state_path(target.data_path)] = state.encode()
        deletes = [f"{prefix}{name}/{file}" for file in merged.deletes]
        message = commit_message(imported, tool=tool, folder=str(path), repo=name)
        sha = branch.commit(written, message, deletes=deletes)
        if sha is None:
            return ""
        branch.push(sha)
        return sha

    sha = until_pushed(attempt, attempts=push_attempts(options.shards), sleep=sleep)
    return ImportReport(
        repo=repo,
        tool=tool,
        folder=str(path),
        read=_row_counts(imported.history),
        changed=dict(changed),
        skipped=(*imported.skipped, *left),
        commit_sha=sha,
        location=f"{remote.display}@{options.target.branch}",
    )


def stored_name(folders: Mapping[str, str], repo: str, prefix: str = "") -> str:
    """The repo's folder name in the branch (`folders`: the branch's repo folders, by path):
    a folder a run made, spelled as GitHub spells the repo, wins over the case `--repo` was
    typed in (GitHub's names ignore case)."""
    names = sorted(path.removeprefix(prefix) for path in folders)
    if repo in names:
        return repo
    return next((name for name in names if name.lower() == repo.lower()), repo)


def newest_day(history: History) -> dt.date | None:
    """The newest date any row of `history` holds."""
    days = [rows[-1].date for d in DATASETS if (rows := _rows(history, d.name))]
    return max(days, default=None)


def _rows(history: History, dataset: str) -> tuple[Any, ...]:
    rows: tuple[Any, ...] = getattr(history, dataset)
    return rows


def _row_counts(history: History) -> dict[str, int]:
    return {d.name: len(_rows(history, d.name)) for d in DATASETS}


def _changed_rows(before: History, after: History) -> dict[str, int]:
    """Rows of `after` that `before` did not hold as they are (new days, raised numbers)."""
    out: dict[str, int] = {}
    for dataset in DATASETS:
        old = set(_rows(before, dataset.name))
        out[dataset.name] = sum(row not in old for row in _rows(after, dataset.name))
    return out


def commit_message(imported: Imported, *, tool: Tool, folder: str, repo: str) -> str:
    """`traffic-sync: import <repo> from <tool>`, with the folder and the rows per dataset."""
    counts = _row_counts(imported.history)
    lines = [f"- {name}: {count:,} rows" for name, count in counts.items() if count]
    return (
        f"traffic-sync: import {repo} from {TOOL_NAMES[tool]}\n\n"
        f"Imported from {folder} ({', '.join(imported.files)}):\n" + "\n".join(lines) + "\n"
    )
