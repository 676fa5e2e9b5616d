"""What the all-time charts and the index need of a repo's history, without its rows.

A repo page's all-time section sums views and clones per week or month since the first day, and
its stars and forks chart takes the counters' newest reading per week or month; the index shows
each repo's latest counters, its last day with traffic and its newest days. Read from the
period files, that is every year ever kept. Here it is kept small instead:

- `AllTime` holds a repo's sums per calendar week and month, first and last days, and counter
  readings, made of one `AllTime` per UTC year (`of_rows`), so a run recomputes the years it
  read and takes the older ones from the stored totals (`combine`). Weeks are kept only while
  the history spans at most `charts.MAX_PERIODS` weeks (the chart goes monthly after that, and
  a history only grows), counter weeks while it spans at most `charts.DAYS` weeks.
- `IndexRow` holds one repo's row of the index and its part of the index's overview charts:
  its newest counters, its last day with traffic, its first days, and its newest `charts.DAYS`
  days of views and clones.

Both are derived: rebuilt from the period files whenever missing or not matching them (see
`store`), never the source of truth. Everything here is pure.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from traffic_sync.core.growth import GrowthRow
from traffic_sync.core.models import DailyRow, History, IndexRow, StatsRow

DAYS = 90  # = charts.DAYS: the daily charts' window (charts imports this module)
MAX_PERIODS = 160  # = charts.MAX_PERIODS: an all-time chart's bars before it goes monthly
SCHEMA = 1
INDEX_SCHEMA = 2  # 2: each repo's days as columns (1 was a list per day)
_MIN = dt.date.min


@dataclass(frozen=True, slots=True)
class Sum:
    """The daily rows one calendar period holds: their counts' sum, how many days have a row,
    and whether every one of them is final."""

    total: int = 0
    days: int = 0
    final: bool = True

    def __add__(self, other: Sum) -> Sum:
        return Sum(self.total + other.total, self.days + other.days, self.final and other.final)


_NONE = Sum()


def _months(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """The 1st of each month from `start`'s to `end`'s (a period of whole months)."""
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = (month + dt.timedelta(days=31)).replace(day=1)


@dataclass(frozen=True, slots=True)
class Reading:
    """A counter reading: the stats row's `date`, stars and forks."""

    date: dt.date
    stars: int
    forks: int


@dataclass(frozen=True, slots=True)
class Traffic:
    """Views (or clones) over some span: first and last day with a row, the newest with a
    count above 0, the sum of counts, and the sums per week (by Monday; None once not kept)
    and per month (by its 1st)."""

    first: dt.date | None = None
    last: dt.date | None = None
    active: dt.date | None = None
    count: int = 0
    weeks: Mapping[dt.date, Sum] | None = field(default_factory=dict)
    months: Mapping[dt.date, Sum] = field(default_factory=dict)

    def period(self, start: dt.date, end: dt.date, unit: str) -> Sum:
        """The rows of one calendar period (a week, month, quarter or year)."""
        if unit == "week":
            if self.weeks is None:
                raise ValueError("weekly sums are not kept for a history this long")
            return self.weeks.get(start, Sum())
        total = Sum()
        for month in _months(start, end):
            total += self.months.get(month, _NONE)
        return total


@dataclass(frozen=True, slots=True)
class Counters:
    """The stats rows' stars and forks: first and last run day, every reading by day (only
    when made from rows), and the newest reading per week (None once not kept) and month."""

    first: dt.date | None = None
    last: dt.date | None = None
    days: Mapping[dt.date, Reading] | None = field(default_factory=dict)
    weeks: Mapping[dt.date, Reading] | None = field(default_factory=dict)
    months: Mapping[dt.date, Reading] = field(default_factory=dict)

    def newest(self, start: dt.date, end: dt.date, unit: str) -> Reading | None:
        """The newest reading in one calendar period (a day, week, month, quarter or year)."""
        if unit in ("day", "week"):
            kept = self.days if unit == "day" else self.weeks
            if kept is None:
                raise ValueError(f"counter readings per {unit} are not kept for this history")
            return kept.get(start)
        found = [r for month in _months(start, end) if (r := self.months.get(month))]
        return max(found, key=lambda r: r.date, default=None)


