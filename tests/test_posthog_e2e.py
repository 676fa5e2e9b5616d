"""The PostHog sink end to end: the real entrypoint, day after day, into a fake capture server.

The simulated GitHub and the fake PostHog both listen on 127.0.0.1; each step runs
`entrypoint.py` as the runner does (INPUT_* variables, the runner's files, a faked day), with
the data branch in a bare git repo.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests import branch
from tests.fake_posthog import FakePostHog
from tests.helpers.factories import StartGitHub, StartPostHog
from tests.runner import StepResult, run_step
from traffic_sync.core.models import Metric
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.sinks.posthog import event_uuid

pytestmark = pytest.mark.slow  # runs the entrypoint day after day

TOKEN = "ghp_posthogE2eToken0123456789"
KEY = "phc_e2eProjectKey0123456789abcdef"
START = dt.date(2026, 1, 1)
BACKFILL_DAY = 10  # PostHog is turned on after ten days of branch-only runs
OUTAGE_DAY = 14
WORLD = [
    SimRepo("Octo-Org/Busy-Lib", 101, dt.date(2024, 3, 1), daily_views=180, daily_clones=12),
    SimRepo(
        "octo-org/weekday-tool",
        103,
        dt.date(2025, 1, 1),
        daily_views=25,
        daily_clones=3,
        zero_weekdays=frozenset({5, 6}),
        seed=4,
    ),
    SimRepo("octo-org/newborn", 104, START + dt.timedelta(days=9), daily_views=40, seed=6),
    SimRepo("octo-org/quiet", 102, dt.date(2025, 6, 1), daily_views=0, daily_clones=0),
]


def at(day: int) -> dt.datetime:
    """START + `day` days, at 12:30 UTC like the suggested schedule."""
    return dt.datetime.combine(START + dt.timedelta(days=day), dt.time(12, 30), tzinfo=dt.UTC)


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(WORLD, now=at(0), token=TOKEN, orgs=["octo-org"])


@pytest.fixture
def posthog(start_posthog: StartPostHog) -> FakePostHog:
    return start_posthog(KEY)


def step(
    sim: SimulatedGitHub, posthog: FakePostHog, remote: Path, tmp_path: Path, day: int, **extra: str
) -> StepResult:
    """One workflow step on day `day`, with every input as the runner passes them."""
    sim.now = at(day)
    inputs = {
        "token": TOKEN,
        "repos": "octo-org/*",
        "sink": "auto",
        "data-repository": str(remote),
        "data-branch": "traffic-data",
        "data-path": "",
        "push-token": "ghs_pushTokenNotUsedForLocalPaths",
        "posthog-api-key": KEY,
        "posthog-host": posthog.url,
        "include-forks": "false",
        "include-archived": "false",
        "allow-private-in-public": "false",
        "dry-run": "false",
        "fail-on-error": "true",
        **extra,
    }
    return run_step(inputs, now=at(day), api_url=sim.url, workspace=tmp_path / "workspace")


def settled_rows(remote: Path, today: dt.date) -> dict[str, tuple[str, str, int, int]]:
    """uuid -> (repo, date, count, uniques) of every settled non-zero row in the branch."""
    rows = {}
    tree = branch.files(remote)
    for name in branch.repo_folders(tree):
        for metric in Metric:
            for row in branch.rows(tree, name, metric.value):
                day = dt.date.fromisoformat(row["date"])
                if (row["final"] or day < today - dt.timedelta(days=14)) and row["count"]:
                    uuid = event_uuid(name, day, metric)
                    rows[uuid] = (name, row["date"], row["count"], row["uniques"])
    return rows


def received(posthog: FakePostHog) -> dict[str, tuple[str, str, int, int]]:
    got = {}
    for event in posthog.events:
        props = event["properties"]
        got[event["uuid"]] = (props["repo"], props["date"], props["count"], props["uniques"])
    return got


def shown(result: StepResult) -> str:
    """What a reader of the log and summary sees (the runner hides ::add-mask:: lines)."""
    lines = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
    return "\n".join(lines) + result.stderr + result.summary


def test_daily_runs_send_every_settled_day_exactly_once(
    github: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """22 days: PostHog turned on after 10 (backfill), then an outage, a 413 and a 429.

    Each settled non-zero day of the branch reaches PostHog exactly once, and the branch gets
    every day whatever PostHog does.
    """
    remote = branch.init_bare(tmp_path / "data.git")
    sent = 0
    for day in range(22):
        key = KEY if day >= BACKFILL_DAY else ""
        if day == BACKFILL_DAY:  # the stored history is too large for one request
            posthog.max_batch = 25
        if day == BACKFILL_DAY + 1:
            posthog.max_batch = None
        if day == OUTAGE_DAY:  # PostHog is down for this whole run
            posthog.answer(503, times=5, headers={"Retry-After": "0"})
        if day == OUTAGE_DAY + 3:
            posthog.answer(429, headers={"Retry-After": "1"})
        result = step(github, posthog, remote, tmp_path, day, **{"posthog-api-key": key})
        assert KEY not in shown(result)
        assert len(result.outputs["commit-sha"]) == 40  # the day is in the branch, always
        assert len(branch.rows(branch.files(remote), "octo-org/quiet", "stats")) == day + 1
        if day < BACKFILL_DAY:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "PostHog" not in result.summary
            assert posthog.requests == []
            continue
        if day == OUTAGE_DAY:
            assert result.returncode == 1, result.stdout
            assert "::error title=PostHog failed%3A " in result.stdout
            assert result.outputs["events-sent"] == "0"
            assert "**PostHog failed** after 0 of" in result.summary
            assert branch.tip(remote) == result.outputs["commit-sha"]  # no watermark commit
            continue
        assert result.returncode == 0, result.stdout + result.stderr
        sent += int(result.outputs["events-sent"])
        assert sent == len(posthog.events)
        assert f"**PostHog**: {result.outputs['events-sent']} event" in result.summary
        today = START + dt.timedelta(days=day)
        if day == BACKFILL_DAY:  # the whole stored history, from before the first run on
            assert received(posthog) == settled_rows(remote, today)
            assert min(date for _, date, _, _ in received(posthog).values()) < str(START)
        if day == OUTAGE_DAY + 1:  # the catch-up: two days' worth
            assert received(posthog) == settled_rows(remote, today)
    assert int(step(github, posthog, remote, tmp_path, 21).outputs["events-sent"]) == 0

    expected = settled_rows(remote, START + dt.timedelta(days=21))
    assert len(posthog.uuids) == len(set(posthog.uuids)), "an event was sent twice"
    assert received(posthog) == expected
    assert {name for name, *_ in expected.values()} == {
        "Octo-Org/Busy-Lib",
        "octo-org/weekday-tool",
        "octo-org/newborn",
    }
    assert all(r.historical_migration is True for r in posthog.requests)
    assert any(r.status == 413 for r in posthog.requests)
    assert any(r.status == 429 for r in posthog.requests)
    state = json.loads(branch.files(remote)[".traffic-sync/state.json"])["repos"]
    settled_end = str(START + dt.timedelta(days=19))
    assert state["101"]["posthog_sent_through"] == {"clones": settled_end, "views": settled_end}


def test_wrong_key_fails_the_step_after_the_branch_commit(
    github: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """A rejected key fails the step with what to check; the day is already in the branch."""
    remote = branch.init_bare(tmp_path / "data.git")
    assert step(github, posthog, remote, tmp_path, 0).returncode == 0
    wrong = "phc_wrongKeyFromAnotherRegion123"
    result = step(github, posthog, remote, tmp_path, 1, **{"posthog-api-key": wrong})
    assert result.returncode == 1
    assert branch.tip(remote) == result.outputs["commit-sha"]
    assert b"2026-01-02" in branch.files(remote)["Octo-Org/Busy-Lib/stats/2026.json"]
    assert result.outputs["repos-synced"] == "4"
    assert result.outputs["events-sent"] == "0"
    assert "::error title=PostHog refused the events%3A " in result.stdout
    for needle in ("posthog-api-key", "phc_", "https://eu.i.posthog.com", "HTTP 401"):
        assert needle in result.stdout
    assert wrong not in shown(result)
    assert posthog.events == []


def test_dry_run_says_what_it_would_send(
    github: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """dry-run: the summary counts the events a real run would send; PostHog gets nothing."""
    remote = branch.init_bare(tmp_path / "data.git")
    assert step(github, posthog, remote, tmp_path, 0, sink="branch").returncode == 0
    result = step(github, posthog, remote, tmp_path, 1, **{"dry-run": "true"})
    assert result.returncode == 0, result.stdout
    assert posthog.requests == []
    assert result.outputs["events-sent"] == "0"
    assert "**PostHog** (dry run): " in result.summary
    assert "would be sent; nothing was sent" in result.summary
    assert branch.commit_count(remote) == 1
