"""The one orchestrator: collect -> merge -> store -> send -> report.

The action, the command line and the demo all call `run()`; only the collaborators differ.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import quote

from traffic_sync.errors import (
    AuthError,
    HistoryFormatError,
    PostHogError,
    PrivacyError,
    PushRejectedError,
    RateLimitedError,
    RepoError,
    StoreError,
    TrafficSyncError,
)
from traffic_sync.folders import (
    FINGERPRINT,
    Folder,
    Merged,
    index_history,
    merge_into,
    move_folder,
    repo_folders,
)
from traffic_sync.github import Declined, TrafficSource
from traffic_sync.gitstore import DataBranch, Remote, prepare_local, resolve_remote
from traffic_sync.history import apply_observation, count_new_days
from traffic_sync.models import (
    History,
    Observation,
    PostHogReport,
    RepoInfo,
    RepoRef,
    RepoResult,
    RepoStatus,
    RunReport,
)
from traffic_sync.posthog import (
    EventSender,
    PostHogSender,
    SeriesKey,
    SeriesPlan,
    advance,
    plan_events,
    read_watermarks,
    record_watermarks,
    window_events,
)
from traffic_sync.render import render_index, render_repo_page
from traffic_sync.settings import Settings
from traffic_sync.shard import Selection, known_ids, select

PUSH_ATTEMPTS = 5
STATE_FILE = ".traffic-sync/state.json"
# state.json's schema says which layout the branch is in: 2, period files (`views/2026.json`);
# 1, layout 1's whole files (`views.json`), or some of them still left while the branch moves.
STATE_SCHEMA = 2
LAYOUT1_SCHEMA = 1
REQUESTS_PER_REPO = 5  # GET /repos/{o}/{r} and the four traffic calls
# A fetch on day F holds final days F-13 .. F-2, so a repo synced at least every 12 days loses
# no day; the summary warns from 10 days on, while there is still time.
SAFE_INTERVAL = 12
GAP_WARNING_DAYS = 10
Pushed = TypeVar("Pushed")  # what one push attempt returns


class Log(Protocol):
    """Where a run says what happens: `actions.Reporter` in production."""

    def progress(self, line: str) -> None: ...

    def error(self, error: TrafficSyncError, *, where: str = "") -> None: ...

    def warning(self, error: TrafficSyncError, *, where: str = "") -> None: ...


@dataclass
class Collected:
    """What collection produced: observations to store, and results for repos that are done."""

    observations: list[Observation] = field(default_factory=list)
    results: list[RepoResult] = field(default_factory=list)


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


def run(
    settings: Settings,
    *,
    today: dt.date,
    source: TrafficSource,
    log: Log,
    workdir: Path,
    cwd: Path,
    sleep: Callable[[float], None] = time.sleep,
    posthog: EventSender | None = None,
) -> RunReport:
    """Sync every repo of `settings` for fetch day `today`; never raises for one repo's failure.

    The data branch is written first; PostHog gets its events afterwards, from the history as
    written, so PostHog can never block or lose the branch data.
    """
    remote = resolve_remote(settings.data_repository, server_url=settings.server_url, cwd=cwd)
    state: list[dict[str, dict[str, object]]] = []

    def read_state_once() -> dict[str, dict[str, object]]:
        if not state:
            state.append(read_state(settings, remote=remote, workdir=workdir))
        return state[0]

    collected = collect(settings, today=today, source=source, log=log, read_state=read_state_once)
    commit_sha = ""
    store_failed = False
    plan: Plan | None = None
    results = list(collected.results)
    histories: tuple[tuple[str, History], ...] = ()
    if "branch" in settings.sinks and collected.observations:
        try:
            commit_sha, plan = store(
                settings,
                collected.observations,
                today=today,
                remote=remote,
                workdir=workdir,
                sleep=sleep,
            )
        except StoreError as error:
            store_failed = True
            log.error(error, where=remote.display)
            plan = Plan({}, tuple(_failed(o.repo.full_name, error) for o in collected.observations))
        for name, repo_error in plan.errors:
            log.error(repo_error, where=name)
        if plan.moved:
            log.progress(_moved_line(plan, dry_run=settings.dry_run))
        for result in plan.results:
            if result.renamed_from:
                log.progress(
                    f"{result.renamed_from} is now {result.full_name} (renamed or transferred): "
                    f"its history moved to {result.full_name}/"
                )
        results.extend(plan.results)
        histories = plan.branch_histories
    elif "branch" not in settings.sinks:  # nothing to write: each repo goes to the other sinks
        results.extend(_saved(o, 0) for o in collected.observations)
    posthog_report = None
    if "posthog" in settings.sinks:
        sender = posthog or PostHogSender(
            api_key=settings.posthog_api_key, host=settings.posthog_host, sleep=sleep
        )
        posthog_report = publish(
            settings,
            collected.observations,
            plan=None if store_failed else plan,
            store_failed=store_failed,
            today=today,
            sender=sender,
            log=log,
            remote=remote,
            workdir=workdir,
            sleep=sleep,
        )
    return RunReport(
        fetched_on=today,
        results=tuple(results),
        commit_sha=commit_sha,
        dry_run=settings.dry_run,
        data_location=f"{remote.display}@{settings.data_branch}"
        if "branch" in settings.sinks
        else "",
        store_failed=store_failed,
        posthog=posthog_report,
        histories=histories,
        shard=str(settings.shard) if settings.shard.count > 1 else "",
        index_path=_join(settings.data_path, "README.md") if "branch" in settings.sinks else "",
        index_url=index_url(settings, remote) if "branch" in settings.sinks else "",
    )


def collect(
    settings: Settings,
    *,
    today: dt.date,
    source: TrafficSource,
    log: Log,
    read_state: Callable[[], Mapping[str, Mapping[str, object]]] = dict,
) -> Collected:
    """Expand `repos`, take this run's shard of them, keep within the request budget, then
    fetch the repos `concurrency` at a time; a long rate-limit wait, a spent budget or a 401
    ends collection.

    `read_state` gives state.json's repos (read only when some repos must wait for a later run,
    or when a sharded run looks up the ids of named repos).
    """
    collected = Collected()
    refs, failures = source.expand(
        settings.repos,
        include_forks=settings.include_forks,
        include_archived=settings.include_archived,
    )
    for pattern, error in failures:
        log.error(error, where=pattern)
        collected.results.append(_failed(pattern, error))
    shard = choose_shard(refs, settings=settings, read_state=read_state, log=log)
    # the guard is about writing the data repository: without the branch sink nothing is
    public = "branch" in settings.sinks and _data_repository_is_public(settings, source)
    names = _within_budget(
        shard.names,
        settings=settings,
        source=source,
        today=today,
        read_state=read_state,
        log=log,
        into=collected,
    )
    outcomes = _observe_all(
        names, settings=settings, source=source, today=today, unknown=shard.unknown
    )
    seen_ids: set[int] = set()
    not_reached: list[str] = []
    stopped_by: RepoError | None = None
    for index, (name, outcome) in enumerate(zip(names, outcomes, strict=True)):
        label = f"[{index + 1}/{len(names)}] {name}"
        try:
            observation = outcome.result()
            if observation is None:  # not started: an earlier repo stopped collection
                raise stopped_by or RateLimitedError("Collection stopped.")
            _check_privacy(observation, public=public, settings=settings)
        except Declined as declined:
            log.progress(f"{label}: id {declined.repo_id} is another shard's; not fetched")
            continue
        except RateLimitedError as error:
            # not this repo's fault: it waits for the next run, nothing is lost
            stopped_by = stopped_by or error
            not_reached.append(name)
            continue
        except AuthError as error:
            if stopped_by is None:
                log.error(error, where=name)
            stopped_by = stopped_by or error
            collected.results.append(_failed(name, stopped_by))
            continue
        except RepoError as error:
            log.error(error, where=name)
            collected.results.append(_failed(name, error))
            log.progress(f"{label}: failed: {error.message}")
            continue
        if observation.repo.id in seen_ids:
            continue  # two entries (or an old name) that lead to the same repo
        seen_ids.add(observation.repo.id)
        collected.observations.append(observation)
        log.progress(
            f"{label}: views {observation.views.count:,}, clones {observation.clones.count:,} "
            "(14 days)"
        )
    if not_reached:
        limit = stopped_by if isinstance(stopped_by, RateLimitedError) else None
        limit = limit or RateLimitedError("Collection stopped.")
        log.warning(limit, where=f"{len(not_reached)} repos skipped")
        _skip(not_reached, limit, today=today, read_state=read_state, log=None, into=collected)
    return collected


def _within_budget(
    names: Sequence[str],
    *,
    settings: Settings,
    source: TrafficSource,
    today: dt.date,
    read_state: Callable[[], Mapping[str, Mapping[str, object]]],
    log: Log,
    into: Collected,
) -> list[str]:
    """The repos this run can afford (see `plan_budget`); the others are reported skipped."""
    names, deferred = plan_budget(names, settings=settings, source=source, read_state=read_state)
    if deferred:
        budget = RateLimitedError(
            f"The repos need more API requests than this run may make "
            f"({REQUESTS_PER_REPO} per repo); the stalest {len(names):,} were synced first.",
            fix="The next runs sync the rest first. Raise max-requests, or run more often.",
        )
        log.warning(budget, where=f"{len(deferred)} repos skipped")
        _skip(deferred, budget, today=today, read_state=read_state, log=log, into=into)
    return names


def choose_shard(
    refs: Sequence[RepoRef],
    *,
    settings: Settings,
    read_state: Callable[[], Mapping[str, Mapping[str, object]]],
    log: Log,
) -> Selection:
    """The repos of this run's shard (all of them for `1/1`); state.json is read only when
    a named repo's id is needed."""
    if settings.shard.count == 1:
        return Selection(tuple(r.full_name for r in refs), frozenset(), 0)
    named = any(r.id is None for r in refs)
    chosen = select(refs, settings.shard, known=known_ids(read_state()) if named else {})
    line = f"Shard {settings.shard}: {len(chosen.names) - len(chosen.unknown):,} repos by id"
    line += f", {chosen.others:,} left to the other shards"
    if chosen.unknown:
        line += (
            f"; {len(chosen.unknown):,} named repos not synced before are looked up first "
            "and kept only if their id is this shard's"
        )
    log.progress(line)
    return chosen


