"""Stars from GitHub's star history endpoint (`GET /repos/{o}/{r}/stargazers/history`): the same
days as walking the stargazers, at a request per 30 weeks, and the way left when GitHub refuses
the stargazers listing."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from tests import branch
from tests.graphql_schema import GitHubValidator
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import FAST, NOW, TOKEN, ListLog, settings_for
from traffic_sync.core.growth import (
    GrowthRow,
    Series,
    daily_growth,
    history_pages_needed,
    week_start,
    weekly_growth,
)
from traffic_sync.core.models import RunReport
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github import answers
from traffic_sync.github.graphql import fetch_growth
from traffic_sync.github.rest import GitHubSource
from traffic_sync.sync import run

MANY = SimRepo("octo/many", 1, dt.date(2023, 2, 11), stars=3_000, forks=3, seed=2)
# ten years old and few stars: walking them is one query, the history 18 requests
OLD = SimRepo("octo/old", 2, dt.date(2016, 3, 10), stars=60, forks=1, seed=4)


def source(sim: SimulatedGitHub) -> GitHubSource:
    return GitHubSource(token=TOKEN, api_url=sim.url, policy=FAST, clock=sim.clock)


def stored(remote: Path, name: str) -> tuple[GrowthRow, ...]:
    rows = branch.rows(branch.files(remote), name, "stars")
    return tuple(GrowthRow(dt.date.fromisoformat(r["date"]), r["new"], r["total"]) for r in rows)


def sync(sim: SimulatedGitHub, remote: Path, tmp_path: Path, repos: str) -> RunReport:
    sim.requests.clear()
    work = tmp_path / f"work-{time.monotonic_ns()}"
    work.mkdir()
    return run(
        settings_for(remote, repos=repos),
        today=sim.now.date(),
        source=source(sim),
        log=ListLog(),
        workdir=work,
        cwd=tmp_path,
        sleep=lambda _s: None,
    )


def history_requests(sim: SimulatedGitHub) -> list[str]:
    return [r.path for r in sim.requests if r.path.endswith("/stargazers/history")]


def test_a_ten_year_old_repos_whole_history_is_18_requests() -> None:
    """A request per 30 weeks, the week of the start and this week included."""
    today = dt.date(2026, 3, 10)
    assert history_pages_needed(today - dt.timedelta(days=3652), today) == 18
    assert history_pages_needed(today, today) == 1
    assert history_pages_needed(week_start(today) - dt.timedelta(weeks=29), today) == 1
    assert history_pages_needed(week_start(today) - dt.timedelta(weeks=30), today) == 2


def test_weeks_start_on_sunday() -> None:
    """GitHub's weekly statistics count weeks from Sunday."""
    assert week_start(dt.date(2026, 3, 8)) == dt.date(2026, 3, 8)  # a Sunday
    assert week_start(dt.date(2026, 3, 14)) == dt.date(2026, 3, 8)


@pytest.mark.parametrize("since", [None, dt.date(2025, 7, 4), NOW.date()])
def test_the_history_endpoint_gives_the_days_the_stargazers_walk_gives(
    validator: GitHubValidator | None, start_github: StartGitHub, since: dt.date | None
) -> None:
    """For the same repo, from the first star or from a stored day on, the rows from the star
    history endpoint equal those from walking the stargazers, stars taken back included."""
    sim = start_github([MANY], now=NOW, token=TOKEN, graphql_validator=validator)
    sim.unstar("octo/many", 40)
    github = source(sim)
    walked = fetch_growth(github.growth_client(), "octo/many", Series.STARS, since=since)
    history = github.star_history("octo/many", since=since)
    assert walked.complete
    assert history.rows == walked.rows
    if since is None:
        assert history.rows == daily_growth(sim.timeline("octo/many", "stars"))
    assert history.requests == history_pages_needed(since or MANY.created, NOW.date())


def week(start: str, days: list[Any], total: Any = None, **more: Any) -> dict[str, Any]:
    midnight = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    counted = sum(d for d in days if isinstance(d, int))
    return {
        "week": int(midnight.timestamp()),
        "total": counted if total is None else total,
        **{"days": days, **more},
    }


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"weeks": []}, "not a JSON array"),
        ([week("2026-03-08", [1, 0, 0, 0, 0, 0])], "6 days"),
        ([week("2026-03-08", [1, 0, 0, 0, 0, 0, 2], total=4)], "not the sum"),
        ([week("2026-03-08", [1, 0, 0, -1, 0, 0, 2])], "not a count"),
        ([week("2026-03-08", [1, 0, 0, "3", 0, 0, 2])], "not a count"),
        ([{**week("2026-03-08", [0] * 7), "week": 1_773_000_001}], "midnight"),
        ([{"total": 0, "days": [0] * 7}], "`week`"),
    ],
)
def test_a_week_in_a_shape_github_never_sends_is_refused(answer: Any, problem: str) -> None:
    """Counts are counts, a week is seven days from a midnight, `total` is their sum."""
    with pytest.raises(answers.BadAnswer, match=problem):
        answers.star_history(answer)


