"""`traffic-sync demo`: the real code path, offline, against the built-in simulated GitHub.

It runs one sync per simulated day (at 12:30 UTC, like the suggested schedule) into a local git
repo, so anyone can see what traffic-sync writes without a token or a network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from traffic_sync.core.config import Settings
from traffic_sync.core.errors import TrafficSyncError
from traffic_sync.demo import SimulatedGitHub, demo_world
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.settings import parse_settings
from traffic_sync.sync import run

DEMO_TOKEN = "ghp_demo_simulated_token"  # noqa: S105 - the simulator's own token, not a secret
RUN_TIME = dt.time(12, 30, tzinfo=dt.UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="traffic-sync demo",
        description="Run traffic-sync offline against a simulated GitHub, one run per day, "
        "and write the data branch into a local git repo.",
    )
    parser.add_argument("--days", type=int, default=30, help="simulated daily runs (default 30)")
    parser.add_argument(
        "--out", type=Path, default=Path("traffic-demo"), help="folder for the data repo"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    if not 1 <= args.days <= 3660:
        build_parser().error("--days must be between 1 and 3660")
    out: Path = args.out.resolve()
    settings = write_demo(out, args.days, dt.datetime.now(dt.UTC).date(), say=print)
    branch = settings.data_branch
    print(
        f"\nDone. The data branch `{branch}` is in {out}\n"
        f"  open   {out / 'README.md'}   (the index; each repo has its own README.md)\n"
        f"  files  {out}/<owner>/<name>/views/<year>.csv (.json); clones, stats, stars and\n"
        f"         forks by year, referrers, paths and releases by month (<year>/<month>.csv)\n"
        f"  log    git -C {out} log --oneline {branch}"
    )
    return 0


def write_demo(out: Path, days: int, last_day: dt.date, *, say: Callable[[str], None]) -> Settings:
    """Sync the simulated world once a day for `days` days up to `last_day` into `out`.

    Separate from `main` so that a caller with a fixed day (the docs' tests, the screenshot
    script) gets the same branch the demo writes, whatever the date it runs on.
    """
    first_day = last_day - dt.timedelta(days=days - 1)
    world = demo_world(last_day)
    owners = sorted({repo.full_name.split("/")[0] for repo in world})
    settings = parse_settings(
        {
            "token": DEMO_TOKEN,
            "repos": " ".join(f"{o}/*" for o in owners),
            "data-repository": str(out),
            "release-downloads": "true",
        },
        {},
    )
    say(f"traffic-sync demo: {days} simulated daily runs, {first_day} .. {last_day}")
    with SimulatedGitHub(
        world, now=_run_time(first_day), token=DEMO_TOKEN, viewer=owners[0]
    ) as sim:
        source = GitHubSource(
            token=DEMO_TOKEN, api_url=sim.url, policy=RetryPolicy(attempts=1, pause=0)
        )
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            sim.now = _run_time(day)
            with tempfile.TemporaryDirectory(prefix="traffic-sync-demo-") as workdir:
                report = run(
                    settings,
                    today=day,
                    source=source,
                    log=_QuietLog(say),
                    workdir=Path(workdir),
                    cwd=Path.cwd(),
                )
            commit = report.commit_sha[:7] or "no change"
            say(
                f"  {day}: {report.repos_synced} repos saved, {report.repos_failed} failed, "
                f"{report.days_added} new days, commit {commit}"
            )
    return settings


def _run_time(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, RUN_TIME)


class _QuietLog:
    """The demo prints one line per simulated day, and any problem in full."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def progress(self, line: str) -> None:
        pass

    def error(self, error: TrafficSyncError, *, where: str = "") -> None:
        self.say(f"  error: {where}: {error}")

    def warning(self, error: TrafficSyncError, *, where: str = "") -> None:
        self.say(f"  warning: {where}: {error}")
