"""Collection: which repos this run fetches, within its budget and shard, and their traffic.

Every request to GitHub's traffic API is made here (through `TrafficSource`); nothing here
reads or writes the data branch, except the state.json lookups `read_state` gives.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from traffic_sync.branch.state import BranchState
from traffic_sync.core.config import RepoPattern
from traffic_sync.core.errors import AuthError, PrivacyError, RateLimitedError, RepoError
from traffic_sync.core.growth import Series
from traffic_sync.core.log import Log
from traffic_sync.core.models import (
    GrowthReport,
    Observation,
    RepoInfo,
    RepoRef,
    RepoResult,
    RepoStatus,
)
from traffic_sync.core.shard import WHOLE, Selection, Shard, select
from traffic_sync.github.graphql import Page
from traffic_sync.github.rest import Declined, TrafficSource
from traffic_sync.stages.collect_growth import GrowthFetches

# the four traffic calls: the rest of a repo's facts come from GraphQL, many repos a query
# (`GitHubSource.describe`); a repo GraphQL could not describe costs one more, its GET
REQUESTS_PER_REPO = 4
FACTS_REQUESTS = 1
RELEASE_REQUESTS = 1  # GET /repos/{o}/{r}/releases, with `release-downloads` (per 100 releases)
# A fetch on day F holds final days F-13 .. F-2, so a repo synced at least every 12 days loses
# no day; the summary warns from 10 days on, while there is still time.
SAFE_INTERVAL = 12
GAP_WARNING_DAYS = 10


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """What collection takes of a run's settings (the orchestrator builds it from them)."""

    repos: tuple[RepoPattern, ...]
    include_forks: bool = False
    include_archived: bool = False
    shard: Shard = WHOLE
    concurrency: int = 8
    max_requests: int = 0  # 0 = no cap beyond what the token has left
    release_downloads: bool = False
    growth: bool = True  # stars and forks are fetched only where the data branch keeps them
    # the privacy guard: the data repository as the user named it, and `owner/name` when it is
    # on this GitHub server and the branch is written (None: another host, a local folder, or
    # no branch sink, where there is nothing to check)
    data_repository: str = ""
    guarded: str | None = None
    allow_private_in_public: bool = False

    @property
    def cost(self) -> int:
        """REST requests one repo costs a run (GraphQL's points are budgeted apart)."""
        return REQUESTS_PER_REPO + (RELEASE_REQUESTS if self.release_downloads else 0)


@dataclass
class Collected:
    """What collection produced: observations to store, and results for repos that are done."""

    observations: list[Observation] = field(default_factory=list)
    results: list[RepoResult] = field(default_factory=list)
    growth: GrowthReport | None = None  # None: stars and forks were not asked for


ReadState = Callable[[], BranchState]


class Arrivals(Protocol):
    """Where collection hands each repo as soon as its answers are in (the store, which
    merges it while the next requests wait for their turn)."""

    def expect(self, repos: Sequence[RepoInfo]) -> None:
        """The repos about to be fetched, as GraphQL described them (their requests are
        under way)."""

    def add(self, observation: Observation) -> None:
        """One repo's answers, its stars and forks included: it is the run's to store."""


class _Nowhere:
    def expect(self, repos: Sequence[RepoInfo]) -> None:
        pass

    def add(self, observation: Observation) -> None:
        pass


def collect(
    options: CollectOptions,
    *,
    today: dt.date,
    source: TrafficSource,
    log: Log,
    read_state: ReadState = BranchState,
    arrivals: Arrivals | None = None,
) -> Collected:
    """Expand `repos`, take this run's shard of them, keep within the request budget, then
    fetch the repos `concurrency` at a time; a long rate-limit wait, a spent budget or a 401
    ends collection. Each repo kept goes to `arrivals` as soon as its traffic and its stars
    and forks are in, in the order the repos were asked for.

    `read_state` gives state.json's repos (read only when some repos must wait for a later run,
    or when a sharded run looks up the ids of named repos, or for the stars and forks).
    """
    collected = Collected()
    refs, failures = source.expand(
        options.repos,
        include_forks=options.include_forks,
        include_archived=options.include_archived,
    )
    for pattern, error in failures:
        log.error(error, where=pattern)
        collected.results.append(RepoResult.failed(pattern, error))
    shard = choose_shard(refs, shard=options.shard, read_state=read_state, log=log)
    public = options.guarded is not None and source.is_private(options.guarded) is not True
    facts, tops = _described(shard, options=options, source=source, log=log, into=collected)
    names = _within_budget(
        list(facts),
        cost=options.cost + (FACTS_REQUESTS if None in facts.values() else 0),
        options=options,
        source=source,
        today=today,
        read_state=read_state,
        log=log,
        into=collected,
    )
    tally = _Tally(
        collected, log=log, check=partial(_check_privacy, public=public, options=options)
    )
    known = [info for name in names if (info := facts[name]) is not None]
    arrivals = arrivals or _Nowhere()
    with (
        _observing(
            names, facts, options=options, source=source, today=today, unknown=shard.unknown
        ) as outcomes,
        _growth_fetches(options, source, read_state, log, today=today, tops=tops) as growth,
    ):
        if growth is not None:
            growth.plan(known)  # fetched while the traffic is
        arrivals.expect(known)
        for index, (name, outcome) in enumerate(zip(names, outcomes, strict=True)):
            kept = tally.take(name, outcome, label=f"[{index + 1}/{len(names)}] {name}")
            if kept is not None:
                observation = growth.grown(kept) if growth is not None else kept
                collected.observations.append(observation)
                arrivals.add(observation)
            if tally.stopped_by is not None and growth is not None:
                growth.stop()
        if growth is not None and collected.observations:
            collected.growth = growth.report()
    if tally.not_reached:
        limit = tally.stopped_by if isinstance(tally.stopped_by, RateLimitedError) else None
        limit = limit or RateLimitedError("Collection stopped.")
        log.warning(limit, where=f"{len(tally.not_reached)} repos skipped")
        _skip(
            tally.not_reached, limit, today=today, read_state=read_state, log=None, into=collected
        )
    return collected


