"""Storage: merge the observations into the data branch's period files and push them.

`plan_files` is pure (the branch's files in, the files to write out); `store` wraps it in
fetch, commit and push, and goes again on the new tip when another run pushed first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import random
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from traffic_sync.collect_growth import write_growth_state
from traffic_sync.errors import HistoryFormatError, PushRejectedError, RepoError, StoreError
from traffic_sync.folders import (
    FINGERPRINT,
    Folder,
    Merged,
    index_history,
    merge_into,
    move_folder,
    repo_folders,
)
from traffic_sync.gitstore import DataBranch, Remote, prepare_local
from traffic_sync.history import count_new_days
from traffic_sync.models import History, Observation, RepoInfo, RepoResult, RepoStatus
from traffic_sync.render import render_index, render_repo_page
from traffic_sync.settings import Settings

PUSH_ATTEMPTS = 5
STATE_FILE = ".traffic-sync/state.json"
# state.json's schema says which layout the branch is in: 2, period files (`views/2026.json`);
# 1, layout 1's whole files (`views.json`), or some of them still left while the branch moves.
STATE_SCHEMA = 2
LAYOUT1_SCHEMA = 1
Pushed = TypeVar("Pushed")  # what one push attempt returns


@dataclass(frozen=True, slots=True)
class Plan:
    """The files one attempt would write, and each repo's outcome."""

    files: dict[str, bytes]
    results: tuple[RepoResult, ...]
    errors: tuple[tuple[str, RepoError], ...] = ()
    histories: tuple[tuple[RepoInfo, History], ...] = ()  # each saved repo, merged as written
    branch_histories: tuple[tuple[str, History], ...] = ()  # every repo of the branch, by name
    deletes: tuple[str, ...] = ()  # files removed: renamed repos' folders, emptied periods, ...
    moved: int = 0  # repo folders moved from layout 1 to layout 2
    layout1_left: int = 0  # repo folders still in layout 1 (their files cannot be read)


def read_state(
    settings: Settings, *, remote: Remote, workdir: Path
) -> dict[str, dict[str, object]]:
    """state.json's repos at the branch's tip; {} when there is none yet or it is unreadable
    (then every repo counts as never synced, and `store` reports the broken file)."""
    if "branch" not in settings.sinks:
        return {}
    if remote.local_path is not None and not remote.local_path.exists():
        return {}
    branch = open_branch(settings, remote, workdir)
    try:
        branch.fetch()
        current = branch.read_files(join_path(settings.data_path, STATE_FILE))
        return load_state(current, settings.data_path)
    except StoreError:
        return {}


def store(
    settings: Settings,
    observations: Sequence[Observation],
    *,
    today: dt.date,
    remote: Remote,
    workdir: Path,
    sleep: Callable[[float], None],
) -> tuple[str, Plan]:
    """Merge into the data branch and push; on a moved branch, re-merge onto the new tip."""
    if settings.dry_run and remote.local_path is not None and not remote.local_path.exists():
        return "", plan_files({}, observations, today=today, settings=settings)
    if not settings.dry_run:
        prepare_local(remote, branch=settings.data_branch)
    branch = open_branch(settings, remote, workdir)

    def attempt() -> tuple[str, Plan]:
        branch.fetch()
        if settings.dry_run:
            current = branch.read_files(folder_prefix(settings.data_path))
            return "", plan_files(current, observations, today=today, settings=settings)
        # git stores each repo's files while the next repo is merged
        with branch.staging() as staging, _no_cycle_collection():
            current = branch.read_files(folder_prefix(settings.data_path))
            plan = plan_files(
                current, observations, today=today, settings=settings, on_repo=staging.add
            )
            del current  # the fetched files are merged: their memory goes before the push
            if not any(r.status is RepoStatus.SAVED for r in plan.results):
                return "", plan
            message = commit_message(
                today, plan.results, moved=plan.moved, layout1_left=plan.layout1_left
            )
            sha = staging.commit(plan.files, message, deletes=plan.deletes)
        if sha is None:
            return "", plan
        branch.push(sha)
        return sha, plan

    return until_pushed(attempt, attempts=push_attempts(settings), sleep=sleep)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Merging a thousand repos makes millions of small immutable rows and no reference
    cycles; Python's cycle collector would rescan them again and again (a quarter of such a
    run), so it pauses meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def push_attempts(settings: Settings) -> int:
    """How often a run fetches, re-merges and pushes before it gives up.

    A rejected push means another run pushed since our fetch. The other shards of a matrix
    push at most twice each (the data, then PostHog's record), so with `2 * (N - 1)` more
    attempts a shard gets its turn even when all N end together; other writers get the rest.
    """
    return PUSH_ATTEMPTS + 2 * (settings.shard.count - 1)


