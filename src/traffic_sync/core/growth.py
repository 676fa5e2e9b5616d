"""Stars and forks since day one: daily rows from timestamps, their merge, and when to ask.

`GET /repos/{o}/{r}` gives only today's net counts (`stargazers_count`, `forks_count`); the
moment each star and fork came is in GitHub's GraphQL connections (`stargazers` with
`starredAt`, `forks` with `createdAt`), which `graphql.py` fetches. Everything here is pure.

A row is one UTC day: `new` stars (forks) that day and `total`, the running sum of `new` since
the oldest stored day. GitHub lists only the stars that still stand, so a star taken back
disappears from a later fetch: merging takes the max of `new` per day, so no day is ever
lowered, and `total` counts every star ever given (the daily stats row keeps GitHub's net count).

This module owns the running totals: every total a row carries, merged, decoded or written in
part, is made here (`merge_growth`, `continue_totals`, `carry_from`); the branch's modules only
find the rows a total goes on from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

PAGE_SIZE = 100  # the most a GraphQL connection gives in one query (`first: 100`)
# `GET /repos/{o}/{r}/stargazers/history`: a week an item, newest first, at most 30 a page
WEEKS_PER_PAGE = 30


class Series(StrEnum):
    """The two histories kept since a repo's creation."""

    STARS = "stars"
    FORKS = "forks"


@dataclass(frozen=True, slots=True)
class GrowthRow:
    """One UTC day of stars (or forks): how many came that day, and the running total."""

    date: dt.date
    new: int
    total: int


def daily_growth(
    timestamps: Iterable[dt.datetime], *, carried: Mapping[dt.date, int] | None = None
) -> tuple[GrowthRow, ...]:
    """Rows of the UTC days the timestamps fall on (a naive one is read as UTC), sorted by date.

    `carried` adds counts already taken of some days: a fetch that goes on where an earlier
    one stopped in the middle of a day brings that day's first part along.
    """
    counts = Counter(_utc_day(stamp) for stamp in timestamps)
    for day, count in (carried or {}).items():
        if count:
            counts[day] += count
    return _with_totals(counts)


def merge_growth(*series: Iterable[GrowthRow]) -> tuple[GrowthRow, ...]:
    """Union by date, `new` the max of each day's values, `total` the running sum of `new`.

    Commutative, associative and idempotent; no date is dropped and no `new` is lowered. The
    totals given are ignored: they are recomputed over the merged rows.
    """
    new: dict[dt.date, int] = {}
    for rows in series:
        for row in rows:
            new[row.date] = max(new.get(row.date, row.new), row.new)
    return _with_totals(new)


def continue_totals(rows: Iterable[GrowthRow], carry: int) -> tuple[GrowthRow, ...]:
    """`rows` (in date order) with each `total` recomputed as `carry` plus the running sum of
    `new`: the rows of a later period, whose totals go on from the older rows' last total."""
    out: list[GrowthRow] = []
    total = carry
    for row in rows:
        total += row.new
        out.append(GrowthRow(row.date, row.new, total))
    return tuple(out)


def carry_from(last_before: GrowthRow | None, first_from: GrowthRow | None) -> int | None:
    """The total that rows from some day on go on from, given the stored row just before that
    day and the first stored row from it on (either may be missing): the total of the row
    before, or the first row's total less its `new` (what the older rows held). None when
    neither is known: then older rows tell."""
    if last_before is not None:
        return last_before.total
    if first_from is not None:
        return first_from.total - first_from.new
    return None


def _with_totals(new: Mapping[dt.date, int]) -> tuple[GrowthRow, ...]:
    return continue_totals((GrowthRow(day, new[day], 0) for day in sorted(new)), 0)


def _utc_day(stamp: dt.datetime) -> dt.date:
    aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).date()


def should_fetch(last_count: int | None, count: int, *, pending: bool = False) -> bool:
    """Whether a repo's stars (or forks) are worth a GraphQL query this run.

    `count` is `stargazers_count` (`forks_count`) from the `GET /repos/{o}/{r}` the run makes
    anyway; `last_count` is GitHub's count when the stored rows were last brought up to date
    (the connection's `totalCount` of that fetch, `GrowthFetch.count`), None before the first.
    Only growth can bring a new day, so a quiet repo costs no query, and neither does a star
    taken back (a lower count: nothing to add, and no stored day is lowered). A fetch that
    stopped early (`pending`) goes on whatever the count says.

    The running `total` of the stored rows can stand in for `last_count` when nothing else is
    kept, but it counts stars since taken back too: after unstars, new stars are noticed only
    once the count passes that total again.
    """
    if pending:
        return True
    if last_count is None:
        return count > 0
    return count > last_count


def queries_needed(count: int) -> int:
    """Queries (of `first: 100`, a point each) that a whole history of `count` items takes."""
    return -(-max(0, count) // PAGE_SIZE)


def week_start(day: dt.date) -> dt.date:
    """The Sunday that begins `day`'s week, as GitHub's weekly statistics count weeks."""
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def history_pages_needed(start: dt.date, today: dt.date) -> int:
    """Requests of the star history endpoint that reach back from `today` to `start`: one a
    30 weeks, whatever the number of stars (a 10-year-old repo's whole history is 18)."""
    weeks = (week_start(today) - week_start(min(start, today))).days // 7 + 1
    return -(-weeks // WEEKS_PER_PAGE)


def weekly_growth(
    weeks: Iterable[tuple[dt.date, tuple[int, ...]]], *, since: dt.date | None = None
) -> tuple[GrowthRow, ...]:
    """Rows from the star history's weeks (each its Sunday and its seven days' counts): a row
    for every day with stars, from `since` on (None: every day), as `daily_growth` gives them
    from the stars' own timestamps."""
    counts: dict[dt.date, int] = {}
    for start, days in weeks:
        for offset, count in enumerate(days):
            day = start + dt.timedelta(days=offset)
            if count and (since is None or day >= since):
                counts[day] = count
    return _with_totals(counts)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a walk that stopped early goes on: after `cursor` (newest first), having counted
    `seen` items of day `reached` (the oldest day it reached, which may go on past the cursor);
    it ends at the first item dated before `stop`, or at the end of the list when None."""

    cursor: str
    reached: dt.date
    seen: int
    stop: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "reached": self.reached.isoformat(),
            "seen": self.seen,
            "stop": None if self.stop is None else self.stop.isoformat(),
        }

    @classmethod
    def from_json(cls, value: Any) -> Position:
        """A stored position; ValueError when it is not one."""
        try:
            stop = value["stop"]
            position = cls(
                cursor=value["cursor"],
                reached=dt.date.fromisoformat(value["reached"]),
                seen=value["seen"],
                stop=None if stop is None else dt.date.fromisoformat(stop),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a stored position: {value!r}") from exc
        if not isinstance(position.cursor, str) or not position.cursor:
            raise ValueError(f"not a stored position: {value!r}")
        seen = position.seen
        if isinstance(seen, bool) or not isinstance(seen, int) or seen < 0:
            raise ValueError(f"not a stored position: {value!r}")
        return position
