"""Mermaid `xychart-beta` charts for the data branch's pages: pure functions, history in, text out.

GitHub draws ```mermaid blocks natively, so the pictures cost a few KB of text per page and no
image is ever committed. xychart-beta has limits that shape every chart here:

- **No missing values**: each series needs a number at every x. A day (or week) nothing was
  recorded for would read as a zero, so it gets a full-height grey column instead: a bar series
  drawn last, on top of the others, which are 0 there. On a line chart the column hides the line
  where its value is unknown. Gaps stay gaps, never zeros.
- **No legend, one colour per series**: series overlap at the same x, so a state is a series of
  its own (final / not final, complete week / partial week), and every chart is followed by a line
  that names its colours.
- **Every category gets a label**, and equal labels merge into one category. Only a few x get a
  date (a calendar-aligned subset, at most `axes.MAX_LABELS`); the others get a distinct label that
  draws no ink (see `axes`).
- **Bars start below the y-axis minimum** (Mermaid pads the axis by half a label height): on bar
  charts the grey series sits at the minimum where there is data, so that strip is grey
  everywhere and a zero shows no bar at all; on line charts it sits below the axis there (a
  negative height, which SVG does not draw), and lines get a floor a little under their lowest
  tick so a line at 0 stays visible.
- **The y range is chosen here**, so Mermaid's ticks (d3's, about ten) are round numbers and the
  grey column has a known top.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from traffic_sync.branch import alltime
from traffic_sync.branch.alltime import Counters, Reading, Traffic
from traffic_sync.core.models import DailyRow, IndexRow, PathRow, ReferrerRow
from traffic_sync.pages import axes

DAYS = alltime.DAYS  # the daily charts' window; longer histories also get all-time charts
MAX_PERIODS = alltime.MAX_PERIODS  # bars or points of an all-time chart (a week each for
# about three years)
TOP = 5  # referrers or paths drawn in a trend chart
MAX_TICKS = 31  # x-axis ticks, one per bar, up to this many bars
SNAPSHOT_POINTS = 31  # run days a referrer or path chart shows one by one; beyond, weekly
WIDTH = 720
HEIGHT = 320

# Colours that read on GitHub's light and dark backgrounds; named in each chart's legend.
LIGHT_BLUE = "#54aeff"
DARK_BLUE = "#0550ae"
ORANGE = "#fb8500"
LIGHT_ORANGE = "#ffb77c"
DARK_ORANGE = "#bc4c00"
GREY = "#afb8c1"
# Lines, in the order of the coloured squares that name them under the chart.
LINE_COLOURS = (
    ("#0969da", "🟦"),
    ("#fb8500", "🟧"),
    ("#1a7f37", "🟩"),
    ("#cf222e", "🟥"),
    ("#8250df", "🟪"),
)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Series:
    """One bar or line series: a value for every x."""

    kind: str  # "bar" or "line"
    colour: str
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """One xychart: what `to_markdown` needs, nothing about where the numbers came from."""

    title: str
    x_title: str
    labels: tuple[str, ...]  # one per x; "" draws no label there
    y_title: str
    y_min: float
    y_max: float
    series: tuple[Series, ...]
    legend: str  # Markdown shown under the chart: what each colour means
    height: int = HEIGHT


def to_markdown(chart: Chart) -> list[str]:
    """The chart as a ```mermaid block and its legend line (Markdown lines, no trailing blank)."""
    xy: dict[str, object] = {"width": WIDTH, "height": chart.height}
    if len(chart.labels) > MAX_TICKS:
        xy["xAxis"] = {"showTick": False}  # a tick per bar would be a comb
    config = {
        "xyChart": xy,
        "themeVariables": {
            "xyChart": {"plotColorPalette": ", ".join(s.colour for s in chart.series)}
        },
    }
    labels = _x_labels(chart.labels)
    lines = [
        "```mermaid",
        f"%%{{init: {json.dumps(config)}}}%%",
        "xychart-beta",
        f'  title "{chart.title}"',
        f'  x-axis "{chart.x_title}" [{labels}]',
        f'  y-axis "{chart.y_title}" {_number(chart.y_min)} --> {_number(chart.y_max)}',
    ]
    lines += [f"  {s.kind} [{', '.join(_number(v) for v in s.values)}]" for s in chart.series]
    return [*lines, "```", "", chart.legend]


