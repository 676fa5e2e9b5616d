"""Mermaid charts: gaps stay gaps, not-final days stand out, sums never add uniques, labels fit."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.histories import TODAY, busy_history, day, summary_report, three_year_history
from traffic_sync.branch.alltime import Counters, index_row, of_rows
from traffic_sync.core.growth import GrowthRow
from traffic_sync.core.models import DailyRow, History, ReferrerRow, ReleaseRow, StatsRow
from traffic_sync.pages import axes
from traffic_sync.pages.axes import MAX_LABELS
from traffic_sync.pages.charts import (
    DAYS,
    GREY,
    Chart,
    counter_chart,
    daily_chart,
    downloads_chart,
    downloads_per_day,
    growth_chart,
    overview_chart,
    period_chart,
    snapshot_chart,
    sparkline,
    to_markdown,
)
from traffic_sync.pages.markdown import escape_text
from traffic_sync.pages.render import render_repo_page
from traffic_sync.pages.summary import render_summary

LABEL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def rows(counts: dict[dt.date, int], *, final: bool = True) -> tuple[DailyRow, ...]:
    """Daily rows with uniques a third of the count."""
    return tuple(DailyRow(d, c, c // 3, final) for d, c in sorted(counts.items()))


def stats_row(date: dt.date, stars: int, forks: int = 0) -> StatsRow:
    """A stats row with only stars and forks set."""
    return StatsRow(date, stars, forks, 0, 0, 0, 0, 0, 0)


def shown_labels(chart: Chart) -> list[str]:
    """The x labels that draw a date (the others are blank)."""
    return [label for label in chart.labels if label]


def x_axis(markdown: list[str]) -> list[str]:
    """The categories of the x-axis line of a rendered chart."""
    line = next(line for line in markdown if line.startswith("  x-axis"))
    return LABEL.findall(line.split("[", 1)[1])


def test_daily_chart_shows_a_gap_as_a_grey_column_not_a_zero() -> None:
    """A day without a row is a full-height grey bar; the day with 0 views has no bar at all."""
    chart = daily_chart(
        rows({day(1): 5, day(2): 0, day(4): 7}), noun="views", unique_noun="unique visitors"
    )
    assert chart is not None
    settled, _, uniques, _, gaps = chart.series
    assert gaps.colour == GREY
    assert gaps.values == (0, 0, chart.y_max, 0)
    assert settled.values == (5, 0, 0, 7)
    assert uniques.values == (1, 0, 0, 2)
    assert chart.y_min == 0
    assert "no data recorded for that day (unknown, not zero)" in chart.legend


def test_daily_chart_gives_not_final_days_their_own_series() -> None:
    """Counts and uniques of days not final yet move to the orange series."""
    history = (DailyRow(day(1), 9, 3, True), DailyRow(day(2), 4, 4, False))
    chart = daily_chart(history, noun="views", unique_noun="unique visitors")
    assert chart is not None
    settled, open_count, settled_uniques, open_uniques, _ = chart.series
    assert (settled.values, open_count.values) == ((9, 0), (0, 4))
    assert (settled_uniques.values, open_uniques.values) == ((3, 0), (0, 4))
    assert "not final yet" in chart.legend


def test_daily_chart_covers_the_newest_90_days_and_skips_all_zero_history() -> None:
    """The window ends at the newest row and spans at most 90 days; all zeros: no chart."""
    start = dt.date(2025, 1, 1)
    long = rows({start + dt.timedelta(days=n): n % 7 for n in range(200)})
    chart = daily_chart(long, noun="views", unique_noun="unique visitors")
    assert chart is not None
    assert len(chart.labels) == DAYS
    assert chart.title == "Views per day, 2025-04-21 to 2025-07-19"
    zeros = rows({day(1): 0, day(2): 0})
    assert daily_chart(zeros, noun="views", unique_noun="unique visitors") is None


def counters(stats: list[StatsRow]) -> Counters:
    """The counter readings of these stats rows, as a page draws them."""
    return of_rows(History(stats=tuple(stats))).counters


def test_period_chart_sums_counts_per_week_and_never_uniques() -> None:
    """A week's bar is the sum of its daily counts; weeks with a missing or open day are
    partial; a week with no row is a gap; there is no uniques series at all."""
    start = dt.date(2026, 1, 5)  # a Monday
    counts = {start + dt.timedelta(days=n): 10 + n for n in range(28) if n not in range(7, 14)}
    history = list(rows(counts))
    history[-1] = DailyRow(history[-1].date, history[-1].count, 1, False)
    history.remove(next(r for r in history if r.date == start + dt.timedelta(days=15)))
    chart = period_chart(of_rows(History(views=tuple(history))).views, noun="views")
    assert chart is not None
    complete, partial, gaps = chart.series
    week = [sum(10 + n for n in range(k * 7, k * 7 + 7)) for k in range(4)]
    assert complete.values == (week[0], 0, 0, 0)
    assert partial.values == (0, 0, week[2] - 25, week[3])
    assert gaps.values == (0, chart.y_max, 0, 0)
    assert chart.title.startswith("Views per week,")
    assert "unique" not in chart.legend


def test_period_chart_goes_monthly_after_about_three_years() -> None:
    """More than 160 weeks of history are summed per month, so the page stays small."""
    start = dt.date(2020, 1, 1)
    history = rows({start + dt.timedelta(days=n): 1 for n in range(4 * 365)})
    chart = period_chart(of_rows(History(views=tuple(history))).views, noun="clones")
    assert chart is not None
    assert chart.title.startswith("Clones per month, 2020-01-01 to ")
    assert len(chart.labels) == 48
    assert chart.series[0].values[0] == 31


def test_counter_chart_needs_two_runs_and_hides_unknown_days() -> None:
    """One stats row: no chart. A day without a run is grey, never a drop to zero."""
    assert counter_chart(counters([stats_row(day(1), 5)]), lambda r: r.stars, noun="stars") is None
    stats = [stats_row(day(1), 100), stats_row(day(3), 104)]
    chart = counter_chart(counters(stats), lambda r: r.stars, noun="stars")
    assert chart is not None
    line, gaps = chart.series
    assert line.kind == "line"
    assert line.values == (100, 102, 104)
    assert gaps.values[1] == chart.y_max
    assert gaps.values[0] < chart.y_min  # no grey strip under the line elsewhere
    assert chart.y_min < 100
    assert chart.y_max >= 104


def test_counter_chart_without_gaps_has_only_its_line() -> None:
    """Consecutive runs: one line series and nothing grey."""
    stats = [stats_row(day(n), 7) for n in range(1, 5)]
    chart = counter_chart(counters(stats), lambda r: r.stars, noun="stars")
    assert chart is not None
    assert [s.kind for s in chart.series] == ["line"]
    assert chart.y_min < 7 < chart.y_max  # a flat line sits inside the axis, not on its floor


def test_snapshot_chart_ranks_top_five_and_escapes_their_names() -> None:
    """The five referrers with the most views are lines in rank order; a name is legend text
    only (through `name`), never Mermaid code."""
    hostile = '"]\n  bar [999'
    referrers = [
        ReferrerRow(d, name, count * (1 + d.day % 2), 1)
        for d in (day(1), day(2))
        for name, count in (("a", 50), ("b", 40), ("c", 30), ("d", 20), (hostile, 10), ("f", 5))
    ]
    chart = snapshot_chart(referrers, [day(1), day(2)], what="referrers", name=escape_text)
    assert chart is not None
    assert [s.values for s in chart.series] == [(100, 50), (80, 40), (60, 30), (40, 20), (20, 10)]
    assert chart.legend.startswith('🟦 a · 🟧 b · 🟩 c · 🟥 d · 🟪 "&#93;   bar &#91;999.')
    assert "999" not in "\n".join(to_markdown(chart)[:-1])


def test_snapshot_chart_draws_absent_referrers_at_zero_and_runs_missing_as_gaps() -> None:
    """Not in a run's list: 0 (and said so); no run that day: grey."""
    referrers = [ReferrerRow(day(1), "a", 10, 1), ReferrerRow(day(3), "b", 8, 1)]
    chart = snapshot_chart(referrers, [day(1), day(3)], what="referrers", name=str)
    assert chart is not None
    a, b, gaps = chart.series
    assert (a.values[0], a.values[2], b.values[0], b.values[2]) == (10, 0, 0, 8)
    assert gaps.values[1] == chart.y_max
    assert "At 0: not in GitHub's top 10 referrers that day" in chart.legend
    assert snapshot_chart(referrers[:1], [day(1)], what="referrers", name=str) is None


