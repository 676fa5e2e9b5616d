"""Collection: which repos this run fetches, within its budget and shard, and their traffic.

Every request to GitHub's traffic API is made here (through `TrafficSource`); nothing here
reads or writes the data branch, except the state.json lookups `read_state` gives.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from traffic_sync.branch.state import BranchState
from traffic_sync.core.config import Settings
from traffic_sync.core.errors import AuthError, PrivacyError, RateLimitedError, RepoError
from traffic_sync.core.log import Log
from traffic_sync.core.models import GrowthReport, Observation, RepoRef, RepoResult, RepoStatus
from traffic_sync.core.shard import Selection, select
from traffic_sync.github.rest import Declined, TrafficSource
from traffic_sync.sinks.gitstore import repo_on_server
from traffic_sync.stages.collect_growth import collect_growth

REQUESTS_PER_REPO = 5  # GET /repos/{o}/{r} and the four traffic calls
RELEASE_REQUESTS = 1  # GET /repos/{o}/{r}/releases, with `release-downloads` (per 100 releases)
# A fetch on day F holds final days F-13 .. F-2, so a repo synced at least every 12 days loses
# no day; the summary warns from 10 days on, while there is still time.
SAFE_INTERVAL = 12
GAP_WARNING_DAYS = 10


@dataclass
class Collected:
    """What collection produced: observations to store, and results for repos that are done."""

    observations: list[Observation] = field(default_factory=list)
    results: list[RepoResult] = field(default_factory=list)
    growth: GrowthReport | None = None  # None: stars and forks were not asked for


def collect(
    settings: Settings,
    *,
    today: dt.date,
    source: TrafficSource,
    log: Log,
    read_state: Callable[[], BranchState] = BranchState,
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
        collected.results.append(RepoResult.failed(pattern, error))
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
            collected.results.append(RepoResult.failed(name, stopped_by))
            continue
        except RepoError as error:
            log.error(error, where=name)
            collected.results.append(RepoResult.failed(name, error))
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
    _add_growth(collected, settings=settings, source=source, read_state=read_state, log=log)
    return collected


def _add_growth(
    collected: Collected,
    *,
    settings: Settings,
    source: TrafficSource,
    read_state: Callable[[], BranchState],
    log: Log,
) -> None:
    """Warn of what failed without failing a repo, then fetch the stars and forks that grew
    (only where the branch keeps them). GraphQL's points are a budget of their own: a REST
    rate limit that stopped collection does not stop this."""
    for observation in collected.observations:
        for warning in observation.warnings:
            log.warning(warning, where=observation.repo.full_name)
    client = source.growth_client() if "branch" in settings.sinks else None
    if client is not None and collected.observations:
        collected.observations, collected.growth = collect_growth(
            collected.observations,
            client=client,
            state=read_state(),
            log=log,
            workers=settings.concurrency,
        )


def requests_per_repo(settings: Settings) -> int:
    """REST requests one repo costs a run (GraphQL's points are budgeted apart)."""
    return REQUESTS_PER_REPO + (RELEASE_REQUESTS if settings.release_downloads else 0)


def _within_budget(
    names: Sequence[str],
    *,
    settings: Settings,
    source: TrafficSource,
    today: dt.date,
    read_state: Callable[[], BranchState],
    log: Log,
    into: Collected,
) -> list[str]:
    """The repos this run can afford (see `plan_budget`); the others are reported skipped."""
    names, deferred = plan_budget(
        names,
        settings=settings,
        remaining=source.remaining_requests(),
        made=source.requests_made,
        read_state=read_state,
    )
    if deferred:
        budget = RateLimitedError(
            f"The repos need more API requests than this run may make "
            f"({requests_per_repo(settings)} per repo); the stalest {len(names):,} were synced "
            "first.",
            fix="The next runs sync the rest first. Raise max-requests, or run more often.",
        )
        log.warning(budget, where=f"{len(deferred)} repos skipped")
        _skip(deferred, budget, today=today, read_state=read_state, log=log, into=into)
    return names


def choose_shard(
    refs: Sequence[RepoRef],
    *,
    settings: Settings,
    read_state: Callable[[], BranchState],
    log: Log,
) -> Selection:
    """The repos of this run's shard (all of them for `1/1`); state.json is read only when
    a named repo's id is needed."""
    if settings.shard.count == 1:
        return Selection(tuple(r.full_name for r in refs), frozenset(), 0)
    named = any(r.id is None for r in refs)
    chosen = select(refs, settings.shard, known=read_state().known_ids() if named else {})
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
            return source.observe(
                name, fetched_on=today, accept=accept, releases=settings.release_downloads
            )
        except (RateLimitedError, AuthError):
            stop.set()
            raise
        except (RepoError, Declined):
            raise
        except Exception as exc:  # one repo's surprise must not end the run
            raise RepoError(
                f"{name}: collecting it failed unexpectedly ({type(exc).__name__}: {exc}).",
                fix="Nothing stored for it changed and the other repos are saved. This is a "
                "bug in traffic-sync: please report it with this message.",
            ) from exc

    workers = max(1, min(settings.concurrency, len(names)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="traffic-sync") as pool:
        yield from [pool.submit(observe, name) for name in names]


def plan_budget(
    names: Sequence[str],
    *,
    settings: Settings,
    remaining: int | None,
    made: int,
    read_state: Callable[[], BranchState],
) -> tuple[list[str], list[str]]:
    """(repos to sync now, repos deferred): stalest first when the budget does not cover all.

    The budget is the smaller of what the token has left this hour (`remaining`, from the free
    `GET /rate_limit`; None when unknown) and what `max-requests` leaves after the `made`
    requests so far.
    """
    limits: list[int] = []
    if remaining is not None:
        limits.append(remaining)
    if settings.max_requests:
        limits.append(settings.max_requests - made)
    cost = requests_per_repo(settings)
    if not limits or min(limits) >= cost * len(names):
        return list(names), []
    affordable = max(0, min(limits)) // cost
    last = _last_success_by_name(read_state())
    stalest = sorted(names, key=lambda n: (last.get(n.lower(), ""), n.casefold(), n))
    chosen = set(stalest[:affordable])
    return [n for n in names if n in chosen], [n for n in names if n not in chosen]


def _last_success_by_name(state: BranchState) -> dict[str, str]:
    """lower-case full name -> last successful sync day (ISO text) from state.json."""
    return {name: day.isoformat() for name, day in state.last_success_by_name().items()}


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
    read_state: Callable[[], BranchState],
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
            into.results.append(RepoResult.skipped(name, error))


def _data_repository_is_public(settings: Settings, source: TrafficSource) -> bool:
    """A data repository on this GitHub server (`owner/name` or its URL) is checked; unknown
    visibility counts as public. Another host or a local folder cannot be checked."""
    name = repo_on_server(settings.data_repository, server_url=settings.server_url)
    return name is not None and source.is_private(name) is not True


def _check_privacy(observation: Observation, *, public: bool, settings: Settings) -> None:
    if observation.repo.private and public and not settings.allow_private_in_public:
        raise PrivacyError(
            f"{observation.repo.full_name} is private and {settings.data_repository} is public "
            "(or its visibility could not be read), so its traffic was not written.",
            fix="Keep the data in a private repo (data-repository), or set "
            "allow-private-in-public: true if publishing it is intended.",
        )