@functools.lru_cache(maxsize=256)
def _x_labels(labels: tuple[str, ...]) -> str:
    """The x-axis categories as Mermaid reads them (cached: most charts share their dates)."""
    return ", ".join(json.dumps(label, ensure_ascii=False) for label in axes.unique_labels(labels))


# --- daily and weekly traffic ----------------------------------------------------------------


def daily_chart(
    rows: Sequence[DailyRow],
    *,
    noun: str,
    unique_noun: str,
    counted: bool | None = None,
    since: dt.date | None = None,
) -> Chart | None:
    """Counts and uniques per day for the `DAYS` days up to the newest day with data (from the
    first day, if later); None if all are zero. `counted`: whether any day of the whole
    history has a count, `since`: its first day (`rows` may hold only its newest days)."""
    by_date = {row.date: row for row in rows}
    if not rows or not (any(row.count for row in rows) if counted is None else counted):
        return None
    last = max(by_date)
    first = max(since or min(by_date), last - dt.timedelta(days=DAYS - 1))
    dates = _days(first, last)
    found = [by_date.get(day) for day in dates]
    top = axes.bar_top(max(row.count for row in found if row))
    settled = [row if row and row.final else None for row in found]
    open_ = [row if row and not row.final else None for row in found]
    gaps = tuple(row is None for row in found)
    legend = [f"Light blue: {noun}", f"dark blue: {unique_noun} that day"]
    legend += _state_legend(
        any(open_),
        "not final yet, may still grow (light: " + noun + ", dark: " + unique_noun + ")",
        any(gaps),
        "day",
    )
    return _per_day(
        f"{noun.capitalize()} per day, {_range(first, last)}",
        dates,
        noun=noun,
        top=top,
        series=(
            Series("bar", LIGHT_BLUE, tuple(row.count if row else 0 for row in settled)),
            Series("bar", LIGHT_ORANGE, tuple(row.count if row else 0 for row in open_)),
            Series("bar", DARK_BLUE, tuple(row.uniques if row else 0 for row in settled)),
            Series("bar", DARK_ORANGE, tuple(row.uniques if row else 0 for row in open_)),
            _gap_series(gaps, 0, top),
        ),
        legend=legend,
    )


def _per_day(
    title: str,
    dates: Sequence[dt.date],
    *,
    noun: str,
    top: int,
    series: tuple[Series, ...],
    legend: Sequence[str],
) -> Chart:
    """A bar chart with a bar a day over `dates`, from 0 to `top`."""
    return Chart(
        title=title,
        x_title="Day (UTC)",
        labels=axes.labels(tuple((day, day) for day in dates), "day"),
        y_title=f"{noun} per day",
        y_min=0,
        y_max=top,
        series=series,
        legend=_legend(legend),
    )