def test_snapshot_chart_samples_weekly_beyond_a_month() -> None:
    """Over 31 run days, each point is a week's last run: 14-day windows still cover all days."""
    history = three_year_history()
    chart = snapshot_chart(
        history.referrers, [r.date for r in history.stats], what="referrers", name=str
    )
    assert chart is not None
    assert len(chart.labels) == 14
    assert chart.title.endswith("up to each week's last run")


def test_overview_adds_counts_and_marks_days_a_repo_is_missing() -> None:
    """Totals across repos; a day one tracked repo has no row for is partial; none: a gap."""
    one = History(views=rows({day(1): 3, day(2): 4, day(4): 1}))
    two = History(views=rows({day(1): 10, day(4): 2}))
    chart = overview_chart({"o/one": index_row(one), "o/two": index_row(two)}, metric="views")
    assert chart is not None
    complete, partial, gaps = chart.series
    assert complete.values == (13, 0, 0, 3)
    assert partial.values == (0, 4, 0, 0)
    assert gaps.values[2] == chart.y_max
    assert (
        overview_chart({"o/q": index_row(History(views=rows({day(1): 0})))}, metric="views") is None
    )


def test_sparkline_shows_full_weeks_scaled_to_the_busiest() -> None:
    """Twelve Monday-to-Sunday sums up to `end`, `·` for weeks without a row."""
    start = dt.date(2026, 1, 5)  # Monday
    counts = {start + dt.timedelta(days=n): (8 if n < 7 else 1) for n in range(14)}
    line = sparkline(rows(counts), end=dt.date(2026, 1, 18))
    assert line == "··········█▁"
    assert sparkline(rows(counts), end=dt.date(2026, 1, 17)) == "···········█"


