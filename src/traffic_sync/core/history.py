"""The merge rules: pure functions from stored history and a fresh observation to new history.

GitHub answers a traffic fetch on UTC day F with daily buckets F-14 .. F. Bucket F is still
growing, F-1 may not be published before midday UTC, and F-14 is cut off by the window's left
edge. Only F-13 .. F-2 are complete ("final"), and inside that range a day the answer omits had
no traffic at all. Taking the max per day means a truncated or partial observation can never
overwrite a complete one, whatever order runs happen in.
See https://docs.github.com/rest/metrics/traffic
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from traffic_sync.core.growth import GrowthRow, Series, merge_growth
from traffic_sync.core.models import (
    DailyRow,
    History,
    Observation,
    PathRow,
    ReferrerRow,
    ReleaseRow,
    StatsRow,
    TrafficAnswer,
)

FIRST_FINAL_OFFSET = 13  # F-13 is the oldest complete day of a fetch on day F
LAST_FINAL_OFFSET = 2  # F-2 is the newest complete day (F-1 may be unpublished)
WINDOW_DAYS = 14  # F-14 .. F


def final_range(fetched_on: dt.date) -> tuple[dt.date, dt.date]:
    """The days a fetch on `fetched_on` observes completely (inclusive)."""
    return (
        fetched_on - dt.timedelta(days=FIRST_FINAL_OFFSET),
        fetched_on - dt.timedelta(days=LAST_FINAL_OFFSET),
    )


def observe_daily(
    answer: TrafficAnswer, *, fetched_on: dt.date, created: dt.date
) -> tuple[DailyRow, ...]:
    """One answer as rows: final inside F-13..F-2, zero-filled there from `created` on."""
    first, last = final_range(fetched_on)
    observed = [
        DailyRow(b.date, b.count, b.uniques, final=first <= b.date <= last) for b in answer.buckets
    ]
    day = max(first, created)
    while day <= last:
        observed.append(DailyRow(day, 0, 0, final=True))
        day += dt.timedelta(days=1)
    return merge_daily(observed)


def merge_daily(*series: Iterable[DailyRow]) -> tuple[DailyRow, ...]:
    """Union by date: max count, max uniques, OR of final. Commutative, associative, idempotent."""
    by_date: dict[dt.date, DailyRow] = {}
    for rows in series:
        for row in rows:
            seen = by_date.get(row.date)
            by_date[row.date] = row if seen is None else _max_row(seen, row)
    return tuple(by_date[d] for d in sorted(by_date))


def _max_row(a: DailyRow, b: DailyRow) -> DailyRow:
    return DailyRow(
        a.date,
        max(a.count, b.count),
        max(a.uniques, b.uniques),
        a.final or b.final,
    )


Snapshot = TypeVar("Snapshot", ReferrerRow, PathRow, StatsRow, ReleaseRow)


def replace_snapshot(
    stored: Iterable[Snapshot], fresh: Iterable[Snapshot], *, on: dt.date
) -> tuple[Snapshot, ...]:
    """The rows of day `on` become `fresh` (even when empty); every other day is untouched."""
    rows = [r for r in stored if r.date != on]
    rows.extend(fresh)
    return tuple(sorted(set(rows), key=_snapshot_key))


def _snapshot_key(row: ReferrerRow | PathRow | StatsRow | ReleaseRow) -> tuple[object, ...]:
    # date first, then the row's identity column, then the rest for a total, stable order
    if isinstance(row, ReferrerRow):
        return (row.date, row.referrer, row.count, row.uniques)
    if isinstance(row, PathRow):
        return (row.date, row.path, row.title, row.count, row.uniques)
    if isinstance(row, ReleaseRow):
        return (row.date, row.tag, row.asset, row.downloads)
    return (row.date,)


def merge_histories(older: History, newer: History) -> History:
    """One repo's history kept in two folders (a rename): daily rows merge as always; for a
    snapshot day both hold, `newer` wins; stars and forks merge by `merge_growth` (max `new`
    per day, totals recomputed)."""
    return History(
        views=merge_daily(older.views, newer.views),
        clones=merge_daily(older.clones, newer.clones),
        referrers=_union_snapshots(older.referrers, newer.referrers),
        paths=_union_snapshots(older.paths, newer.paths),
        stats=_union_snapshots(older.stats, newer.stats),
        stars=merge_growth(older.stars, newer.stars),
        forks=merge_growth(older.forks, newer.forks),
        releases=_union_snapshots(older.releases, newer.releases),
    )


def _union_snapshots(older: Iterable[Snapshot], newer: Iterable[Snapshot]) -> tuple[Snapshot, ...]:
    kept = list(newer)
    days = {row.date for row in kept}
    kept.extend(row for row in older if row.date not in days)
    return tuple(sorted(set(kept), key=_snapshot_key))


def stats_row(observation: Observation) -> StatsRow:
    """The stats snapshot of one fetch: the repo's counters and the window totals, verbatim."""
    repo = observation.repo
    return StatsRow(
        date=observation.fetched_on,
        stars=repo.stars,
        forks=repo.forks,
        watchers=repo.watchers,
        open_issues=repo.open_issues,
        views_14d=observation.views.count,
        view_uniques_14d=observation.views.uniques,
        clones_14d=observation.clones.count,
        clone_uniques_14d=observation.clones.uniques,
    )


def apply_observation(stored: History, observation: Observation) -> History:
    """Merge one fetch into a repo's history (the datasets a fetch does not bring are kept)."""
    day = observation.fetched_on
    created = observation.repo.created
    return dataclasses.replace(
        stored,
        views=merge_daily(
            stored.views, observe_daily(observation.views, fetched_on=day, created=created)
        ),
        clones=merge_daily(
            stored.clones, observe_daily(observation.clones, fetched_on=day, created=created)
        ),
        referrers=replace_snapshot(
            stored.referrers,
            (ReferrerRow(day, r.referrer, r.count, r.uniques) for r in observation.referrers),
            on=day,
        ),
        paths=replace_snapshot(
            stored.paths,
            (PathRow(day, p.path, p.title, p.count, p.uniques) for p in observation.paths),
            on=day,
        ),
        stats=replace_snapshot(stored.stats, [stats_row(observation)], on=day),
        stars=merge_growth(stored.stars, *_grown(observation, Series.STARS)),
        forks=merge_growth(stored.forks, *_grown(observation, Series.FORKS)),
        releases=stored.releases
        if observation.releases is None
        else replace_snapshot(
            stored.releases,
            (ReleaseRow(day, a.tag, a.asset, a.downloads) for a in observation.releases),
            on=day,
        ),
    )


def _grown(observation: Observation, series: Series) -> list[tuple[GrowthRow, ...]]:
    """The rows of a stars (forks) fetch this observation brought: none when not fetched."""
    return [update.rows for update in observation.growth if update.series is series]


def count_new_days(before: History, after: History) -> int:
    """views/clones rows in `after` whose date `before` did not have (the `days-added` output)."""
    old_views = {r.date for r in before.views}
    old_clones = {r.date for r in before.clones}
    return sum(r.date not in old_views for r in after.views) + sum(
        r.date not in old_clones for r in after.clones
    )