def period_chart(traffic: Traffic, *, noun: str) -> Chart | None:
    """All-time sums of daily counts per week (per month, quarter or year once there would be
    more than `MAX_PERIODS` weeks, so the page stays small); None if all are zero."""
    if not traffic.count or traffic.first is None or traffic.last is None:
        return None
    first, last = traffic.first, traffic.last
    unit, periods = axes.periods(first, last, ("week", "month", "quarter", "year"), MAX_PERIODS)
    complete: list[int] = []
    partial: list[int] = []
    gaps: list[bool] = []
    for start, end in periods:
        held = traffic.period(start, end, unit)
        whole = held.days == (end - start).days + 1 and held.final
        complete.append(held.total if whole else 0)
        partial.append(0 if whole else held.total)
        gaps.append(not held.days)
    top = axes.bar_top(max(complete + partial))
    legend = [f"Blue: {noun} in a {unit} with every day recorded and final"]
    legend += _state_legend(
        any(partial),
        f"a partial sum (some days of the {unit} not recorded or not final yet)",
        any(gaps),
        unit,
    )
    return Chart(
        title=f"{noun.capitalize()} per {unit}, {_range(first, last)}",
        x_title=axes.UNIT_TITLES[unit],
        labels=axes.labels(periods, unit),
        y_title=f"{noun} per {unit}",
        y_min=0,
        y_max=top,
        series=(
            Series("bar", LIGHT_BLUE, tuple(complete)),
            Series("bar", ORANGE, tuple(partial)),
            _gap_series(gaps, 0, top),
        ),
        legend=_legend(legend),
    )


def spans_more_than_window(traffic: Traffic) -> bool:
    """Whether the rows reach further back than the daily chart shows."""
    if traffic.first is None or traffic.last is None:
        return False
    return (traffic.last - traffic.first).days >= DAYS


# --- stars, forks and release downloads ---------------------------------------------------------


class GrowthDay(Protocol):
    """A day of stars (or forks): how many came that day, and the running total."""

    @property
    def date(self) -> dt.date: ...

    @property
    def total(self) -> int: ...


class AssetDay(Protocol):
    """One release asset's download count as a run saw it."""

    @property
    def date(self) -> dt.date: ...

    @property
    def tag(self) -> str: ...

    @property
    def asset(self) -> str: ...

    @property
    def downloads(self) -> int: ...


def growth_chart(
    rows: Sequence[GrowthDay], *, created: dt.date, end: dt.date, noun: str
) -> Chart | None:
    """The running total of stars (forks) from the repo's creation to `end`: the total at the
    end of each day, week, month, quarter or year (at most `DAYS` points, so the page stays
    small). A day without a row gained nothing, so there are no gaps. None without rows."""
    if not rows:
        return None
    first = min(created, rows[0].date)
    last = max(end, rows[-1].date)
    unit, periods = axes.periods(first, last, ("day", "week", "month", "quarter", "year"), DAYS)
    totals: list[int] = []
    index, total = 0, 0
    for _, period_end in periods:
        while index < len(rows) and rows[index].date <= period_end:
            total = rows[index].total
            index += 1
        totals.append(total)
    _, top, floor = axes.line_range(totals)
    until = "that day" if unit == "day" else f"the end of each {unit}"
    verb = "made" if noun == "forks" else "given"
    return Chart(
        title=f"{noun.capitalize()} since the repository's creation, {_range(first, last)}",
        x_title=axes.UNIT_TITLES[unit],
        labels=axes.labels(periods, unit),
        y_title=noun,
        y_min=floor,
        y_max=top,
        series=(Series("line", LINE_COLOURS[0][0], tuple(float(t) for t in totals)),),
        legend=_legend([f"Blue line: {noun} {verb} up to {until}, from their dates"]),
    )


def downloads_per_day(rows: Iterable[AssetDay]) -> dict[dt.date, int]:
    """Release downloads per run day: for each snapshot after the first, what every asset
    gained since the previous snapshot. An asset new since then counts whole; one whose count
    went down was deleted and uploaded again, so its new count is what it gained; one that is
    gone counts nothing. So no day is ever negative."""
    by_day: dict[dt.date, dict[tuple[str, str], int]] = {}
    for row in rows:
        by_day.setdefault(row.date, {})[(row.tag, row.asset)] = row.downloads
    days = sorted(by_day)
    gained: dict[dt.date, int] = {}
    for before, day in itertools.pairwise(days):
        old, new = by_day[before], by_day[day]
        gained[day] = sum(
            count - old[key] if key in old and count >= old[key] else count
            for key, count in new.items()
        )
    return gained


