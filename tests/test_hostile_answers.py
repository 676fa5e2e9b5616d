"""Answers GitHub never sends, through the real entrypoint: one repo fails, no stored day is lost.

Each case gives one repo of three a malformed answer from the simulated GitHub (a count sent as
text, a missing timestamp, a truncated body, a 301 loop, a `full_name` that is not two valid
parts, an HTML page or `[]` with status 200, ...) on the day after a run that stored history.
The run must report that repo with an `::error` naming it and the endpoint, save and commit the
other two, and leave every stored row as it was or higher: in particular a day whose answer was
unreadable is not stored as 0 and `final`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.runner import StepResult, run_step
from traffic_sync.demo import SimRepo, SimulatedGitHub

pytestmark = pytest.mark.slow  # runs the entrypoint

TOKEN = "ghp_hostileAnswersToken0123456789"
DAY0 = dt.datetime(2026, 4, 1, 12, 30, tzinfo=dt.UTC)
DAY1 = DAY0 + dt.timedelta(days=1)
BAD = "octo-org/bad"
GOOD = ("octo-org/good-a", "octo-org/good-b")
WORLD = [
    SimRepo(BAD, 301, dt.date(2025, 1, 1), daily_views=40, daily_clones=4, seed=2),
    SimRepo(GOOD[0], 302, dt.date(2025, 1, 1), daily_views=25, daily_clones=3, seed=4),
    SimRepo(GOOD[1], 303, dt.date(2025, 1, 1), daily_views=10, daily_clones=1, seed=6),
]
Json = Any


@dataclass(frozen=True)
class Hostile:
    """One answer GitHub never sends, to every request for `endpoint` of the bad repo."""

    endpoint: str  # after /repos/{owner}/{name}
    body: Callable[[Json], bytes]  # GitHub's real answer -> the bytes sent instead
    headers: dict[str, str] = field(default_factory=dict)


def _dump(value: Json) -> bytes:
    return json.dumps(value).encode()


def _bucket(change: Callable[[dict[str, Json]], None]) -> Callable[[Json], bytes]:
    """The real views answer with its oldest day changed."""

    def body(answer: Json) -> bytes:
        change(answer["views"][0])
        return _dump(answer)

    return body


CASES = {
    "count-as-text": Hostile("/traffic/views", _bucket(lambda b: b.update(count="33"))),
    "missing-timestamp": Hostile("/traffic/views", _bucket(lambda b: b.pop("timestamp"))),
    "date-outside-window": Hostile(
        "/traffic/views", _bucket(lambda b: b.update(timestamp="2019-01-01T00:00:00Z"))
    ),
    "negative-count": Hostile("/traffic/views", _bucket(lambda b: b.update(count=-5))),
    "count-of-1e30": Hostile("/traffic/views", _bucket(lambda b: b.update(count=10**30))),
    "truncated-body": Hostile("/traffic/clones", lambda a: _dump(a)[: len(_dump(a)) // 2]),
    "html-page-200": Hostile(
        "/traffic/views",
        lambda a: b"<!DOCTYPE html><html><body><h1>Unicorn!</h1></body></html>",
        {"Content-Type": "text/html; charset=utf-8"},
    ),
    "empty-list-200": Hostile("/traffic/views", lambda a: b"[]"),
    "views-missing": Hostile(
        "/traffic/views", lambda a: _dump({"count": a["count"], "uniques": a["uniques"]})
    ),
    "referrers-not-a-list": Hostile("/traffic/popular/referrers", lambda a: _dump({"x": 1})),
}
# the repo's facts come from GraphQL, many repos a query: one repo's answer there
GRAPHQL_CASES: dict[str, dict[str, Json]] = {
    "full-name-of-more-parts": {"nameWithOwner": "octo-org/bad/../../../tmp"},
    "full-name-dot-dot": {"nameWithOwner": "octo-org/.."},
    "id-as-text": {"databaseId": "303"},
    "stars-negative": {"stargazerCount": -1},
    "no-created-at": {"createdAt": None},
    "permission-unknown": {"viewerPermission": "OWNER"},
    "watchers-not-an-object": {"watchers": 3},
}


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(WORLD, now=DAY0, token=TOKEN, orgs=["octo-org"])


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data branch after one good run on DAY0 (copied by each test)."""
    base = tmp_path_factory.mktemp("history")
    remote = branch.init_bare(base / "data.git")
    with SimulatedGitHub(WORLD, now=DAY0, token=TOKEN, orgs=["octo-org"]) as sim:
        result = step(sim, remote, base, DAY0)
    assert result.outputs["repos-synced"] == "3", result.stdout + result.stderr
    return remote


