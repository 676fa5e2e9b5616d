"""What a run reads of the data branch: state.json, the derived files, and of the repo folders
only what it must.

A branch of 10,000 repos x 10 years holds millions of rows; a day brings a few per repo. So a
run lists the repo folders (their git tree ids, two levels down) and reads:

- for each repo it writes, its folder's file list and, when the folder is as this tool wrote it
  (its fingerprint is state.json's), only the newest period files: views, clones and stats of
  the years from the charts' first day (or the first day PostHog still needs) on, referrers
  and paths of the charts' days, and the repo's stored all-time figures
  (`.traffic-sync/totals/<owner>/<name>.json`) for the years before the new days; of those
  files, `folders` decodes only the years the new days reach and the charts' days before
  them. A folder that is not as this tool wrote it, or whose figures are missing or do not
  match it, is read whole;
- for each other repo, its stored index row (`.traffic-sync/index.json`), when the row was made
  from the folder as it is (same tree id); a folder that changed since is read (its views,
  clones and stats) and its row made anew.

A branch still in layout 1 (state.json's schema 1) is read whole: it moves to layout 2 once.

A run that learns nothing new stops before the folders: when each of its repos' observation
is the one the last write of its folder merged, and the folder and its figures are as that
write left them (state.json's `seen`, see `seen_key`), merging it again would change nothing
(merging is idempotent), so no period file is read, and when the index rows match every
folder too, the run knows from state.json, the index rows and two tree listings that it has
nothing to commit (`Survey.quiet`). A run that sends to PostHog reads its repos still: the
days PostHog has not had yet come from their files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from traffic_sync.branch import alltime
from traffic_sync.branch.alltime import AllTime, decode_all_time, decode_index
from traffic_sync.branch.codec import (
    parse_data_file,
)
from traffic_sync.branch.folders import INDEXED, Folder, spans, trusted, window
from traffic_sync.branch.state import (
    LAYOUT1_SCHEMA,
    STATE_SCHEMA,
    BranchState,
    RepoEntry,
    state_path,
)
from traffic_sync.core.errors import NotADataBranchError
from traffic_sync.core.gitids import blob_sha, tree_sha
from traffic_sync.core.models import IndexRow, Metric, Observation, RepoInfo

INDEX_FILE = ".traffic-sync/index.json"
TOTALS_FOLDER = ".traffic-sync/totals"
Listing = dict[str, tuple[str, str]]  # path -> (git mode, blob sha)


class BranchFiles(Protocol):
    """The data branch's files as a run reads them: `gitstore.DataBranch`, or `FilesInMemory`."""

    def list_entries(self, prefixes: Iterable[str]) -> Listing: ...

    def list_folders(self, prefix: str, *, depth: int) -> dict[str, str]: ...

    def read_paths(self, paths: Iterable[str]) -> dict[str, bytes]: ...


class FilesInMemory:
    """A branch's files held in memory (path -> bytes), read as a `BranchFiles`."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = files
        self._entries = {path: ("100644", blob_sha(data)) for path, data in files.items()}

    def list_entries(self, prefixes: Iterable[str]) -> Listing:
        tops = [p.strip("/") for p in prefixes]
        return {
            path: entry
            for path, entry in self._entries.items()
            if any(not top or path.startswith(f"{top}/") for top in tops)
        }

    def list_folders(self, prefix: str, *, depth: int) -> dict[str, str]:
        start = folder_prefix(prefix.strip("/"))
        inside: dict[str, Listing] = {}
        for path, entry in self._entries.items():
            if not path.startswith(start):
                continue
            parts = path[len(start) :].split("/")
            if len(parts) > depth:
                folder = start + "/".join(parts[:depth])
                inside.setdefault(folder, {})["/".join(parts[depth:])] = entry
        return {folder: tree_sha(files) for folder, files in inside.items()}

    def read_paths(self, paths: Iterable[str]) -> dict[str, bytes]:
        return {path: self._files[path] for path in paths if path in self._files}


@dataclass(frozen=True, slots=True)
class Target:
    """Where a run's data lives and what reading and planning it must know: the branch (named
    in errors), the data's folder in it, the server the pages link to, and whether PostHog
    gets each saved repo's history as written (`keep_histories`)."""

    data_path: str = ""
    server_url: str = "https://github.com"
    keep_histories: bool = False
    branch: str = "traffic-data"


