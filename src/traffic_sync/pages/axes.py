"""The charts' axes: calendar periods along x and their date labels, round ranges along y.

Pure and cached where the repos of one data branch share their days. x: the first unit (day,
week, month, quarter, year) that cuts a span into few enough periods, and a date under at most
`MAX_LABELS` of them, aligned to the calendar; every other category gets a distinct label that
draws no ink (Mermaid merges equal labels). y: spans whose d3 ticks are round numbers, so the
grey "no data" column has a known top.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence

MAX_LABELS = 7  # dates under the x axis of a 720 px chart, so that they never touch
_ONE_DAY = dt.timedelta(days=1)


# Braille pattern blank: a character with no ink that JavaScript's trim() keeps, so a label made
# of it stays a label of its own; spaces between two of them make each one distinct.
_BLANK = "\u2800"


# Y-axis spans (times a power of ten) whose d3 ticks are round and at most eleven, and the
# step d3 picks for each (10 ticks asked for): Mermaid leaves the ticks to d3.
_SPAN_STEPS = {10: 1, 15: 2, 20: 2, 40: 5, 50: 5, 80: 10}


def monday(day: dt.date) -> dt.date:
    """The Monday a day's week starts on."""
    return day - dt.timedelta(days=day.weekday())


@functools.lru_cache(maxsize=256)
def periods(
    first: dt.date, last: dt.date, units: tuple[str, ...], limit: int
) -> tuple[str, tuple[tuple[dt.date, dt.date], ...]]:
    """The first unit that cuts first..last into at most `limit` calendar periods, and
    those periods as (first day, last day), the outer ones whole (a week starts on Monday).
    Cached: the repos of one data branch mostly share their first and last days."""
    for unit in units:
        start = period_start(first, unit)
        if unit in _FIXED_DAYS:  # days and weeks: counted, not walked
            step = _FIXED_DAYS[unit]
            count = (last - start).days // step + 1
            if count <= limit or unit == units[-1]:
                starts = [start + dt.timedelta(days=i * step) for i in range(min(count, limit + 1))]
                return unit, tuple((day, day + dt.timedelta(days=step - 1)) for day in starts)
            continue
        periods: list[tuple[dt.date, dt.date]] = []
        while start <= last and len(periods) <= limit:
            following = period_start(start + dt.timedelta(days=_PERIOD_DAYS[unit]), unit)
            periods.append((start, following - dt.timedelta(days=1)))
            start = following
        if len(periods) <= limit or unit == units[-1]:
            return unit, tuple(periods)
    raise ValueError(units)  # pragma: no cover - units is never empty


def period_start(day: dt.date, unit: str) -> dt.date:
    """The first day of the day, week, month, quarter or year `day` is in."""
    if unit == "day":
        return day
    if unit == "week":
        return monday(day)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


def bar_top(peak: int) -> int:
    """The y-axis top for bars: the first round span at or above `peak` (at least 10)."""
    return _span_at_least(peak)