def until_pushed(
    attempt: Callable[[], Pushed], *, attempts: int, sleep: Callable[[float], None]
) -> Pushed:
    """Run `attempt` (fetch, write, push) again on the new tip while another run moved the
    branch in between: bounded, with jitter, never a force push."""
    for tries in range(attempts):
        try:
            return attempt()
        except PushRejectedError:
            sleep(random.uniform(0.5, 2.0) * (tries + 1))  # noqa: S311 - jitter, not crypto
    raise StoreError(
        f"The data branch kept moving: gave up after {attempts} attempts.",
        fix="Other runs are pushing at the same time; nothing was lost, the next run retries. "
        "A workflow `concurrency:` group avoids this.",
    )


def push_token_for(remote: Remote, settings: Settings) -> str | None:
    """The push token goes only to this GitHub server, never to another host or a folder."""
    if remote.local_path is not None:
        return None
    server = settings.server_url.rstrip("/") + "/"
    return settings.push_token if remote.url.startswith(server) else None


def open_branch(settings: Settings, remote: Remote, workdir: Path) -> DataBranch:
    return DataBranch(
        remote=remote,
        branch=settings.data_branch,
        workdir=workdir,
        token=push_token_for(remote, settings),
    )


def plan_files(
    current: Mapping[str, bytes],
    observations: Sequence[Observation],
    *,
    today: dt.date,
    settings: Settings,
    on_repo: Callable[[Mapping[str, bytes]], None] = lambda files: None,
) -> Plan:
    """Pure: the files to write for these observations on top of the branch's files.

    Every repo folder still in layout 1 moves to layout 2 in the same plan, observed or not;
    one whose files cannot be read fails as a whole and stays as it is.
    `on_repo` gets each repo folder's new files as soon as they are known (git stores them
    meanwhile); they are in the returned plan's files too.
    """
    prefix = settings.data_path
    _, state = read_state_file(current, prefix)
    folders = repo_folders(current, folder_prefix(prefix))
    draft = _Draft(prefix, on_repo, {name for name, f in folders.items() if f.layout1})
    merged_repos: list[tuple[RepoInfo, History]] = []
    handled: set[str] = set()  # folders this run's repos own (now or under an old name)
    for observation in observations:
        repo = observation.repo
        handled.add(repo.full_name)
        entry = state.get(str(repo.id), {})
        moved_from = _old_name(entry, repo.full_name, folders)
        old_folder = folders.get(moved_from) if moved_from else None
        if moved_from:
            handled.add(moved_from)
        try:
            merged = merge_into(
                folders.get(repo.full_name) or Folder.of(join_path(prefix, repo.full_name), {}),
                observation,
                known=_fingerprint_in(entry),
                moved_from=old_folder,
            )
        except HistoryFormatError as error:
            draft.fail(repo.full_name, error)
            continue
        if old_folder is not None:
            draft.remove_folder(current, moved_from, old_folder)
        merged_repos.append((repo, merged.after))
        draft.write(
            repo.full_name,
            merged,
            today=today,
            server_url=settings.server_url,
            created=repo.created,
        )
        entry = state.setdefault(str(repo.id), {})  # keeps keys other parts of the tool own
        entry.update(
            full_name=repo.full_name,
            last_success=today.isoformat(),
            **{FINGERPRINT: merged.fingerprint},
        )
        write_growth_state(entry, observation.growth)
        draft.results.append(
            RepoResult.saved(observation, count_new_days(merged.before, merged.after), moved_from)
        )
    for name in sorted(draft.layout1 - handled):
        draft.move(folders[name], state, today=today, server_url=settings.server_url)
    skip = draft.histories.keys() | draft.removed
    draft.histories.update(_stored_histories(folders, state, skip=skip))
    files = draft.files
    files[join_path(prefix, "README.md")] = render_index(draft.histories, today=today).encode()
    schema = LAYOUT1_SCHEMA if draft.layout1 else STATE_SCHEMA
    files[join_path(prefix, STATE_FILE)] = encode_state(state, schema=schema)
    return Plan(
        files=files,
        results=tuple(draft.results),
        errors=tuple(draft.errors),
        histories=tuple(merged_repos),
        branch_histories=tuple(sorted(draft.histories.items())),
        deletes=tuple(sorted(p for p in set(draft.deletes) if p not in files)),
        moved=len(draft.moved),
        layout1_left=len(draft.layout1),
    )


