"""Stars and forks since day one: which repos need a fetch this run, and the fetches.

The query that describes the repos (or a repo's own GET, when GraphQL cannot) gives its counts
of stars and forks. state.json keeps, per repo and series, GitHub's count when the stored rows
were last brought up to date, the newest day they hold, and where a fetch that stopped early goes
on (`GrowthState`). Only a count that grew can bring a new day, so a quiet repo costs no query
(`should_fetch`); the first run backfills the whole history, later runs walk newest first down
to the newest day held.

GraphQL has its own points budget per hour. The plan (`queries_needed`) is reported in the run's
summary; the cheapest fetches go first, so one huge backfill cannot keep every other repo's new
stars waiting, and when the points run low (the client's reserve, or GitHub's limit) the fetches
stop cleanly: every row counted so far is kept, and the next run goes on from the positions kept.
The fetches run while the traffic is collected (`GrowthFetches`): a repo is ready to store once
its traffic and its stars and forks are in.

Stars have a second source: `GET /repos/{o}/{r}/stargazers/history` counts the stars still given
by day, a request per 30 weeks whatever their number (REST, any reader). It is taken wherever it
costs fewer requests than walking the stargazers (a backfill of a repo with many stars), and
whenever GitHub refuses the stargazers listing (since 2026-06-30 it lists them only to a repo's
admins and collaborators: FORBIDDEN, or an empty list).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from traffic_sync.branch.state import BranchState
from traffic_sync.core.errors import AccessDeniedError, AuthError, RateLimitedError, RepoError
from traffic_sync.core.growth import Series, history_pages_needed, queries_needed, should_fetch
from traffic_sync.core.log import Log
from traffic_sync.core.models import (
    GrowthReport,
    GrowthState,
    GrowthUpdate,
    Observation,
    Points,
    RepoInfo,
)
from traffic_sync.github.graphql import GraphQLClient, GrowthFetch, Page, fetch_growth


@dataclasses.dataclass(frozen=True, slots=True)
class _Ask:
    """One series of one repo that this run asks GraphQL about."""

    index: int  # of the repo, in the order planned
    series: Series
    state: GrowthState
    count: int  # GitHub's count now
    cost: int  # the queries the plan expects (0: the star history endpoint's requests instead)
    top: Page | None = None  # the list's first page, brought by the query describing the repos
    history: bool = False  # from the star history endpoint, which costs fewer requests


# (full name, since) -> the stars by day from the star history endpoint
StarHistory = Callable[..., GrowthFetch]


class GrowthFetches:
    """A run's stars and forks fetches, under way while its traffic is collected: a repo's
    series are planned (`plan`) as soon as its counts are known, from the query describing
    the repos or from its own GET, and fetched on `workers` threads, cheapest first; `grown`
    gives a repo's observation its rows once they are in, and `report` ends the fetches.

    `state` is state.json's repos by id; `history` fetches stars from the star history
    endpoint (None: never), as of `today`; `tops` are the first pages of each repo's lists
    (by id) that the query describing the repos brought, so a walk they cover costs no query.
    A failure of one repo's query is a warning: its traffic is saved all the same, and its
    history is asked for again next run. Once the points run low (or a 401), fetches not
    started yet are not started: they wait for the next run, and so do those of repos whose
    traffic was not stored.
    """

    def __init__(
        self,
        *,
        client: GraphQLClient,
        state: BranchState,
        log: Log,
        workers: int = 1,
        history: StarHistory | None = None,
        today: dt.date | None = None,
        tops: Mapping[int, Mapping[Series, Page]] | None = None,
    ) -> None:
        self._client, self._state, self._log = client, state, log
        self._history, self._today, self._tops = history, today, tops or {}
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="traffic-sync-growth"
        )
        self._repos: list[RepoInfo] = []
        self._index: dict[int, int] = {}  # repo id -> its place in `_repos`
        self._updates: list[list[GrowthUpdate]] = []
        self._asks: dict[int, list[tuple[_Ask, Future[GrowthFetch]]]] = {}
        self._taken: set[int] = set()
        self._planned = self._quiet = self._fetched = self._waiting = self._requests = 0
        self._stopped = False

    def __enter__(self) -> GrowthFetches:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def plan(self, repos: Iterable[RepoInfo]) -> None:
        """Plan these repos' series (one planned already is not again) and start their
        fetches, the cheapest first."""
        fresh = [repo for repo in repos if repo.id not in self._index]
        first = len(self._repos)
        for offset, repo in enumerate(fresh):
            self._index.setdefault(repo.id, first + offset)
        self._repos.extend(fresh)
        self._updates.extend([] for _ in fresh)
        asks, quiet = _plan(
            fresh,
            self._state,
            self._tops,
            self._updates[first:],
            cheaper=self._history is not None,
            today=self._today,
        )
        asks = [dataclasses.replace(ask, index=ask.index + first) for ask in asks]
        asks.sort(key=lambda a: (a.cost, a.index, a.series))
        self._quiet += quiet
        self._planned += sum(a.cost for a in asks)
        for ask in asks:
            self._asks.setdefault(ask.index, []).append((ask, self._pool.submit(self._fetch, ask)))

    def grown(self, observation: Observation) -> Observation:
        """`observation` with its repo's stars and forks rows (`Observation.growth`), once
        their fetches end (a repo not planned yet is planned first)."""
        self.plan([observation.repo])
        index = self._index[observation.repo.id]
        if index in self._taken:
            return observation
        self._taken.add(index)
        for ask, outcome in self._asks.get(index, ()):
            self._take(ask, outcome)
        updates = self._updates[index]
        return dataclasses.replace(observation, growth=tuple(updates)) if updates else observation

    def stop(self) -> None:
        """Start no more fetches: those not started wait for the next run."""
        self._stop.set()

    def report(self) -> GrowthReport:
        """End the fetches (those of repos whose rows were not taken wait for the next run)
        and report them, with a warning when the points ran low."""
        for index, pairs in self._asks.items():
            if index not in self._taken:
                for _, outcome in pairs:
                    outcome.cancel()
                    self._waiting += 1
                    self._stopped = self._stopped or _stopped(outcome)
        points = self._client.points
        if self._stopped or points.stopped:
            self._log.warning(
                _points_low(points),
                where=f"{self._waiting:,} star and fork histories wait for the next run",
            )
        return GrowthReport(
            points=points,
            planned=self._planned,
            fetched=self._fetched,
            waiting=self._waiting,
            quiet=self._quiet,
            history_requests=self._requests,
        )

    def _take(self, ask: _Ask, outcome: Future[GrowthFetch]) -> None:
        name = self._repos[ask.index].full_name
        try:
            result = outcome.result()
        except (RepoError, RateLimitedError) as error:
            if not isinstance(error, _NotStarted):
                self._log.warning(error, where=f"{name} {ask.series}")
            self._waiting += 1
            return
        self._requests += result.requests
        self._updates[ask.index].append(GrowthUpdate(ask.series, result.rows, _after(ask, result)))
        if result.complete:
            self._fetched += 1
        else:
            self._waiting += 1
            self._stopped = self._stopped or result.stopped

    def _fetch(self, ask: _Ask) -> GrowthFetch:
        if self._stop.is_set():
            raise _NotStarted("Not started: the GraphQL points ran low.")
        name = self._repos[ask.index].full_name
        try:
            result = _fetch(ask, name, self._client, self._history)
        except AuthError:
            self._stop.set()
            raise
        if result.stopped:
            self._stop.set()
        return result


def _stopped(outcome: Future[GrowthFetch]) -> bool:
    """Whether a fetch that ran found the points low."""
    if outcome.cancelled() or outcome.exception() is not None:
        return False
    return outcome.result().stopped


def _plan(
    repos: Sequence[RepoInfo],
    state: BranchState,
    tops: Mapping[int, Mapping[Series, Page]],
    updates: list[list[GrowthUpdate]],
    *,
    cheaper: bool,
    today: dt.date | None,
) -> tuple[list[_Ask], int]:
    """(the series worth a fetch, how many are quiet); a count that fell (stars taken back)
    goes into `updates` at once. With `cheaper`, stars come from the star history endpoint
    where that costs fewer requests."""
    asks: list[_Ask] = []
    quiet = 0
    for index, repo in enumerate(repos):
        entry = state.entry(repo.id)
        for series in Series:
            kept = entry.growth_state(series)
            count = repo.stars if series is Series.STARS else repo.forks
            if should_fetch(kept.count, count, pending=bool(kept.pending)):
                top = tops.get(repo.id, {}).get(series)
                ask = _Ask(index, series, kept, count, _cost(kept, count, top), top)
                if cheaper and today is not None:
                    ask = _cheaper(ask, created=repo.created, today=today)
                asks.append(ask)
                continue
            quiet += 1
            if kept.count is not None and count < kept.count:
                # stars taken back: a later star is noticed once the count grows from here
                updates[index].append(
                    GrowthUpdate(series, (), dataclasses.replace(kept, count=count))
                )
    return asks, quiet


class _NotStarted(RateLimitedError):
    """A fetch left for the next run: an earlier one found the points low, or a 401."""


def _fetch(ask: _Ask, name: str, client: GraphQLClient, history: StarHistory | None) -> GrowthFetch:
    """One series' fetch: the star history endpoint when it is cheaper, or when GitHub
    refuses the stargazers listing (FORBIDDEN, or none listed while the repo has stars);
    otherwise the GraphQL walk."""
    state = ask.state
    if ask.history and history is not None:
        return _from_history(ask, name, history)
    try:
        result = fetch_growth(
            client, name, ask.series, since=state.through, pending=state.pending, top=ask.top
        )
    except AccessDeniedError:
        if ask.series is not Series.STARS or history is None:
            raise
        return _from_history(ask, name, history)
    refused = result.complete and not result.rows and result.count == 0 < ask.count
    if refused and ask.series is Series.STARS and history is not None:
        return _from_history(ask, name, history)
    return result


def _from_history(ask: _Ask, name: str, history: StarHistory) -> GrowthFetch:
    """The stars from the star history endpoint: whole from `since` on, so a backfill that
    stopped early is done over, and GitHub's count now is the count it brings the rows to."""
    since = None if ask.state.count is None or ask.state.pending else ask.state.through
    return dataclasses.replace(history(name, since=since), count=ask.count)


