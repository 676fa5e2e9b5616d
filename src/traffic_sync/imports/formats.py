"""History kept by the tools users switch from, read into traffic-sync's datasets. Pure: files
in (name -> text), a `History` and a report out; nothing here touches a disk or a branch.

Two tools, read from their own code (the formats below are theirs, not ours):

- jgehrcke/github-repo-stats (GHRS) keeps, per repo, a folder `ghrs-data/` in its data branch:
  `views_clones_aggregate.csv` (`time_iso8601,clones_total,clones_unique,views_total,
  views_unique`, one row per UTC day at `2020-12-01 00:00:00+00:00`: GHRS merges its fetches by
  the max per day, as traffic-sync does, and reads an empty cell as 0), `stargazers.csv` and
  `forks.csv` (`time_iso8601,stars_cumulative` / `forks_cumulative`: the running count at a
  time; the test data of GHRS names them `stars.csv`, and a raw `stars-raw.csv` has one row per
  star), `stargazer-snapshots.csv` (`time_iso8601,stargazers_cumulative_snapshot`: GitHub's
  net count now and then, for repos past REST's 40,000 listed stars; `stars-snapshots.csv` in
  its test data), and `snapshots/<%Y-%m-%d_%H%M%S>_top_referrers_snapshot.csv`
  (`referrer,views_total,views_unique`) and `..._top_paths_snapshot.csv` (`url_path,
  views_total,views_unique`; older files say `referrers`, `path`, `count_total`,
  `count_unique`), one pair per run, the file name holding the run's UTC time. A run that
  failed before its analysis leaves `..._views_clones_series_fragment.csv` files there too
  (one fetch's window, same columns as the aggregate).
- sangonzal/repository-traffic-action keeps `traffic/views.csv` (`_date,total_views,
  unique_views`) and `traffic/clones.csv` (`_date,total_clones,unique_clones`), a row per day
  as pandas wrote PyGithub's bucket timestamps (`2021-03-01`, or `2021-03-01 00:00:00+00:00`
  with PyGithub 2). A day seen again replaces its row when either number grew, and a file
  written by both PyGithub versions can hold a day twice in the two spellings.

How they map: views and clones rows merge by the max per day (either tool's duplicates
included); a day is `final` when it is at least two days older than the newest day the folder
shows the tool ran (then some fetch saw it inside GitHub's complete F-13..F-2 range, as long as
the tool ran at least every 12 days); days the tool never recorded stay absent, not zero-filled
(a gap is not a day without traffic). GHRS's cumulative stars and forks become a row per UTC
day: `new` is the day's highest count less the previous day's (never below 0: the net snapshots can
drop after unstars). Referrer and path snapshots are dated by the run's UTC day; of two runs on
one day the later one replaces the earlier. GHRS keeps no page titles (paths get an empty
title), nothing becomes a `stats` row (neither tool kept watchers, open issues or the 14-day
totals), and neither tool kept release downloads.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from traffic_sync.core.errors import TrafficSyncError
from traffic_sync.core.growth import GrowthRow, merge_growth
from traffic_sync.core.history import merge_daily
from traffic_sync.core.models import DailyRow, History, PathRow, ReferrerRow

FINAL_AFTER_DAYS = 2  # a day this much older than the tool's last run is final (F-2)
SNAPSHOT_NAME = re.compile(
    r"(?P<time>[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{6})_"
    r"(?P<kind>top_referrers_snapshot|top_paths_snapshot|views_clones_series_fragment)\.csv"
)


class Tool(StrEnum):
    """The tools an import reads (`--from`)."""

    GHRS = "ghrs"
    SANGONZAL = "sangonzal"


class ImportFormatError(TrafficSyncError):
    """A file of the folder to import cannot be read: nothing is written."""

    title = "Cannot import"


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something an import left out, and why."""

    what: str
    why: str


@dataclass(frozen=True, slots=True)
class Imported:
    """What a folder holds, as traffic-sync's datasets, and what was left out."""

    history: History
    files: tuple[str, ...]  # the files read, by name inside the folder
    skipped: tuple[Skipped, ...] = ()
    last_run: dt.date | None = None  # the newest day the folder shows the tool ran


@dataclass
class _Reading:
    """An import while its files are read."""

    views: list[DailyRow] = field(default_factory=list)
    clones: list[DailyRow] = field(default_factory=list)
    referrers: dict[dt.date, tuple[str, list[ReferrerRow]]] = field(default_factory=dict)
    paths: dict[dt.date, tuple[str, list[PathRow]]] = field(default_factory=dict)
    stars: tuple[GrowthRow, ...] = ()
    forks: tuple[GrowthRow, ...] = ()
    days: set[dt.date] = field(default_factory=set)  # days the tool is known to have run
    files: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# --- the tools' folders -----------------------------------------------------------------------

