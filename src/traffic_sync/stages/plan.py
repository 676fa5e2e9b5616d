"""Planning a write: the files that merging the observations into the data branch makes.

`plan_write` is pure: what a run read of the branch in (`branch.view.survey_branch`), the files
to write out and each repo's outcome. `stages.store` wraps it in fetch, commit and push.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from traffic_sync.branch.alltime import encode_all_time, encode_index, index_row
from traffic_sync.branch.folders import (
    Folder,
    Merged,
    index_row_of,
    merge_into,
    move_folder,
    move_to,
)
from traffic_sync.branch.state import (
    LAYOUT1_SCHEMA,
    STATE_SCHEMA,
    BranchState,
    RepoEntry,
    state_path,
)
from traffic_sync.branch.view import (
    INDEX_FILE,
    FilesInMemory,
    Listing,
    Survey,
    Target,
    entry_after,
    folder_prefix,
    join_path,
    other_owner,
    seen_key,
    set_aside,
    survey_branch,
    totals_path,
)
from traffic_sync.core.errors import (
    FolderTakenError,
    HistoryFormatError,
    HistorySetAsideWarning,
    RepoError,
    TrafficSyncError,
)
from traffic_sync.core.gitids import blob_sha, tree_sha
from traffic_sync.core.history import count_new_days
from traffic_sync.core.models import (
    History,
    IndexRow,
    Observation,
    RepoInfo,
    RepoResult,
)
from traffic_sync.pages.render import render_index, render_repo_page


@dataclass(frozen=True, slots=True)
class Plan:
    """The files one attempt would write, and each repo's outcome."""

    files: dict[str, bytes]
    results: tuple[RepoResult, ...]
    errors: tuple[tuple[str, RepoError], ...] = ()
    warnings: tuple[tuple[str, TrafficSyncError], ...] = ()  # by repo: histories set aside, ...
    histories: tuple[tuple[RepoInfo, History], ...] = ()  # each saved repo, merged as written
    index: tuple[tuple[str, IndexRow], ...] = ()  # every repo of the branch, as the index shows it
    deletes: tuple[str, ...] = ()  # files removed: renamed repos' folders, emptied periods, ...
    moved: int = 0  # repo folders moved from layout 1 to layout 2
    layout1_left: int = 0  # repo folders still in layout 1 (their files cannot be read)
    months: bool = False  # the folders moved were in layout 2's first, flat form only


def plan_files(
    read: Survey | Mapping[str, bytes],
    observations: Sequence[Observation],
    *,
    today: dt.date,
    target: Target,
    on_repo: Callable[[Mapping[str, bytes]], None] = lambda files: None,
) -> Plan:
    """`plan_write` on what a run `read` of the branch (`view.survey_branch`; or all the
    branch's files, path -> bytes)."""
    if not isinstance(read, Survey):
        read = survey_branch(FilesInMemory(read), observations, today=today, target=target)
    return plan_write(read, observations, today=today, target=target, on_repo=on_repo)


def plan_write(
    read: Survey,
    observations: Sequence[Observation],
    *,
    today: dt.date,
    target: Target,
    on_repo: Callable[[Mapping[str, bytes]], None] = lambda files: None,
) -> Plan:
    """Pure: the files to write for these observations on top of what a run `read` of the
    branch (left as it is).

    Every repo folder still in layout 1 moves to layout 2 in the same plan, observed or not;
    one whose files cannot be read fails as a whole and stays as it is.
    `on_repo` gets each repo folder's new files as soon as they are known (git stores them
    meanwhile); they are in the returned plan's files too.
    """
    if read.quiet:
        return quiet_plan(read, observations)
    state = read.state
    layout1 = {name for name, folder in read.folders.items() if folder.outdated}
    draft = Draft(target.data_path, on_repo, layout1, read.listings)
    aside, claims = set_aside(observations, state, read.trees), state.folder_claims()
    for observation in claimed_last(observations, state, claims):
        taken = aside.get(observation.repo.full_name)
        state = plan_repo(
            draft, read, state, observation, taken=taken, claims=claims, today=today, target=target
        )
    for name in sorted(draft.layout1 - draft.handled):
        state = draft.move(read.folders[name], state, today=today, server_url=target.server_url)
    return finished_plan(draft, read, state, observations, today=today)