def _cheaper(ask: _Ask, *, created: dt.date, today: dt.date) -> _Ask:
    """The ask, from the star history endpoint when that costs fewer requests than the walk."""
    if ask.series is not Series.STARS:
        return ask
    whole = ask.state.count is None or bool(ask.state.pending)
    start = created if whole or ask.state.through is None else ask.state.through
    if history_pages_needed(start, today) < ask.cost:
        return dataclasses.replace(ask, cost=0, history=True)
    return ask


def _after(ask: _Ask, result: GrowthFetch) -> GrowthState:
    """The series' state once this fetch's rows are stored."""
    days = [row.date for row in result.rows]
    through = max([*days, *([ask.state.through] if ask.state.through else [])], default=None)
    count = result.count if result.count is not None else ask.state.count
    queries = 0 if result.complete else ask.state.queries + result.queries
    return GrowthState(count=count, through=through, pending=result.pending, queries=queries)


def _cost(state: GrowthState, count: int, top: Page | None = None) -> int:
    """Queries a series is expected to take: the whole history on a first fetch, what is
    left of a backfill that stopped, and the new items (at least a query) otherwise; a first
    page already at hand (`top`) is one query fewer."""
    if state.count is None or state.pending:
        queries = max(1, queries_needed(count) - state.queries)
    else:
        queries = max(1, queries_needed(count - state.count))
    return queries - 1 if top is not None else queries


def _points_low(points: Points) -> RateLimitedError:
    when = f" until {points.reset_at:%H:%M} UTC" if points.reset_at else ""
    return RateLimitedError(
        f"GitHub's GraphQL points ran low{when}: {points.used:,} used this run, "
        f"{points.remaining if points.remaining is not None else 0:,} left, "
        f"{points.reserve:,} kept in reserve.",
        fix="What was fetched is kept; the next run goes on where this one stopped.",
    )
