"""Stars and forks through GitHub's GraphQL API, against the simulated GitHub over real HTTP.

Every query the client sends is checked against GitHub's published schema when it is installed
(`npm ci --prefix tests/graphql-schema`; required under CI=true), as GitHub would check it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.graphql_schema import GitHubValidator
from tests.helpers.factories import StartGitHub
from traffic_sync.core.errors import AccessDeniedError, AuthError, RepoNotFoundError, TransientError
from traffic_sync.core.growth import (
    GrowthRow,
    Position,
    Series,
    daily_growth,
    merge_growth,
    should_fetch,
)
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.demo.simgraphql import GRAPHQL_PATHS
from traffic_sync.github.graphql import (
    STARGAZERS_QUERY,
    GraphQLClient,
    GraphQLQueryError,
    GrowthFetch,
    fetch_growth,
    graphql_url,
)
from traffic_sync.github.pacer import Pacer, RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.settings import parse_settings

TOKEN = "ghp_graphqlTestToken0123456789"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
FAST = RetryPolicy(attempts=2, backoff=0.01, max_wait=120, secondary_wait=60, timeout=5, pause=0)
BIG = SimRepo("Octo-Org/big", 1, dt.date(2024, 1, 1), stars=45_000, forks=1_500, seed=3)
LIB = SimRepo("Octo-Org/lib", 2, dt.date(2025, 6, 1), stars=240, forks=12, seed=4)
SECRET = SimRepo("octocat/secret", 3, dt.date(2025, 6, 1), private=True, stars=5)
EMPTY = SimRepo("octocat/empty", 4, dt.date(2025, 6, 1), stars=0, forks=0)


class FakeTime:
    """A monotonic clock that moves only when something sleeps: waits cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def sim(validator: GitHubValidator | None, start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(
        [BIG, LIB, SECRET, EMPTY], now=NOW, token=TOKEN, graphql_validator=validator
    )


def client(
    sim: SimulatedGitHub,
    *,
    reserve: int = 100,
    policy: RetryPolicy = FAST,
    token: str = TOKEN,
    waits: FakeTime | None = None,
    api: str = "",
) -> GraphQLClient:
    """A client of the simulator whose waits take no real time and whose wall clock is the
    simulator's (what `resetAt` is measured against)."""
    waits = waits or FakeTime()
    return GraphQLClient(
        token=token,
        url=graphql_url(api or sim.url),
        policy=policy,
        pacer=Pacer(per_minute=10**9, clock=waits.clock, sleep=waits.sleep),
        reserve=reserve,
        sleep=waits.sleep,
        clock=lambda: sim.now.timestamp() + waits.now,  # the wall clock moves on as it waits
    )


def graphql_requests(sim: SimulatedGitHub) -> list[dict[str, Any]]:
    return [r.body for r in sim.requests if r.path in GRAPHQL_PATHS]


def truth(sim: SimulatedGitHub, name: str, series: Series = Series.STARS) -> tuple[GrowthRow, ...]:
    return daily_growth(sim.timeline(name, series))


# --- where GraphQL is ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "override", "expected"),
    [
        ("https://api.github.com", "", "https://api.github.com/graphql"),
        ("https://api.github.com/", "", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "", "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com/api/v3/", "", "https://ghe.example.com/api/graphql"),
        ("https://api.octocorp.ghe.com", "", "https://api.octocorp.ghe.com/graphql"),
        (
            "https://ghe.example.com/api/v3",
            "https://ghe.example.com/api/graphql/",
            "https://ghe.example.com/api/graphql",
        ),
        # the runner's variable for another server than GITHUB_API_URL's is not taken
        ("https://ghe.example.com/api/v3", "https://api.github.com/graphql", None),
    ],
)
def test_graphql_url_follows_the_rest_api(api: str, override: str, expected: str | None) -> None:
    """GraphQL sits beside REST: /graphql on api hosts, /api/graphql on Enterprise Server."""
    assert graphql_url(api, override) == (expected or "https://ghe.example.com/api/graphql")


