"""Made-up histories and a run report, the same each time: the render goldens are made of
them, and the chart tests draw them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from traffic_sync.branch.alltime import index_row
from traffic_sync.core.growth import GrowthRow
from traffic_sync.core.models import (
    DailyRow,
    GrowthReport,
    History,
    PathRow,
    Points,
    ReferrerRow,
    ReleaseRow,
    RepoResult,
    RepoStatus,
    RunReport,
    StatsRow,
)

TODAY = dt.date(2026, 1, 20)


def day(n: int) -> dt.date:
    """The n-th of January 2026."""
    return dt.date(2026, 1, n)


def busy_history() -> History:
    """~20 days with a gap (5th-6th), a spike, two days not final yet, snapshots on two dates."""
    dates = [day(n) for n in range(1, 21) if n not in (5, 6)]
    views = tuple(
        DailyRow(d, *((1203, 640) if d.day == 15 else (40 + 3 * d.day, 9 + d.day % 5)), d.day < 19)
        for d in dates
    )
    # The first day is the window's left edge, which GitHub returned for views only.
    clones = tuple(
        DailyRow(d, d.day % 4, min(d.day % 4, 1 + d.day % 2), d.day < 19) for d in dates[1:]
    )
    return History(
        views=views,
        clones=clones,
        referrers=(
            ReferrerRow(day(18), "github.com", 30, 12),
            ReferrerRow(day(20), "Google", 41, 20),
            ReferrerRow(day(20), "github.com", 55, 17),
            ReferrerRow(day(20), "news.ycombinator.com", 41, 33),
        ),
        paths=(
            PathRow(day(18), "/octo-org/busy-lib", "octo-org/busy-lib: a busy library", 90, 30),
            PathRow(day(20), "/octo-org/busy-lib", "octo-org/busy-lib: a busy library", 120, 44),
            PathRow(
                day(20),
                "/octo-org/busy-lib/blob/main/docs/setup_guide.md",
                "busy-lib/docs/setup_guide.md at main · octo-org/busy-lib",
                35,
                21,
            ),
        ),
        stats=(
            StatsRow(day(18), 1200, 87, 30, 12, 1150, 301, 40, 12),
            StatsRow(day(20), 1234, 88, 31, 9, 1402, 356, 38, 11),
        ),
        # v1.0's tarball is uploaded again on the 20th (its count starts over), v1.1 is new
        releases=(
            ReleaseRow(day(18), "v1.0", "busy-lib.tar.gz", 100),
            ReleaseRow(day(18), "v1.0", "checksums.txt", 5),
            ReleaseRow(day(19), "v1.0", "busy-lib.tar.gz", 130),
            ReleaseRow(day(19), "v1.0", "checksums.txt", 6),
            ReleaseRow(day(20), "v1.0", "busy-lib.tar.gz", 12),
            ReleaseRow(day(20), "v1.0", "checksums.txt", 9),
            ReleaseRow(day(20), "v1.1", "busy-lib.tar.gz", 40),
        ),
    )


def quiet_history() -> History:
    """A repo nobody visits: zero days only, counters but no referrers or paths."""
    return History(
        views=tuple(DailyRow(day(n), 0, 0, n < 19) for n in range(7, 21)),
        clones=tuple(DailyRow(day(n), 0, 0, n < 19) for n in range(7, 21)),
        stats=(StatsRow(day(20), 2, 0, 1, 0, 0, 0, 0, 0),),
    )


def new_history() -> History:
    """A repo created yesterday: two days, neither final, one stats row."""
    return History(
        views=(DailyRow(day(19), 4, 2, False), DailyRow(day(20), 1, 1, False)),
        clones=(DailyRow(day(19), 1, 1, False),),
        stats=(StatsRow(day(20), 0, 0, 1, 0, 5, 3, 1, 1),),
    )


def wave(n: int, period: int, phase: int = 0) -> float:
    """A deterministic bump in [0, 1] that repeats every `period` days (no random numbers)."""
    return (1 + math.sin(2 * math.pi * (n + phase) / period)) / 2


def three_year_history() -> History:
    """Three years of daily runs up to TODAY: weekday rhythm, growth, a launch spike, one run
    outage (40 days without runs, 28 of them lost for views and clones), two single lost days,
    the last two days not final; stats, referrers and paths on every run day."""
    first = TODAY - dt.timedelta(days=3 * 365 - 1)
    outage = (dt.date(2024, 9, 1), dt.date(2024, 10, 10))  # no run on these days
    lost = {dt.date(2025, 5, 17), dt.date(2025, 11, 2)}  # a day no run ever saw
    views: list[DailyRow] = []
    clones: list[DailyRow] = []
    counts: dict[dt.date, int] = {}
    for n in range(3 * 365):
        date = first + dt.timedelta(days=n)
        weekday = 0.55 if date.weekday() >= 5 else 1.0
        spike = 900 if dt.date(2024, 2, 6) <= date <= dt.date(2024, 2, 9) else 0
        count = round((40 + n / 6) * weekday * (0.8 + 0.4 * wave(n, 29))) + spike
        counts[date] = count
        if outage[0] <= date <= outage[1] - dt.timedelta(days=12) or date in lost:
            continue
        final = date <= TODAY - dt.timedelta(days=2)
        views.append(DailyRow(date, count, round(count * 0.42), final))
        clones.append(DailyRow(date, count // 9, count // 25, final))
    referrers: list[ReferrerRow] = []
    paths: list[PathRow] = []
    stats: list[StatsRow] = []
    sources = ("github.com", "Google", "news.ycombinator.com", "reddit.com", "dev.to", "t.co")
    pages = ("/octo-org/veteran", "/octo-org/veteran/blob/main/README.md", "/octo-org/veteran/wiki")
    for n in range(13, 3 * 365):
        date = first + dt.timedelta(days=n)
        if outage[0] <= date <= outage[1]:
            continue
        window = sum(counts[date - dt.timedelta(days=k)] for k in range(14))
        for i, source in enumerate(sources):
            share = (0.30, 0.22, 0.12, 0.08, 0.05, 0.04)[i] * (0.6 + 0.8 * wave(n, 120, 17 * i))
            count = round(window * share)
            referrers.append(ReferrerRow(date, source, count, round(count * 0.6)))
        for i, path in enumerate(pages):
            count = round(window * (0.5, 0.2, 0.1)[i] * (0.7 + 0.6 * wave(n, 90, 11 * i)))
            paths.append(PathRow(date, path, f"Title {i}", count, count // 3))
        stars = 120 + n * 2 + (400 if date >= dt.date(2024, 2, 6) else 0)
        stats.append(StatsRow(date, stars, 10 + n // 15, 20, 5, window, window // 3, 0, 0))
    return History(
        views=tuple(views),
        clones=tuple(clones),
        referrers=tuple(sorted(referrers, key=lambda r: (r.date, r.referrer))),
        paths=tuple(sorted(paths, key=lambda r: (r.date, r.path))),
        stats=tuple(stats),
        stars=growth_rows(first - dt.timedelta(days=60), lambda d: 2 + 400 * (d == LAUNCH)),
        forks=growth_rows(first - dt.timedelta(days=60), lambda d: int(d.day in (1, 15))),
    )


LAUNCH = dt.date(2024, 2, 6)


def growth_rows(created: dt.date, new: Callable[[dt.date], int]) -> tuple[GrowthRow, ...]:
    """A row for every day from `created` to TODAY with `new(day)` > 0, totals running; five
    stars more than the stats count (taken back since they were given)."""
    rows: list[GrowthRow] = []
    total = 0
    date = created
    while date <= TODAY:
        count = new(date) + (5 if date == TODAY else 0)
        if count:
            total += count
            rows.append(GrowthRow(date, count, total))
        date += dt.timedelta(days=1)
    return tuple(rows)


def summary_report(*, dry_run: bool = False) -> RunReport:
    """A run with saved, failed and skipped repos."""
    return RunReport(
        fetched_on=TODAY,
        results=(
            RepoResult("octo-org/busy-lib", RepoStatus.SAVED, 1402, 356, 38, 11, days_added=3),
            RepoResult(
                "octo-org/Zeta",
                RepoStatus.FAILED,
                error_title="Unreadable history file",
                error="octo-org/Zeta/views.json: not valid JSON",
            ),
            RepoResult("octo-org/quiet", RepoStatus.SAVED, 0, 0, 0, 0),
            RepoResult(
                "octo-org/later",
                RepoStatus.SKIPPED,
                error_title="Not reached",
                error="request budget used up",
            ),
            RepoResult(
                "Acme/secret",
                RepoStatus.FAILED,
                error_title="Token cannot read traffic",
                error="Must have push access to repository",
            ),
        ),
        commit_sha="" if dry_run else "0123456789abcdef0123456789abcdef01234567",
        dry_run=dry_run,
        data_location="octo-org/stats@traffic-data",
        index=(
            ("octo-org/busy-lib", index_row(busy_history())),
            ("octo-org/quiet", index_row(quiet_history())),
        ),
        growth=GrowthReport(
            Points(queries=14, used=14, remaining=4986, reset_at=None, stopped=True),
            planned=420,
            fetched=3,
            waiting=1,
            quiet=36,
        ),
    )