def _observe_all(
    names: Sequence[str],
    *,
    settings: Settings,
    source: TrafficSource,
    today: dt.date,
    unknown: Set[str] = frozenset(),
) -> Iterator[Future[Observation | None]]:
    """Fetch every repo on `concurrency` workers, one future per name in order; after a rate
    limit or a 401, repos not started yet are not started (their result is None).

    A name in `unknown` (its id not known yet) is fetched only if its id is in this shard."""
    stop = threading.Event()
    holds = settings.shard.holds

    def observe(name: str) -> Observation | None:
        if stop.is_set():
            return None
        try:
            accept = holds if name in unknown else None
            return source.observe(name, fetched_on=today, accept=accept)
        except (RateLimitedError, AuthError):
            stop.set()
            raise

    workers = max(1, min(settings.concurrency, len(names)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="traffic-sync") as pool:
        yield from [pool.submit(observe, name) for name in names]


def plan_budget(
    names: Sequence[str],
    *,
    settings: Settings,
    source: TrafficSource,
    read_state: Callable[[], Mapping[str, Mapping[str, object]]],
) -> tuple[list[str], list[str]]:
    """(repos to sync now, repos deferred): stalest first when the budget does not cover all.

    The budget is the smaller of what the token has left this hour (the free `GET /rate_limit`)
    and what `max-requests` leaves after the requests made so far.
    """
    limits: list[int] = []
    remaining = source.remaining_requests()
    if remaining is not None:
        limits.append(remaining)
    if settings.max_requests:
        limits.append(settings.max_requests - source.requests_made)
    if not limits or min(limits) >= REQUESTS_PER_REPO * len(names):
        return list(names), []
    affordable = max(0, min(limits)) // REQUESTS_PER_REPO
    last = _last_success_by_name(read_state())
    stalest = sorted(names, key=lambda n: (last.get(n.lower(), ""), n.casefold(), n))
    chosen = set(stalest[:affordable])
    return [n for n in names if n in chosen], [n for n in names if n not in chosen]


def _last_success_by_name(state: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """lower-case full name -> last successful sync day (ISO text) from state.json."""
    last: dict[str, str] = {}
    for entry in state.values():
        name, day = entry.get("full_name"), entry.get("last_success")
        if isinstance(name, str) and isinstance(day, str):
            last[name.lower()] = max(day, last.get(name.lower(), ""))
    return last


def gap_risk(last_success: str, *, today: dt.date) -> str:
    """What a skipped repo risks: a fetch covers 14 days, so a repo synced at least every
    `SAFE_INTERVAL` days keeps every final day; "" when it is not at risk yet."""
    if not last_success:
        return ""  # no history yet, so no gap in it
    days = (today - dt.date.fromisoformat(last_success)).days
    if days < GAP_WARNING_DAYS:
        return ""
    left = SAFE_INTERVAL - days
    if left <= 0:
        return (
            f"last synced {last_success}, {days} days ago: days are being lost until it is synced"
        )
    return (
        f"last synced {last_success}, {days} days ago: a day is lost unless it is synced "
        f"within {left} day{'s' if left > 1 else ''}"
    )


def _skip(
    names: Sequence[str],
    error: RateLimitedError,
    *,
    today: dt.date,
    read_state: Callable[[], Mapping[str, Mapping[str, object]]],
    log: Log | None,
    into: Collected,
) -> None:
    """Report repos left for a later run, warning for each one at risk of a gap."""
    last = _last_success_by_name(read_state())
    for name in names:
        risk = gap_risk(last.get(name.lower(), ""), today=today)
        if risk:
            if log is not None:
                log.warning(RateLimitedError(f"Skipped, at risk of a gap: {risk}."), where=name)
            into.results.append(
                RepoResult(
                    name,
                    RepoStatus.SKIPPED,
                    error_title=error.title,
                    error=f"{error.message} At risk of a gap: {risk}.",
                )
            )
        else:
            into.results.append(_skipped(name, error))


def read_state(
    settings: Settings, *, remote: Remote, workdir: Path
) -> dict[str, dict[str, object]]:
    """state.json's repos at the branch's tip; {} when there is none yet or it is unreadable
    (then every repo counts as never synced, and `store` reports the broken file)."""
    if "branch" not in settings.sinks:
        return {}
    if remote.local_path is not None and not remote.local_path.exists():
        return {}
    branch = _open_branch(settings, remote, workdir)
    try:
        branch.fetch()
        current = branch.read_files(_join(settings.data_path, STATE_FILE))
        return _load_state(current, settings.data_path)
    except StoreError:
        return {}


def index_url(settings: Settings, remote: Remote) -> str:
    """The data branch's index page on GitHub for an `owner/name` data repository, else ""."""
    server = settings.server_url.rstrip("/")
    if remote.local_path is not None or remote.url != f"{server}/{remote.display}.git":
        return ""
    branch = quote(settings.data_branch, safe="/")
    page = quote(_join(settings.data_path, "README.md"), safe="/")
    return f"{server}/{remote.display}/blob/{branch}/{page}"


def _data_repository_is_public(settings: Settings, source: TrafficSource) -> bool:
    """Only an `owner/name` data repository is checked; unknown visibility counts as public."""
    parts = settings.data_repository.split("/")
    if len(parts) != 2 or settings.data_repository.startswith((".", "/", "~")) or ":" in parts[0]:
        return False
    return source.is_private(settings.data_repository) is not True


def _check_privacy(observation: Observation, *, public: bool, settings: Settings) -> None:
    if observation.repo.private and public and not settings.allow_private_in_public:
        raise PrivacyError(
            f"{observation.repo.full_name} is private and {settings.data_repository} is public "
            "(or its visibility could not be read), so its traffic was not written.",
            fix="Keep the data in a private repo (data-repository), or set "
            "allow-private-in-public: true if publishing it is intended.",
        )


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
    branch = _open_branch(settings, remote, workdir)

    def attempt() -> tuple[str, Plan]:
        branch.fetch()
        if settings.dry_run:
            current = branch.read_files(_prefix(settings.data_path))
            return "", plan_files(current, observations, today=today, settings=settings)
        # git stores each repo's files while the next repo is merged
        with branch.staging() as staging, _no_cycle_collection():
            current = branch.read_files(_prefix(settings.data_path))
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

    return _until_pushed(attempt, attempts=push_attempts(settings), sleep=sleep)


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


def _until_pushed(
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


def _open_branch(settings: Settings, remote: Remote, workdir: Path) -> DataBranch:
    return DataBranch(
        remote=remote,
        branch=settings.data_branch,
        workdir=workdir,
        token=push_token_for(remote, settings),
    )


def publish(
    settings: Settings,
    observations: Sequence[Observation],
    *,
    plan: Plan | None,
    store_failed: bool,
    today: dt.date,
    sender: EventSender,
    log: Log,
    remote: Remote,
    workdir: Path,
    sleep: Callable[[float], None],
) -> PostHogReport:
    """Send the settled days PostHog has not acknowledged yet, then record how far it got.

    With the branch sink the events come from the history as written (so turning PostHog on
    later sends the whole stored history) and the watermarks go to state.json in a second small
    commit. Without it, the settled days of the current window are sent every run.
    """
    if store_failed:
        return PostHogReport(
            error_title="PostHog skipped",
            error="Nothing was sent because the data branch could not be written; the next run "
            "sends these days.",
        )
    plans: tuple[SeriesPlan, ...] = ()
    if "branch" in settings.sinks:
        if plan is None:
            return PostHogReport()  # no repo was collected
        state_path = _join(settings.data_path, STATE_FILE)
        try:
            watermarks = read_watermarks(_load_state(plan.files, settings.data_path))
        except ValueError as exc:
            error = PostHogError(
                f"{state_path} in the data branch has an unreadable PostHog watermark ({exc}), "
                "so nothing was sent.",
                fix="Correct that date, or delete the repo's `posthog_sent_through` to send its "
                "whole history again.",
            )
            log.error(error, where=state_path)
            return PostHogReport(error_title=error.title, error=str(error))
        plans = plan_events(plan.histories, watermarks, today=today)
        events = [event for series in plans for event in series.events]
    else:
        events = [
            event
            for observation in observations
            for event in window_events(observation.repo, apply_observation(History(), observation))
        ]
    repos = len({event.full_name for event in events})
    if settings.dry_run:
        log.progress(f"PostHog (dry run): {len(events):,} events would be sent, none were")
        return PostHogReport(planned=len(events), repos=repos)
    if not events:
        log.progress("PostHog: no newly settled days to send")
        return PostHogReport()
    log.progress(
        f"PostHog: sending {len(events):,} events ({repos:,} repos) to {settings.posthog_host}"
    )
    delivery = sender.send(events)
    errors: list[PostHogError] = []
    if delivery.error is not None:
        log.error(delivery.error, where=settings.posthog_host)
        errors.append(delivery.error)
    if plans and delivery.acknowledged:
        names = {repo.id: repo.full_name for repo, _ in (plan.histories if plan else ())}
        try:
            save_watermarks(
                settings,
                advance(plans, delivery.acknowledged),
                names=names,
                sent=delivery.acknowledged,
                today=today,
                remote=remote,
                workdir=workdir,
                sleep=sleep,
            )
        except StoreError as exc:
            error = PostHogError(
                f"PostHog acknowledged {delivery.acknowledged:,} events, but the record of what "
                f"was sent could not be saved to the data branch: {exc.message}",
                fix="The next run sends those days again; PostHog keeps one copy of identical "
                "events with the same uuid.",
            )
            log.error(error, where=remote.display)
            errors.append(error)
    log.progress(f"PostHog: {delivery.acknowledged:,} of {len(events):,} events acknowledged")
    return PostHogReport(
        sent=delivery.acknowledged,
        planned=len(events),
        repos=repos,
        error_title=errors[0].title if errors else "",
        error=" ".join(str(error) for error in errors),
    )


def save_watermarks(
    settings: Settings,
    marks: Mapping[SeriesKey, dt.date],
    *,
    names: Mapping[int, str],
    sent: int,
    today: dt.date,
    remote: Remote,
    workdir: Path,
    sleep: Callable[[float], None],
) -> str:
    """Commit state.json with `marks` merged in (a later date wins), re-merging if it moved."""
    if not marks:
        return ""
    path = _join(settings.data_path, STATE_FILE)
    branch = _open_branch(settings, remote, workdir)
    lines = [
        f"- {names.get(repo_id, repo_id)} {metric.value}: sent through {day.isoformat()}"
        for (repo_id, metric), day in sorted(marks.items())
    ]
    message = f"traffic-sync: {today.isoformat()}, PostHog: {sent:,} events sent\n\n"
    message += "\n".join(lines) + "\n"

    def attempt() -> str:
        branch.fetch()
        schema, state = _read_state(branch.read_files(path), settings.data_path)
        try:
            record_watermarks(state, marks)
        except ValueError as exc:
            raise StoreError(f"{path} has an unreadable PostHog watermark: {exc}.") from exc
        sha = branch.commit({path: _encode_state(state, schema=schema)}, message)
        if sha is None:
            return ""  # another run recorded as much already
        branch.push(sha)
        return sha

    return _until_pushed(attempt, attempts=push_attempts(settings), sleep=sleep)


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
    _, state = _read_state(current, prefix)
    folders = repo_folders(current, _prefix(prefix))
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
                folders.get(repo.full_name) or Folder.of(_join(prefix, repo.full_name), {}),
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
        draft.write(repo.full_name, merged, today=today, server_url=settings.server_url)
        entry = state.setdefault(str(repo.id), {})  # keeps keys other parts of the tool own
        entry.update(
            full_name=repo.full_name,
            last_success=today.isoformat(),
            **{FINGERPRINT: merged.fingerprint},
        )
        draft.results.append(
            _saved(observation, count_new_days(merged.before, merged.after), moved_from)
        )
    for name in sorted(draft.layout1 - handled):
        draft.move(folders[name], state, today=today, server_url=settings.server_url)
    skip = draft.histories.keys() | draft.removed
    draft.histories.update(_stored_histories(folders, state, skip=skip))
    files = draft.files
    files[_join(prefix, "README.md")] = render_index(draft.histories, today=today).encode()
    schema = LAYOUT1_SCHEMA if draft.layout1 else STATE_SCHEMA
    files[_join(prefix, STATE_FILE)] = _encode_state(state, schema=schema)
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

    def write(self, name: str, merged: Merged, *, today: dt.date, server_url: str) -> None:
        """A repo folder's new files and page (`today`: the day the page is of)."""
        folder = _join(self.prefix, name)
        page = render_repo_page(
            name, merged.after, today=today, server_url=server_url, datasets=merged.datasets
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
        name = folder.path.removeprefix(_prefix(self.prefix))
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
        self.results.append(_failed(name, error))
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


def _load_state(current: Mapping[str, bytes], prefix: str) -> dict[str, dict[str, object]]:
    """state.json's repos, by id ({} when there is no state.json yet)."""
    return _read_state(current, prefix)[1]


def _read_state(
    current: Mapping[str, bytes], prefix: str
) -> tuple[int, dict[str, dict[str, object]]]:
    """state.json's schema and repos; a branch without one is new, so in the current layout."""
    path = _join(prefix, STATE_FILE)
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


def _encode_state(
    state: Mapping[str, Mapping[str, object]], *, schema: int = STATE_SCHEMA
) -> bytes:
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


def _moved_line(plan: Plan, *, dry_run: bool) -> str:
    """The progress line of a run that moves folders to layout 2."""
    if dry_run:
        return (
            f"Dry run: {_repos(plan.moved)} would move to layout 2 (period files); "
            "nothing was written."
        )
    return _move_summary(plan.moved, plan.layout1_left)


def _repos(count: int) -> str:
    return f"{count:,} repo" + ("" if count == 1 else "s")


def _saved(observation: Observation, days_added: int, renamed_from: str = "") -> RepoResult:
    return RepoResult(
        full_name=observation.repo.full_name,
        status=RepoStatus.SAVED,
        views_14d=observation.views.count,
        view_uniques_14d=observation.views.uniques,
        clones_14d=observation.clones.count,
        clone_uniques_14d=observation.clones.uniques,
        days_added=days_added,
        renamed_from=renamed_from,
    )


def _failed(name: str, error: TrafficSyncError) -> RepoResult:
    return RepoResult(name, RepoStatus.FAILED, error_title=error.title, error=str(error))


def _skipped(name: str, error: RepoError) -> RepoResult:
    return RepoResult(name, RepoStatus.SKIPPED, error_title=error.title, error=error.message)


def _prefix(data_path: str) -> str:
    return f"{data_path}/" if data_path else ""


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path