@dataclass
class Survey:
    """What a run read of the branch (see the module's docstring)."""

    state: BranchState
    trees: dict[str, str]  # every repo folder of the branch (full name) -> git tree id
    folders: dict[str, Folder] = field(default_factory=dict)  # the folders read, by name
    listings: dict[str, Listing] = field(default_factory=dict)  # their files, paths inside
    index: dict[str, tuple[str, IndexRow]] = field(default_factory=dict)  # stored rows
    past: dict[str, dict[int, AllTime]] = field(default_factory=dict)  # stored figures
    since: dict[str, dt.date] = field(default_factory=dict)  # read from this day on
    totals_ids: dict[str, str] = field(default_factory=dict)  # blob ids of the figures in `past`
    scope: list[str] | None = None  # the folders a commit may write (None: anywhere)
    quiet: bool = False  # nothing to write: no folder was read (see the module's docstring)


def survey_branch(
    branch: BranchFiles,
    observations: Sequence[Observation],
    *,
    today: dt.date,
    target: Target,
    whole: Iterable[str] = (),
    may_skip: bool = True,
) -> Survey:
    """Read what a run that stores `observations` needs of the branch (see the docstring);
    the folders named in `whole` (full names) are written too, and read whole. Without
    `may_skip`, the folders are read even when the run has nothing new (`nothing_new`)."""
    prefix = target.data_path
    start = folder_prefix(prefix)
    index_path = join_path(prefix, INDEX_FILE)
    head = branch.read_paths([state_path(prefix), index_path])
    if state_path(prefix) not in head:
        _check_empty(branch, target)
    state = BranchState.decode(head.get(state_path(prefix)), path=state_path(prefix))
    if state.schema == LAYOUT1_SCHEMA:
        return _survey_whole(branch, state, prefix)
    trees = {
        path.removeprefix(start): sha
        for path, sha in branch.list_folders(prefix, depth=2).items()
        if not path.removeprefix(start).startswith(".")
    }
    survey = Survey(state, trees, index=decode_index(head.get(index_path)))
    if may_skip and not whole and not target.keep_histories:
        survey.quiet = nothing_new(branch, survey, observations, today=today, target=target)
        if survey.quiet:
            return survey
    written = written_folders(observations, state, trees) | set(whole)
    changed = {
        name
        for name, tree in trees.items()
        if name not in written and survey.index.get(name, ("", None))[0] != tree
    }
    listing = branch.list_entries(
        start + name for name in sorted((written | changed) & trees.keys())
    )
    for path, entry in listing.items():
        owner, name, rel = path.removeprefix(start).split("/", 2)
        survey.listings.setdefault(f"{owner}/{name}", {})[rel] = entry
    if _flat_months(survey.listings):  # written by layout 2's first form: it all moves at once
        return _survey_whole(branch, state, prefix)
    wanted, totals = _first_reads(
        survey, observations, written=written, today=today, target=target, start=start
    )
    files = branch.read_paths(wanted | {path for path, _ in totals.values()})
    more = _check_totals(survey, totals, files, start=start)
    files.update(branch.read_paths(more))
    for name, inside in survey.listings.items():
        survey.folders[name] = _folder(start + name, inside, files)
    outdated = {name for name, folder in survey.folders.items() if folder.outdated}
    kept = {moved for _, moved in set_aside(observations, state, trees).values()}
    survey.scope = [start + name for name in sorted(written | outdated | kept)]
    survey.scope.append(start + ".traffic-sync")
    return survey


def _flat_months(listings: Mapping[str, Listing]) -> bool:
    """Whether a folder listed holds month files in layout 2's first, flat form
    (`referrers/2026-01.json`): a branch that version wrote, whose every folder moves to year
    folders in one commit, as a branch in layout 1 does (state.json does not tell: both forms
    are schema 2, which was not released before month files went into year folders)."""
    return any(
        (data_file := parse_data_file(rel)) is not None and data_file.flat
        for inside in listings.values()
        for rel in inside
    )


def _check_empty(branch: BranchFiles, target: Target) -> None:
    """A branch (or, with a `data-path`, that folder of it) without state.json is this
    tool's only while it holds nothing: anything else (`main`, a docs branch, another tool's
    data) is never written on top of."""
    held = sorted(branch.list_entries([target.data_path]))
    if held:
        raise NotADataBranchError(target.branch, target.data_path, held)


def seen_key(
    observation: Observation, *, today: dt.date, server_url: str, tree: str, totals: str
) -> str:
    """What a write of a repo's folder was made of: the observation merged (but its warnings,
    which are not written, and its stars and forks rows), the day and server its page is drawn
    for, and the git ids of the folder (`tree`) and of its all-time figures (`totals`) after
    the write. A run whose key for a repo is the one state.json keeps, and that brings no
    stars or forks rows, has nothing to add to its folder."""
    made_of = (today, server_url, tree, totals, replace(observation, warnings=(), growth=()))
    return hashlib.sha256(repr(made_of).encode()).hexdigest()