@dataclass(frozen=True, slots=True)
class AllTime:
    """A repo's all-time figures: views, clones, the days with either, and the counters."""

    views: Traffic = field(default_factory=Traffic)
    clones: Traffic = field(default_factory=Traffic)
    dates: int = 0  # days with a views or a clones row
    counters: Counters = field(default_factory=Counters)

    @property
    def first(self) -> dt.date | None:
        return _min(self.views.first, self.clones.first)

    @property
    def last(self) -> dt.date | None:
        return _max(self.views.last, self.clones.last)


def of_rows(history: History) -> AllTime:
    """The all-time figures of these rows (views, clones and stats; the rest is not used)."""
    dates = {row.date for row in history.views} | {row.date for row in history.clones}
    return AllTime(
        _traffic(history.views), _traffic(history.clones), len(dates), _counters(history)
    )


def by_year(history: History) -> dict[int, AllTime]:
    """Each UTC year's figures (views, clones and stats rows dated in that year)."""
    split: dict[int, dict[str, list[Any]]] = {}
    for name, rows in (
        ("views", history.views),
        ("clones", history.clones),
        ("stats", history.stats),
    ):
        for row in rows:
            split.setdefault(row.date.year, {}).setdefault(name, []).append(row)
    return {
        year: of_rows(History(**{name: tuple(rows) for name, rows in parts.items()}))
        for year, parts in sorted(split.items())
    }


def update_parts(
    stored: Mapping[int, AllTime], read: History, *, first_year: int
) -> dict[int, AllTime]:
    """Each year's figures of a history whose rows from `first_year` on are all in `read` and
    whose older years are in `stored` (as `decode_all_time` gives them). `read` may hold the
    newest days of an older year too (a page draws its last `DAYS` days): that year's figures
    are the stored ones, with the counter readings of those days, which a daily chart of
    stars and forks draws (it is daily only while every reading is within those days)."""
    parts = {year: part for year, part in stored.items() if year < first_year}
    for year, part in by_year(read).items():
        if year >= first_year:
            parts[year] = part
        elif year in parts and part.counters.days:
            kept = parts[year]
            counters = replace(kept.counters, days=part.counters.days)
            parts[year] = replace(kept, counters=counters)
    return parts


def combine(parts: Iterable[AllTime]) -> AllTime:
    """The figures of several disjoint spans of one history (years), as one."""
    total = AllTime()
    for part in parts:
        total = AllTime(
            _add_traffic(total.views, part.views),
            _add_traffic(total.clones, part.clones),
            total.dates + part.dates,
            _add_counters(total.counters, part.counters),
        )
    return total


def prune(parts: Mapping[int, AllTime]) -> dict[int, AllTime]:
    """What is worth storing of a history's years: per-day readings dropped (a run reads the
    days it draws), and weekly figures once the whole span is past what a weekly chart shows
    (a history never shrinks, so they are never needed again)."""
    first = min((p.first for p in parts.values() if p.first), default=None)
    last = max((p.last for p in parts.values() if p.last), default=None)
    keep_weeks = _spans_at_most(first, last, weeks=MAX_PERIODS)
    counted = [p.counters for p in parts.values() if p.counters.first and p.counters.last]
    keep_readings = _spans_at_most(
        min((c.first for c in counted if c.first), default=None),
        max((c.last for c in counted if c.last), default=None),
        weeks=DAYS,
    )
    out: dict[int, AllTime] = {}
    for year, part in parts.items():
        views, clones, counters = part.views, part.clones, part.counters
        if not keep_weeks:
            views, clones = replace(views, weeks=None), replace(clones, weeks=None)
        if counters.first is not None:
            counters = replace(counters, days=None, weeks=counters.weeks if keep_readings else None)
        out[year] = AllTime(views, clones, part.dates, counters)
    return out


def _spans_at_most(first: dt.date | None, last: dt.date | None, *, weeks: int) -> bool:
    """Whether first..last fits in `weeks` calendar weeks (Monday to Sunday), as charts cut."""
    if first is None or last is None:
        return True
    return (_monday(last) - _monday(first)).days // 7 + 1 <= weeks