GHRS_AGGREGATE = "views_clones_aggregate.csv"
GHRS_STARS = ("stargazers.csv", "stars.csv", "stars-raw.csv")
GHRS_FORKS = ("forks.csv", "forks-raw.csv")
GHRS_STAR_SNAPSHOTS = ("stargazer-snapshots.csv", "stars-snapshots.csv")
_VIEWS_CLONES = ("time_iso8601", "clones_total", "clones_unique", "views_total", "views_unique")
SANGONZAL_VIEWS = "views.csv"
SANGONZAL_CLONES = "clones.csv"


def wanted_files(tool: Tool, names: Iterable[str]) -> tuple[str, ...]:
    """Which of a folder's files (names inside it, `snapshots/x.csv` for a subfolder's) an
    import of `tool` reads."""
    if tool is Tool.SANGONZAL:
        known = {SANGONZAL_VIEWS, SANGONZAL_CLONES}
        return tuple(sorted(n for n in names if n in known))
    known = {GHRS_AGGREGATE, *GHRS_STARS, *GHRS_FORKS, *GHRS_STAR_SNAPSHOTS}
    return tuple(
        sorted(
            n
            for n in names
            if n in known
            or (
                n.startswith("snapshots/") and SNAPSHOT_NAME.fullmatch(n.removeprefix("snapshots/"))
            )
        )
    )


def read_import(tool: Tool, files: Mapping[str, str], *, where: str) -> Imported:
    """The history in a tool's folder (`files`: name inside it -> text), or ImportFormatError
    naming the file (`where/name`) and line it cannot read."""
    if tool is Tool.GHRS:
        return read_ghrs(files, where=where)
    return read_sangonzal(files, where=where)


def read_ghrs(files: Mapping[str, str], *, where: str) -> Imported:
    """A GHRS `ghrs-data` folder; `views_clones_aggregate.csv` must be there."""
    if GHRS_AGGREGATE not in files:
        raise _missing(where, GHRS_AGGREGATE, "the views and clones GHRS keeps")
    reading = _Reading()
    _read_views_clones(reading, GHRS_AGGREGATE, files[GHRS_AGGREGATE], where=where)
    for name in sorted(files):
        match = SNAPSHOT_NAME.fullmatch(name.removeprefix("snapshots/"))
        if match is None or not name.startswith("snapshots/"):
            continue
        day = _snapshot_day(match["time"], where=f"{where}/{name}")
        reading.days.add(day)
        if match["kind"] == "views_clones_series_fragment":
            _read_views_clones(reading, name, files[name], where=where)
        elif match["kind"] == "top_referrers_snapshot":
            _read_referrers(reading, name, files[name], day=day, time=match["time"], where=where)
        else:
            _read_paths(reading, name, files[name], day=day, time=match["time"], where=where)
    stars_file = next((n for n in GHRS_STARS if n in files), None)
    snapshots_file = next((n for n in GHRS_STAR_SNAPSHOTS if n in files), None)
    stars: list[tuple[dt.datetime, int]] = []
    if stars_file is not None:
        stars = _read_cumulative(reading, stars_file, files[stars_file], "stars_cumulative", where)
    if snapshots_file is not None:
        counts = _read_cumulative(
            reading, snapshots_file, files[snapshots_file], "stargazers_cumulative_snapshot", where
        )
        reading.days.update(_utc_day(stamp) for stamp, _ in counts)
        if stars:
            # as GHRS does: the net counts go on where the listed stars end (past 40,000)
            stars += [(stamp, count) for stamp, count in counts if stamp > stars[-1][0]]
        else:
            reading.skipped.append(
                Skipped(
                    snapshots_file,
                    "net star counts without the stars' own days: they cannot say on which "
                    "days the stars came (traffic-sync fetches the whole history itself)",
                )
            )
    reading.stars = _daily_growth(stars)
    forks_file = next((n for n in GHRS_FORKS if n in files), None)
    if forks_file is not None:
        forks = _read_cumulative(reading, forks_file, files[forks_file], "forks_cumulative", where)
        reading.forks = _daily_growth(forks)
    used = {stars_file, snapshots_file, forks_file}
    reading.skipped += [
        Skipped(name, f"{chosen} holds the same series and is read instead")
        for group, chosen in (
            (GHRS_STARS, stars_file),
            (GHRS_STAR_SNAPSHOTS, snapshots_file),
            (GHRS_FORKS, forks_file),
        )
        for name in group
        if name in files and name not in used
    ]
    reading.skipped += [
        Skipped("stats", "GHRS keeps no daily watchers, open issues or 14-day totals"),
        Skipped("paths titles", "GHRS keeps no page titles: imported paths have an empty title"),
        Skipped("releases", "GHRS keeps no release downloads"),
    ]
    if reading.stars or reading.forks:
        reading.days.update(row.date for row in (*reading.stars[-1:], *reading.forks[-1:]))
    return _imported(reading)