@dataclass
class _Draft:
    """A plan while `plan_files` builds it, repo by repo."""

    prefix: str
    on_repo: Callable[[Mapping[str, bytes]], None]
    layout1: set[str]  # folders still in layout 1
    moved: set[str] = field(default_factory=set)  # folders moved to layout 2 by this plan
    removed: set[str] = field(default_factory=set)  # folders whose repo was renamed
    files: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    results: list[RepoResult] = field(default_factory=list)
    errors: list[tuple[str, RepoError]] = field(default_factory=list)
    histories: dict[str, History] = field(default_factory=dict)  # by name, for the index

    def write(
        self,
        name: str,
        merged: Merged,
        *,
        today: dt.date,
        server_url: str,
        created: dt.date | None = None,
    ) -> None:
        """A repo folder's new files and page (`today`: the day the page is of)."""
        folder = join_path(self.prefix, name)
        page = render_repo_page(
            name,
            merged.after,
            today=today,
            server_url=server_url,
            datasets=merged.datasets,
            created=created,
        )
        written = {f"{folder}/{file}": data for file, data in merged.files.items()}
        written[f"{folder}/README.md"] = page.encode()
        self.on_repo(written)
        self.files.update(written)
        self.deletes.extend(f"{folder}/{file}" for file in merged.deletes)
        self.histories[name] = merged.after
        self._moved(name)

    def remove_folder(self, current: Mapping[str, bytes], name: str, folder: Folder) -> None:
        """A renamed repo's old folder goes, every file of it (its rows are in the new one)."""
        self.deletes.extend(p for p in current if p.startswith(f"{folder.path}/"))
        self.removed.add(name)
        self._moved(name)

    def move(
        self,
        folder: Folder,
        state: Mapping[str, dict[str, object]],
        *,
        today: dt.date,
        server_url: str,
    ) -> None:
        """A folder in layout 1 that no repo of this run owns, moved to layout 2 as it is;
        its page is redrawn as of the last day it was saved, with links to the new files."""
        name = folder.path.removeprefix(folder_prefix(self.prefix))
        try:
            merged = move_folder(folder)
        except HistoryFormatError as error:
            self.fail(name, error)
            return
        last_day = merged.after.stats[-1].date if merged.after.stats else today
        self.write(name, merged, today=last_day, server_url=server_url)
        for entry in state.values():
            if entry.get("full_name") == name:
                entry[FINGERPRINT] = merged.fingerprint

    def fail(self, name: str, error: HistoryFormatError) -> None:
        self.results.append(RepoResult.failed(name, error))
        self.errors.append((name, error))

    def _moved(self, name: str) -> None:
        if name in self.layout1:
            self.layout1.discard(name)
            self.moved.add(name)


def _old_name(entry: Mapping[str, object], full_name: str, folders: Mapping[str, Folder]) -> str:
    """The folder this repo's history is in under an earlier name (renamed or transferred:
    state.json is keyed by repo id), or "" when it has not moved."""
    old = entry.get("full_name")
    if not isinstance(old, str) or old == full_name:
        return ""
    return old if old in folders else ""