def quiet_plan(read: Survey, observations: Sequence[Observation]) -> Plan:
    """The plan when there is nothing new: every repo's files stay as they are."""
    return Plan(
        files={},
        results=tuple(RepoResult.saved(o, 0) for o in observations),
        index=tuple(sorted((name, row) for name, (_, row) in read.index.items())),
    )


def plan_repo(
    draft: Draft,
    read: Survey,
    state: BranchState,
    observation: Observation,
    *,
    taken: tuple[str, str] | None,
    claims: Mapping[str, Sequence[str]],
    today: dt.date,
    target: Target,
) -> BranchState:
    """Put one repo's observation into `draft`: its folder merged (with that of its old name,
    and another id's history found in it set aside to `taken`), or its failure. Returns
    state.json with the repo's entry as the write leaves it."""
    repo, prefix = observation.repo, target.data_path
    entry = state.entry(repo.id)
    moved_from = _old_name(entry, repo.full_name, draft.unmerged(read))
    old_folder = draft.unmerged(read).get(moved_from) if moved_from else None
    draft.handled.update(name for name in (repo.full_name, moved_from) if name)
    here = draft.unmerged(read).get(repo.full_name)
    try:
        kept = _kept_aside(here, taken, claims, state, repo, prefix=prefix)
        merged = merge_into(
            (None if kept else here) or Folder.of(join_path(prefix, repo.full_name), {}),
            observation,
            known=entry.fingerprint,
            moved_from=old_folder,
            past=read.past.get(repo.full_name),
            since=read.since.get(repo.full_name, dt.date.min),
        )
    except (HistoryFormatError, FolderTakenError) as error:
        draft.fail(repo.full_name, error)
        return state
    if old_folder is not None:
        draft.remove_folder(moved_from, old_folder)
    if kept is not None:
        state = draft.set_aside(repo.full_name, kept, state, today=today, server=target.server_url)
    draft.warnings.extend((repo.full_name, note) for note in merged.notes)
    if target.keep_histories:  # PostHog's events come from the history as written
        draft.histories.append((repo, merged.after))
    if old_folder is None and kept is None and _unchanged(read, repo.full_name, merged):
        draft.keep(repo.full_name, merged, tree=read.trees[repo.full_name], read=read)
    else:
        draft.write(
            repo.full_name, merged, today=today, server_url=target.server_url, created=repo.created
        )
    seen = seen_key(
        observation,
        today=today,
        server_url=target.server_url,
        tree=draft.index[repo.full_name][0],
        totals=draft.totals_ids.get(repo.full_name, ""),
    )
    draft.results.append(
        RepoResult.saved(observation, count_new_days(merged.before, merged.after), moved_from)
    )
    draft.merged.update(name for name in (repo.full_name, moved_from) if name)
    after = entry_after(state.entry(repo.id), observation, today=today)
    return state.with_entry(repo.id, after.with_values(fingerprint=merged.fingerprint, seen=seen))


def finished_plan(
    draft: Draft,
    read: Survey,
    state: BranchState,
    observations: Sequence[Observation],
    *,
    today: dt.date,
) -> Plan:
    """The plan `draft` holds, with the index and state.json written on top."""
    files = dict(draft.files)
    rows = index_files(
        read, draft.index, skip=draft.removed, prefix=draft.prefix, today=today, into=files
    )
    schema = LAYOUT1_SCHEMA if draft.layout1 else STATE_SCHEMA
    files[state_path(draft.prefix)] = replace(state, schema=schema).encode()
    order = {o.repo.full_name: n for n, o in enumerate(observations)}
    return Plan(
        files=files,
        results=tuple(sorted(draft.results, key=lambda r: order.get(r.full_name, len(order)))),
        errors=tuple(draft.errors),
        warnings=tuple(draft.warnings),
        histories=tuple(draft.histories),
        index=tuple(sorted(rows.items())),
        deletes=tuple(sorted(p for p in set(draft.deletes) if p not in files)),
        moved=len(draft.moved),
        layout1_left=len(draft.layout1),
        months=not any(read.folders[name].layout1 for name in draft.moved | draft.layout1),
    )


