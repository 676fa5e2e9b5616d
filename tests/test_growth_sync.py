"""Stars, forks and release downloads in whole runs: the simulated GitHub (REST and GraphQL,
its queries checked against GitHub's published schema where it is installed) and a real git
data branch in a bare repo."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from tests import branch
from tests.graphql_schema import GitHubValidator
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import FAST, TOKEN, ListLog, settings_for
from traffic_sync.core.growth import GrowthRow, daily_growth, history_pages_needed, queries_needed
from traffic_sync.core.models import DEFAULT_RESERVE, ReleaseRow, RunReport
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.rest import GitHubSource
from traffic_sync.pages.charts import downloads_per_day
from traffic_sync.pages.summary import render_summary
from traffic_sync.sync import run

# a fixed instant: the simulator and the code under test read one clock, the simulator's
NOW = dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)
HUGE = SimRepo("octo/huge", 1, dt.date(2019, 4, 1), stars=45_000, forks=1_234, seed=2)
SMALL = SimRepo("octo/small", 2, dt.date(2025, 6, 1), stars=250, forks=7, seed=4, releases=2)
BIG = SimRepo("octo/big", 3, dt.date(2022, 1, 1), stars=0, forks=25_000, seed=6)


@pytest.fixture
def sim(validator: GitHubValidator | None, start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(
        [HUGE, SMALL, BIG], now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator
    )


def sync(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path, log: ListLog | None = None, **inputs: str
) -> RunReport:
    """One run on the simulator's day, its requests logged apart from the earlier runs'."""
    sim.requests.clear()
    work = tmp_path / f"work-{time.monotonic_ns()}"
    work.mkdir()
    return run(
        settings_for(remote, **inputs),
        today=sim.now.date(),
        source=GitHubSource(token=TOKEN, api_url=sim.url, policy=FAST, clock=sim.clock),
        log=log or ListLog(),
        workdir=work,
        cwd=tmp_path,
        sleep=lambda _s: None,
    )


def stored(remote: Path, name: str, series: str) -> tuple[GrowthRow, ...]:
    rows = branch.rows(branch.files(remote), name, series)
    return tuple(GrowthRow(dt.date.fromisoformat(r["date"]), r["new"], r["total"]) for r in rows)


def growth_state(remote: Path, repo_id: int) -> dict[str, dict[str, object]]:
    state = json.loads(branch.files(remote)[".traffic-sync/state.json"])
    growth: dict[str, dict[str, object]] = state["repos"][str(repo_id)]["growth"]
    return growth


def queries(sim: SimulatedGitHub) -> list[dict[str, object]]:
    """The variables of every stars or forks query of the run, in order."""
    return [
        r.body["variables"]
        for r in sim.requests
        if r.path == "/graphql" and not r.body["query"].startswith("query Describe")
    ]


def describes(sim: SimulatedGitHub) -> list[dict[str, object]]:
    """The variables of every query for the repos' facts (`github.describe`), in order."""
    return [
        r.body["variables"]
        for r in sim.requests
        if r.path == "/graphql" and r.body["query"].startswith("query Describe")
    ]


def rest_paths(sim: SimulatedGitHub, name: str) -> list[str]:
    return [r.path for r in sim.requests if r.path.startswith(f"/repos/{name}")]


def next_day(sim: SimulatedGitHub) -> None:
    sim.now += dt.timedelta(days=1)
    sim.new_hour()