class _Tally:
    """Collection's results taken in the order the repos were asked for: observations kept
    once per repo id, failures logged, the repos a rate limit or a 401 left unreached."""

    def __init__(self, into: Collected, *, log: Log, check: Callable[[Observation], None]) -> None:
        self.into, self.log, self.check = into, log, check
        self.seen_ids: set[int] = set()
        self.not_reached: list[str] = []
        self.stopped_by: RepoError | None = None

    def take(
        self,
        name: str,
        outcome: Future[Observation | None],
        *,
        label: str,
    ) -> Observation | None:
        """The repo's observation when it is the run's to store (None: it failed, was not
        reached, or is another name of a repo kept already)."""
        try:
            observation = outcome.result()
            if observation is None:  # not started: an earlier repo stopped collection
                raise self.stopped_by or RateLimitedError("Collection stopped.")
            self.check(observation)
        except Declined as declined:
            self.log.progress(f"{label}: id {declined.repo_id} is another shard's; not fetched")
            return None
        except RateLimitedError as error:
            # not this repo's fault: it waits for the next run, nothing is lost
            self.stopped_by = self.stopped_by or error
            self.not_reached.append(name)
            return None
        except AuthError as error:
            if self.stopped_by is None:
                self.log.error(error, where=name)
            self.stopped_by = self.stopped_by or error
            self.into.results.append(RepoResult.failed(name, self.stopped_by))
            return None
        except RepoError as error:
            self.log.error(error, where=name)
            self.into.results.append(RepoResult.failed(name, error))
            self.log.progress(f"{label}: failed: {error.message}")
            return None
        return self._keep(observation, label=label)

    def _keep(self, observation: Observation, *, label: str) -> Observation | None:
        if observation.repo.id in self.seen_ids:
            return None  # two entries (or an old name) that lead to the same repo
        self.seen_ids.add(observation.repo.id)
        self.log.progress(
            f"{label}: views {observation.views.count:,}, clones {observation.clones.count:,} "
            "(14 days)"
        )
        for warning in observation.warnings:  # what failed without failing the repo
            self.log.warning(warning, where=observation.repo.full_name)
        return observation


@contextlib.contextmanager
def _growth_fetches(
    options: CollectOptions,
    source: TrafficSource,
    read_state: ReadState,
    log: Log,
    *,
    today: dt.date,
    tops: Mapping[int, Mapping[Series, Page]],
) -> Iterator[GrowthFetches | None]:
    """The stars and forks fetches (None: not wanted, as the branch does not keep them).
    GraphQL's points are a budget of their own: a REST rate limit that stops collection
    stops them only for the repos not collected."""
    client = source.growth_client() if options.growth else None
    if client is None:
        yield None
        return
    with GrowthFetches(
        client=client,
        state=read_state(),
        log=log,
        workers=options.concurrency,
        history=source.star_history,
        today=today,
        tops=tops,
    ) as fetches:
        yield fetches


def _within_budget(
    names: Sequence[str],
    *,
    cost: int,
    options: CollectOptions,
    source: TrafficSource,
    today: dt.date,
    read_state: ReadState,
    log: Log,
    into: Collected,
) -> list[str]:
    """The repos this run can afford at `cost` requests each (see `plan_budget`); the others
    are reported skipped."""
    names, deferred = plan_budget(
        names,
        cost=cost,
        max_requests=options.max_requests,
        remaining=source.remaining_requests(),
        made=source.requests_made,
        read_state=read_state,
    )
    if deferred:
        budget = RateLimitedError(
            f"The repos need more API requests than this run may make "
            f"({cost} per repo); the stalest {len(names):,} were synced "
            "first.",
            fix="The next runs sync the rest first. Raise max-requests, or run more often.",
        )
        log.warning(budget, where=f"{len(deferred)} repos skipped")
        _skip(deferred, budget, today=today, read_state=read_state, log=log, into=into)
    return names