def test_settings_carry_the_runners_graphql_url() -> None:
    """GITHUB_GRAPHQL_URL, as the Actions runner sets it, is read with the other variables."""
    env = {
        "GITHUB_REPOSITORY": "octo/site",
        "GITHUB_API_URL": "https://ghe.example.com/api/v3",
        "GITHUB_GRAPHQL_URL": "https://ghe.example.com/api/graphql",
    }
    settings = parse_settings({"token": "t"}, env)
    assert graphql_url(settings.api_url, settings.graphql_url) == env["GITHUB_GRAPHQL_URL"]
    runner_url = env.pop("GITHUB_GRAPHQL_URL")
    settings = parse_settings({"token": "t"}, env)
    assert settings.graphql_url == ""
    assert graphql_url(settings.api_url, settings.graphql_url) == runner_url


def test_enterprise_server_queries_go_to_api_graphql(sim: SimulatedGitHub) -> None:
    """With GITHUB_API_URL at /api/v3, queries are POSTed to /api/graphql and answered."""
    fetched = fetch_growth(
        client(sim, api=f"{sim.url}/api/v3"), "Octo-Org/lib", Series.STARS, since=None
    )
    assert fetched.rows == truth(sim, "Octo-Org/lib")
    assert {r.path for r in sim.requests} == {"/api/graphql"}


# --- fetching ------------------------------------------------------------------------------------


@pytest.mark.slow  # tens of thousands of stars through whole runs
def test_first_run_backfills_more_than_40000_stars(sim: SimulatedGitHub) -> None:
    """45,000 stars (past REST's 400-page cap) come back whole: 450 pages, each after the last
    page's cursor, every day exact."""
    graphql = client(sim)
    fetched = fetch_growth(graphql, "Octo-Org/big", Series.STARS, since=None)
    assert fetched.complete
    assert fetched.rows == truth(sim, "Octo-Org/big")
    assert fetched.rows[-1].total == fetched.count == 45_000
    assert fetched.rows[0].date == BIG.created
    assert (fetched.queries, fetched.points) == (450, 450)
    cursors = [body["variables"]["cursor"] for body in graphql_requests(sim)]
    assert cursors[0] is None
    assert len(set(cursors[1:])) == 449
    points = graphql.points
    assert (points.queries, points.used, points.remaining, points.stopped) == (
        450,
        450,
        4550,
        False,
    )
    assert points.reset_at == NOW + dt.timedelta(hours=1)


def test_forks_come_from_their_own_connection(sim: SimulatedGitHub) -> None:
    """Forks are walked like stars, newest first by their creation time."""
    fetched = fetch_growth(client(sim), "Octo-Org/big", Series.FORKS, since=None)
    assert fetched.rows == truth(sim, "Octo-Org/big", Series.FORKS)
    assert (fetched.count, fetched.queries) == (1_500, 15)
    assert "forks(" in graphql_requests(sim)[0]["query"]


def test_incremental_fetch_stops_at_the_stored_day(sim: SimulatedGitHub) -> None:
    """A later run reads from the top down to the newest stored day, counting that day again
    in full (it gained stars after the last run), and no further."""
    sim.star("Octo-Org/lib", NOW - dt.timedelta(hours=3))  # today, before the first run
    stored = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None).rows
    assert stored[-1] == GrowthRow(TODAY, 1, 241)

    sim.star("Octo-Org/lib", NOW + dt.timedelta(hours=6), count=2)  # later that day
    sim.star("Octo-Org/lib", NOW + dt.timedelta(days=1, hours=-2), count=3)  # the next day
    sim.now = NOW + dt.timedelta(days=1)
    fresh = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=stored[-1].date)

    assert fresh.complete
    assert fresh.queries == 1  # the first page already reaches the day before
    assert fresh.rows == (GrowthRow(TODAY, 3, 3), GrowthRow(TODAY + dt.timedelta(days=1), 3, 6))
    assert fresh.count == 246
    assert merge_growth(stored, fresh.rows) == truth(sim, "Octo-Org/lib")


