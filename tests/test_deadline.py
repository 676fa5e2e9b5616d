"""`request-timeout` bounds a whole request, for the REST client and the GraphQL client alike.

The simulated GitHub trickles an answer a few bytes a second: no single read waits long, so
only a deadline on the whole request ends it.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from tests.helpers.factories import StartGitHub
from traffic_sync.core.errors import TransientError
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.deadline import deadline_session
from traffic_sync.github.graphql import GraphQLClient
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.github.rest import GitHubSource

TOKEN = "ghp_deadlineToken"
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
POLICY = RetryPolicy(attempts=1, backoff=0.01, max_wait=5, secondary_wait=0.01, timeout=1)
RATE = 10  # bytes a second: every answer takes longer than a second


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    repos = [SimRepo("octo/slow", 1, dt.date(2025, 1, 1)), SimRepo("octo/fine", 2, NOW.date())]
    return start_github(repos, now=NOW, token=TOKEN)


@pytest.mark.slow  # waits seconds of real time
def test_a_trickled_rest_answer_is_retried_then_fails_in_time(sim: SimulatedGitHub) -> None:
    """Each try of a trickled answer ends at the timeout; once retries run out the repo fails
    with GitHub did not answer, in about (1 + attempts) timeouts; the next repo is read."""
    path = "/repos/octo/slow/traffic/views"
    sim.fail(f"^{path}$", 200, times=10, rate=RATE)
    source = GitHubSource(token=TOKEN, api_url=sim.url, policy=POLICY)
    started = time.monotonic()
    with pytest.raises(TransientError, match="octo/slow"):
        source.observe("octo/slow", fetched_on=NOW.date())
    assert time.monotonic() - started < 4
    assert sum(r.path == path for r in sim.requests) == 2
    assert source.observe("octo/fine", fetched_on=NOW.date()).repo.full_name == "octo/fine"


@pytest.mark.slow  # waits seconds of real time
def test_a_trickled_graphql_answer_is_retried_then_fails_in_time(sim: SimulatedGitHub) -> None:
    """The GraphQL client's requests keep the same whole-request deadline."""
    sim.fail("^/graphql$", 200, times=10, rate=RATE)
    client = GraphQLClient(
        token=TOKEN, url=f"{sim.url}/graphql", policy=POLICY, sleep=lambda _: None
    )
    started = time.monotonic()
    with pytest.raises(TransientError):
        client.query("query { viewer { login } }", {}, what="octo/slow stars")
    assert time.monotonic() - started < 4
    assert sum(r.path == "/graphql" for r in sim.requests) == 2


def test_an_answer_in_time_is_read_whole_and_the_connection_kept(sim: SimulatedGitHub) -> None:
    """A slow answer that ends before the deadline is read as usual, and the next request
    goes over the same connection."""
    sim.fail("^/rate_limit$", 200, rate=20_000, times=2)
    url = f"{sim.url}/rate_limit"
    with deadline_session() as session:
        session.headers["Authorization"] = f"token {TOKEN}"
        bodies = [session.get(url, timeout=2).json() for _ in range(2)]
        pools = session.get_adapter(url).poolmanager.pools
        keys = pools.keys()  # urllib3's container refuses plain iteration
        assert [pools[key].num_connections for key in keys] == [1]
    assert bodies[0] == bodies[1]
    assert bodies[0]["resources"]["core"]["limit"] > 0


@pytest.mark.slow  # waits seconds of real time
def test_a_session_request_past_its_deadline_fails() -> None:
    """Out of the clients too, a trickled answer ends at the deadline as a read timeout."""
    with SimulatedGitHub([], now=NOW, token=TOKEN) as server:
        server.fail("^/rate_limit$", 200, rate=RATE)
        with deadline_session() as session:
            started = time.monotonic()
            with pytest.raises(requests.Timeout):
                session.get(f"{server.url}/rate_limit", timeout=1)
    assert time.monotonic() - started < 3
