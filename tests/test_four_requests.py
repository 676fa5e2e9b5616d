"""Four REST requests a repo, GitHub's floor: every other fact of a repo comes from GraphQL,
many repos a query, checked against GitHub's published schema."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests import branch
from tests.graphql_schema import GitHubValidator
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import NOW, TOKEN, ListLog, settings_for, sync_once
from traffic_sync.core.errors import AccessDeniedError, RepoNotFoundError
from traffic_sync.core.growth import daily_growth
from traffic_sync.core.models import RepoStatus
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github import rest
from traffic_sync.github.describe import BATCH
from traffic_sync.github.pacer import Pacer

pytestmark = pytest.mark.slow  # whole runs over 60 repos and a git remote


def world(count: int) -> list[SimRepo]:
    return [
        SimRepo(f"octo/r{i:03}", 100 + i, dt.date(2025, 1, 1), daily_views=5 + i % 7, seed=i)
        for i in range(count)
    ]


@pytest.fixture
def sim(validator: GitHubValidator | None, start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(world(60), now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator)


def rest_per_repo(sim: SimulatedGitHub) -> Counter[str]:
    """REST requests by repo, the data repository's own and the listings left out."""
    counts: Counter[str] = Counter()
    for request in sim.requests:
        parts = request.path.split("/")
        if request.path.startswith("/repos/") and len(parts) > 3:
            counts["/".join(parts[2:4])] += 1
    return counts


def facts_queries(sim: SimulatedGitHub) -> int:
    return sum(
        1
        for r in sim.requests
        if r.path == "/graphql" and r.body["query"].startswith("query Describe")
    )