def test_stored_day_on_a_page_boundary_reads_one_page_more(sim: SimulatedGitHub) -> None:
    """When the stored day's stars reach the end of a page, the next page is read to see them
    all: the walk stops only at a star dated before that day."""
    sim.star("Octo-Org/lib", NOW - dt.timedelta(hours=1), count=100)  # exactly one page
    fresh = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=TODAY)
    assert fresh.rows == (GrowthRow(TODAY, 100, 100),)
    assert fresh.queries == 2


def test_quiet_repo_makes_no_graphql_request(sim: SimulatedGitHub) -> None:
    """The count `GET /repos` already gives equals the last fetch's: no query at all."""
    last = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    sim.requests.clear()
    repo = GitHubSource(token=TOKEN, api_url=sim.url, policy=FAST).observe(
        "Octo-Org/lib", fetched_on=TODAY
    )
    assert repo.repo.stars == last.count == 240
    assert should_fetch(last.count, repo.repo.stars) is False
    assert graphql_requests(sim) == []

    sim.star("Octo-Org/lib", NOW)
    grown = GitHubSource(token=TOKEN, api_url=sim.url, policy=FAST).observe(
        "Octo-Org/lib", fetched_on=TODAY
    )
    assert should_fetch(last.count, grown.repo.stars) is True


def test_unstar_makes_no_request_and_lowers_nothing(sim: SimulatedGitHub) -> None:
    """A star taken back lowers GitHub's count: no query; and a later fetch that no longer
    sees it leaves the stored day as it was."""
    sim.star("Octo-Org/lib", NOW - dt.timedelta(hours=2), count=2)
    stored = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    sim.unstar("Octo-Org/lib")
    observed = GitHubSource(token=TOKEN, api_url=sim.url, policy=FAST).observe(
        "Octo-Org/lib", fetched_on=TODAY
    )
    assert observed.repo.stars == 241 < stored.count == 242
    assert should_fetch(stored.count, observed.repo.stars) is False

    refetched = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=TODAY)
    assert refetched.rows == (GrowthRow(TODAY, 1, 1),)
    assert merge_growth(stored.rows, refetched.rows) == stored.rows


def test_repo_without_stars_is_one_empty_page(sim: SimulatedGitHub) -> None:
    """A forced fetch of a repo with no stars gives no rows and is complete."""
    fetched = fetch_growth(client(sim), "octocat/empty", Series.STARS, since=None)
    assert (fetched.rows, fetched.count, fetched.queries, fetched.complete) == ((), 0, 1, True)


# --- the points budget ---------------------------------------------------------------------------


@pytest.mark.slow  # tens of thousands of stars through whole runs
@pytest.mark.parametrize(
    ("points", "reserve", "rate_limited"),
    [(300, 50, False), (5_000, 0, True)],
    ids=["reserve", "rate-limited"],
)
def test_points_run_out_mid_backfill_and_the_next_run_resumes(
    validator: GitHubValidator | None, points: int, reserve: int, rate_limited: bool
) -> None:
    """A backfill that runs out of points (down to the reserve, or GitHub's RATE_LIMITED answer
    when something else used the token) keeps what it read and where it stopped; the next
    hour's run picks up new stars from the top, goes on from the stored position instead of
    starting over, and ends with exactly the right daily rows."""
    with SimulatedGitHub(
        [BIG], now=NOW, token=TOKEN, graphql_points=points, graphql_validator=validator
    ) as sim:
        if rate_limited:
            message = "API rate limit already exceeded for user ID 1."
            sim.fail_graphql("RATE_LIMITED", message, after=250)
        first = fetch_growth(client(sim, reserve=reserve), "Octo-Org/big", Series.STARS, since=None)
        assert first.stopped
        assert not first.complete
        assert first.queries == 250
        (position,) = first.pending
        assert position.stop is None  # the backfill goes on to the first star
        assert sum(r.new for r in first.rows) == 25_000
        assert first.rows[-1].date == TODAY - dt.timedelta(days=1)  # the newest days first
        stored_rows = first.rows
        stored_position = Position.from_json(position.to_json())  # as a state file keeps it

        # stars keep coming while the backfill waits for the points
        sim.star("Octo-Org/big", NOW + dt.timedelta(minutes=20), count=150)
        sim.now = NOW + dt.timedelta(hours=1, minutes=1)  # the points come back
        second = fetch_growth(
            client(sim, reserve=reserve),
            "Octo-Org/big",
            Series.STARS,
            since=stored_rows[-1].date,
            pending=[stored_position],
        )
        assert second.complete
        assert second.queries <= 450 - first.queries + 3  # the rest, plus the new stars' pages
        assert merge_growth(stored_rows, second.rows) == truth(sim, "Octo-Org/big")