def test_weekly_rows_skip_empty_days_and_keep_from_since() -> None:
    """A row for each day with stars, dated by the week's Sunday and the day's place."""
    weeks = [
        (dt.date(2026, 3, 8), (0, 2, 0, 0, 0, 0, 1)),
        (dt.date(2026, 3, 1), (4, 0, 0, 0, 0, 0, 0)),
    ]
    assert weekly_growth(weeks) == (
        GrowthRow(dt.date(2026, 3, 1), 4, 4),
        GrowthRow(dt.date(2026, 3, 9), 2, 6),
        GrowthRow(dt.date(2026, 3, 14), 1, 7),
    )
    assert weekly_growth(weeks, since=dt.date(2026, 3, 9))[0] == GrowthRow(
        dt.date(2026, 3, 9), 2, 2
    )


def test_a_backfill_takes_the_history_where_it_costs_fewer_requests(
    validator: GitHubValidator | None, start_github: StartGitHub, tmp_path: Path
) -> None:
    """3,000 stars over three years: the first run takes them from the history endpoint (a
    few requests, not 30 queries), exactly; the old repo's 60 stars come whole on the first
    page, with its facts (no query, not 18 requests)."""
    sim = start_github([MANY, OLD], now=NOW, token=TOKEN, graphql_validator=validator)
    remote = branch.init_bare(tmp_path / "data.git")
    report = sync(sim, remote, tmp_path, "octo/many octo/old")
    assert history_requests(sim) == ["/repos/octo/many/stargazers/history"] * history_pages_needed(
        MANY.created, NOW.date()
    )
    walks = [
        r.body["variables"]["name"]
        for r in sim.requests
        if r.path == "/graphql" and r.body["query"].startswith("query Stargazers")
    ]
    assert walks == []
    for repo in (MANY, OLD):
        assert stored(remote, repo.full_name) == daily_growth(sim.timeline(repo.full_name, "stars"))
    assert report.growth is not None
    assert report.growth.waiting == 0


@pytest.mark.parametrize("refusal", ["forbidden", "empty"])
def test_a_refused_stargazers_listing_takes_the_star_history(
    validator: GitHubValidator | None, start_github: StartGitHub, tmp_path: Path, refusal: str
) -> None:
    """GitHub lists stargazers only to a repo's admins and collaborators: a refusal (FORBIDDEN,
    or no stargazer listed while the repo has stars) takes the star history instead, in the
    same run, and every day is stored exactly; the next day's new stars come the same way.
    FORBIDDEN nulls the whole repo in the query that describes the repos (the list is a
    non-null field), so that repo is described again without the lists: it is not lost."""
    old = SimRepo(OLD.full_name, OLD.id, OLD.created, stars=60, forks=1, stargazers_listed=refusal)
    sim = start_github([old], now=NOW, token=TOKEN, graphql_validator=validator)
    remote = branch.init_bare(tmp_path / "data.git")
    report = sync(sim, remote, tmp_path, "octo/old")
    assert report.repos_synced == 1
    describes = [
        r for r in sim.requests if r.path == "/graphql" and "query Describe" in r.body["query"]
    ]
    assert len(describes) == (2 if refusal == "forbidden" else 1)
    assert stored(remote, "octo/old") == daily_growth(sim.timeline("octo/old", "stars"))
    assert len(history_requests(sim)) == history_pages_needed(OLD.created, NOW.date()) == 18
    assert report.growth is not None
    assert report.growth.waiting == 0

    newest = stored(remote, "octo/old")[-1].date
    sim.now += dt.timedelta(days=1)
    sim.new_hour()
    sim.star("octo/old", sim.now - dt.timedelta(hours=2), count=3)
    sync(sim, remote, tmp_path, "octo/old")
    assert stored(remote, "octo/old") == daily_growth(sim.timeline("octo/old", "stars"))
    # back to the newest stored day only, not to the repo's creation
    pages = history_pages_needed(newest, sim.now.date())
    assert len(history_requests(sim)) == pages < 18
