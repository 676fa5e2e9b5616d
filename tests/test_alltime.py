"""The derived all-time figures and index rows: the pages drawn from them are the pages drawn
from the whole history, and damaged or stale files are never taken."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from traffic_sync.branch import alltime
from traffic_sync.branch.alltime import (
    by_year,
    combine,
    decode_all_time,
    decode_index,
    encode_all_time,
    encode_index,
    index_row,
    update_parts,
)
from traffic_sync.core.growth import GrowthRow, merge_growth
from traffic_sync.core.models import DailyRow, History, StatsRow
from traffic_sync.pages.render import render_index, render_repo_page

TODAY = dt.date(2026, 3, 2)


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Views, clones and stats up to TODAY over up to five years, with gaps and not-final
    days, and stars since before the first of them; stats always hold TODAY, as every run
    writes a stats row."""
    span = draw(st.integers(0, 5 * 365))
    first = TODAY - dt.timedelta(days=span)
    gap_from = draw(st.integers(0, span))
    gap_days = draw(st.sampled_from([0, 0, 3, 40, 400]))

    def series(seed: int) -> tuple[DailyRow, ...]:
        counts = draw(st.lists(st.integers(0, 50), min_size=1, max_size=12))
        rows = []
        for i in range(span + 1):
            if gap_from <= i < gap_from + gap_days and i != span:
                continue
            day = first + dt.timedelta(days=i)
            count = counts[(i * seed) % len(counts)]
            rows.append(DailyRow(day, count, count // 2, final=(TODAY - day).days >= 2))
        return tuple(rows)

    run_days = {0, *draw(st.sets(st.integers(0, span), max_size=30))}  # days before TODAY
    stats = tuple(
        StatsRow(TODAY - dt.timedelta(days=d), 3 * d, d, 1, 0, 5, 2, 1, 1) for d in run_days
    )
    star_days = sorted(draw(st.sets(st.integers(0, span + 400), max_size=40)))
    stars = merge_growth([GrowthRow(TODAY - dt.timedelta(days=d), 1 + d % 4, 0) for d in star_days])
    return History(
        views=series(3),
        clones=series(7),
        stats=tuple(sorted(stats, key=lambda r: r.date)),
        stars=stars,
    )


def newest_days(history: History, since: dt.date) -> History:
    return History(
        views=tuple(r for r in history.views if r.date >= since),
        clones=tuple(r for r in history.clones if r.date >= since),
        stats=tuple(r for r in history.stats if r.date >= since),
        stars=history.stars,  # read whole
    )


def daily_since(first: dt.date) -> History:
    """Views, clones and a stats row every day from `first` to TODAY."""
    days = [first + dt.timedelta(days=d) for d in range((TODAY - first).days + 1)]
    return History(
        views=tuple(DailyRow(d, d.day, 1, final=d < TODAY) for d in days),
        clones=tuple(DailyRow(d, 1, 1, final=d < TODAY) for d in days),
        stats=tuple(StatsRow(d, d.toordinal() % 7, 1, 1, 0, 5, 2, 1, 1) for d in days),
    )


def sparse(first: dt.date, *, gap: tuple[dt.date, dt.date]) -> History:
    """`daily_since(first)` without the days from gap[0] to before gap[1]."""
    whole = daily_since(first)
    kept = [r.date for r in whole.views if not gap[0] <= r.date < gap[1]]
    return History(
        views=tuple(r for r in whole.views if r.date in kept),
        clones=tuple(r for r in whole.clones if r.date in kept),
        stats=tuple(r for r in whole.stats if r.date in kept),
    )


@settings(max_examples=80, deadline=None)
@given(histories(), st.integers(alltime.DAYS, 3 * 365), st.integers(14, 3 * 365))
# stars and forks drawn daily (86 days), from readings of last year read in part
@example(daily_since(dt.date(2025, 12, 7)), alltime.DAYS, 14)
# the charts' first day before the first row read; no day with data for a year before TODAY
@example(sparse(dt.date(2025, 12, 1), gap=(dt.date(2025, 12, 2), dt.date(2025, 12, 5))), 90, 14)
@example(sparse(dt.date(2024, 6, 1), gap=(dt.date(2025, 1, 1), TODAY)), 90, 14)
def test_a_page_from_stored_figures_is_the_page_from_every_row(
    history: History, back: int, reach: int
) -> None:
    """A run makes anew the figures of the years its observation reaches (`reach` days back),
    reading them whole, and reads of the years before only the days from `back` days ago on
    (never later than the charts' first day), taking their figures from the stored file: its
    page is byte for byte the page drawn from the whole history, and so is the index."""
    first_year = (TODAY - dt.timedelta(days=reach)).year
    since = min(TODAY - dt.timedelta(days=back), dt.date(first_year, 1, 1))
    stored = decode_all_time(encode_all_time(by_year(history), source="f"), source="f")
    assert stored is not None
    recent = newest_days(history, since)
    figures = combine(update_parts(stored, recent, first_year=first_year).values())
    whole = render_repo_page("o/r", history, today=TODAY)
    assert render_repo_page("o/r", recent, today=TODAY, figures=figures) == whole
    row = index_row(recent, figures)
    assert row == index_row(history)
    rows = decode_index(encode_index({"o/r": ("tree", row)}))
    assert render_index({"o/r": rows["o/r"][1]}, today=TODAY) == render_index(
        {"o/r": index_row(history)}, today=TODAY
    )


def test_stored_figures_stay_small_however_long_the_history() -> None:
    """Weekly figures go once a chart can no longer draw them: ten years of rows (about 650 KB
    of JSON) take a few KB."""

    def size(years: int) -> int:
        days = [TODAY - dt.timedelta(days=d) for d in range(years * 365, -1, -1)]
        rows = tuple(DailyRow(day, 5, 2, final=True) for day in days)
        stats = tuple(StatsRow(day, 1, 1, 1, 0, 5, 2, 1, 1) for day in days)
        history = History(views=rows, clones=rows, stats=stats)
        return len(encode_all_time(by_year(history), source="f"))

    assert size(10) < 20_000


def test_figures_made_from_other_files_or_edited_are_not_taken() -> None:
    history = History(views=(DailyRow(TODAY, 4, 2, final=False),))
    data = encode_all_time(by_year(history), source="abc")
    assert decode_all_time(data, source="abc") == by_year(history)
    assert decode_all_time(data, source="other") is None
    edited = data.replace(b'"count":4', b'"count":9')
    assert edited != data
    assert decode_all_time(edited, source="abc") is None
    assert decode_all_time(b"{not json", source="abc") is None


def test_a_damaged_index_file_is_rebuilt_not_read() -> None:
    row = index_row(History(views=(DailyRow(TODAY, 4, 2, final=False),)))
    data = encode_index({"o/r": ("t1", row)})
    assert decode_index(data) == {"o/r": ("t1", row)}
    assert decode_index(data.replace(b"t1", b"t2")) == {}
    assert decode_index(None) == {}
    assert decode_index(b"[]") == {}