def downloads_chart(rows: Sequence[AssetDay]) -> Chart | None:
    """Release downloads per day for the newest `DAYS` days, from the differences of the daily
    snapshots (`downloads_per_day`); a day without a snapshot is a grey gap, and a value after
    such a gap holds every day since the previous snapshot. None before two snapshots."""
    gained = downloads_per_day(rows)
    if not gained:
        return None
    last = max(gained)
    first = max(min(gained), last - dt.timedelta(days=DAYS - 1))
    dates = _days(first, last)
    values = [gained.get(day) for day in dates]
    gaps = [value is None for value in values]
    top = axes.bar_top(max((v for v in values if v is not None), default=0))
    legend = ["Blue: downloads of every release asset since the run before"]
    legend += _state_legend(False, "", any(gaps), "day")
    return Chart(
        title=f"Release downloads per day, {_range(first, last)}",
        x_title="Day (UTC)",
        labels=axes.labels(tuple((day, day) for day in dates), "day"),
        y_title="downloads per day",
        y_min=0,
        y_max=top,
        series=(
            Series("bar", LIGHT_BLUE, tuple(v or 0 for v in values)),
            _gap_series(gaps, 0, top),
        ),
        legend=_legend(legend),
    )


# --- counters and snapshots --------------------------------------------------------------------


def counter_chart(
    counters: Counters, value: Callable[[Reading], int], *, noun: str
) -> Chart | None:
    """A counter (stars, forks) over time: daily up to `DAYS` days, then weekly or monthly (the
    value at the period's last run), at most `DAYS` points. None until two run days have it."""
    first, last = counters.first, counters.last
    if first is None or last is None or first == last:
        return None
    unit, periods = axes.periods(first, last, ("day", "week", "month", "quarter", "year"), DAYS)
    readings = [counters.newest(start, end, unit) for start, end in periods]
    known = [None if reading is None else value(reading) for reading in readings]
    _, top, floor = axes.line_range([v for v in known if v is not None])
    legend = [f"Blue line: {noun}" + ("" if unit == "day" else f" at the {unit}'s last run")]
    legend += _state_legend(False, "", None in known, unit, line=True)
    line = Series("line", LINE_COLOURS[0][0], _fill_gaps(known))
    return Chart(
        title=f"{noun.capitalize()}, {_range(first, last)}",
        x_title=axes.UNIT_TITLES[unit],
        labels=axes.labels(periods, unit),
        y_title=noun,
        y_min=floor,
        y_max=top,
        series=_with_gaps([line], [v is None for v in known], floor, top),
        legend=_legend(legend),
    )


def snapshot_chart(
    rows: Sequence[ReferrerRow] | Sequence[PathRow],
    run_days: Iterable[dt.date],
    *,
    what: str,
    name: Callable[[str], str],
) -> Chart | None:
    """The `TOP` referrers or paths of the newest `DAYS` days, each a line of its 14-day views:
    at every run day up to `SNAPSHOT_POINTS` days, else at each week's last run (14-day windows
    a week apart still cover every day). `name` turns a referrer or path into legend Markdown
    (escaping it). None until two run days have recorded any."""
    days = sorted(set(run_days) | {row.date for row in rows})
    if len(days) < 2 or not rows:
        return None
    first = max(days[0], days[-1] - dt.timedelta(days=DAYS - 1))
    unit, periods = axes.periods(first, days[-1], ("day", "week"), SNAPSHOT_POINTS)
    ran = {day: day for day in days}
    points = _newest_in(ran, periods)
    shown = {point for point in points if point is not None}
    counts: dict[str, dict[dt.date, int]] = {}
    for row in rows:
        if row.date in shown:
            counts.setdefault(_key(row), {})[row.date] = row.count
    if not counts:
        return None
    ranked = sorted(counts, key=lambda k: (-sum(counts[k].values()), k.casefold(), k))[:TOP]
    gaps = [point is None for point in points]
    _, top, floor = axes.line_range([0, max(max(counts[k].values()) for k in ranked)])
    series = [
        Series("line", colour, _fill_gaps([_seen(counts[key], p) for p in points]))
        for key, (colour, _) in zip(ranked, LINE_COLOURS, strict=False)
    ]
    legend = " · ".join(
        f"{square} {name(key)}" for key, (_, square) in zip(ranked, LINE_COLOURS, strict=False)
    )
    notes = [
        f"At 0: not in GitHub's top 10 {what} that day",
        *_state_legend(False, "", any(gaps), unit, line=True),
    ]
    when = "each run day" if unit == "day" else "each week's last run"
    return Chart(
        title=f"Top {what}: views in the 14 days up to {when}",
        x_title="Run day (UTC)" if unit == "day" else axes.UNIT_TITLES[unit],
        labels=axes.labels(periods, unit),
        y_title="views in 14 days",
        y_min=floor,
        y_max=top,
        series=_with_gaps(series, gaps, floor, top),
        legend=f"{legend}. {_legend(notes)}",
    )


