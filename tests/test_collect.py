"""Collection on its own: the request budget, stalest first, and what a skipped repo risks.

The runs against the simulated GitHub (tests/test_sync.py, tests/test_scale.py) show these
parts at work together; here each rule is checked by itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from tests.helpers.sync import TOKEN, ListLog, settings_for
from traffic_sync.branch.state import BranchState
from traffic_sync.core.models import Observation, RepoInfo, RepoStatus
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.stages.collect import REQUESTS_PER_REPO, collect, gap_risk, plan_budget
from traffic_sync.sync import collect_options

NAMES = ["o/fresh", "o/never", "o/stale", "o/middle"]
STATE = {
    "1": {"full_name": "o/fresh", "last_success": "2026-03-01"},
    "2": {"full_name": "O/Stale", "last_success": "2026-02-01"},
    "3": {"full_name": "o/middle", "last_success": "2026-02-20"},
}


def state() -> BranchState:
    return BranchState.from_json(STATE)


def test_gap_risk_wording() -> None:
    """Not at risk before 10 days; a countdown to day 12; lost days after that."""
    today = dt.date(2026, 3, 20)
    assert gap_risk("", today=today) == ""
    assert gap_risk("2026-03-11", today=today) == ""
    assert "within 2 days" in gap_risk("2026-03-10", today=today)
    assert "being lost" in gap_risk("2026-03-01", today=today)


def test_a_budget_that_covers_every_repo_keeps_the_order() -> None:
    chosen, deferred = plan_budget(
        NAMES,
        cost=REQUESTS_PER_REPO,
        max_requests=0,
        remaining=REQUESTS_PER_REPO * len(NAMES),
        made=0,
        read_state=state,
    )
    assert (chosen, deferred) == (NAMES, [])


@pytest.mark.parametrize(
    ("remaining", "max_requests", "made", "chosen"),
    [
        (2 * REQUESTS_PER_REPO, "", 0, ["o/never", "o/stale"]),
        (None, str(4 * REQUESTS_PER_REPO - 1), 0, ["o/never", "o/stale", "o/middle"]),
        (5000, str(3 * REQUESTS_PER_REPO), REQUESTS_PER_REPO, ["o/never", "o/stale"]),
        (REQUESTS_PER_REPO - 1, "", 0, []),
    ],
)
def test_the_smaller_budget_takes_the_stalest_first(
    remaining: int | None, max_requests: str, made: int, chosen: list[str]
) -> None:
    """Never-synced repos first, then by last success (names matched case-insensitively); the
    rest wait for the next run, in the order they were asked for."""
    inputs = {"max-requests": max_requests} if max_requests else {}
    picked, deferred = plan_budget(
        NAMES,
        cost=REQUESTS_PER_REPO,
        max_requests=collect_options(settings_for("./x", **inputs)).max_requests,
        remaining=remaining,
        made=made,
        read_state=state,
    )
    assert sorted(picked) == sorted(chosen)
    assert picked == [n for n in NAMES if n in chosen]
    assert deferred == [n for n in NAMES if n not in chosen]


def test_release_downloads_make_a_repo_cost_five_requests() -> None:
    """With release-downloads a repo costs its releases too: a budget of 4 repos at 4
    requests covers only 3 repos of 5 requests each, the stalest."""
    options = collect_options(settings_for("./x", **{"release-downloads": "true"}))
    assert options.cost == REQUESTS_PER_REPO + 1
    assert collect_options(settings_for("./x")).cost == REQUESTS_PER_REPO
    picked, deferred = plan_budget(
        NAMES,
        cost=options.cost,
        max_requests=options.max_requests,
        remaining=REQUESTS_PER_REPO * len(NAMES),
        made=0,
        read_state=state,
    )
    assert picked == ["o/never", "o/stale", "o/middle"]
    assert deferred == ["o/fresh"]


class _SurprisingSource(GitHubSource):
    """GitHub, except that observing one repo raises what nothing expects."""

    def observe(
        self,
        full_name: str,
        *,
        fetched_on: dt.date,
        accept: Callable[[int], bool] | None = None,
        releases: bool = False,
        info: RepoInfo | None = None,
    ) -> Observation:
        if full_name == "octo/beta":
            raise KeyError("views")
        return super().observe(
            full_name, fetched_on=fetched_on, accept=accept, releases=releases, info=info
        )


def test_an_unexpected_exception_fails_its_repo_only() -> None:
    """An exception no one expected, raised for one repo, is that repo's error; the others
    are collected."""
    world = [
        SimRepo("octo/alpha", 1, dt.date(2025, 1, 1)),
        SimRepo("octo/beta", 2, dt.date(2025, 1, 1)),
    ]
    now = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
    log = ListLog()
    with SimulatedGitHub(world, now=now, token=TOKEN) as sim:
        source = _SurprisingSource(token=TOKEN, api_url=sim.url, policy=RetryPolicy(attempts=0))
        collected = collect(
            collect_options(settings_for("./x")), today=now.date(), source=source, log=log
        )
    assert [o.repo.full_name for o in collected.observations] == ["octo/alpha"]
    (result,) = collected.results
    assert (result.full_name, result.status) == ("octo/beta", RepoStatus.FAILED)
    ((error, where),) = log.errors
    assert where == "octo/beta"
    assert "KeyError" in error.message
