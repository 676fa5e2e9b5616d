"""The derived all-time figures and index rows: the pages drawn from them are the pages drawn
from the whole history, and damaged or stale files are never taken."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from traffic_sync import alltime
from traffic_sync.alltime import (
    by_year,
    combine,
    decode_all_time,
    decode_index,
    encode_all_time,
    encode_index,
    index_row,
)
from traffic_sync.growth import GrowthRow, merge_growth
from traffic_sync.models import DailyRow, History, StatsRow
from traffic_sync.render import render_index, render_repo_page

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


def newest_years(history: History, since: dt.date) -> History:
    year = dt.date(since.year, 1, 1)
    return History(
        views=tuple(r for r in history.views if r.date >= year),
        clones=tuple(r for r in history.clones if r.date >= year),
        stats=tuple(r for r in history.stats if r.date >= year),
        stars=history.stars,  # read whole
    )


@settings(max_examples=60, deadline=None)
@given(histories(), st.integers(alltime.DAYS, 3 * 365))
def test_a_page_from_stored_figures_is_the_page_from_every_row(history: History, back: int) -> None:
    """A run reads the years from `since` on (never later than the charts' first day) and takes
    the older years' figures from the stored file: its page is byte for byte the page drawn
    from the whole history, and so is the index."""
    since = TODAY - dt.timedelta(days=back)
    stored = decode_all_time(encode_all_time(by_year(history), source="f"), source="f")
    assert stored is not None
    recent = newest_years(history, since)
    parts = {year: part for year, part in stored.items() if year < since.year}
    parts.update(by_year(recent))
    figures = combine(parts.values())
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