# --- all repositories --------------------------------------------------------------------------


def overview_chart(repos: Mapping[str, IndexRow], *, metric: str) -> Chart | None:
    """Daily totals of views or clones across all repos for the newest `DAYS` days; None if
    all are zero. A day is complete when every repo tracked then has a final row for it."""
    series = {
        name: (getattr(row, metric), getattr(row, f"first_{metric}")) for name, row in repos.items()
    }
    rows = [row for repo_rows, _ in series.values() for row in repo_rows]
    if not any(row.count for row in rows):
        return None
    last = max(row.date for row in rows)
    starts = [first for repo_rows, first in series.values() if repo_rows and first is not None]
    first = max(min(starts), last - dt.timedelta(days=DAYS - 1))
    dates = _days(first, last)
    # per day: the repos tracked then (their first day to their newest row), the rows found,
    # the final ones among them, and their sum; one pass over the rows
    at = {day: n for n, day in enumerate(dates)}
    tracked = [0] * (len(dates) + 1)  # as differences: +1 where a repo's span starts, -1 after
    found = [0] * len(dates)
    final = [0] * len(dates)
    totals = [0] * len(dates)
    for repo_rows, start in series.values():
        if not repo_rows:
            continue
        begin, end = max(start or repo_rows[0].date, first), repo_rows[-1].date
        if begin <= end:
            tracked[(begin - first).days] += 1
            tracked[(end - first).days + 1] -= 1
        for row in repo_rows:
            n = at.get(row.date)
            if n is not None and row.date >= begin:
                found[n] += 1
                final[n] += row.final
                totals[n] += row.count
    complete: list[int] = []
    partial: list[int] = []
    gaps: list[bool] = []
    spanning = 0
    for n in range(len(dates)):
        spanning += tracked[n]
        whole = found[n] == spanning and final[n] == found[n]
        complete.append(totals[n] if whole else 0)
        partial.append(0 if whole else totals[n])
        gaps.append(not found[n])
    top = axes.bar_top(max(complete + partial))
    noun = metric
    legend = [f"Blue: {noun} of all repositories, every one recorded and final"]
    legend += _state_legend(
        any(partial),
        "a partial total (some repository's day not recorded or not final yet)",
        any(gaps),
        "day",
    )
    return _per_day(
        f"{noun.capitalize()} per day, all repositories, {_range(first, last)}",
        dates,
        noun=noun,
        top=top,
        series=(
            Series("bar", LIGHT_BLUE, tuple(complete)),
            Series("bar", ORANGE, tuple(partial)),
            _gap_series(tuple(gaps), 0, top),
        ),
        legend=legend,
    )


