"""Stars and forks as daily rows: counting days, the merge and its laws, when to ask GitHub."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traffic_sync.core.growth import (
    GrowthRow,
    carry_from,
    continue_totals,
    daily_growth,
    merge_growth,
    queries_needed,
    should_fetch,
)

D = dt.date(2026, 3, 10)


def at(day: dt.date, hour: int = 12, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def news(rows: tuple[GrowthRow, ...]) -> dict[dt.date, int]:
    return {row.date: row.new for row in rows}


def test_daily_growth_counts_each_utc_day() -> None:
    """Stars count on their UTC day, oldest day first, with a running total."""
    stamps = [at(D, 23), at(D, 1), at(D - dt.timedelta(days=3)), at(D, 0)]
    assert daily_growth(stamps) == (
        GrowthRow(D - dt.timedelta(days=3), 1, 1),
        GrowthRow(D, 3, 4),
    )


def test_daily_growth_uses_utc_days() -> None:
    """A star at 23:30 in New York is the next UTC day; a naive time is read as UTC."""
    new_york = dt.timezone(dt.timedelta(hours=-5))
    evening = dt.datetime(2026, 3, 9, 23, 30, tzinfo=new_york)
    naive = dt.datetime(2026, 3, 9, 23, 30)
    assert news(daily_growth([evening, naive])) == {D - dt.timedelta(days=1): 1, D: 1}


def test_daily_growth_adds_carried_counts() -> None:
    """A day a resumed fetch goes on with keeps the count already taken of it."""
    rows = daily_growth([at(D)], carried={D: 40, D + dt.timedelta(days=1): 0})
    assert rows == (GrowthRow(D, 41, 41),)


def test_daily_growth_of_nothing_is_no_rows() -> None:
    """No stars, no rows: days without a star are not written."""
    assert daily_growth([]) == ()


def test_merge_takes_the_max_and_recomputes_totals() -> None:
    """`new` merges by max per day; totals given are ignored and recomputed in date order."""
    day2 = D + dt.timedelta(days=1)
    stored = [GrowthRow(D, 5, 5), GrowthRow(day2, 2, 7)]
    fresh = [GrowthRow(day2, 3, 999)]
    assert merge_growth(stored, fresh) == (GrowthRow(D, 5, 5), GrowthRow(day2, 3, 8))


def test_a_star_taken_back_never_lowers_a_day() -> None:
    """A later fetch that sees one star fewer on a day leaves the day as it was."""
    stored = daily_growth([at(D, 1), at(D, 2), at(D, 3)])
    after_unstar = daily_growth([at(D, 1), at(D, 3)])
    assert merge_growth(stored, after_unstar) == stored


@pytest.mark.parametrize(
    ("last", "count", "pending", "ask"),
    [
        (None, 0, False, False),  # a repo without stars: nothing to fetch on the first run
        (None, 3, False, True),  # the first run: the whole history
        (120, 120, False, False),  # quiet: no query
        (120, 121, False, True),  # grown: ask
        (120, 119, False, False),  # a star taken back: nothing new to learn
        (120, 119, True, True),  # an unfinished backfill goes on regardless
        (120, 120, True, True),
    ],
)
def test_should_fetch_only_on_growth(
    last: int | None, count: int, pending: bool, ask: bool
) -> None:
    """Only a count above the last one (or an unfinished fetch) is worth a query."""
    assert should_fetch(last, count, pending=pending) is ask


@pytest.mark.parametrize(
    ("count", "queries"), [(0, 0), (1, 1), (100, 1), (101, 2), (40_000, 400), (45_001, 451)]
)
def test_queries_needed_is_one_per_hundred(count: int, queries: int) -> None:
    """A backfill of S items takes ceil(S/100) queries of `first: 100`."""
    assert queries_needed(count) == queries


# --- the laws, for any rows -------------------------------------------------------------

dates = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 1, 31))
rows = st.builds(GrowthRow, date=dates, new=st.integers(0, 10_000), total=st.integers(0, 10**6))
series = st.lists(rows, max_size=30)


@given(series, series)
def test_merge_is_commutative(a: list[GrowthRow], b: list[GrowthRow]) -> None:
    """Merging stored and fetched rows in either order gives the same rows."""
    assert merge_growth(a, b) == merge_growth(b, a)


@given(series, series, series)
def test_merge_is_associative(a: list[GrowthRow], b: list[GrowthRow], c: list[GrowthRow]) -> None:
    """Grouping does not matter: (a+b)+c == a+(b+c)."""
    assert merge_growth(merge_growth(a, b), c) == merge_growth(a, merge_growth(b, c))


@given(series, series)
def test_merge_is_idempotent(a: list[GrowthRow], b: list[GrowthRow]) -> None:
    """Merging the same rows again changes nothing."""
    once = merge_growth(a, b)
    assert merge_growth(once, b) == once
    assert merge_growth(once, once) == once


@given(series, series)
def test_merge_never_lowers_or_drops(a: list[GrowthRow], b: list[GrowthRow]) -> None:
    """Every input day survives with `new` at least as high."""
    merged = news(merge_growth(a, b))
    for row in [*a, *b]:
        assert merged[row.date] >= row.new


@given(series)
def test_total_is_the_running_sum_of_new(a: list[GrowthRow]) -> None:
    """Rows come sorted, one per date, and each total is the sum of `new` up to that day."""
    merged = merge_growth(a)
    assert [r.date for r in merged] == sorted({r.date for r in a})
    assert [r.total for r in merged] == list(itertools.accumulate(r.new for r in merged))


@given(st.lists(st.datetimes(timezones=st.just(dt.UTC)), max_size=50))
def test_daily_growth_counts_every_timestamp_once(stamps: list[dt.datetime]) -> None:
    """The rows' `new` add up to the number of timestamps, whatever their order."""
    rows = daily_growth(stamps)
    assert sum(r.new for r in rows) == len(stamps)
    assert daily_growth(reversed(stamps)) == rows
    assert rows == merge_growth(rows)


@given(series, st.integers(0, 10**6))
def test_continued_totals_go_on_from_the_carry(a: list[GrowthRow], carry: int) -> None:
    """A later period's rows, totalled from the older rows' last total, equal the totals of
    the whole series."""
    merged = merge_growth(a)
    older = (GrowthRow(dt.date(2025, 1, 1), carry, carry),)
    assert continue_totals(merged, carry) == merge_growth(older, merged)[1:]


@given(series, st.integers(0, 400))
def test_the_carry_read_off_the_rows_around_a_day_is_the_total_before_it(
    a: list[GrowthRow], offset: int
) -> None:
    """From the row just before a day, or else the first row from it, the carry is the
    running total of every row before that day; with neither it is unknown."""
    rows = merge_growth(a)
    day = dt.date(2024, 1, 1) + dt.timedelta(days=offset)
    before = [row for row in rows if row.date < day]
    after = [row for row in rows if row.date >= day]
    carry = carry_from(before[-1] if before else None, after[0] if after else None)
    if rows:
        assert carry == sum(row.new for row in before)
    else:
        assert carry is None
