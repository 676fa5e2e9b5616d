"""Stars and forks since day one: which repos need a fetch this run, and the fetches.

`GET /repos/{o}/{r}`, which every run makes anyway, says `stargazers_count` and `forks_count`.
state.json keeps, per repo and series, GitHub's count when the stored rows were last brought up
to date, the newest day they hold, and where a fetch that stopped early goes on (`GrowthState`).
Only a count that grew can bring a new day, so a quiet repo costs no query (`should_fetch`); the
first run backfills the whole history, later runs walk newest first down to the newest day held.

GraphQL has its own points budget per hour. The plan (`queries_needed`) is reported in the run's
summary; the cheapest fetches go first, so one huge backfill cannot keep every other repo's new
stars waiting, and when the points run low (the client's reserve, or GitHub's limit) the fetches
stop cleanly: every row counted so far is kept, and the next run goes on from the positions kept.

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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from traffic_sync.branch.state import BranchState
from traffic_sync.core.errors import AccessDeniedError, AuthError, RateLimitedError, RepoError
from traffic_sync.core.growth import Series, history_pages_needed, queries_needed, should_fetch
from traffic_sync.core.log import Log
from traffic_sync.core.models import GrowthReport, GrowthState, GrowthUpdate, Observation, Points
from traffic_sync.github.graphql import GraphQLClient, GrowthFetch, Page, fetch_growth


@dataclasses.dataclass(frozen=True, slots=True)
class _Ask:
    """One series of one repo that this run asks GraphQL about."""

    index: int  # of the observation
    series: Series
    state: GrowthState
    count: int  # GitHub's count now
    cost: int  # the queries the plan expects (0: the star history endpoint's requests instead)
    top: Page | None = None  # the list's first page, brought by the query describing the repos
    history: bool = False  # from the star history endpoint, which costs fewer requests


# (full name, since) -> the stars by day from the star history endpoint
StarHistory = Callable[..., GrowthFetch]


def collect_growth(
    observations: Sequence[Observation],
    *,
    client: GraphQLClient,
    state: BranchState,
    log: Log,
    workers: int = 1,
    history: StarHistory | None = None,
    today: dt.date | None = None,
    tops: Mapping[int, Mapping[Series, Page]] | None = None,
) -> tuple[list[Observation], GrowthReport]:
    """The observations with their stars and forks (`Observation.growth`), and the report.

    `state` is state.json's repos by id; `workers` fetch at once, cheapest first; `history`
    fetches stars from the star history endpoint (None: never), as of `today`; `tops` are the
    first pages of each repo's lists (by id) that the query describing the repos brought, so
    a walk they cover costs no query. A failure of one repo's query is a warning: its traffic
    is saved all the same, and its history is asked for again next run. Once the points run
    low (or a 401), fetches not started yet are not started: they wait for the next run.
    """
    updates: list[list[GrowthUpdate]] = [[] for _ in observations]
    asks, quiet = _plan(
        observations, state, tops or {}, updates, cheaper=history is not None, today=today
    )
    asks.sort(key=lambda a: (a.cost, a.index, a.series))
    planned = sum(a.cost for a in asks)
    fetched = waiting = 0
    stopped = False
    fetches = _fetch_all(asks, observations, client, workers, history)
    requests = 0
    for ask, outcome in zip(asks, fetches, strict=True):
        name = observations[ask.index].repo.full_name
        try:
            result = outcome.result()
        except (RepoError, RateLimitedError) as error:
            if not isinstance(error, _NotStarted):
                log.warning(error, where=f"{name} {ask.series}")
            waiting += 1
            continue
        requests += result.requests
        updates[ask.index].append(GrowthUpdate(ask.series, result.rows, _after(ask, result)))
        if result.complete:
            fetched += 1
        else:
            waiting += 1
            stopped = stopped or result.stopped
    points = client.points
    if stopped or points.stopped:
        log.warning(
            _points_low(points),
            where=f"{waiting:,} star and fork histories wait for the next run",
        )
    report = GrowthReport(
        points=points,
        planned=planned,
        fetched=fetched,
        waiting=waiting,
        quiet=quiet,
        history_requests=requests,
    )
    observed = [
        dataclasses.replace(o, growth=tuple(u)) if u else o
        for o, u in zip(observations, updates, strict=True)
    ]
    return observed, report


def _plan(
    observations: Sequence[Observation],
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
    for index, observation in enumerate(observations):
        entry = state.entry(observation.repo.id)
        for series in Series:
            kept = entry.growth_state(series)
            count = _count(observation, series)
            if should_fetch(kept.count, count, pending=bool(kept.pending)):
                top = tops.get(observation.repo.id, {}).get(series)
                ask = _Ask(index, series, kept, count, _cost(kept, count, top), top)
                if cheaper and today is not None:
                    ask = _cheaper(ask, created=observation.repo.created, today=today)
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


def _fetch_all(
    asks: Sequence[_Ask],
    observations: Sequence[Observation],
    client: GraphQLClient,
    workers: int,
    history: StarHistory | None,
) -> list[Future[GrowthFetch]]:
    """Every fetch on `workers` threads, one future per ask in order (each raises what its
    fetch raised, or _NotStarted)."""
    stop = threading.Event()

    def fetch(ask: _Ask) -> GrowthFetch:
        if stop.is_set():
            raise _NotStarted("Not started: the GraphQL points ran low.")
        name = observations[ask.index].repo.full_name
        try:
            result = _fetch(ask, name, client, history)
        except AuthError:
            stop.set()
            raise
        if result.stopped:
            stop.set()
        return result

    count = max(1, min(workers, len(asks)))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="traffic-sync-growth") as pool:
        return [pool.submit(fetch, ask) for ask in asks]


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


def _count(observation: Observation, series: Series) -> int:
    repo = observation.repo
    return repo.stars if series is Series.STARS else repo.forks


def _points_low(points: Points) -> RateLimitedError:
    when = f" until {points.reset_at:%H:%M} UTC" if points.reset_at else ""
    return RateLimitedError(
        f"GitHub's GraphQL points ran low{when}: {points.used:,} used this run, "
        f"{points.remaining if points.remaining is not None else 0:,} left, "
        f"{points.reserve:,} kept in reserve.",
        fix="What was fetched is kept; the next run goes on where this one stopped.",
    )