def sparkline(rows: Sequence[DailyRow], *, end: dt.date, weeks: int = 12, gaps: bool = True) -> str:
    """Weekly sums of counts for the `weeks` full weeks up to `end`, as block characters scaled
    to the busiest of them; `·` marks a week with no day recorded (with `gaps`; without, a
    week without a row is a week of zero, as for stars)."""
    last = axes.monday(end + dt.timedelta(days=1)) - dt.timedelta(days=7)
    mondays = [last - dt.timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    start = mondays[0].toordinal()
    sums: dict[int, int] = {}  # by week, 0 for the first shown (mondays[0] is a Monday)
    for row in rows:
        at = row.date.toordinal() - start
        if at >= 0:  # a long history has years before the weeks shown
            sums[at // 7] = sums.get(at // 7, 0) + row.count
    peak = max((sums.get(week, 0) for week in range(weeks)), default=0)
    blocks = "▁▂▃▄▅▆▇█"
    out = []
    for week in range(weeks):
        if week not in sums and gaps:
            out.append("·")
        elif peak == 0 or sums.get(week, 0) == 0:
            out.append(blocks[0])
        else:
            out.append(blocks[max(0, -(-sums[week] * len(blocks) // peak) - 1)])
    return "".join(out)


# --- shared ------------------------------------------------------------------------------------


def _seen(counts: Mapping[dt.date, int], day: dt.date | None) -> int | None:
    """A snapshot's count on a run day (0 when not in that day's list); None without a run."""
    return None if day is None else counts.get(day, 0)


def _key(row: ReferrerRow | PathRow) -> str:
    return row.referrer if isinstance(row, ReferrerRow) else row.path


def _range(first: dt.date, last: dt.date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _with_gaps(
    lines: Sequence[Series], gaps: Sequence[bool], floor: float, top: float
) -> tuple[Series, ...]:
    """Lines need the grey series only where something is missing, and no grey strip at the
    bottom: elsewhere its bars end below the axis (a negative height, which SVG draws not)."""
    if not any(gaps):
        return tuple(lines)
    return (*lines, _gap_series(gaps, floor - (top - floor), top))


def _newest_in(
    by_date: Mapping[dt.date, _T], periods: Sequence[tuple[dt.date, dt.date]]
) -> list[_T | None]:
    """For each period, the value of its newest day that `by_date` has (None if none)."""
    days = sorted(by_date)
    out: list[_T | None] = []
    for start, end in periods:
        index = bisect.bisect_right(days, end)
        out.append(by_date[days[index - 1]] if index and days[index - 1] >= start else None)
    return out


def _gap_series(gaps: Sequence[bool], floor: float, top: float) -> Series:
    """Full height where nothing was recorded; the floor elsewhere (hides the axis padding)."""
    return Series("bar", GREY, tuple(top if gap else floor for gap in gaps))


def _fill_gaps(values: Sequence[int | None]) -> tuple[float, ...]:
    """Unknown points of a line, drawn straight between their known neighbours (or level with
    the only one): the grey column in front of them hides that part of the line."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    out: list[float] = []
    for i, value in enumerate(values):
        if value is not None:
            out.append(value)
            continue
        before = [(j, v) for j, v in known if j < i]
        after = [(j, v) for j, v in known if j > i]
        if before and after:
            (j0, v0), (j1, v1) = before[-1], after[0]
            out.append(round(v0 + (v1 - v0) * (i - j0) / (j1 - j0)))
        else:
            out.append((before[-1] if before else after[0])[1])
    return tuple(out)


def _state_legend(
    has_open: bool, open_text: str, has_gaps: bool, each: str, *, line: bool = False
) -> list[str]:
    notes = [f"orange: {open_text}"] if has_open else []
    if has_gaps:
        hidden = ", the line hidden" if line else ""
        notes.append(f"grey column: no data recorded for that {each}{hidden} (unknown, not zero)")
    return notes


def _legend(parts: Sequence[str]) -> str:
    text = "; ".join(parts)
    return f"*{text[0].upper()}{text[1:]}.*"


def _number(value: float) -> str:
    if type(value) is int:  # not a bool
        return str(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")