@dataclass
class Draft:
    """A plan while `plan_write` builds it, repo by repo."""

    prefix: str
    on_repo: Callable[[Mapping[str, bytes]], None]
    layout1: set[str]  # folders still in layout 1 or in layout 2's flat form (`outdated`)
    listings: Mapping[str, Listing]  # the files of the folders read, by paths inside them
    handled: set[str] = field(default_factory=set)  # folders this run's repos own (or owned)
    merged: set[str] = field(default_factory=set)  # folders read whose rows are merged already
    moved: set[str] = field(default_factory=set)  # folders moved to layout 2 by this plan
    removed: set[str] = field(default_factory=set)  # folders whose repo was renamed
    files: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    results: list[RepoResult] = field(default_factory=list)
    errors: list[tuple[str, RepoError]] = field(default_factory=list)
    warnings: list[tuple[str, TrafficSyncError]] = field(default_factory=list)
    index: dict[str, tuple[str, IndexRow]] = field(default_factory=dict)  # name -> (tree, row)
    totals_ids: dict[str, str] = field(default_factory=dict)  # name -> its figures' blob id
    histories: list[tuple[RepoInfo, History]] = field(default_factory=list)  # for PostHog

    def write(
        self,
        name: str,
        merged: Merged,
        *,
        today: dt.date,
        server_url: str,
        created: dt.date | None = None,
    ) -> None:
        """A repo folder's new files, page and all-time figures, and its index row (`today`:
        the day the page is of; `created`: the repo's creation day, if known)."""
        written, entry = repo_files(
            self.prefix,
            name,
            merged,
            today=today,
            server_url=server_url,
            listing={} if name in self.removed else self.listings.get(name, {}),
            created=created,
        )
        self.on_repo(written)
        self.files.update(written)
        self.totals_ids[name] = blob_sha(written[totals_path(self.prefix, name)])
        folder = join_path(self.prefix, name)
        self.deletes.extend(f"{folder}/{file}" for file in merged.deletes)
        self.index[name] = entry
        self._moved(name)

    def unmerged(self, read: Survey) -> _Unmerged:
        """The folders `read` holds whose rows no repo of this plan merged yet."""
        return _Unmerged(read.folders, self.merged)

    def keep(self, name: str, merged: Merged, *, tree: str, read: Survey) -> None:
        """A repo folder whose files stay as they are: only its index row is needed, and the
        stored one is it when it was made from this very folder."""
        self.totals_ids[name] = read.totals_ids[name]
        stored = read.index.get(name)
        if stored is not None and stored[0] == tree:
            self.index[name] = stored
        else:
            self.index[name] = (tree, index_row(merged.after, merged.figures))

    def remove_folder(self, name: str, folder: Folder) -> None:
        """A renamed repo's old folder goes, every file of it (its rows are in the new one)."""
        self.deletes.extend(f"{folder.path}/{rel}" for rel in self.listings.get(name, {}))
        self.deletes.append(totals_path(self.prefix, name))
        self.removed.add(name)
        self._moved(name)

    def set_aside(
        self,
        name: str,
        kept: _Kept,
        state: BranchState,
        *,
        today: dt.date,
        server: str,
    ) -> BranchState:
        """The history of another repo id that `name`'s folder held moves, whole, to its kept
        folder, with its page, figures and index row; that id's state.json entry follows it
        there (so a rename of that repo, seen later, takes it): the state.json it returns."""
        self.remove_folder(name, kept.folder)
        self.write(kept.name, kept.merged, today=_page_day(kept.merged, today), server_url=server)
        entry = state.entry(kept.old_id).with_values(
            full_name=kept.name, fingerprint=kept.merged.fingerprint, seen=None
        )
        self.warnings.append((name, HistorySetAsideWarning(name, kept.name, kept.old_id)))
        self.warnings.extend((kept.name, note) for note in kept.merged.notes)
        return state.with_entry(kept.old_id, entry)

    def move(
        self, folder: Folder, state: BranchState, *, today: dt.date, server_url: str
    ) -> BranchState:
        """A folder in layout 1 (or with flat month files) that no repo of this run owns, moved
        as it is; its page is redrawn as of the last day it was saved, with links to the new
        files. Returns state.json with the folder's new fingerprint."""
        name = folder.path.removeprefix(folder_prefix(self.prefix))
        try:
            merged = move_folder(folder)
        except HistoryFormatError as error:
            self.fail(name, error)
            return state
        self.warnings.extend((name, note) for note in merged.notes)
        self.write(name, merged, today=_page_day(merged, today), server_url=server_url)
        return state.with_fingerprint(name, merged.fingerprint)

    def fail(self, name: str, error: RepoError) -> None:
        self.results.append(RepoResult.failed(name, error))
        self.errors.append((name, error))

    def _moved(self, name: str) -> None:
        if name in self.layout1:
            self.layout1.discard(name)
            self.moved.add(name)