def nothing_new(
    branch: BranchFiles,
    survey: Survey,
    observations: Sequence[Observation],
    *,
    today: dt.date,
    target: Target,
) -> bool:
    """Whether storing `observations` would leave the branch as it is, known without reading a
    repo's files: every folder has its index row (same tree id, no row of a folder gone), and
    every repo observed is under the name state.json has, with the `seen_key` its last write
    recorded, and the same state.json entry once this run's day is put in."""
    indexed = survey.index.keys() == survey.trees.keys() and all(
        survey.index[name][0] == tree for name, tree in survey.trees.items()
    )
    if survey.state.schema != STATE_SCHEMA or not observations or not indexed:
        return False
    if not all(_same_entry(survey, observation, today) for observation in observations):
        return False  # a new day ends here, before any listing
    totals = branch.list_entries([join_path(target.data_path, TOTALS_FOLDER)])
    for observation in observations:
        name = observation.repo.full_name
        figures = totals.get(totals_path(target.data_path, name))
        key = seen_key(
            observation,
            today=today,
            server_url=target.server_url,
            tree=survey.trees[name],
            totals=figures[1] if figures else "",
        )
        if survey.state.entry(observation.repo.id).seen != key:
            return False
    return True


def _same_entry(survey: Survey, observation: Observation, today: dt.date) -> bool:
    """Whether the repo's folder is there under the name its state.json entry has, and the
    entry stays as it is once this run's day and stars and forks states are put in (and no
    stars or forks rows come: merged already, maybe, but only the files tell)."""
    repo = observation.repo
    entry = survey.state.repos.get(str(repo.id))
    if entry is None or entry.full_name != repo.full_name:
        return False
    if repo.full_name not in survey.trees or any(u.rows for u in observation.growth):
        return False
    return entry_after(entry, observation, today=today) == entry


def entry_after(entry: RepoEntry, observation: Observation, *, today: dt.date) -> RepoEntry:
    """A repo's state.json entry once a run that stores `observation` on `today` has put in
    the repo's name, the day and its stars and forks states (the rest kept); the folder's
    fingerprint and `seen` key come on top, from the write."""
    after = entry.with_values(full_name=observation.repo.full_name, last_success=today)
    return after.with_growth(observation.growth)


def _survey_whole(branch: BranchFiles, state: BranchState, prefix: str) -> Survey:
    """A branch in layout 1: every repo folder read whole."""
    start = folder_prefix(prefix)
    listing = branch.list_entries([prefix])
    listings: dict[str, Listing] = {}
    for path, entry in listing.items():
        parts = path.removeprefix(start).split("/", 2)
        if path.startswith(start) and len(parts) == 3 and not parts[0].startswith("."):
            listings.setdefault(f"{parts[0]}/{parts[1]}", {})[parts[2]] = entry
    files = branch.read_paths(
        f"{start}{name}/{rel}"
        for name, inside in listings.items()
        for rel in inside
        if parse_data_file(rel) is not None
    )
    folders = {name: _folder(start + name, inside, files) for name, inside in listings.items()}
    trees = {name: tree_sha(inside) for name, inside in listings.items()}
    folders = {name: folder for name, folder in folders.items() if folder.ids}
    return Survey(state, trees, folders, listings)


def _folder(path: str, inside: Listing, files: Mapping[str, bytes]) -> Folder:
    """The repo folder at `path` whose files are listed in `inside` (paths inside it), with
    the contents of those among `files` (paths in the branch) that were read."""
    return Folder.of(
        path,
        {rel: data for rel in inside if (data := files.get(f"{path}/{rel}")) is not None},
        ids={rel: sha for rel, (_, sha) in inside.items()},
    )


def written_folders(
    observations: Sequence[Observation],
    state: BranchState,
    trees: Mapping[str, str],
) -> set[str]:
    """The folders this run writes: its repos', and those of their earlier names."""
    names = set()
    for observation in observations:
        names.add(observation.repo.full_name)
        old = state.entry(observation.repo.id).full_name
        if old is not None and old != observation.repo.full_name and old in trees:
            names.add(old)
    return names


def set_aside(
    observations: Sequence[Observation],
    state: BranchState,
    trees: Mapping[str, str],
) -> dict[str, tuple[str, str]]:
    """The folders of this run's repos that hold another repo id's history, by name: (that
    id, the folder its history moves to, `<owner>/<name>~<id>`). Two ids never share a
    folder: a repo that takes the name of a deleted one (or whose folder state.json gives to
    another id) starts its own history there. A folder whose other id is this run's under
    another name is not set aside: that repo was renamed away, and its rename takes it."""
    names = {str(o.repo.id): o.repo.full_name for o in observations}
    claims = state.folder_claims()
    aside: dict[str, tuple[str, str]] = {}
    for observation in observations:
        name = observation.repo.full_name
        other = other_owner(claims, state, observation.repo)
        if other is not None and name in trees and names.get(other, name) == name:
            aside[name] = (other, kept_name(name, other))
    return aside