@pytest.mark.slow  # tens of thousands of stars through whole runs
def test_a_walk_from_the_top_that_runs_out_is_resumed_too(
    validator: GitHubValidator | None,
) -> None:
    """Runs that stop both in a backfill and in the walk from the top keep one position per
    unfinished walk, newest first, and the run that finishes them gets every day right."""
    with SimulatedGitHub(
        [BIG], now=NOW, token=TOKEN, graphql_points=100, graphql_validator=validator
    ) as sim:
        first = fetch_growth(client(sim, reserve=0), "Octo-Org/big", Series.STARS, since=None)
        stored = first.rows
        sim.star("Octo-Org/big", NOW + dt.timedelta(days=1), count=2_000)  # a day on the news
        sim.now = NOW + dt.timedelta(days=1, hours=2)
        second = fetch_growth(
            client(sim, reserve=90),
            "Octo-Org/big",
            Series.STARS,
            since=stored[-1].date,
            pending=first.pending,
        )
        assert second.stopped
        assert [p.stop for p in second.pending] == [stored[-1].date, None]
        stored = merge_growth(stored, second.rows)

        sim.new_hour()
        sim.graphql_points = 5_000
        third = fetch_growth(
            client(sim, reserve=0),
            "Octo-Org/big",
            Series.STARS,
            since=stored[-1].date,
            pending=second.pending,
        )
        assert third.complete
        assert merge_growth(stored, third.rows) == truth(sim, "Octo-Org/big")


def test_a_day_longer_than_a_page_stopped_in_twice(validator: GitHubValidator | None) -> None:
    """A launch day of 350 stars, read a page per run: each stop carries the day's count so
    far, and the run that finishes it writes the day exactly."""
    launch = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    repo = SimRepo("Octo-Org/launch", 7, launch.date(), stars=0)
    with SimulatedGitHub(
        [repo], now=NOW, token=TOKEN, graphql_points=2, graphql_validator=validator
    ) as sim:
        sim.star("Octo-Org/launch", launch, count=350)
        sim.star("Octo-Org/launch", NOW - dt.timedelta(days=1), count=5)
        first = fetch_growth(client(sim, reserve=0), "Octo-Org/launch", Series.STARS, since=None)
        (position,) = first.pending
        assert (position.reached, position.seen) == (launch.date(), 195)
        stored = first.rows

        sim.new_hour()
        second = fetch_growth(
            client(sim, reserve=0),
            "Octo-Org/launch",
            Series.STARS,
            since=stored[-1].date,
            pending=first.pending,
        )
        (position,) = second.pending
        assert (position.reached, position.seen) == (launch.date(), 295)
        stored = merge_growth(stored, second.rows)
        assert stored[0] == GrowthRow(launch.date(), 295, 295)

        sim.new_hour()
        third = fetch_growth(
            client(sim, reserve=0),
            "Octo-Org/launch",
            Series.STARS,
            since=stored[-1].date,
            pending=second.pending,
        )
        assert third.complete
        assert merge_growth(stored, third.rows) == truth(sim, "Octo-Org/launch")
        assert merge_growth(stored, third.rows)[0] == GrowthRow(launch.date(), 350, 350)