def repo_files(
    prefix: str,
    name: str,
    merged: Merged,
    *,
    today: dt.date,
    server_url: str,
    listing: Listing,
    created: dt.date | None = None,
) -> tuple[dict[str, bytes], tuple[str, IndexRow]]:
    """What a write of `merged` puts in the branch for repo `name`: its period files, its page
    (as of `today`) and its all-time figures, by path; and its index entry (the folder's tree
    id after the write, `listing` being its files before, and its row)."""
    folder = join_path(prefix, name)
    figures = merged.figures
    page = render_repo_page(
        name,
        merged.after,
        today=today,
        server_url=server_url,
        datasets=merged.datasets,
        figures=figures,
        created=created,
    )
    inside = dict(merged.files)
    inside["README.md"] = page.encode()
    written = {f"{folder}/{file}": data for file, data in inside.items()}
    written[totals_path(prefix, name)] = encode_all_time(merged.parts, source=merged.fingerprint)
    entry = (_tree_after(listing, inside, merged.deletes), index_row(merged.after, figures))
    return written, entry


def index_files(
    read: Survey,
    written: Mapping[str, tuple[str, IndexRow]],
    *,
    skip: Iterable[str] = (),
    prefix: str,
    today: dt.date | None,
    into: dict[str, bytes],
) -> dict[str, IndexRow]:
    """Put the index page and the stored index rows `into` the files to write: the `written`
    repos' entries, and every other repo folder of the branch (less `skip`) from its stored
    row, or, when its folder changed since, from its files (`read` has them; one that cannot
    be read is left out until it is mended). `today` dates the page (None: its newest day).
    Returns the rows, by name."""
    entries = dict(written)
    for name, tree in read.trees.items():
        if name in entries or name in skip:
            continue
        if name in read.folders:  # changed since its row was made, or never indexed
            try:
                entries[name] = (tree, index_row_of(read.folders[name]))
            except HistoryFormatError:
                continue
        elif name in read.index:
            entries[name] = read.index[name]
    rows = {name: row for name, (_, row) in entries.items()}
    day = today or max((d for row in rows.values() if (d := _newest(row))), default=dt.date.min)
    into[join_path(prefix, "README.md")] = render_index(rows, today=day).encode()
    into[join_path(prefix, INDEX_FILE)] = encode_index(entries)
    return rows