def test_a_first_run_and_the_next_day_cost_four_rest_requests_a_repo(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """60 repos through `octo/*`: exactly the four traffic calls for each, on the first run
    and on the next day, and their facts in ceil(60 / 50) GraphQL queries."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, repos="octo/*")
    for day in range(2):
        sim.requests.clear()
        report = sync_once(sim, settings, tmp_path, pacer=Pacer(per_minute=100_000))
        assert report.repos_synced == 60, day
        assert rest_per_repo(sim) == Counter({f"octo/r{i:03}": 4 for i in range(60)})
        assert facts_queries(sim) == -(-60 // BATCH)
        sim.now += dt.timedelta(days=1)
        sim.new_hour()


def test_a_renamed_repo_is_found_without_a_301(
    validator: GitHubValidator | None, start_github: StartGitHub, tmp_path: Path
) -> None:
    """A repo asked for by its old name: GraphQL follows the rename, the traffic calls go to
    the new name at once, and no request is answered 301."""
    sim = start_github(world(2), now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator)
    sim.rename("octo/r001", "octo/renamed")
    remote = branch.init_bare(tmp_path / "data.git")
    report = sync_once(sim, settings_for(remote, repos="octo/r000 octo/r001"), tmp_path)
    assert report.repos_synced == 2
    assert rest_per_repo(sim) == Counter({"octo/r000": 4, "octo/renamed": 4})
    assert not any("r001" in r.path for r in sim.requests if r.path != "/graphql")
    assert branch.rows(branch.files(remote), "octo/renamed", "views")


def test_a_repo_the_token_cannot_push_to_costs_no_traffic_request(
    validator: GitHubValidator | None, start_github: StartGitHub, tmp_path: Path
) -> None:
    """A repo the token may only read fails with the fix before any traffic request; the
    others are saved."""
    repos = [*world(2), SimRepo("octo/readonly", 9, dt.date(2025, 1, 1), push=False)]
    sim = start_github(repos, now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator)
    remote = branch.init_bare(tmp_path / "data.git")
    log = ListLog()
    report = sync_once(sim, settings_for(remote, repos="octo/*"), tmp_path, log)
    statuses = {r.full_name: r.status for r in report.results}
    assert statuses["octo/readonly"] == RepoStatus.FAILED
    assert report.repos_synced == 2
    assert rest_per_repo(sim)["octo/readonly"] == 0
    ((error, where),) = log.errors
    assert (type(error), where) == (AccessDeniedError, "octo/readonly")
    assert "read" in error.message
    assert "push access" in error.message + error.fix


def test_a_name_graphql_cannot_find_fails_alone(
    validator: GitHubValidator | None, start_github: StartGitHub, tmp_path: Path
) -> None:
    """One name that resolves to no repo nulls only its alias: that repo fails as not found,
    the others of the same query are saved."""
    sim = start_github(world(3), now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator)
    remote = branch.init_bare(tmp_path / "data.git")
    log = ListLog()
    report = sync_once(
        sim, settings_for(remote, repos="octo/r000 octo/missing octo/r002"), tmp_path, log
    )
    assert facts_queries(sim) == 1
    assert report.repos_synced == 2
    ((error, where),) = log.errors
    assert (type(error), where) == (RepoNotFoundError, "octo/missing")
    assert rest_per_repo(sim)["octo/missing"] == 0


@pytest.mark.parametrize(
    ("kind", "message"),
    [("INTERNAL", "Something went wrong while executing your query."), ("NOT_FOUND", "")],
)
def test_when_graphql_cannot_describe_rest_asks_and_nothing_is_lost(
    validator: GitHubValidator | None,
    start_github: StartGitHub,
    tmp_path: Path,
    kind: str,
    message: str,
) -> None:
    """GraphQL failing for the facts query (an error every retry, or no GraphQL API at all):
    each repo's facts come from `GET /repos/{o}/{r}`, one request more, and every repo is
    saved."""
    sim = start_github(world(3), now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator)
    if kind == "NOT_FOUND":
        sim.fail(r"^/graphql$", 404, times=100, message="Not Found")
    else:
        sim.fail_graphql(kind, message, times=100)
    remote = branch.init_bare(tmp_path / "data.git")
    log = ListLog()
    report = sync_once(sim, settings_for(remote, repos="octo/*"), tmp_path, log)
    assert report.repos_synced == 3
    assert rest_per_repo(sim) == Counter({f"octo/r{i:03}": 5 for i in range(3)})
    assert any("asked over REST" in line for line in log.lines)


def walks(sim: SimulatedGitHub) -> list[str]:
    """The repos of every stars or forks query beyond the ones describing the repos."""
    return [
        str(r.body["variables"]["name"])
        for r in sim.requests
        if r.path == "/graphql" and not r.body["query"].startswith("query Describe")
    ]


def test_small_repos_histories_come_with_their_facts_and_a_big_one_walks_alone(
    validator: GitHubValidator | None, start_github: StartGitHub, tmp_path: Path
) -> None:
    """60 repos with a few stars and forks each, and one with 350 forks: the first run's
    GraphQL is the two queries describing them (their first 100 stars and forks come along)
    plus the big repo's walk below its first page; the next day, with new stars on some
    repos, the two queries alone. Every history is exact."""
    big = SimRepo("octo/big", 999, dt.date(2025, 1, 1), stars=5, forks=350, seed=3)
    sim = start_github(
        [*world(60), big], now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator
    )
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, repos="octo/*")
    sync_once(sim, settings, tmp_path, pacer=Pacer(per_minute=100_000))
    assert facts_queries(sim) == 2
    assert walks(sim) == ["big"] * 3  # 350 forks: the first 100 came with the facts
    sim.requests.clear()
    sim.now += dt.timedelta(days=1)
    sim.new_hour()
    for i in range(0, 60, 7):
        sim.star(f"octo/r{i:03}", sim.now - dt.timedelta(hours=3), count=2)
    report = sync_once(sim, settings, tmp_path, pacer=Pacer(per_minute=100_000))
    assert report.repos_synced == 61
    assert facts_queries(sim) == 2
    assert walks(sim) == []
    tree = branch.files(remote)
    for repo in [*world(60), big]:
        for series in ("stars", "forks"):
            rows = branch.rows(tree, repo.full_name, series)
            truth = daily_growth(sim.timeline(repo.full_name, series))
            assert [(r["date"], r["new"]) for r in rows] == [
                (row.date.isoformat(), row.new) for row in truth
            ], (repo.full_name, series)


def test_the_facts_of_many_repos_are_asked_several_queries_at_a_time(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two queries describing 60 repos are in flight together (each waits for the other),
    so the traffic requests start after one query's time, not the sum of all."""
    together = threading.Barrier(2, timeout=10)
    met: list[bool] = []
    ask = rest.describe

    def describe_together(client: Any, batch: Any, **kwargs: Any) -> Any:
        try:
            together.wait()
            met.append(True)
        except threading.BrokenBarrierError:
            met.append(False)
        return ask(client, batch, **kwargs)

    monkeypatch.setattr(rest, "describe", describe_together)
    report = sync_once(sim, settings_for(remote, repos="octo/*"), tmp_path)
    assert met == [True, True]
    assert report.repos_synced == 60
