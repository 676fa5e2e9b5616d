"""The PostHog sink inside a run: branch first, events from the branch, watermarks after."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from pathlib import Path

import pytest

from tests import branch
from tests.fake_posthog import FakePostHog
from tests.helpers.factories import StartGitHub, StartPostHog
from tests.helpers.sync import ListLog
from traffic_sync import cli
from traffic_sync.branch.state import STATE_FILE
from traffic_sync.core.config import Settings
from traffic_sync.core.models import Metric, RepoStatus, RunReport, SeriesKey
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.settings import parse_settings
from traffic_sync.sinks.gitremote import resolve_remote
from traffic_sync.sinks.posthog import PostHogSender, event_uuid
from traffic_sync.stages.publish import save_watermarks
from traffic_sync.stages.store import open_branch, push_attempts
from traffic_sync.sync import run, store_options

pytestmark = pytest.mark.slow  # whole runs, git and a fake PostHog, day after day

TOKEN = "ghp_posthogSyncTestToken"
KEY = "phc_posthogSyncTestKey"
FAST = RetryPolicy(attempts=1, backoff=0.01, max_wait=5, secondary_wait=0.01, timeout=5, pause=0)
START = dt.datetime(2026, 3, 2, 12, 30, tzinfo=dt.UTC)
REPOS = [
    SimRepo("octo/Alpha", 1, dt.date(2025, 1, 1), daily_views=30, daily_clones=3, seed=2),
    SimRepo("octo/beta", 2, dt.date(2025, 1, 1), daily_views=12, daily_clones=0, seed=4),
    SimRepo("octo/gamma", 3, dt.date(2025, 1, 1), private=True, daily_views=5, seed=6),
    SimRepo("octo/public-data", 4, dt.date(2025, 1, 1)),
]


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(REPOS, now=START, token=TOKEN, viewer="octo")


@pytest.fixture
def posthog(start_posthog: StartPostHog) -> FakePostHog:
    return start_posthog(KEY)


def settings_for(remote: Path | str, posthog: FakePostHog, **inputs: str) -> Settings:
    raw = {
        "token": TOKEN,
        "repos": "octo/Alpha octo/beta",
        "data-repository": str(remote),
        "posthog-api-key": KEY,
        "posthog-host": posthog.url,
        **inputs,
    }
    return parse_settings(raw, {})


def sync_on(
    sim: SimulatedGitHub,
    settings: Settings,
    tmp_path: Path,
    day: int,
    log: ListLog | None = None,
) -> RunReport:
    """One run on START + `day` days, sending to the settings' PostHog host without sleeping."""
    sim.now = START + dt.timedelta(days=day)
    work = tmp_path / f"work-{time.monotonic_ns()}"
    work.mkdir()
    sender = PostHogSender(
        api_key=settings.posthog_api_key,
        host=settings.posthog_host,
        sleep=lambda _s: None,
        clock=lambda: sim.now,
    )
    return run(
        settings,
        today=sim.now.date(),
        source=GitHubSource(token=TOKEN, api_url=sim.url, policy=FAST, clock=sim.clock),
        log=log or ListLog(),
        workdir=work,
        cwd=tmp_path,
        sleep=lambda _s: None,
        posthog=sender,
    )


def settled_rows(tree: dict[str, bytes], today: dt.date) -> dict[str, tuple[int, int]]:
    """uuid -> (count, uniques) of every settled non-zero views/clones row in the branch."""
    found = {}
    for name, metric in itertools.product(branch.repo_folders(tree), Metric):
        for row in branch.rows(tree, name, metric.value):
            when = dt.date.fromisoformat(row["date"])
            settled = row["final"] or when < today - dt.timedelta(days=14)
            if settled and row["count"]:
                found[event_uuid(name, when, metric)] = (row["count"], row["uniques"])
    return found


def received(posthog: FakePostHog) -> dict[str, tuple[int, int]]:
    return {
        e["uuid"]: (e["properties"]["count"], e["properties"]["uniques"]) for e in posthog.events
    }


def state(remote: Path) -> dict[str, dict[str, object]]:
    repos: dict[str, dict[str, object]] = json.loads(branch.files(remote)[STATE_FILE])["repos"]
    return repos