def _traffic(rows: Sequence[DailyRow]) -> Traffic:
    if not rows:
        return Traffic()
    weeks: dict[dt.date, Sum] = {}
    months: dict[dt.date, Sum] = {}
    # rows come sorted by date: each week's and month's rows are summed in one pass
    for sums, start_of in ((weeks, _monday), (months, _first_of_month)):
        key: dt.date | None = None
        end = dt.date.min
        total = days = 0
        final = True
        for row in sorted(rows, key=_date_of):
            if row.date > end:
                if key is not None:
                    sums[key] = Sum(total, days, final)
                key = start_of(row.date)
                end = _period_end(key, weekly=sums is weeks)
                total = days = 0
                final = True
            total += row.count
            days += 1
            final = final and row.final
        if key is not None:
            sums[key] = Sum(total, days, final)
    active = [row.date for row in rows if row.count > 0]
    return Traffic(
        first=min(row.date for row in rows),
        last=max(row.date for row in rows),
        active=max(active, default=None),
        count=sum(row.count for row in rows),
        weeks=weeks,
        months=months,
    )


def _date_of(row: DailyRow | StatsRow) -> dt.date:
    return row.date


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _period_end(start: dt.date, *, weekly: bool) -> dt.date:
    if weekly:
        return start + dt.timedelta(days=6)
    following = (start + dt.timedelta(days=31)).replace(day=1)
    return following - dt.timedelta(days=1)


def _counters(history: History) -> Counters:
    if not history.stats:
        return Counters()
    days = {row.date: Reading(row.date, row.stars, row.forks) for row in history.stats}
    weeks: dict[dt.date, Reading] = {}
    months: dict[dt.date, Reading] = {}
    for day in sorted(days):
        weeks[_monday(day)] = days[day]
        months[day.replace(day=1)] = days[day]
    return Counters(min(days), max(days), days, weeks, months)


def _add_traffic(a: Traffic, b: Traffic) -> Traffic:
    weeks = None if a.weeks is None or b.weeks is None else _add_sums(a.weeks, b.weeks)
    return Traffic(
        first=_min(a.first, b.first),
        last=_max(a.last, b.last),
        active=_max(a.active, b.active),
        count=a.count + b.count,
        weeks=weeks,
        months=_add_sums(a.months, b.months),
    )


def _add_sums(a: Mapping[dt.date, Sum], b: Mapping[dt.date, Sum]) -> dict[dt.date, Sum]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, Sum()) + value
    return out


def _add_counters(a: Counters, b: Counters) -> Counters:
    def newest(
        x: Mapping[dt.date, Reading] | None, y: Mapping[dt.date, Reading] | None
    ) -> dict[dt.date, Reading] | None:
        if x is None or y is None:
            return None
        out = dict(x)
        for key, reading in y.items():
            if key not in out or reading.date > out[key].date:
                out[key] = reading
        return out

    months = newest(a.months, b.months)
    assert months is not None  # noqa: S101 - months are always kept
    return Counters(
        _min(a.first, b.first),
        _max(a.last, b.last),
        newest(a.days, b.days),
        newest(a.weeks, b.weeks),
        months,
    )