def read_sangonzal(files: Mapping[str, str], *, where: str) -> Imported:
    """A repository-traffic-action `traffic` folder: `views.csv` and `clones.csv`."""
    for name, what in ((SANGONZAL_VIEWS, "the views"), (SANGONZAL_CLONES, "the clones")):
        if name not in files:
            raise _missing(where, name, f"{what} repository-traffic-action keeps")
    reading = _Reading()
    for name, metric in ((SANGONZAL_VIEWS, "views"), (SANGONZAL_CLONES, "clones")):
        columns = ("_date", f"total_{metric}", f"unique_{metric}")
        rows = getattr(reading, metric)
        for line, cells in _rows(files[name], columns, path=f"{where}/{name}"):
            day = _day_of(cells["_date"], path=f"{where}/{name}", line=line)
            count = _count(cells[columns[1]], path=f"{where}/{name}", line=line)
            uniques = _count(cells[columns[2]], path=f"{where}/{name}", line=line)
            rows.append(DailyRow(day, count, uniques, final=False))
            reading.days.add(day)
        reading.files.append(name)
    reading.skipped += [
        Skipped(
            "referrers, paths, stars, forks, stats, releases",
            "repository-traffic-action keeps views and clones only",
        ),
    ]
    return _imported(reading)


# --- one file kind each -----------------------------------------------------------------------


def _read_views_clones(reading: _Reading, name: str, text: str, *, where: str) -> None:
    path = f"{where}/{name}"
    for line, cells in _rows(text, _VIEWS_CLONES, path=path):
        day = _day_of(cells["time_iso8601"], path=path, line=line)
        # GHRS reads an empty cell (a day one metric lacks in a fetch) as 0
        number = {c: _count(cells[c], path=path, line=line, empty=0) for c in _VIEWS_CLONES[1:]}
        reading.views.append(DailyRow(day, number["views_total"], number["views_unique"], False))
        reading.clones.append(DailyRow(day, number["clones_total"], number["clones_unique"], False))
        reading.days.add(day)
    reading.files.append(name)


def _read_referrers(
    reading: _Reading, name: str, text: str, *, day: dt.date, time: str, where: str
) -> None:
    path = f"{where}/{name}"
    rows = [
        ReferrerRow(
            day,
            cells["referrer"],
            _count(cells["views_total"], path=path, line=line),
            _count(cells["views_unique"], path=path, line=line),
        )
        for line, cells in _rows(
            text, ("referrer", "views_total", "views_unique"), path=path, renames=_GHRS_RENAMES
        )
    ]
    _keep_latest(reading.referrers, day, time, rows)
    reading.files.append(name)


def _read_paths(
    reading: _Reading, name: str, text: str, *, day: dt.date, time: str, where: str
) -> None:
    path = f"{where}/{name}"
    rows = [
        PathRow(
            day,
            cells["url_path"],
            "",
            _count(cells["views_total"], path=path, line=line),
            _count(cells["views_unique"], path=path, line=line),
        )
        for line, cells in _rows(
            text, ("url_path", "views_total", "views_unique"), path=path, renames=_GHRS_RENAMES
        )
    ]
    _keep_latest(reading.paths, day, time, rows)
    reading.files.append(name)


# the older column names GHRS still reads (analyze.py, top_x_snapshots_rename_columns)
_GHRS_RENAMES = {
    "referrers": "referrer",
    "path": "url_path",
    "count_total": "views_total",
    "count_unique": "views_unique",
}


Snapshot = TypeVar("Snapshot", ReferrerRow, PathRow)


def _keep_latest(
    by_day: dict[dt.date, tuple[str, list[Snapshot]]],
    day: dt.date,
    time: str,
    rows: list[Snapshot],
) -> None:
    """Of two snapshots of one day, the later run's replaces the earlier's."""
    held = by_day.get(day)
    if held is None or held[0] < time:
        by_day[day] = (time, rows)


def _read_cumulative(
    reading: _Reading, name: str, text: str, column: str, where: str
) -> list[tuple[dt.datetime, int]]:
    path = f"{where}/{name}"
    points = [
        (
            _time_of(cells["time_iso8601"], path=path, line=line),
            _count(cells[column], path=path, line=line),
        )
        for line, cells in _rows(text, ("time_iso8601", column), path=path)
    ]
    reading.files.append(name)
    return sorted(points)