def test_branch_first_then_every_settled_day_once(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """Day 1 waits for the left edge; day 2 sends all settled days; a re-run sends nothing."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, posthog)
    first = sync_on(sim, settings, tmp_path, 0)
    assert first.commit_sha
    assert first.posthog is not None
    assert (first.posthog.planned, first.posthog.failed) == (0, False)
    assert posthog.requests == []

    second = sync_on(sim, settings, tmp_path, 1)
    today = sim.now.date()
    expected = settled_rows(branch.files(remote), today)
    assert second.posthog is not None
    assert second.posthog.sent == second.events_sent == len(expected) > 0
    assert received(posthog) == expected
    sent = {(e["properties"]["repo"], e["event"]) for e in posthog.events}
    assert ("octo/beta", "repository.cloned") not in sent  # never cloned: no zero events
    assert branch.commit_count(remote) == 3  # day 1, day 2, and day 2's watermarks
    subject = branch.git("-C", str(remote), "log", "-1", "--format=%s", "traffic-data")
    assert (
        subject.decode().strip() == f"traffic-sync: {today}, PostHog: {len(expected)} events sent"
    )
    settled_end = str(today - dt.timedelta(days=2))
    assert state(remote)["1"]["posthog_sent_through"] == {
        "clones": settled_end,
        "views": settled_end,
    }
    assert state(remote)["1"]["full_name"] == "octo/Alpha"

    again = sync_on(sim, settings, tmp_path, 1)
    assert again.posthog is not None
    assert again.posthog.planned == 0
    assert branch.commit_count(remote) == 3
    assert len(posthog.events) == len(expected)


def test_failed_batches_keep_the_branch_and_a_later_run_catches_up(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """PostHog down: the day is committed, the run fails, nothing moves; the next run sends all."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, posthog)
    sync_on(sim, settings, tmp_path, 0)
    posthog.answer(503, times=5)
    log = ListLog()
    down = sync_on(sim, settings, tmp_path, 1, log)
    assert down.commit_sha == branch.tip(remote)
    assert down.posthog is not None
    assert down.posthog.failed
    assert (down.posthog.sent, down.events_sent) == (0, 0)
    assert cli.exit_code(down, settings) == 1
    assert "posthog_sent_through" not in state(remote)["1"]
    assert [where for _, where in log.errors] == [posthog.url]

    back = sync_on(sim, settings, tmp_path, 2)
    assert back.posthog is not None
    assert not back.posthog.failed
    assert cli.exit_code(back, settings) == 0
    assert received(posthog) == settled_rows(branch.files(remote), sim.now.date())
    assert len(posthog.uuids) == len(set(posthog.uuids))


def test_watermark_commit_re_merges_when_the_branch_moved(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """Another writer lands between the day's commit and the watermark commit: both survive."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, posthog)
    sync_on(sim, settings, tmp_path, 0)
    branch.install_hook(remote, MOVE_BRANCH_ON_SECOND_PUSH)
    report = sync_on(sim, settings, tmp_path, 1)
    assert report.posthog is not None
    assert not report.posthog.failed
    tree = branch.files(remote)
    assert "other-writer.txt" in tree
    assert "posthog_sent_through" in state(remote)["1"]


MOVE_BRANCH_ON_SECOND_PUSH = """#!/bin/sh
# Another writer lands a commit while this run's second push is in flight (once).
n=$(cat "$GIT_DIR/pushes" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$GIT_DIR/pushes"
[ "$n" = 2 ] || exit 0
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
tip=$(git rev-parse --verify -q refs/heads/traffic-data) || exit 0
blob=$(echo "written by another run" | git hash-object -w --stdin)
tree=$( (git ls-tree "$tip"; printf '100644 blob %s\\tother-writer.txt\\n' "$blob") | git mktree)
export GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@x GIT_COMMITTER_NAME=o GIT_COMMITTER_EMAIL=o@x
commit=$(echo other | git commit-tree "$tree" -p "$tip")
git update-ref refs/heads/traffic-data "$commit" "$tip"
"""

REFUSE_SECOND_PUSH = """#!/bin/sh
n=$(cat "$GIT_DIR/pushes" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$GIT_DIR/pushes"
[ "$n" = 2 ] && { echo "refused for the test" >&2; exit 1; }
exit 0
"""


def test_concurrent_watermarks_keep_the_later_date(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """Two runs saving watermarks from the same tip: the later date wins for each series."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, posthog, sink="branch")
    sync_on(sim, settings, tmp_path, 0)
    day = sim.now.date()
    remote_spec = resolve_remote(str(remote), server_url="", cwd=tmp_path)

    def save(marks: dict[SeriesKey, dt.date], name: str) -> str:
        return save_watermarks(
            marks,
            branch=open_branch(store_options(settings), remote_spec, tmp_path / name),
            data_path=settings.data_path,
            attempts=push_attempts(settings.shard.count),
            names={1: "octo/Alpha"},
            sent=1,
            today=day,
            sleep=lambda _s: None,
        )

    early, late = day - dt.timedelta(days=9), day - dt.timedelta(days=3)
    assert save({(1, Metric.VIEWS): late, (1, Metric.CLONES): early}, "a")
    assert save({(1, Metric.VIEWS): early, (2, Metric.CLONES): late}, "b")
    assert save({(1, Metric.VIEWS): early}, "c") == ""  # nothing new: no commit
    repos = state(remote)
    assert repos["1"]["posthog_sent_through"] == {"clones": str(early), "views": str(late)}
    assert repos["2"]["posthog_sent_through"] == {"clones": str(late)}
    assert repos["1"]["full_name"] == "octo/Alpha"


def test_watermarks_that_cannot_be_saved_fail_the_step(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """Events acknowledged but the record refused: reported, and the next run resends them."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, posthog)
    sync_on(sim, settings, tmp_path, 0)
    branch.install_hook(remote, REFUSE_SECOND_PUSH)
    report = sync_on(sim, settings, tmp_path, 1)
    assert report.commit_sha == branch.tip(remote)
    assert report.posthog is not None
    assert report.posthog.failed
    assert report.posthog.sent > 0
    assert "could not be saved" in report.posthog.error
    assert cli.exit_code(report, settings) == 1


def test_unreadable_watermark_sends_nothing(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """A broken watermark in state.json is reported by path; no event goes out."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, posthog)
    sync_on(sim, settings, tmp_path, 0)
    broken = json.loads(branch.files(remote)[STATE_FILE])
    broken["repos"]["1"]["posthog_sent_through"] = {"views": "soon"}
    branch.write_file(remote, STATE_FILE, json.dumps(broken).encode(), tmp_path)
    log = ListLog()
    report = sync_on(sim, settings, tmp_path, 1, log)
    assert report.posthog is not None
    assert report.posthog.failed
    assert STATE_FILE in report.posthog.error
    assert posthog.requests == []
    assert report.repos_synced == 2  # the branch was still written


def test_store_failure_sends_nothing(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """No data branch written, no events: they are sent from the branch by the next run."""
    not_a_repo = tmp_path / "file"
    not_a_repo.write_text("x")
    report = sync_on(sim, settings_for(not_a_repo, posthog), tmp_path, 20)
    assert report.store_failed
    assert report.posthog is not None
    assert report.posthog.error_title == "PostHog skipped"
    assert posthog.requests == []


def test_dry_run_says_what_it_would_send(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """dry-run counts the events of a real run and sends none."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_on(sim, settings_for(remote, posthog, sink="branch"), tmp_path, 0)
    report = sync_on(sim, settings_for(remote, posthog, **{"dry-run": "true"}), tmp_path, 1)
    assert report.posthog is not None
    assert report.posthog.planned > 0
    assert report.posthog.sent == 0
    assert posthog.requests == []
    assert branch.commit_count(remote) == 1


def test_posthog_alone_sends_the_window_every_run(
    sim: SimulatedGitHub, posthog: FakePostHog, tmp_path: Path
) -> None:
    """No branch: each run sends its final non-zero days; the privacy guard has no data repo."""
    settings = settings_for(
        "octo/public-data", posthog, sink="posthog", repos="octo/Alpha octo/gamma"
    )
    first = sync_on(sim, settings, tmp_path, 0)
    assert first.data_location == ""
    assert [r.status for r in first.results] == [RepoStatus.SAVED, RepoStatus.SAVED]
    assert first.posthog is not None
    sent_first = set(posthog.uuids)
    assert first.posthog.sent == len(sent_first) > 0
    assert {e["properties"]["repo"] for e in posthog.events} == {"octo/Alpha", "octo/gamma"}
    second = sync_on(sim, settings, tmp_path, 1)
    assert second.posthog is not None
    assert second.posthog.sent > 0
    assert len(set(posthog.uuids) - sent_first) > 0
    assert not [r for r in sim.requests if r.path == "/repos/octo/public-data"]
    for event in posthog.events:
        metric = Metric.VIEWS if event["event"] == "repository.viewed" else Metric.CLONES
        truth = sim.true_traffic(event["properties"]["repo"], metric.value, _date(event))
        assert (event["properties"]["count"], event["properties"]["uniques"]) == truth


def _date(event: dict[str, object]) -> dt.date:
    properties = event["properties"]
    assert isinstance(properties, dict)
    return dt.date.fromisoformat(properties["date"])