def line_range(values: Sequence[int]) -> tuple[int, int, float]:
    """(low, top, floor) for a line: round ticks from `low` to `top` around the values (never
    below 0), and a floor a little below `low` so a line at `low` stays above the grey strip."""
    low_value, high_value = min(values), max(values)
    span = _span_at_least(high_value - low_value)
    while True:
        step = tick_step(span)
        middle = (low_value + high_value) // 2
        low = max(0, (middle - span // 2) // step * step)
        if low <= low_value and low + span >= high_value:
            return low, low + span, low - span / 50
        span = _span_at_least(span + 1)


def _span_at_least(value: int) -> int:
    magnitude = 1
    while True:
        for mantissa in _SPAN_STEPS:
            span = mantissa * magnitude
            if span >= max(value, 10):
                return span
        magnitude *= 10


def tick_step(span: int) -> int:
    magnitude = 1
    while span // magnitude not in _SPAN_STEPS or span % magnitude:
        magnitude *= 10
    return _SPAN_STEPS[span // magnitude] * magnitude


@functools.lru_cache(maxsize=256)
def labels(periods: tuple[tuple[dt.date, dt.date], ...], unit: str) -> tuple[str, ...]:
    """A date under at most `MAX_LABELS` x, aligned to the calendar: the densest of every day,
    every 2nd or 3rd day, Mondays, every 2nd or 4th Monday, the 1st and 15th, months, quarters,
    half-years and years (every one, or every 2nd, 5th...) that fits, no finer than `unit`.
    A period is labelled by its first day that matches. Cached like `periods`."""
    for test, style in _LABEL_RULES[_LABEL_START[unit] :]:
        marks = _marks(periods, test)
        if marks is not None:
            return tuple("" if mark is None else _format(mark, style) for mark in marks)
    return ("",) * len(periods)  # pragma: no cover - every 50th year fits any history


def _marks(
    periods: Sequence[tuple[dt.date, dt.date]], test: Callable[[dt.date], bool]
) -> list[dt.date | None] | None:
    """Each period's first day that passes `test`; None as soon as more than `MAX_LABELS` do."""
    marks: list[dt.date | None] = []
    found = 0
    for start, end in periods:
        mark = _first_match(start, end, test)
        found += mark is not None
        if found > MAX_LABELS:
            return None
        marks.append(mark)
    return marks


def _first_match(start: dt.date, end: dt.date, test: Callable[[dt.date], bool]) -> dt.date | None:
    day = start
    while day <= end:
        if test(day):
            return day
        day += _ONE_DAY
    return None


def _format(day: dt.date, style: str) -> str:
    if style == "day":
        return f"{day:%b} {day.day}"
    if style == "month":
        return f"{day:%b %Y}"
    return f"{day:%Y}"


_LABEL_RULES: tuple[tuple[Callable[[dt.date], bool], str], ...] = (
    (lambda d: True, "day"),
    (lambda d: d.toordinal() % 2 == 0, "day"),
    (lambda d: d.toordinal() % 3 == 0, "day"),
    (lambda d: d.weekday() == 0, "day"),
    (lambda d: d.toordinal() % 14 == 1, "day"),  # ordinal 1 is a Monday
    (lambda d: d.toordinal() % 28 == 1, "day"),
    (lambda d: d.day in (1, 15), "day"),
    (lambda d: d.day == 1, "month"),
    (lambda d: d.day == 1 and d.month in (1, 4, 7, 10), "month"),
    (lambda d: d.day == 1 and d.month in (1, 7), "month"),
    (lambda d: d.day == 1 and d.month == 1, "year"),
    (lambda d: d.day == 1 and d.month == 1 and d.year % 2 == 0, "year"),
    (lambda d: d.day == 1 and d.month == 1 and d.year % 5 == 0, "year"),
    (lambda d: d.day == 1 and d.month == 1 and d.year % 10 == 0, "year"),
    (lambda d: d.day == 1 and d.month == 1 and d.year % 50 == 0, "year"),
)


_LABEL_START = {"day": 0, "week": 3, "month": 7, "quarter": 8, "year": 10}


_PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


_FIXED_DAYS = {"day": 1, "week": 7}


UNIT_TITLES = {
    "day": "Day (UTC)",
    "week": "Week (Monday to Sunday, UTC)",
    "month": "Month (UTC)",
    "quarter": "Quarter (UTC)",
    "year": "Year (UTC)",
}


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Empty labels become distinct blank ones; a repeated date gets blanks appended."""
    out: list[str] = []
    seen: set[str] = set()
    blanks = 0
    for label in labels:
        if label:
            text = label
            while text in seen:
                text += _BLANK
        else:
            text = _blank_label(blanks)
            blanks += 1
        seen.add(text)
        out.append(text)
    return out


def _blank_label(index: int) -> str:
    """Three blanks with spaces between them: SVG draws runs of spaces as one, so every such
    label looks the same (empty) and is a different string, in a few bytes."""
    tens, ones = divmod(index, 10)
    return f"{_BLANK}{' ' * tens}{_BLANK}{' ' * ones}{_BLANK}"