def _daily_growth(points: list[tuple[dt.datetime, int]]) -> tuple[GrowthRow, ...]:
    """Cumulative counts at times -> a row per UTC day: the day's highest count (as GHRS
    resamples) less the day before's (not below 0), the first day's count whole."""
    last_of_day: dict[dt.date, int] = {}
    for stamp, count in points:
        day = _utc_day(stamp)
        last_of_day[day] = max(last_of_day.get(day, 0), count)
    rows = []
    before = 0
    for day in sorted(last_of_day):
        rows.append(GrowthRow(day, max(0, last_of_day[day] - before), 0))
        before = last_of_day[day]
    return merge_growth(rows)


def _imported(reading: _Reading) -> Imported:
    last_run = max(reading.days, default=None)
    settled = (last_run - dt.timedelta(days=FINAL_AFTER_DAYS)) if last_run else dt.date.min

    def finals(rows: list[DailyRow]) -> tuple[DailyRow, ...]:
        return merge_daily(
            DailyRow(r.date, r.count, r.uniques, final=r.date <= settled) for r in rows
        )

    history = History(
        views=finals(reading.views),
        clones=finals(reading.clones),
        referrers=tuple(r for day in sorted(reading.referrers) for r in _sorted(reading, day)),
        paths=tuple(r for day in sorted(reading.paths) for r in _sorted_paths(reading, day)),
        stars=reading.stars,
        forks=reading.forks,
    )
    return Imported(history, tuple(reading.files), tuple(reading.skipped), last_run)


def _sorted(reading: _Reading, day: dt.date) -> list[ReferrerRow]:
    return sorted(set(reading.referrers[day][1]), key=lambda r: (r.referrer, r.count, r.uniques))


def _sorted_paths(reading: _Reading, day: dt.date) -> list[PathRow]:
    return sorted(set(reading.paths[day][1]), key=lambda r: (r.path, r.title, r.count, r.uniques))


# --- cells --------------------------------------------------------------------------------------


def _rows(
    text: str,
    columns: tuple[str, ...],
    *,
    path: str,
    renames: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells by column) of a CSV file whose header names exactly `columns` (in
    any order; `renames` maps older names to them)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    names = [(renames or {}).get(name.strip(), name.strip()) for name in header or []]
    if sorted(names) != sorted(columns):
        raise _bad(
            path,
            1,
            f"its header is {','.join(header or [])!r}, not the columns {','.join(columns)}",
        )
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (GHRS's own test data ends with some)
        if len(cells) != len(names):
            raise _bad(path, line, f"it has {len(cells)} cells, the header {len(names)}")
        yield line, dict(zip(names, cells, strict=True))


def _count(text: str, *, path: str, line: int, empty: int | None = None) -> int:
    """A count: a whole number >= 0 (`12`, or `12.0` as pandas writes a float column)."""
    value = text.strip()
    if not value and empty is not None:
        return empty
    try:
        number = float(value) if "." in value else int(value)
    except ValueError:
        number = -1
    if number < 0 or number != int(number):
        raise _bad(path, line, f"{text!r} is not a count (a whole number, 0 or more)")
    return int(number)


def _time_of(text: str, *, path: str, line: int) -> dt.datetime:
    """A timestamp as pandas writes one (`2021-01-22 23:08:44+00:00`, `2021-01-22`), in UTC;
    one without a zone is UTC, as GitHub's are."""
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise _bad(
            path, line, f"{text!r} is not a timestamp (like 2021-01-22 23:08:44+00:00)"
        ) from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


def _day_of(text: str, *, path: str, line: int) -> dt.date:
    return _time_of(text, path=path, line=line).date()


def _utc_day(stamp: dt.datetime) -> dt.date:
    return stamp.astimezone(dt.UTC).date()


def _snapshot_day(time: str, *, where: str) -> dt.date:
    try:
        return dt.datetime.strptime(time, "%Y-%m-%d_%H%M%S").replace(tzinfo=dt.UTC).date()
    except ValueError as exc:
        raise ImportFormatError(
            f"{where}: its name does not start with a time (%Y-%m-%d_%H%M%S, UTC).",
            fix="Rename or remove the file, then import again; nothing was written.",
        ) from exc


def _bad(path: str, line: int, why: str) -> ImportFormatError:
    return ImportFormatError(
        f"{path}, line {line}: {why}.",
        fix="Nothing was written. Fix that line (or remove the file if it is not the tool's), "
        "then import again.",
    )


def _missing(where: str, name: str, what: str) -> ImportFormatError:
    return ImportFormatError(
        f"{where}/{name} is missing: it holds {what}.",
        fix="Nothing was written. Give the folder that holds it (check out the old tool's data "
        "branch and point the import at that folder).",
    )