@pytest.mark.slow  # tens of thousands of stars through whole runs
def test_first_run_takes_45000_stars_from_the_star_history_and_walks_the_forks(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """45,000 stars since 2019: the first run takes them from the star history endpoint, a
    request per 30 weeks, instead of 450 queries; the forks walk GraphQL's cursors to the
    first fork, one query per 100; every day since the repo's creation is stored exactly."""
    remote = branch.init_bare(tmp_path / "data.git")
    report = sync(sim, remote, tmp_path, repos="octo/huge")
    assert stored(remote, "octo/huge", "stars") == daily_growth(sim.timeline("octo/huge", "stars"))
    assert stored(remote, "octo/huge", "forks") == daily_growth(sim.timeline("octo/huge", "forks"))
    pages = history_pages_needed(HUGE.created, NOW.date())
    history = [p for p in rest_paths(sim, "octo/huge") if p.endswith("/stargazers/history")]
    assert len(history) == pages < queries_needed(45_000)
    asked = queries(sim)
    assert len(asked) == queries_needed(1_234) - 1, "the first page came with the repo's facts"
    cursors = [q["cursor"] for q in asked if q["cursor"] is not None]
    assert len(cursors) == len(asked), "the walk goes on below the first page"
    assert len(set(cursors)) == len(cursors), "each query goes on from the one before"
    assert stored(remote, "octo/huge", "stars")[0].date >= HUGE.created
    assert stored(remote, "octo/huge", "stars")[-1].total == 45_000
    assert growth_state(remote, 1)["stars"] == {
        "count": 45_000,
        "through": sim.timeline("octo/huge", "stars")[-1].date().isoformat(),
        "pending": [],
        "queries": 0,
    }
    assert report.growth is not None
    assert (report.growth.fetched, report.growth.waiting) == (2, 0)
    assert report.growth.history_requests == pages
    # and one query for the repo's facts
    assert len(describes(sim)) == 1
    assert report.growth.points.used == len(asked) + 1
    summary = render_summary(report, with_charts=False)
    assert f"GraphQL points: {len(asked) + 1:,} used" in summary
    assert f"of {queries_needed(1_234) - 1:,} planned" in summary
    assert f"star history endpoint: {pages} REST requests" in summary
    page = branch.files(remote)["octo/huge/README.md"].decode()
    assert f"Stars since the repository's creation, 2019-04-01 to {NOW.date()}" in page


def test_an_incremental_day_asks_newest_first_down_to_the_newest_day_held(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """New stars: the newest page, which the query describing the repos brings, reaches down
    to the newest stored day, so no query more; forks did not grow, so they are not asked
    for; the new day lands with its running total."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync(sim, remote, tmp_path, repos="octo/small")
    next_day(sim)
    sim.star("octo/small", sim.now - dt.timedelta(hours=2), count=3)
    report = sync(sim, remote, tmp_path, repos="octo/small")
    assert queries(sim) == []
    assert len(describes(sim)) == 1
    rows = stored(remote, "octo/small", "stars")
    assert rows == daily_growth(sim.timeline("octo/small", "stars"))
    assert rows[-1] == GrowthRow(sim.now.date(), 3, 253)
    assert growth_state(remote, 2)["stars"]["count"] == 253
    assert report.growth is not None
    assert (report.growth.fetched, report.growth.quiet) == (1, 1)


@pytest.mark.slow  # tens of thousands of stars through whole runs
def test_a_quiet_day_costs_four_requests_and_one_query(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """Counts unchanged: the four traffic calls a repo, nothing else (five with
    release-downloads, the fifth its releases), and one GraphQL query for every repo's facts;
    nothing changes but the day's snapshots."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync(sim, remote, tmp_path, repos="octo/small octo/huge")
    before = (stored(remote, "octo/small", "stars"), stored(remote, "octo/huge", "forks"))
    next_day(sim)
    report = sync(sim, remote, tmp_path, repos="octo/small octo/huge")
    assert queries(sim) == []
    assert describes(sim) == [{"o0": "octo", "n0": "small", "o1": "octo", "n1": "huge"}]
    for name in ("octo/small", "octo/huge"):
        assert rest_paths(sim, name) == [
            f"/repos/{name}/traffic/views",
            f"/repos/{name}/traffic/clones",
            f"/repos/{name}/traffic/popular/referrers",
            f"/repos/{name}/traffic/popular/paths",
        ]
    assert (stored(remote, "octo/small", "stars"), stored(remote, "octo/huge", "forks")) == before
    assert report.growth is not None
    assert (report.growth.quiet, report.growth.points.queries) == (4, 1)
    next_day(sim)
    sync(sim, remote, tmp_path, repos="octo/small", **{"release-downloads": "true"})
    assert rest_paths(sim, "octo/small")[4:] == ["/repos/octo/small/releases"]
    assert queries(sim) == []


def test_an_unstar_keeps_the_day_and_the_stats_keep_the_net_count(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """Stars taken back: no query, no stored day lowered, the stats row has GitHub's net count
    and the page says why the two differ; a later star is still noticed."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync(sim, remote, tmp_path, repos="octo/small")
    before = stored(remote, "octo/small", "stars")
    next_day(sim)
    sim.unstar("octo/small", 2)
    sync(sim, remote, tmp_path, repos="octo/small")
    assert queries(sim) == []
    assert stored(remote, "octo/small", "stars") == before
    tree = branch.files(remote)
    assert branch.rows(tree, "octo/small", "stats")[-1]["stars"] == 248
    assert growth_state(remote, 2)["stars"]["count"] == 248
    page = tree["octo/small/README.md"].decode()
    assert "Stars: 250 in the history; GitHub counted 248" in page
    assert "2 taken back since they were given" in page
    next_day(sim)
    sim.star("octo/small", sim.now - dt.timedelta(hours=1))
    sync(sim, remote, tmp_path, repos="octo/small")
    assert queries(sim) == []  # the new star came with the repo's facts
    rows = stored(remote, "octo/small", "stars")
    assert rows[:-1] == before
    assert rows[-1] == GrowthRow(sim.now.date(), 1, 251)


@pytest.mark.slow  # tens of thousands of stars through whole runs
@pytest.mark.parametrize(
    "start",
    [NOW.replace(minute=59, second=59), NOW.replace(hour=14, second=1)],
    ids=["13:59:59", "14:00:01"],
)
def test_points_running_out_mid_backfill_stop_cleanly_and_the_next_run_resumes(
    sim: SimulatedGitHub, tmp_path: Path, start: dt.datetime
) -> None:
    """300 points an hour and 200 kept in reserve: the first run stops after 100 queries of a
    250-query backfill, keeps what it counted and where it stopped, and says so; the next
    run, a new hour, goes on from there and the history comes out exact. At any instant:
    the client reads the resets against the simulator's clock, not the machine's."""
    sim.now = start
    sim.graphql_points = DEFAULT_RESERVE + 100
    remote = branch.init_bare(tmp_path / "data.git")
    # one at a time, so the count of queries before the reserve is exact
    report = sync(sim, remote, tmp_path, repos="octo/big octo/small", concurrency="1")
    assert report.repos_synced == 2
    assert report.repos_failed == 0
    assert report.growth is not None
    assert report.growth.points.stopped
    assert report.growth.waiting >= 1
    assert len(queries(sim)) + len(describes(sim)) == 100
    walked = sum(q["name"] == "big" for q in queries(sim))
    # the small repo's histories are cheaper, so they went first and are whole
    small = daily_growth(sim.timeline("octo/small", "stars"))
    assert stored(remote, "octo/small", "stars") == small
    truth = daily_growth(sim.timeline("octo/big", "forks"))
    partial = {row.date: row.new for row in stored(remote, "octo/big", "forks")}
    exact = {row.date: row.new for row in truth}
    assert partial
    assert all(new <= exact[day] for day, new in partial.items())
    assert sum(partial.values()) < 25_000
    state = growth_state(remote, 3)["forks"]
    assert state["pending"]
    assert state["queries"]
    assert "1 history waits for the next run" in render_summary(report, with_charts=False)

    next_day(sim)
    sim.graphql_points = 5_000
    report = sync(sim, remote, tmp_path, repos="octo/big octo/small")
    assert report.growth is not None
    assert report.growth.waiting == 0
    assert stored(remote, "octo/big", "forks") == truth
    assert growth_state(remote, 3)["forks"]["pending"] == []
    # the top down to the newest day held, then on from the cursor kept: no page twice
    # (the top page, and at most one page more than the rest, where the walk stopped mid-page)
    assert len(queries(sim)) <= 1 + queries_needed(25_000) - walked + 1


def test_release_downloads_are_a_daily_snapshot_and_never_make_a_negative_day(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """Each run keeps every asset's count; a deleted asset leaves the day's snapshot, one
    uploaded again starts over, and the page's downloads per day never go below zero."""
    remote = branch.init_bare(tmp_path / "data.git")
    downloads = {"release-downloads": "true"}
    sync(sim, remote, tmp_path, repos="octo/small", **downloads)
    first = sim.assets_of("octo/small")
    next_day(sim)
    tag, asset = next(iter(sorted(first)))
    sim.delete_asset("octo/small", "v1.1.0", "checksums.txt")
    sim.delete_asset("octo/small", tag, asset)
    sim.upload_asset("octo/small", tag, asset, downloads=4)  # uploaded again: from 0, then 4
    sync(sim, remote, tmp_path, repos="octo/small", **downloads)
    tree = branch.files(remote)
    rows = [
        ReleaseRow(dt.date.fromisoformat(r["date"]), r["tag"], r["asset"], r["downloads"])
        for r in branch.rows(tree, "octo/small", "releases")
    ]
    days = sorted({row.date for row in rows})
    assert days == [NOW.date(), NOW.date() + dt.timedelta(days=1)]
    by_day = {d: {(r.tag, r.asset): r.downloads for r in rows if r.date == d} for d in days}
    assert by_day[days[0]] == first
    assert by_day[days[1]] == sim.assets_of("octo/small")
    assert ("v1.1.0", "checksums.txt") not in by_day[days[1]]
    gained = downloads_per_day(rows)
    kept = [key for key in by_day[days[1]] if key != (tag, asset)]
    expected = 4 + sum(by_day[days[1]][k] - by_day[days[0]][k] for k in kept)
    assert gained == {days[1]: expected}
    assert all(value >= 0 for value in gained.values())
    page = tree["octo/small/README.md"].decode()
    assert "## Release downloads" in page
    assert f"bar [{expected}]" in page
    assert branch.dataset_files(tree, "octo/small", "releases") == sorted(
        {f"octo/small/releases/{day:%Y/%m}.json" for day in days}
    )


def test_releases_a_token_cannot_read_cost_a_warning_not_the_traffic(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """A token that reads traffic but not contents gets 403 on the releases: the repo's
    traffic is saved, no releases file is written, and a warning says what to grant."""
    remote = branch.init_bare(tmp_path / "data.git")
    sim.fail(
        r"^/repos/octo/small/releases$",
        403,
        message="Resource not accessible by personal access token",
    )
    log = ListLog()
    report = sync(sim, remote, tmp_path, log, repos="octo/small", **{"release-downloads": "true"})
    assert report.repos_synced == 1
    assert report.repos_failed == 0
    tree = branch.files(remote)
    assert branch.rows(tree, "octo/small", "views")
    assert not branch.dataset_files(tree, "octo/small", "releases")
    ((warning, where),) = log.warnings
    assert where == "octo/small"
    assert warning.title == "Release downloads not read"
    assert "Contents: read" in warning.fix