def _stored_histories(
    folders: Mapping[str, Folder],
    state: Mapping[str, Mapping[str, object]],
    *,
    skip: Set[str],
) -> dict[str, History]:
    """The other repo folders already in the branch, as the index shows them; unreadable ones
    are left out."""
    known = {
        entry.get("full_name"): fingerprint
        for entry in state.values()
        if (fingerprint := _fingerprint_in(entry)) is not None
    }
    histories: dict[str, History] = {}
    for full_name, folder in folders.items():
        if full_name in skip:
            continue
        try:
            histories[full_name] = index_history(folder, known=known.get(full_name))
        except HistoryFormatError:
            continue
    return histories


def _fingerprint_in(entry: Mapping[str, object]) -> str | None:
    """The folder fingerprint a state.json entry keeps, if it keeps a readable one."""
    known = entry.get(FINGERPRINT)
    return known if isinstance(known, str) else None


def load_state(current: Mapping[str, bytes], prefix: str) -> dict[str, dict[str, object]]:
    """state.json's repos, by id ({} when there is no state.json yet)."""
    return read_state_file(current, prefix)[1]


def read_state_file(
    current: Mapping[str, bytes], prefix: str
) -> tuple[int, dict[str, dict[str, object]]]:
    """state.json's schema and repos; a branch without one is new, so in the current layout."""
    path = join_path(prefix, STATE_FILE)
    raw = current.get(path)
    if raw is None:
        return STATE_SCHEMA, {}
    try:
        data = json.loads(raw)
        schema, repos = data["schema"], data["repos"]
        entries = {str(k): dict(v) for k, v in repos.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _unreadable_state(path) from exc
    if type(schema) is not int or schema < LAYOUT1_SCHEMA:
        raise _unreadable_state(path)
    if schema > STATE_SCHEMA:
        raise StoreError(
            f"{path} in the data branch says it is in layout {schema}, which a newer version "
            f"of traffic-sync wrote; this version knows layouts up to {STATE_SCHEMA}. Nothing "
            "was written.",
            fix="Use the newer version of traffic-sync (the action's tag) in every workflow "
            "that writes this branch.",
        )
    return schema, entries


def _unreadable_state(path: str) -> StoreError:
    return StoreError(
        f"{path} in the data branch cannot be read.",
        fix=f"Restore it from the branch's history or delete {path}; nothing was written.",
    )


def encode_state(state: Mapping[str, Mapping[str, object]], *, schema: int = STATE_SCHEMA) -> bytes:
    data = {"schema": schema, "repos": dict(sorted(state.items()))}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def commit_message(
    today: dt.date, results: Sequence[RepoResult], *, moved: int = 0, layout1_left: int = 0
) -> str:
    """`traffic-sync: <date>, <n> repos, <k> new days`, a line on the move to layout 2 when
    folders moved, and one line per saved repo."""
    saved = [r for r in results if r.status is RepoStatus.SAVED]
    days = sum(r.days_added for r in saved)
    body = "\n".join(
        f"- {r.full_name}: +{r.days_added} days"
        + (f" (moved from {r.renamed_from})" if r.renamed_from else "")
        for r in saved
    )
    if moved:
        body = f"{_move_summary(moved, layout1_left)}\n\n{body}"
    return f"traffic-sync: {today.isoformat()}, {len(saved)} repos, {days} new days\n\n{body}\n"


def _move_summary(moved: int, left: int) -> str:
    if not left:
        return f"Moved the data branch to layout 2 (period files): {_repos(moved)}."
    return (
        f"Moved {_repos(moved)} to layout 2 (period files); {_repos(left)} still in layout 1, "
        "whose files cannot be read (see the run's errors)."
    )


def moved_line(plan: Plan, *, dry_run: bool) -> str:
    """The progress line of a run that moves folders to layout 2."""
    if dry_run:
        return (
            f"Dry run: {_repos(plan.moved)} would move to layout 2 (period files); "
            "nothing was written."
        )
    return _move_summary(plan.moved, plan.layout1_left)


def _repos(count: int) -> str:
    return f"{count:,} repo" + ("" if count == 1 else "s")


def folder_prefix(data_path: str) -> str:
    return f"{data_path}/" if data_path else ""


def join_path(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path