def choose_shard(
    refs: Sequence[RepoRef],
    *,
    shard: Shard,
    read_state: ReadState,
    log: Log,
) -> Selection:
    """The repos of this run's shard (all of them for `1/1`); state.json is read only when
    a named repo's id is needed."""
    if shard.count == 1:
        return Selection(tuple(r.full_name for r in refs), frozenset(), 0)
    named = any(r.id is None for r in refs)
    chosen = select(refs, shard, known=read_state().known_ids() if named else {})
    line = f"Shard {shard}: {len(chosen.names) - len(chosen.unknown):,} repos by id"
    line += f", {chosen.others:,} left to the other shards"
    if chosen.unknown:
        line += (
            f"; {len(chosen.unknown):,} named repos not synced before are looked up first "
            "and kept only if their id is this shard's"
        )
    log.progress(line)
    return chosen


def _described(
    shard: Selection, *, options: CollectOptions, source: TrafficSource, log: Log, into: Collected
) -> tuple[dict[str, RepoInfo | None], dict[int, Mapping[Series, Page]]]:
    """name -> its facts (None: `observe` asks REST), in order, for the repos worth a traffic
    request: a repo GraphQL cannot find, or that the token cannot push to, fails here before
    any traffic request; another shard's repo (a named one, its id learnt here) is dropped, and
    so is a second name for a repo already listed (an old name and the new one). With stars
    and forks wanted, the first page of each comes along, by repo id."""
    try:
        described, reason = source.describe(
            shard.names, tops=options.growth, workers=options.concurrency
        )
    except AuthError as error:  # the token is refused: every repo fails with that one error
        if shard.names:
            log.error(error, where=shard.names[0])
        into.results.extend(RepoResult.failed(name, error) for name in shard.names)
        return {}, {}
    if reason is not None:
        log.progress(
            f"GraphQL could not describe every repo ({reason.message}); "
            "those are asked over REST, one request more each"
        )
    facts: dict[str, RepoInfo | None] = {}
    tops: dict[int, Mapping[Series, Page]] = {}
    ids: set[int] = set()
    for one in described:
        if one.error is not None:
            log.error(one.error, where=one.name)
            into.results.append(RepoResult.failed(one.name, one.error))
        elif one.info is None:
            facts[one.name] = None
        elif one.name in shard.unknown and not options.shard.holds(one.info.id):
            log.progress(f"{one.name}: id {one.info.id} is another shard's; not fetched")
        elif one.info.id not in ids:
            ids.add(one.info.id)
            facts[one.name] = one.info
            tops[one.info.id] = one.tops
    return facts, tops


@contextlib.contextmanager
def _observing(
    names: Sequence[str],
    facts: Mapping[str, RepoInfo | None],
    *,
    options: CollectOptions,
    source: TrafficSource,
    today: dt.date,
    unknown: Set[str] = frozenset(),
) -> Iterator[list[Future[Observation | None]]]:
    """Fetch every repo on `concurrency` workers, one future per name in order; after a rate
    limit or a 401, repos not started yet are not started (their result is None), and so on
    the way out of a run that failed.

    A name in `unknown` (its id not known yet) is fetched only if its id is in this shard."""
    stop = threading.Event()
    holds = options.shard.holds

    def observe(name: str) -> Observation | None:
        if stop.is_set():
            return None
        try:
            accept = holds if name in unknown else None
            return source.observe(
                name,
                fetched_on=today,
                accept=accept,
                releases=options.release_downloads,
                info=facts.get(name),
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

    workers = max(1, min(options.concurrency, len(names)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="traffic-sync") as pool:
        try:
            yield [pool.submit(observe, name) for name in names]
        finally:
            stop.set()  # all taken by now, or a failure: no more requests


def plan_budget(
    names: Sequence[str],
    *,
    cost: int,
    max_requests: int,
    remaining: int | None,
    made: int,
    read_state: ReadState,
) -> tuple[list[str], list[str]]:
    """(repos to sync now, repos deferred): stalest first when the budget does not cover all.

    The budget is the smaller of what the token has left this hour (`remaining`, from the free
    `GET /rate_limit`; None when unknown) and what `max_requests` (0: no cap) leaves after the
    `made` requests so far; a repo costs `cost` requests.
    """
    limits: list[int] = []
    if remaining is not None:
        limits.append(remaining)
    if max_requests:
        limits.append(max_requests - made)
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
    read_state: ReadState,
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


def _check_privacy(observation: Observation, *, public: bool, options: CollectOptions) -> None:
    if observation.repo.private and public and not options.allow_private_in_public:
        raise PrivacyError(
            f"{observation.repo.full_name} is private and {options.data_repository} is public "
            "(or its visibility could not be read), so its traffic was not written.",
            fix="Keep the data in a private repo (data-repository), or set "
            "allow-private-in-public: true if publishing it is intended.",
        )
