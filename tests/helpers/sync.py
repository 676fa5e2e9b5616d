"""The in-process sync tests' world: its repos, a token, fast retries, a log that keeps what a
run said, and a client, settings and one run against the simulated GitHub."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from traffic_sync.core.config import Settings
from traffic_sync.core.errors import TrafficSyncError
from traffic_sync.core.models import RunReport
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import Pacer, RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.settings import parse_settings
from traffic_sync.sync import run

TOKEN = "ghp_syncTestToken"
# a fixed instant: the simulator and the code under test read one clock, the simulator's
NOW = dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)
FAST = RetryPolicy(attempts=1, backoff=0.01, max_wait=5, secondary_wait=0.01, timeout=5, pause=0)
REPOS = [
    SimRepo("octo/alpha", 1, dt.date(2025, 1, 1), daily_views=30, seed=2),
    SimRepo("octo/beta", 2, dt.date(2025, 1, 1), daily_views=12, seed=4),
    SimRepo("octo/gamma", 3, dt.date(2025, 1, 1), private=True, daily_views=5, seed=6),
    SimRepo("octo/public-data", 4, dt.date(2025, 1, 1)),
    SimRepo("octo/private-data", 5, dt.date(2025, 1, 1), private=True),
]


class ListLog:
    """Keeps what a run said, for assertions."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.errors: list[tuple[TrafficSyncError, str]] = []
        self.warnings: list[tuple[TrafficSyncError, str]] = []

    def progress(self, line: str) -> None:
        self.lines.append(line)

    def error(self, error: TrafficSyncError, *, where: str = "") -> None:
        self.errors.append((error, where))

    def warning(self, error: TrafficSyncError, *, where: str = "") -> None:
        self.warnings.append((error, where))


def source_for(sim: SimulatedGitHub, *, token: str = TOKEN, **kwargs: Any) -> GitHubSource:
    """A client of the simulated GitHub that reads rate-limit resets on the simulator's clock."""
    return GitHubSource(token=token, api_url=sim.url, policy=FAST, clock=sim.clock, **kwargs)


def settings_for(remote: Path | str, **inputs: str) -> Settings:
    raw = {
        "token": TOKEN,
        "repos": "octo/alpha octo/beta",
        "data-repository": str(remote),
        **inputs,
    }
    return parse_settings(raw, {})


def sync_once(
    sim: SimulatedGitHub,
    settings: Settings,
    tmp_path: Path,
    log: ListLog | None = None,
    pacer: Pacer | None = None,
) -> RunReport:
    work = tmp_path / f"work-{time.monotonic_ns()}"
    work.mkdir()
    return run(
        settings,
        today=sim.now.date(),
        source=source_for(sim, pacer=pacer),
        log=log or ListLog(),
        workdir=work,
        cwd=tmp_path,
        sleep=lambda _s: None,
    )