def _min(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return b if a is None else a if b is None else max(a, b)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# --- the index ---------------------------------------------------------------------------------


def index_row(history: History, figures: AllTime | None = None) -> IndexRow:
    """The index row of a history; `figures` (its all-time figures) stand in for the rows it
    does not hold (the years a run did not read)."""
    figures = figures or of_rows(history)
    return IndexRow(
        stats=history.stats[-1] if history.stats else None,
        active=_max(figures.views.active, figures.clones.active),
        first_views=figures.views.first,
        first_clones=figures.clones.first,
        views=_newest_days(history.views),
        clones=_newest_days(history.clones),
        starred=bool(history.stars),
        stars=_stars_shown(history),
    )


def _stars_shown(history: History) -> tuple[GrowthRow, ...]:
    """The stars rows the index's weekly trend can draw: those of the newest `DAYS` days up to
    the repo's newest views or clones day (the trend ends at the branch's newest day, never
    earlier); all of them for a repo with neither."""
    newest = [rows[-1].date for rows in (history.views, history.clones) if rows]
    if not newest:
        return history.stars
    since = max(newest) - dt.timedelta(days=DAYS - 1)
    return tuple(row for row in history.stars if row.date >= since)


def _newest_days(rows: Sequence[DailyRow]) -> tuple[DailyRow, ...]:
    if not rows:
        return ()
    since = rows[-1].date - dt.timedelta(days=DAYS - 1)
    return tuple(row for row in rows if row.date >= since)


# --- files -------------------------------------------------------------------------------------


def encode_all_time(parts: Mapping[int, AllTime], *, source: str) -> bytes:
    """The stored form of a repo's figures per year (`prune`d); `source` names the period files
    they were made from (their folder's fingerprint). It carries a checksum of itself, so a
    file edited by hand is noticed and rebuilt."""
    years = {str(year): _figures_json(part) for year, part in sorted(prune(parts).items())}
    return _with_check({"schema": SCHEMA, "source": source, "years": years})


def decode_all_time(data: bytes, *, source: str) -> dict[int, AllTime] | None:
    """The figures per year stored in `data` if they are intact and were made from `source`,
    else None (then they are rebuilt from the period files)."""
    body = _checked(data)
    if body is None or body.get("schema") != SCHEMA or body.get("source") != source:
        return None
    try:
        return {int(year): _figures_of(part) for year, part in body["years"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def encode_index(rows: Mapping[str, tuple[str, IndexRow]]) -> bytes:
    """The stored index rows, by repo full name, each with the source (the repo folder's git
    tree id) it was made from."""
    repos = {
        name: {"source": source, **_index_json(row)} for name, (source, row) in sorted(rows.items())
    }
    return _with_check({"schema": INDEX_SCHEMA, "repos": repos})


def decode_index(data: bytes | None) -> dict[str, tuple[str, IndexRow]]:
    """The stored index rows with their sources; {} for a missing or damaged file (then every
    row is rebuilt), and a row that cannot be read is left out (and rebuilt)."""
    body = _checked(data) if data is not None else None
    repos = body.get("repos") if body and body.get("schema") == INDEX_SCHEMA else None
    if not isinstance(repos, dict):
        return {}
    rows: dict[str, tuple[str, IndexRow]] = {}
    made: dict[tuple[Any, ...], DailyRow] = {}  # rows alike are one object (quiet repos' zeros)
    for name, entry in repos.items():
        try:
            rows[name] = (str(entry["source"]), _index_of(entry, made))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return rows


def _with_check(body: dict[str, Any]) -> bytes:
    """`{"body":<body>,"check":"<sha-256 of the body's text>"}`, compact and sorted."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    check = hashlib.sha256(text.encode()).hexdigest()
    return f'{_BODY}{text}{_CHECK}{check}"}}\n'.encode()


_BODY, _CHECK = '{"body":', ',"check":"'
_TAIL = len(_CHECK) + 64 + 3  # the check's key, its 64 hex digits, `"}` and the newline


def _checked(data: bytes) -> dict[str, Any] | None:
    """The body of a file `_with_check` wrote, when its text is still the one its check was
    taken of (any edit, reformatting included, makes it None: the file is rebuilt)."""
    if not data.startswith(_BODY.encode()) or len(data) < len(_BODY) + _TAIL:
        return None
    text = data[len(_BODY) : -_TAIL]
    tail = data[-_TAIL:]
    if tail[: len(_CHECK)] != _CHECK.encode() or tail[-3:] != b'"}\n':
        return None
    if tail[len(_CHECK) : -3] != hashlib.sha256(text).hexdigest().encode():
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _figures_json(figures: AllTime) -> dict[str, Any]:
    counters = figures.counters
    return {
        "views": _traffic_json(figures.views),
        "clones": _traffic_json(figures.clones),
        "dates": figures.dates,
        "counters": {
            "first": _day(counters.first),
            "last": _day(counters.last),
            "weeks": None if counters.weeks is None else _readings_json(counters.weeks),
            "months": _readings_json(counters.months),
        },
    }


def _figures_of(data: Mapping[str, Any]) -> AllTime:
    counters = data["counters"]
    weeks, first = counters["weeks"], _date(counters["first"])
    return AllTime(
        _traffic_of(data["views"]),
        _traffic_of(data["clones"]),
        int(data["dates"]),
        Counters(
            first,
            _date(counters["last"]),
            None if first is not None else {},  # per-day readings are not stored
            None if weeks is None else _readings_of(weeks),
            _readings_of(counters["months"]),
        ),
    )


def _traffic_json(traffic: Traffic) -> dict[str, Any]:
    return {
        "first": _day(traffic.first),
        "last": _day(traffic.last),
        "active": _day(traffic.active),
        "count": traffic.count,
        "weeks": None if traffic.weeks is None else _sums_json(traffic.weeks),
        "months": _sums_json(traffic.months),
    }


def _traffic_of(data: Mapping[str, Any]) -> Traffic:
    weeks = data["weeks"]
    return Traffic(
        _date(data["first"]),
        _date(data["last"]),
        _date(data["active"]),
        int(data["count"]),
        None if weeks is None else _sums_of(weeks),
        _sums_of(data["months"]),
    )


def _sums_json(sums: Mapping[dt.date, Sum]) -> list[list[Any]]:
    return [[day.isoformat(), s.total, s.days, s.final] for day, s in sorted(sums.items())]


def _sums_of(data: Iterable[Sequence[Any]]) -> dict[dt.date, Sum]:
    return {dt.date.fromisoformat(d): Sum(int(t), int(n), bool(f)) for d, t, n, f in data}


def _readings_json(readings: Mapping[dt.date, Reading]) -> list[list[Any]]:
    return [
        [k.isoformat(), r.date.isoformat(), r.stars, r.forks] for k, r in sorted(readings.items())
    ]


def _readings_of(data: Iterable[Sequence[Any]]) -> dict[dt.date, Reading]:
    return {
        dt.date.fromisoformat(k): Reading(dt.date.fromisoformat(d), int(s), int(f))
        for k, d, s, f in data
    }


def _index_json(row: IndexRow) -> dict[str, Any]:
    stats = row.stats
    return {
        "stats": None
        if stats is None
        else [
            stats.date.isoformat(),
            stats.stars,
            stats.forks,
            stats.watchers,
            stats.open_issues,
            stats.views_14d,
            stats.view_uniques_14d,
            stats.clones_14d,
            stats.clone_uniques_14d,
        ],
        "active": _day(row.active),
        "first_views": _day(row.first_views),
        "first_clones": _day(row.first_clones),
        "views": _days_json(row.views),
        "clones": _days_json(row.clones),
        "starred": row.starred,
        "stars": [[r.date.isoformat(), r.new, r.total] for r in row.stars],
    }


def _index_of(data: Mapping[str, Any], made: dict[tuple[Any, ...], DailyRow]) -> IndexRow:
    stats = data["stats"]
    return IndexRow(
        stats=None
        if stats is None
        else StatsRow(dt.date.fromisoformat(stats[0]), *(int(v) for v in stats[1:9])),
        active=_date(data["active"]),
        first_views=_date(data["first_views"]),
        first_clones=_date(data["first_clones"]),
        views=_days_of(data["views"], made),
        clones=_days_of(data["clones"], made),
        starred=bool(data["starred"]),
        stars=tuple(
            GrowthRow(dt.date.fromisoformat(d), int(n), int(s)) for d, n, s in data["stars"]
        ),
    )


def _days_json(rows: Sequence[DailyRow]) -> list[Any] | None:
    """Daily rows (sorted, one per day) as columns: `[first day, counts, uniques, finals]`, a
    slot per day from the first to the last, `null` and `-` for a day without a row, `1` for a
    final row and `0` for one that is not."""
    if not rows:
        return None
    first = rows[0].date
    size = (rows[-1].date - first).days + 1
    counts: list[int | None] = [None] * size
    uniques: list[int | None] = [None] * size
    finals = ["-"] * size
    for row in rows:
        at = (row.date - first).days
        counts[at], uniques[at], finals[at] = row.count, row.uniques, "1" if row.final else "0"
    return [first.isoformat(), counts, uniques, "".join(finals)]


def _days_of(
    data: Sequence[Any] | None, made: dict[tuple[Any, ...], DailyRow]
) -> tuple[DailyRow, ...]:
    if data is None:
        return ()
    first, counts, uniques, finals = data
    day = _day_of(first)
    rows = []
    for count, unique, final in zip(counts, uniques, finals, strict=True):
        if final != "-":
            key = (day, count, unique, final)
            row = made.get(key)
            if row is None:
                if type(count) is not int or type(unique) is not int or final not in "01":
                    raise ValueError(f"not a day's row: {key}")
                row = made[key] = DailyRow(day, count, unique, final == "1")
            rows.append(row)
        day += _ONE_DAY
    return tuple(rows)


_ONE_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=1024)
def _day_of(text: str) -> dt.date:
    """A day of the index rows: every repo's rows hold the same few months of days, so each
    is made once (10,000 repos' rows hold two million of them)."""
    return dt.date.fromisoformat(text)


def _day(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: Any) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)