def test_the_points_come_back_after_the_reset(sim: SimulatedGitHub) -> None:
    """A client stopped at the reserve queries again once the hour it was told of has passed."""
    graphql = client(sim, reserve=4_998)
    assert fetch_growth(graphql, "Octo-Org/lib", Series.STARS, since=None).queries == 2
    assert fetch_growth(graphql, "Octo-Org/lib", Series.STARS, since=None).queries == 0
    sim.now = NOW + dt.timedelta(hours=1)
    graphql.close()
    assert fetch_growth(graphql, "Octo-Org/lib", Series.STARS, since=None).queries == 2


def test_a_spent_budget_makes_no_request_for_the_next_repo(sim: SimulatedGitHub) -> None:
    """Once the reserve is reached, the next repo's fetch stops before its first query, with no
    position (the same walk is made next run) and no count."""
    graphql = client(sim, reserve=4_990)
    first = fetch_growth(graphql, "Octo-Org/big", Series.STARS, since=None)
    assert first.stopped
    assert first.queries == 10  # 5,000 points, 4,990 kept
    before = len(graphql_requests(sim))
    nothing = fetch_growth(graphql, "Octo-Org/lib", Series.STARS, since=None)
    assert nothing == GrowthFetch(Series.STARS, stopped=True)
    assert len(graphql_requests(sim)) == before
    assert graphql.points.stopped


def test_position_from_json_refuses_what_is_not_one() -> None:
    """A damaged stored position is an error, never a walk from a wrong place."""
    good = Position("Y3Vyc29y", dt.date(2026, 1, 2), 7, dt.date(2025, 1, 1)).to_json()
    assert Position.from_json(good).seen == 7
    for bad in [None, {}, {**good, "reached": "2026-13-01"}, {**good, "cursor": ""}]:
        with pytest.raises(ValueError, match="not a stored position"):
            Position.from_json(bad)
    for seen in ["7", -1, True]:
        with pytest.raises(ValueError, match="not a stored position"):
            Position.from_json({**good, "seen": seen})


# --- rate limits and errors ----------------------------------------------------------------------


def test_secondary_limit_waits_and_retries(sim: SimulatedGitHub) -> None:
    """A secondary limit (403 with retry-after) waits as asked, slows every worker, retries."""
    waits = FakeTime()
    graphql = client(sim, waits=waits)
    sim.fail(
        "/graphql$",
        403,
        headers={"retry-after": "30"},
        message="You have exceeded a secondary rate limit. Please wait a few minutes.",
    )
    fetched = fetch_growth(graphql, "Octo-Org/lib", Series.STARS, since=None)
    assert fetched.complete
    assert 30 in [round(s) for s in waits.slept]
    assert graphql.pacer.slowdowns == 1


def test_secondary_limit_in_a_200_answer_is_retried(sim: SimulatedGitHub) -> None:
    """GitHub may say "secondary rate limit" in a 200 answer's errors: wait a minute, retry."""
    waits = FakeTime()
    sim.fail_graphql("RATE_LIMITED", "You have exceeded a secondary rate limit.")
    fetched = fetch_growth(client(sim, waits=waits), "Octo-Org/lib", Series.STARS, since=None)
    assert fetched.complete
    assert max(waits.slept) >= 60


def test_long_secondary_limit_stops_cleanly(sim: SimulatedGitHub) -> None:
    """A retry-after beyond the policy's max wait stops the fetch instead of sleeping."""
    sim.fail("/graphql$", 429, headers={"retry-after": "900"})
    fetched = fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    assert fetched == GrowthFetch(Series.STARS, stopped=True)


def test_short_primary_limit_waits_for_the_reset(sim: SimulatedGitHub) -> None:
    """Points spent but coming back within the max wait: wait for the reset, then go on."""
    waits = FakeTime()
    reset = str(int(sim.now.timestamp()) + 90)
    sim.fail(
        "/graphql$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        message="API rate limit exceeded for user ID 1.",
    )
    fetched = fetch_growth(client(sim, waits=waits), "Octo-Org/lib", Series.STARS, since=None)
    assert fetched.complete
    assert 91 in [round(s) for s in waits.slept]