@settings(deadline=None)  # a long span of years walks many days; timing is not the point
@given(
    st.integers(min_value=0, max_value=200),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from([("day", 1), ("week", 7), ("month", 30), ("quarter", 91), ("year", 365)]),
)
def test_labels_fit_and_stay_distinct(count: int, start: dt.date, unit: tuple[str, int]) -> None:
    """Up to 200 days, weeks or months (60 quarters or years) get at most MAX_LABELS dates,
    at least one, and every category stays a distinct string."""
    name, days = unit
    last = start + dt.timedelta(days=min(count, 200 if days < 90 else 60) * days)
    _, periods = axes.periods(start, last, (name,), 10_000)
    labels = axes.labels(periods, name)
    assert len(labels) == len(periods)
    assert 1 <= sum(bool(label) for label in labels) <= MAX_LABELS
    assert len(set(axes.unique_labels(labels))) == len(labels)


@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.integers(min_value=0, max_value=2000),
    st.sampled_from([("day",), ("week",), ("day", "week"), ("day", "week", "month")]),
    st.integers(min_value=1, max_value=200),
)
def test_counted_periods_equal_walked_ones(
    first: dt.date, span: int, units: tuple[str, ...], limit: int
) -> None:
    """Days and weeks are counted rather than walked one by one; the result is the same as
    walking them, the cut-off at `limit` included."""
    last = first + dt.timedelta(days=span)
    expected = None
    for unit in units:
        walked: list[tuple[dt.date, dt.date]] = []
        start = axes.period_start(first, unit)
        while start <= last and len(walked) <= limit:
            following = axes.period_start(start + dt.timedelta(days=31), unit)
            if unit != "month":
                following = start + dt.timedelta(days=1 if unit == "day" else 7)
            walked.append((start, following - dt.timedelta(days=1)))
            start = following
        if len(walked) <= limit or unit == units[-1]:
            expected = (unit, tuple(walked))
            break
    assert axes.periods(first, last, units, limit) == expected


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_line_range_holds_the_values_on_round_ticks(a: int, b: int) -> None:
    """The axis holds both values, starts at a multiple of its tick step, never below 0."""
    low, top, floor = axes.line_range([a, b])
    step = axes.tick_step(top - low)
    assert 0 <= low <= min(a, b)
    assert max(a, b) <= top
    assert low % step == 0
    assert (top - low) // step <= 10
    assert floor < low