def inputs(remote: Path, **extra: str) -> dict[str, str]:
    return {
        "token": TOKEN,
        "repos": "octo-org/*",
        "sink": "branch",
        "data-repository": str(remote),
        "data-branch": "traffic-data",
        "data-path": "",
        "fail-on-error": "false",
        **extra,
    }


def step(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path, now: dt.datetime, **extra: str
) -> StepResult:
    sim.now = now
    return run_step(
        inputs(remote, **extra),
        now=now,
        api_url=sim.url,
        workspace=tmp_path / "workspace",
        timeout=90,
    )


def real_answer(sim: SimulatedGitHub, path: str) -> Json:
    """What the simulated GitHub answers now, asked directly."""
    answer = requests.get(
        f"{sim.url}{path}", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    )
    return answer.json()


def copy_of(history: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "data.git"
    shutil.copytree(history, remote)
    return remote


def assert_one_repo_failed(result: StepResult, path: str) -> None:
    """The bad repo alone failed, with an annotation naming it and the endpoint."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "Unexpected error" not in output, output
    assert result.outputs["repos-failed"] == "1", output
    assert result.outputs["repos-synced"] == "2", output
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert any(BAD in line and path in line for line in errors), errors


def assert_saved_and_nothing_lowered(
    before: dict[str, bytes], after: dict[str, bytes], *, bad_unchanged: bool = True
) -> None:
    """The good repos have the new day; no stored row of any repo is lowered or dropped; the
    bad repo's files are as they were."""
    for name in GOOD:
        stats = branch.rows(after, name, "stats")
        assert stats[-1]["date"] == DAY1.date().isoformat(), name
    assert_no_row_lowered(before, after)
    if bad_unchanged:
        assert {p: b for p, b in after.items() if p.startswith(f"{BAD}/")} == {
            p: b for p, b in before.items() if p.startswith(f"{BAD}/")
        }


def assert_no_row_lowered(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """Every row of every stored JSON period file is still there, none of its numbers lower,
    no `final` day made not final."""
    branch.assert_rows_kept(before, after)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_malformed_answer_fails_its_repo_only(
    case: str, github: SimulatedGitHub, history: Path, tmp_path: Path
) -> None:
    """An answer GitHub never sends fails that repo alone (naming the endpoint); the others
    are saved and committed; no stored row is lowered and the bad repo's files are unchanged."""
    hostile = CASES[case]
    remote = copy_of(history, tmp_path)
    before, tip = branch.files(remote), branch.tip(remote)
    github.now = DAY1
    path = f"/repos/{BAD}{hostile.endpoint}"
    body = hostile.body(real_answer(github, path))
    github.fail(f"^{path}$", 200, times=50, body=body, headers=hostile.headers)

    result = step(github, remote, tmp_path, DAY1)

    assert_one_repo_failed(result, path)
    assert branch.tip(remote) != tip
    assert_saved_and_nothing_lowered(before, branch.files(remote))


@pytest.mark.parametrize("case", list(GRAPHQL_CASES), ids=list(GRAPHQL_CASES))
def test_a_malformed_graphql_answer_fails_its_repo_only(
    case: str, github: SimulatedGitHub, history: Path, tmp_path: Path
) -> None:
    """One repo's facts in a shape GitHub never sends, within the query that describes every
    repo: that repo alone fails (naming the GraphQL endpoint), before any traffic request."""
    remote = copy_of(history, tmp_path)
    before, tip = branch.files(remote), branch.tip(remote)
    github.answer_repository(BAD, **GRAPHQL_CASES[case])

    result = step(github, remote, tmp_path, DAY1)

    assert_one_repo_failed(result, "/graphql")
    assert not any(r.path.startswith(f"/repos/{BAD}/") for r in github.requests)
    assert branch.tip(remote) != tip
    assert_saved_and_nothing_lowered(before, branch.files(remote))


def test_a_redirect_loop_fails_its_repo_only(
    github: SimulatedGitHub, history: Path, tmp_path: Path
) -> None:
    """301s that lead round and round fail that repo after a few, not the run."""
    remote = copy_of(history, tmp_path)
    before = branch.files(remote)
    here, there = f"/repos/{BAD}/traffic/views", "/repos/octo-org/elsewhere/traffic/views"
    for path, target in ((here, there), (there, here)):
        moved = {"Location": f"{github.url}{target}"}
        body = _dump({"message": "Moved Permanently", "url": f"{github.url}{target}"})
        github.fail(f"^{path}$", 301, times=500, headers=moved, body=body)

    result = step(github, remote, tmp_path, DAY1)

    assert_one_repo_failed(result, here)
    assert sum(r.path in (here, there) for r in github.requests) <= 10
    assert_saved_and_nothing_lowered(before, branch.files(remote))


def test_a_body_cut_short_is_a_failed_try_and_is_retried(
    github: SimulatedGitHub, history: Path, tmp_path: Path
) -> None:
    """A connection dropped in the middle of a body is a failed try: the retry saves the day
    with GitHub's true counts, never a 0."""
    remote = copy_of(history, tmp_path)
    before = branch.files(remote)
    path = f"/repos/{BAD}/traffic/views"
    github.fail(f"^{path}$", 200, body=_dump(real_answer(github, path)), cut=40)

    result = step(github, remote, tmp_path, DAY1)

    assert result.outputs["repos-synced"] == "3", result.stdout + result.stderr
    after = branch.files(remote)
    assert_saved_and_nothing_lowered(before, after, bad_unchanged=False)
    day = (DAY1.date() - dt.timedelta(days=2)).isoformat()
    stored = next(r for r in branch.rows(after, BAD, "views") if r["date"] == day)
    truth = github.true_traffic(BAD, "views", DAY1.date() - dt.timedelta(days=2))
    assert (stored["count"], stored["uniques"], stored["final"]) == (*truth, True)


def test_request_timeout_bounds_a_trickled_answer(
    github: SimulatedGitHub, history: Path, tmp_path: Path
) -> None:
    """An answer trickled at 2 bytes a second is given up after `request-timeout` (3 s), as a
    whole, and retried: the run ends well within its bound and saves the true day."""
    remote = copy_of(history, tmp_path)
    before = branch.files(remote)
    path = f"/repos/{BAD}/traffic/views"
    github.fail(f"^{path}$", 200, body=_dump(real_answer(github, path)), rate=2)
    asked = len(github.requests)

    started = time.monotonic()
    result = step(github, remote, tmp_path, DAY1, **{"request-timeout": "3"})
    took = time.monotonic() - started

    assert result.outputs["repos-synced"] == "3", result.stdout + result.stderr
    assert took < 20, f"the run took {took:.0f} s"
    tries = [r for r in github.requests[asked:] if r.path == path]
    assert len(tries) == 2  # the trickled one and its retry
    after = branch.files(remote)
    assert_saved_and_nothing_lowered(before, after, bad_unchanged=False)
    day = DAY1.date() - dt.timedelta(days=2)
    stored = next(r for r in branch.rows(after, BAD, "views") if r["date"] == day.isoformat())
    assert (stored["count"], stored["uniques"]) == github.true_traffic(BAD, "views", day)