def test_server_errors_are_retried_then_reported(sim: SimulatedGitHub) -> None:
    """A 502 or GitHub's "Something went wrong" is retried; one that lasts is a transient error."""
    sim.fail("/graphql$", 502)
    sim.fail_graphql("", "Something went wrong while executing your query. Please try again.")
    assert fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None).complete
    sim.fail("/graphql$", 503, times=10)
    with pytest.raises(
        TransientError, match="Octo-Org/lib stars: GitHub's GraphQL API answered 503"
    ):
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)


def test_missing_repo_is_a_clear_error(sim: SimulatedGitHub) -> None:
    """NOT_FOUND names the repo; a GITHUB_TOKEN sees no other private repo either."""
    with pytest.raises(RepoNotFoundError, match="Could not resolve to a Repository"):
        fetch_growth(client(sim), "Octo-Org/gone", Series.STARS, since=None)
    sim.grant("ghs_workflowToken", "github-token")
    with pytest.raises(RepoNotFoundError, match="octocat/secret"):
        fetch_growth(
            client(sim, token="ghs_workflowToken"), "octocat/secret", Series.STARS, since=None
        )


def test_forbidden_and_bad_credentials(sim: SimulatedGitHub) -> None:
    """FORBIDDEN (e.g. SAML) or a 403 says how to give access; 401 stops with the token's fix."""
    sim.fail("/graphql$", 403, message="Resource not accessible by integration")
    with pytest.raises(AccessDeniedError, match="not accessible by integration"):
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    sim.fail_graphql("FORBIDDEN", "Resource protected by organization SAML enforcement.")
    with pytest.raises(AccessDeniedError, match="SAML") as denied:
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    assert "Configure SSO" in denied.value.fix
    sim.grant("ghp_revoked", "bad")
    with pytest.raises(AuthError, match="401 Bad credentials"):
        fetch_growth(client(sim, token="ghp_revoked"), "Octo-Org/lib", Series.STARS, since=None)


def test_other_graphql_errors_are_per_repo_errors(sim: SimulatedGitHub) -> None:
    """An error of another type (a bad cursor) fails that repo with GitHub's message."""
    stale = Position("bm90LWEtY3Vyc29y", TODAY, 3)
    with pytest.raises(GraphQLQueryError, match="does not appear to be a valid cursor"):
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=TODAY, pending=[stale])


def test_no_graphql_api_at_the_url(sim: SimulatedGitHub) -> None:
    """A 404 from the GraphQL URL says where GraphQL should be."""
    graphql = GraphQLClient(token=TOKEN, url=f"{sim.url}/v4/graphql", policy=FAST)
    with pytest.raises(GraphQLQueryError, match="no GraphQL API at") as caught:
        fetch_growth(graphql, "Octo-Org/lib", Series.STARS, since=None)
    assert "GITHUB_GRAPHQL_URL" in caught.value.fix


def test_nothing_listening_is_transient() -> None:
    """No server at the URL: a transient error after the retries."""
    graphql = GraphQLClient(
        token=TOKEN, url="http://127.0.0.1:9/graphql", policy=FAST, sleep=lambda _: None
    )
    with pytest.raises(TransientError, match="did not answer after retries"):
        graphql.query(STARGAZERS_QUERY, {}, what="x")


def test_token_never_in_errors(sim: SimulatedGitHub) -> None:
    """Even when GitHub's message quotes the token, errors say *** instead."""
    sim.fail_graphql("FORBIDDEN", f"token {TOKEN} may not read this")
    with pytest.raises(AccessDeniedError) as denied:
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    sim.fail("/graphql$", 401, message=f"Bad credentials for {TOKEN}")
    with pytest.raises(AuthError) as rejected:
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    sim.fail("/graphql$", 500, times=3, message=f"oops {TOKEN}")
    with pytest.raises(TransientError) as failed:
        fetch_growth(client(sim), "Octo-Org/lib", Series.STARS, since=None)
    for error in (denied.value, rejected.value, failed.value):
        assert TOKEN not in f"{error} {error!r} {error.fix}"
        assert "***" in str(error)
    assert TOKEN not in repr(client(sim))