def test_mermaid_block_has_one_value_per_label_and_a_title() -> None:
    """Every series has a value per category; title, axis titles and the legend are there."""
    chart = daily_chart(busy_history().views, noun="views", unique_noun="unique visitors")
    assert chart is not None
    markdown = to_markdown(chart)
    assert markdown[0] == "```mermaid"
    assert markdown[2] == "xychart-beta"
    assert markdown[3] == '  title "Views per day, 2026-01-01 to 2026-01-20"'
    assert markdown[-1] == chart.legend
    categories = x_axis(markdown)
    assert len(set(categories)) == len(categories) == 20
    for line in markdown:
        if line.startswith(("  bar", "  line")):
            assert len(line.split("[", 1)[1].split(",")) == len(categories)


def test_repo_page_stays_small_after_ten_years() -> None:
    """Ten years of daily history render to well under 50 KB."""
    history = three_year_history()
    views: dict[dt.date, DailyRow] = {}
    stats: dict[dt.date, StatsRow] = {}
    for shift in range(4):  # the three years, repeated back to ten and more
        back = dt.timedelta(days=1095 * shift)
        for row in history.views:
            views[row.date - back] = DailyRow(row.date - back, row.count, row.uniques, True)
        for s in history.stats:
            stats[s.date - back] = stats_row(s.date - back, s.stars, s.forks)
    big = History(
        views=tuple(views[d] for d in sorted(views)),
        clones=tuple(views[d] for d in sorted(views)),
        referrers=history.referrers,
        paths=history.paths,
        stats=tuple(stats[d] for d in sorted(stats)),
    )
    page = render_repo_page("octo-org/veteran", big, today=TODAY)
    assert len(page.encode()) < 35_000
    assert "Views per month" in page


def test_summary_charts_only_where_asked() -> None:
    """The step summary carries the overview charts; the terminal version leaves them out."""

    report = summary_report()
    assert "```mermaid" in render_summary(report)
    assert "```mermaid" not in render_summary(report, with_charts=False)
    assert "## traffic-sync" in render_summary(report, with_charts=False)


def test_snapshot_chart_window_may_start_inside_a_gap() -> None:
    """When the 90-day window opens on days without runs, the line starts level, hidden."""
    first = dt.date(2025, 1, 1)
    runs = [first, first + dt.timedelta(days=100), first + dt.timedelta(days=101)]
    referrers = [ReferrerRow(d, "a", 5 + i, 1) for i, d in enumerate(runs)]
    chart = snapshot_chart(referrers, runs, what="referrers", name=str)
    assert chart is not None
    line, gaps = chart.series
    assert line.values[0] == 7  # level with the first point inside: that week's last run
    assert gaps.values[0] == chart.y_max
    old = [ReferrerRow(first, "a", 5, 1)]
    assert snapshot_chart(old, runs, what="referrers", name=str) is None  # none in the window


def test_all_zero_history_has_no_all_time_chart() -> None:
    """Nothing but zeros: no weekly chart to draw."""
    assert (
        period_chart(of_rows(History(views=rows({day(1): 0, day(9): 0}))).views, noun="views")
        is None
    )