def other_owner(
    claims: Mapping[str, Sequence[str]],
    state: BranchState,
    repo: RepoInfo,
) -> str | None:
    """The id of another repo whose state.json entry claims `repo`'s folder (`claims`, see
    `BranchState.folder_claims`), when the repo's own entry does not."""
    if state.entry(repo.id).full_name == repo.full_name:
        return None
    return next((k for k in claims.get(repo.full_name, ()) if k != str(repo.id)), None)


def kept_name(full_name: str, repo_id: str) -> str:
    """The folder the history of repo `repo_id` moves to when another repo takes its name
    `full_name` (`~` cannot appear in a GitHub name, so no repo can ever claim it)."""
    return f"{full_name}~{repo_id}"


def _first_reads(
    survey: Survey,
    observations: Sequence[Observation],
    *,
    written: set[str],
    today: dt.date,
    target: Target,
    start: str,
) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """(the files to read, the totals file of each trusted folder and the fingerprint it must
    have been made from, by name)."""
    wanted: set[str] = set()
    totals: dict[str, tuple[str, str]] = {}
    fast: set[str] = set()
    marks = _watermarks(survey.state) if target.keep_histories else None
    for observation in observations:
        repo = observation.repo
        entry = survey.state.entry(repo.id)
        inside = survey.listings.get(repo.full_name, {})
        folder = _folder(start + repo.full_name, inside, {})
        old, known = entry.full_name, entry.fingerprint
        renamed = old != repo.full_name and old in survey.trees
        if renamed or known is None or not trusted(folder, known=known):
            continue
        since = min(window(observation)[0], today - dt.timedelta(days=alltime.DAYS))
        if marks is not None:
            sent = [marks.get((repo.id, metric)) for metric in Metric]
            since = min(
                since, *(day + dt.timedelta(days=1) if day else dt.date.min for day in sent)
            )
        survey.since[repo.full_name] = since
        fast.add(repo.full_name)
        planned = spans(observation, since_read=since)
        for rel in inside:
            data_file = parse_data_file(rel)
            if data_file is not None and planned[data_file.dataset.name].reads(data_file):
                wanted.add(f"{start}{repo.full_name}/{rel}")
        totals[repo.full_name] = (totals_path(target.data_path, repo.full_name), known)
    for name, inside in survey.listings.items():
        if name in fast:
            continue
        data_files = {rel: f for rel in inside if (f := parse_data_file(rel)) is not None}
        # a folder written, or one still holding layout 1's whole files or flat month files
        # (it moves, so every row of it is written), is read whole; of another, what its
        # index row is made of
        whole = name in written or any(not f.period or f.flat for f in data_files.values())
        wanted.update(
            f"{start}{name}/{rel}"
            for rel, data_file in data_files.items()
            if whole or data_file.dataset in INDEXED
        )
    return wanted, totals


def totals_path(data_path: str, full_name: str) -> str:
    """Where a repo's all-time figures are kept."""
    return join_path(data_path, f"{TOTALS_FOLDER}/{full_name}.json")


def _check_totals(
    survey: Survey,
    totals: Mapping[str, tuple[str, str]],
    files: Mapping[str, bytes],
    *,
    start: str,
) -> set[str]:
    """Keep the stored figures that match their folder; for the others, the older files to
    read as well (then the folder is read from its first year)."""
    more: set[str] = set()
    for name, (path, known) in totals.items():
        raw = files.get(path)
        parts = decode_all_time(raw, source=known) if raw is not None else None
        if raw is not None and parts is not None:
            survey.past[name] = parts
            survey.totals_ids[name] = blob_sha(raw)
            continue
        survey.since[name] = dt.date.min
        for rel in survey.listings.get(name, {}):
            data_file = parse_data_file(rel)
            if data_file is not None and data_file.dataset in INDEXED:
                more.add(f"{start}{name}/{rel}")
    return more


def _watermarks(state: BranchState) -> Mapping[tuple[int, Metric], dt.date]:
    """PostHog's sent-through dates; none when one cannot be read (the run reads every day then,
    and `publish` reports the bad date)."""
    try:
        return state.watermarks()
    except ValueError:
        return {}


def folder_prefix(data_path: str) -> str:
    return f"{data_path}/" if data_path else ""


def join_path(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path