def _newest(row: IndexRow) -> dt.date | None:
    days = [rows[-1].date for rows in (row.views, row.clones) if rows]
    days += [row.stats.date] if row.stats else []
    return max(days, default=None)


def _unchanged(read: Survey, name: str, merged: Merged) -> bool:
    """Whether a write would leave the folder as it is: no data file changes (then its page,
    drawn on the same day from the same rows, is the same too: every run adds a stats row of
    its day), the page is there and the stored figures were taken as they are."""
    folder = read.folders.get(name)
    return (
        folder is not None
        and name in read.trees
        and name in read.past
        and "README.md" in read.listings.get(name, {})
        and not merged.deletes
        and all(folder.files.get(file) == data for file, data in merged.files.items())
    )


def _tree_after(before: Listing, written: Mapping[str, bytes], deletes: Iterable[str]) -> str:
    """The git tree id of a repo folder once these files are written and deleted in it (a
    file keeps its mode; a new one is 100644, as `gitstore.Staging` writes it)."""
    files = {rel: entry for rel, entry in before.items() if rel not in set(deletes)}
    for rel, data in written.items():
        mode = "100755" if files.get(rel, ("",))[0] == "100755" else "100644"
        files[rel] = (mode, blob_sha(data))
    return tree_sha(files)


@dataclass(frozen=True, slots=True)
class _Unmerged:
    """Of the folders read, those still in place (one a renamed repo took is not)."""

    folders: Mapping[str, Folder]
    merged: set[str]

    def get(self, name: str) -> Folder | None:
        return None if name in self.merged else self.folders.get(name)


@dataclass(frozen=True, slots=True)
class _Kept:
    """Another repo id's history found in a repo's folder, and where it moves."""

    folder: Folder  # as found
    old_id: str
    name: str  # the kept folder's, `<owner>/<name>~<old id>`
    merged: Merged  # its files there


def _kept_aside(
    here: Folder | None,
    taken: tuple[str, str] | None,
    claims: Mapping[str, Sequence[str]],
    state: BranchState,
    repo: RepoInfo,
    *,
    prefix: str,
) -> _Kept | None:
    """The history another repo id left in `repo`'s folder (`here`), moved to the kept folder
    `set_aside` chose (`taken`: that id and folder), or None when the folder is the repo's
    own. Raises FolderTakenError when the repo renamed away from this name is still in it
    (its own move failed), HistoryFormatError when it cannot be read."""
    if here is None:
        return None
    if taken is None:
        other = other_owner(claims, state, repo)
        if other is not None:
            raise FolderTakenError(repo.full_name, other)
        return None
    old_id, name = taken
    return _Kept(here, old_id, name, move_to(here, join_path(prefix, name)))


def _page_day(merged: Merged, today: dt.date) -> dt.date:
    """The day a folder no repo of the run writes is drawn as of: the last day it was saved."""
    return merged.after.stats[-1].date if merged.after.stats else today


def claimed_last(
    observations: Sequence[Observation],
    state: BranchState,
    claims: Mapping[str, Sequence[str]],
) -> list[Observation]:
    """The observations in the order their folders free up: a repo renamed away from a name
    takes its folder before the repo that took the name starts its own history there (and so
    on along a chain of renames in one run)."""
    by_id = {str(o.repo.id): o for o in observations}

    def waits(observation: Observation, seen: frozenset[str]) -> int:
        other = other_owner(claims, state, observation.repo)
        if other is None or other not in by_id or other in seen:
            return 0
        return 1 + waits(by_id[other], seen | {other})

    return sorted(observations, key=lambda o: waits(o, frozenset({str(o.repo.id)})))


def _old_name(entry: RepoEntry, full_name: str, folders: _Unmerged) -> str:
    """The folder this repo's history is in under an earlier name (renamed or transferred:
    state.json is keyed by repo id), or "" when it has not moved."""
    old = entry.full_name
    if old is None or old == full_name:
        return ""
    return old if folders.get(old) is not None else ""