def test_a_repeated_date_label_stays_a_category_of_its_own() -> None:
    """Equal labels (the same day in two years) are made distinct; blanks are all distinct."""
    unique = axes.unique_labels(["Jan 5", "", "Jan 5", "", "Jan 5"])
    assert len(set(unique)) == 5
    assert [label.strip("\u2800") for label in unique[::2]] == ["Jan 5"] * 3
    assert all(not label.replace("\u2800", "").strip() for label in unique[1::2])


def test_growth_chart_starts_at_the_creation_and_carries_totals_over_quiet_days() -> None:
    """The line starts at the repo's creation at 0, holds the total through days without a
    row (no star, not unknown), and ends at the last total."""
    stars = (GrowthRow(day(5), 3, 3), GrowthRow(day(9), 2, 5))
    chart = growth_chart(stars, created=day(1), end=day(12), noun="stars")
    assert chart is not None
    assert chart.title == "Stars since the repository's creation, 2026-01-01 to 2026-01-12"
    (line,) = chart.series
    assert line.values == (0, 0, 0, 0, 3, 3, 3, 3, 5, 5, 5, 5)
    assert growth_chart((), created=day(1), end=day(12), noun="stars") is None


def test_growth_chart_of_years_stays_within_the_daily_points() -> None:
    """Years of stars are drawn a point a month or coarser: a page never grows with them."""
    history = three_year_history()
    chart = growth_chart(history.stars, created=history.stars[0].date, end=TODAY, noun="stars")
    assert chart is not None
    assert len(chart.labels) <= DAYS
    assert chart.series[0].values[-1] == history.stars[-1].total


def test_downloads_per_day_never_go_negative() -> None:
    """A day's downloads are what each asset gained since the previous snapshot: an asset
    uploaded again counts its new count, a deleted one nothing, a new one all of it."""
    snapshots = [
        ReleaseRow(day(1), "v1", "a.zip", 100),
        ReleaseRow(day(1), "v1", "b.zip", 50),
        ReleaseRow(day(2), "v1", "a.zip", 7),  # uploaded again: started over
        ReleaseRow(day(2), "v2", "c.zip", 20),  # new; b.zip deleted
        ReleaseRow(day(4), "v2", "c.zip", 26),
    ]
    assert downloads_per_day(snapshots) == {day(2): 27, day(4): 6}
    assert downloads_per_day(snapshots[:2]) == {}


@given(
    st.lists(
        st.tuples(st.integers(1, 28), st.sampled_from("abc"), st.integers(0, 10_000)),
        max_size=40,
    )
)
def test_downloads_per_day_are_never_negative_whatever_the_counts(
    cells: list[tuple[int, str, int]],
) -> None:
    """Counts that go up, down, appear and vanish: no day below zero."""
    snapshot = {(day(n), asset): count for n, asset, count in cells}
    rows = [ReleaseRow(d, "v1", asset, count) for (d, asset), count in snapshot.items()]
    assert all(value >= 0 for value in downloads_per_day(rows).values())


def test_downloads_chart_marks_days_without_a_run_as_gaps() -> None:
    """A day no run counted is a grey column; the next run's value holds the days between."""
    snapshots = [ReleaseRow(day(n), "v1", "a.zip", 10 * n) for n in (1, 2, 5)]
    chart = downloads_chart(snapshots)
    assert chart is not None
    assert chart.series[0].values == (10, 0, 0, 30)
    assert chart.series[-1].colour == GREY
    assert chart.series[-1].values[1:3] == (chart.y_max, chart.y_max)
    assert downloads_chart(snapshots[:1]) is None


def test_stars_sparkline_reads_a_week_without_rows_as_none_gained() -> None:
    """Without gaps a week with no row is the lowest block, not a dot."""
    weekly = rows({dt.date(2026, 1, 5): 4})
    assert sparkline(weekly, end=dt.date(2026, 1, 18), weeks=2, gaps=False) == "█▁"
    assert sparkline(weekly, end=dt.date(2026, 1, 18), weeks=2) == "█·"
