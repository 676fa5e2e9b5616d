"""Records <-> deterministic JSON and CSV text, one file per dataset and period.

A repo folder keeps each dataset in period files (layout 2): `views/2026.json` holds the views
of the days of 2026, `referrers/2026/01.json` the referrer snapshots taken in January 2026
(views, clones, stats, stars and forks by year; referrers, paths and releases, many rows a day,
by month, in a folder per year; their period is named `2026-01`). A row lives in the file of
its date's period, and a period file exists once it has a row. `split_periods` and
`join_periods` are the pure split and its inverse; `encode_history`
gives a folder's files.

JSON is the source of truth: an array of row objects with exactly the CSV's columns, in the
CSV's order, one row per line (so a new day is a one-line diff on github.com). The same rows
always give the same bytes ("\\n" line ends, a trailing newline), so a run that learns nothing
new changes no file and makes no commit.

A run only changes a repo's newest rows, so a file this tool wrote (and nobody changed since)
is updated at its tail: `read_window` reads the rows from a date on and `write_window` replaces
them, keeping every older line byte for byte. A file of unknown origin goes through the strict
`decode_json`, which refuses what it cannot trust.

Stars and forks rows carry `total`, the running sum of `new` over every stored row, across
period files: the first row of `stars/2026.json` goes on from the last of `stars/2025.json`. The
total is derived: the strict reader recomputes it over all the periods it reads, and
`total_before` reads the total a period's rows go on from off one period file alone (so a
write of the newest period needs no older file; see `folders.write_periods`).

Layout 1 kept each dataset in one whole file (`views.json`); `decode_layout1` reads such a
folder so that a run can move it to layout 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Generic, TypeVar

from traffic_sync.core.errors import HistoryFormatError
from traffic_sync.core.growth import GrowthRow, carry_from, merge_growth
from traffic_sync.core.models import DailyRow, History, PathRow, ReferrerRow, ReleaseRow, StatsRow

Row = TypeVar("Row", DailyRow, ReferrerRow, PathRow, StatsRow, GrowthRow, ReleaseRow)
Cell = str | int

_EMPTY_JSON = "[]\n"
_EMPTY_JSON_BYTES = _EMPTY_JSON.encode()
_JSON_DATE_AT = len('  {"date": "')  # every JSON row line starts so, the row's date follows
_COMMA = ord(",")
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")  # a month's period: its file `2026/01`
_FLAT_MONTH = _MONTH  # the name of a month file of layout 2's first, flat form


@dataclass(frozen=True)
class Dataset(Generic[Row]):
    """One of the eight datasets of a repo: its name (its folder's), columns in CSV order, and
    how a row is written.

    `kinds` names each column's type for the strict reader: date, count, flag or text.
    `from_csv` reads rows from CSV lines this tool wrote (no checks), for the datasets without
    text columns, whose every row is one line of plain cells. `monthly` datasets keep a file a
    month (period `YYYY-MM`, file `YYYY/MM`), the others a file a year (`YYYY`).
    """

    name: str
    row_type: type[Row]
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    csv_cells: Callable[[Row], tuple[Cell, ...]]
    json_object: Callable[[Row], str]
    from_csv: Callable[[list[str]], list[Row]] | None = None  # only for datasets without text
    monthly: bool = False
    _rest: Callable[[dict[str, Any]], tuple[Any, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # every dataset has at least two columns after the date, so this returns a tuple
        object.__setattr__(self, "_rest", itemgetter(*self.columns[1:]))

    def period(self, day: dt.date) -> str:
        """The name of the period file that holds the rows of `day` (without extension)."""
        return f"{day.year:04}-{day.month:02}" if self.monthly else f"{day.year:04}"

    def is_period(self, name: str) -> bool:
        """Whether `name` is a period of this dataset (`2026` or `2026-01`)."""
        return (_MONTH if self.monthly else _YEAR).fullmatch(name) is not None

    def from_json(self, item: dict[str, Any]) -> Row:
        """A row from one object of a file this tool wrote (no checks: see `decode_json`)."""
        return self.row_type(dt.date.fromisoformat(item["date"]), *self._rest(item))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _daily_json(r: DailyRow) -> str:
    return (
        f'{{"date": "{r.date.isoformat()}", "count": {r.count}, "uniques": {r.uniques}, '
        f'"final": {_flag(r.final)}}}'
    )


def _referrer_json(r: ReferrerRow) -> str:
    return (
        f'{{"date": "{r.date.isoformat()}", "referrer": {_text(r.referrer)}, '
        f'"count": {r.count}, "uniques": {r.uniques}}}'
    )


def _path_json(r: PathRow) -> str:
    return (
        f'{{"date": "{r.date.isoformat()}", "path": {_text(r.path)}, "title": {_text(r.title)}, '
        f'"count": {r.count}, "uniques": {r.uniques}}}'
    )


def _stats_json(r: StatsRow) -> str:
    return (
        f'{{"date": "{r.date.isoformat()}", "stars": {r.stars}, "forks": {r.forks}, '
        f'"watchers": {r.watchers}, "open_issues": {r.open_issues}, '
        f'"views_14d": {r.views_14d}, "view_uniques_14d": {r.view_uniques_14d}, '
        f'"clones_14d": {r.clones_14d}, "clone_uniques_14d": {r.clone_uniques_14d}}}'
    )


def _growth_json(r: GrowthRow) -> str:
    return f'{{"date": "{r.date.isoformat()}", "new": {r.new}, "total": {r.total}}}'


def _release_json(r: ReleaseRow) -> str:
    return (
        f'{{"date": "{r.date.isoformat()}", "tag": {_text(r.tag)}, "asset": {_text(r.asset)}, '
        f'"downloads": {r.downloads}}}'
    )


def _growth_from_csv(lines: list[str]) -> list[GrowthRow]:
    day = dt.date.fromisoformat
    cells = map(str.split, lines, itertools.repeat(","))
    return [GrowthRow(day(d), int(n), int(t)) for d, n, t in cells]


def _daily_csv(r: DailyRow) -> tuple[Cell, ...]:
    return (r.date.isoformat(), r.count, r.uniques, _flag(r.final))


def _daily_from_csv(lines: list[str]) -> list[DailyRow]:
    day = dt.date.fromisoformat
    cells = map(str.split, lines, itertools.repeat(","))
    return [DailyRow(day(d), int(c), int(u), f == "true") for d, c, u, f in cells]


def _stats_from_csv(lines: list[str]) -> list[StatsRow]:
    day = dt.date.fromisoformat
    cells = map(str.split, lines, itertools.repeat(","))
    return [
        StatsRow(day(d), int(s), int(f), int(w), int(i), int(v), int(vu), int(c), int(cu))
        for d, s, f, w, i, v, vu, c, cu in cells
    ]


_DAILY_COLUMNS = ("date", "count", "uniques", "final")
_DAILY_KINDS = ("date", "count", "count", "flag")

VIEWS: Dataset[DailyRow] = Dataset(
    "views", DailyRow, _DAILY_COLUMNS, _DAILY_KINDS, _daily_csv, _daily_json, _daily_from_csv
)
CLONES: Dataset[DailyRow] = Dataset(
    "clones", DailyRow, _DAILY_COLUMNS, _DAILY_KINDS, _daily_csv, _daily_json, _daily_from_csv
)
REFERRERS: Dataset[ReferrerRow] = Dataset(
    "referrers",
    ReferrerRow,
    ("date", "referrer", "count", "uniques"),
    ("date", "text", "count", "count"),
    lambda r: (r.date.isoformat(), r.referrer, r.count, r.uniques),
    _referrer_json,
    monthly=True,
)
PATHS: Dataset[PathRow] = Dataset(
    "paths",
    PathRow,
    ("date", "path", "title", "count", "uniques"),
    ("date", "text", "text", "count", "count"),
    lambda r: (r.date.isoformat(), r.path, r.title, r.count, r.uniques),
    _path_json,
    monthly=True,
)
STATS: Dataset[StatsRow] = Dataset(
    "stats",
    StatsRow,
    (
        "date",
        "stars",
        "forks",
        "watchers",
        "open_issues",
        "views_14d",
        "view_uniques_14d",
        "clones_14d",
        "clone_uniques_14d",
    ),
    ("date", *["count"] * 8),
    lambda r: (
        r.date.isoformat(),
        r.stars,
        r.forks,
        r.watchers,
        r.open_issues,
        r.views_14d,
        r.view_uniques_14d,
        r.clones_14d,
        r.clone_uniques_14d,
    ),
    _stats_json,
    _stats_from_csv,
)
_GROWTH_COLUMNS = ("date", "new", "total")
_GROWTH_KINDS = ("date", "count", "count")


def _growth_csv(r: GrowthRow) -> tuple[Cell, ...]:
    return (r.date.isoformat(), r.new, r.total)


STARS: Dataset[GrowthRow] = Dataset(
    "stars", GrowthRow, _GROWTH_COLUMNS, _GROWTH_KINDS, _growth_csv, _growth_json, _growth_from_csv
)
FORKS: Dataset[GrowthRow] = Dataset(
    "forks", GrowthRow, _GROWTH_COLUMNS, _GROWTH_KINDS, _growth_csv, _growth_json, _growth_from_csv
)
RELEASES: Dataset[ReleaseRow] = Dataset(
    "releases",
    ReleaseRow,
    ("date", "tag", "asset", "downloads"),
    ("date", "text", "text", "count"),
    lambda r: (r.date.isoformat(), r.tag, r.asset, r.downloads),
    _release_json,
    monthly=True,
)
DATASETS = (VIEWS, CLONES, REFERRERS, PATHS, STATS, STARS, FORKS, RELEASES)
GROWTH = (STARS, FORKS)  # the datasets whose `total` runs on across period files
EXTENSIONS = ("json", "csv")
# Layout 1's whole files, `views.json` and the like: only read, to move a folder to layout 2.
# Layout 1 had the first five datasets only.
LAYOUT1_FILES = {f"{d.name}.{ext}": d for d in DATASETS[:5] for ext in EXTENSIONS}
_BY_NAME: dict[str, Dataset[Any]] = {d.name: d for d in DATASETS}


@dataclass(frozen=True, slots=True)
class DataFile:
    """What a file name in a repo folder stands for: a period file of a dataset, or (with
    `period` "") a layout-1 whole file. `flat`: a month file of the first form of layout 2,
    `referrers/2026-01.json`, which is read and moved into its year folder."""

    dataset: Dataset[Any]
    period: str
    ext: str
    flat: bool = False


def period_file(dataset: Dataset[Any], period: str, ext: str = "json") -> str:
    """The name of a period file inside a repo folder: `views/2026.json`, or for a month,
    in its year's folder, `referrers/2026/01.json` (a folder a day rewrites stays small however
    many years are kept)."""
    return f"{dataset.name}/{period.replace('-', '/')}.{ext}"


@functools.lru_cache(maxsize=4096)  # the same few names in every repo folder
def parse_data_file(name: str) -> DataFile | None:
    """The data file `name` (relative to a repo folder) is, or None for any other file (the
    page, or a file someone added: those are never read, written or removed)."""
    folder, slash, file = name.partition("/")
    if not slash:
        whole = LAYOUT1_FILES.get(name)
        return None if whole is None else DataFile(whole, "", name.rsplit(".", 1)[1])
    dataset = _BY_NAME.get(folder)
    stem, dot, ext = file.rpartition(".")
    if dataset is None or not dot or ext not in EXTENSIONS:
        return None
    if dataset.monthly and _FLAT_MONTH.fullmatch(stem):
        return DataFile(dataset, stem, ext, flat=True)
    period = stem.replace("/", "-") if dataset.monthly and stem.count("/") == 1 else stem
    if not dataset.is_period(period) or (dataset.monthly and "/" not in stem):
        return None
    return DataFile(dataset, period, ext)


def split_periods(dataset: Dataset[Row], rows: Iterable[Row]) -> dict[str, tuple[Row, ...]]:
    """Rows by the period file they live in, each period's rows in the order given."""
    parts: dict[str, list[Row]] = {}
    period = dataset.period
    for row in rows:
        parts.setdefault(period(row.date), []).append(row)
    return {name: tuple(part) for name, part in parts.items()}


def join_periods(parts: Mapping[str, Sequence[Row]]) -> tuple[Row, ...]:
    """The rows of period files in period order: the inverse of `split_periods` for rows in
    file order."""
    return tuple(itertools.chain.from_iterable(parts[name] for name in sorted(parts)))


def encode_json(dataset: Dataset[Row], rows: Sequence[Row]) -> str:
    """Rows as a JSON array, one object per line: dates as YYYY-MM-DD, integers as numbers,
    `final` as a boolean."""
    if not rows:
        return _EMPTY_JSON
    return "[\n  " + ",\n  ".join(map(dataset.json_object, rows)) + "\n]\n"


def encode_csv(dataset: Dataset[Row], rows: Sequence[Row]) -> str:
    """Rows as CSV with a header line; `final` as true/false; quoting is the csv module's."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(dataset.columns)
    writer.writerows(map(dataset.csv_cells, rows))
    return out.getvalue()


def decode_json(dataset: Dataset[Row], text: str, *, path: str) -> tuple[Row, ...]:
    """Parse a stored file strictly: anything unexpected raises HistoryFormatError naming `path`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _unreadable(path, f"it is not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise _unreadable(path, "it is not a JSON array of rows")
    return _checked_rows(dataset, data, path=path)


def decode_csv(dataset: Dataset[Row], text: str, *, path: str) -> tuple[Row, ...]:
    """Parse a stored CSV strictly, as `decode_json` parses its twin: the header line must be
    the dataset's columns, and each cell what its column holds (HistoryFormatError names
    `path` otherwise). Only read when the JSON twin is missing: the CSV is all that is left."""
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines or tuple(lines[0]) != dataset.columns:
        want = ",".join(dataset.columns)
        raise _unreadable(path, f"its header line is not {want}")
    # a line of the wrong length stays a list, which the checks refuse
    items: list[Any] = [
        dict(zip(dataset.columns, map(_csv_cell, dataset.kinds, line), strict=True))
        if len(line) == len(dataset.columns)
        else line
        for line in lines[1:]
    ]
    return _checked_rows(dataset, items, path=path)


def _csv_cell(kind: str, cell: str) -> Any:
    """A CSV cell as its JSON value would be; a cell of the wrong kind stays a string, which
    the checks refuse."""
    if kind == "count" and _DIGITS.fullmatch(cell):
        return int(cell)
    if kind == "flag":
        return {"true": True, "false": False}.get(cell, cell)
    return cell


_DIGITS = re.compile(r"[0-9]{1,18}")


def _checked_rows(dataset: Dataset[Row], data: list[Any], *, path: str) -> tuple[Row, ...]:
    """Rows from JSON-like objects, each checked: exactly the columns, each of its kind."""
    columns = set(dataset.columns)
    checks = [
        (name, _CHECKS[kind]) for name, kind in zip(dataset.columns, dataset.kinds, strict=True)
    ]
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or item.keys() != columns:
            want = ", ".join(dataset.columns)
            raise _unreadable(path, f"row {index + 1} does not have exactly the columns {want}")
        for name, check in checks:
            if not check(item[name]):
                raise _unreadable(path, f"row {index + 1} has a bad {name!r}: {item[name]!r}")
        rows.append(dataset.from_json(item))
    return tuple(rows)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "date": _is_date,
    "count": _is_count,
    "flag": lambda v: isinstance(v, bool),
    "text": lambda v: isinstance(v, str),
}


def _unreadable(path: str, why: str) -> HistoryFormatError:
    return HistoryFormatError(
        f"{path} cannot be read: {why}.",
        fix=(
            f"The file was left untouched and this repo was not updated. Fix or remove {path} "
            "in the data branch (git history has the earlier versions), then run again."
        ),
    )


def dataset_rows(history: History, dataset: Dataset[Row]) -> tuple[Row, ...]:
    """The rows of one dataset of a history."""
    rows: tuple[Row, ...] = getattr(history, dataset.name)
    return rows


def encode_history(history: History) -> dict[str, str]:
    """Every data file of one repo folder, by name inside it: `views/2026.json`,
    `views/2026.csv`, ... one pair for each period that has rows."""
    files: dict[str, str] = {}
    for dataset in DATASETS:
        for period, rows in split_periods(dataset, dataset_rows(history, dataset)).items():
            files[period_file(dataset, period, "json")] = encode_json(dataset, rows)
            files[period_file(dataset, period, "csv")] = encode_csv(dataset, rows)
    return files


def decode_history(files: Mapping[str, str], *, folder: str) -> History:
    """A repo's history from its period files (`files`: name inside the folder -> text; other
    files are not read), strictly: HistoryFormatError names a file that cannot be trusted.

    Each dataset is its period files' rows joined in period order. Stars and forks totals are
    recomputed over all the rows read (a total edited by hand is not trusted), so `files`
    should hold every period of those datasets."""
    return join_history(decode_periods(files, folder=folder))


Parts = dict[str, dict[str, tuple[Any, ...]]]  # dataset name -> period -> its rows


def decode_periods(files: Mapping[str, str], *, folder: str) -> Parts:
    """The rows of each period JSON file among `files`, read strictly (see `decode_history`)."""
    parts: Parts = {d.name: {} for d in DATASETS}
    for name, text in files.items():
        data_file = parse_data_file(name)
        if data_file is None or not data_file.period or data_file.ext != "json":
            continue
        rows = decode_json(data_file.dataset, text, path=f"{folder}/{name}")
        parts[data_file.dataset.name][data_file.period] = rows
    return parts


def join_history(parts: Parts) -> History:
    """A history from its period files' rows, each dataset's joined in period order, stars
    and forks totals recomputed."""
    joined = {name: join_periods(periods) for name, periods in parts.items()}
    for dataset in GROWTH:
        joined[dataset.name] = merge_growth(joined[dataset.name])
    return History(**joined)


def decode_layout1(files: Mapping[str, str], *, folder: str) -> History:
    """A repo's history from layout 1's whole files (`views.json` ...), strictly; a missing
    file is an empty dataset."""

    def load(dataset: Dataset[Row]) -> tuple[Row, ...]:
        name = f"{dataset.name}.json"
        text = files.get(name)
        return () if text is None else decode_json(dataset, text, path=f"{folder}/{name}")

    return History(
        views=load(VIEWS),
        clones=load(CLONES),
        referrers=load(REFERRERS),
        paths=load(PATHS),
        stats=load(STATS),
    )


# --- windows of files this tool wrote ----------------------------------------------------------


def read_window(
    dataset: Dataset[Row], json_data: bytes, since: dt.date, *, csv_data: bytes | None = None
) -> tuple[Row, ...]:
    """The rows dated `since` or later of a file `encode_json` wrote (`dt.date.min`: all), as
    stored (UTF-8): only the window is decoded.

    Given its twin that `encode_csv` wrote, a dataset of dates and numbers only is read from
    the CSV: the same rows, a few times faster than through JSON objects.
    """
    day = since.isoformat().encode()
    if csv_data is not None and dataset.from_csv is not None:
        lo, hi = _csv_body(csv_data)
        start = _window_start(csv_data, lo, hi, day, 0)
        if start == hi:
            return ()
        return tuple(dataset.from_csv(csv_data[start:hi].decode().split("\n")))
    lo, hi = _json_body(json_data)
    start = _window_start(json_data, lo, hi, day, _JSON_DATE_AT)
    if start == hi:
        return ()
    return tuple(map(dataset.from_json, json.loads(b"[" + json_data[start:hi] + b"]")))


def total_before(json_data: bytes, day: dt.date) -> int | None:
    """The running total that the rows dated `day` or later of a stars or forks period file
    (as `encode_json` wrote it) go on from (`growth.carry_from`); None for a file without
    rows: then the previous period's file tells."""
    return carry_from(*growth_rows_at(json_data, day))


def growth_rows_at(json_data: bytes, day: dt.date) -> tuple[GrowthRow | None, GrowthRow | None]:
    """(the last row before `day`, the first row from `day` on) of a stars or forks period
    file as `encode_json` wrote it, read off the lines around `day` alone."""
    lo, hi = _json_body(json_data)
    if lo == hi:
        return None, None
    start = _window_start(json_data, lo, hi, day.isoformat().encode(), _JSON_DATE_AT)
    if start > lo:  # the line before the window (which ends with ",\n" unless it is the last)
        end = hi if start == hi else start - 2
        line_at = json_data.rfind(b"\n", lo, end) + 1 or lo
        return STARS.from_json(json.loads(json_data[line_at:end])), None
    end = json_data.find(b"\n", lo, hi)
    return None, STARS.from_json(json.loads(json_data[lo : hi if end < 0 else end].rstrip(b",")))


def write_window(
    dataset: Dataset[Row], json_data: bytes, csv_data: bytes, since: dt.date, rows: Sequence[Row]
) -> tuple[bytes, bytes]:
    """The two files `encode_json`/`encode_csv` wrote (as stored, UTF-8), with their rows
    dated `since` or later replaced by `rows` (all dated `since` or later, in file order).
    Every older line is kept as it was, so the result is exactly what encoding the whole new
    history gives; the old bytes are copied once, never decoded."""
    day = since.isoformat().encode()
    lo, hi = _json_body(json_data)
    keep = _window_start(json_data, lo, hi, day, _JSON_DATE_AT)
    end = hi if keep == hi else keep - 1  # the older rows' lines end here
    if end > lo and json_data[end - 1] == _COMMA:
        end -= 1
    fresh = ",\n".join(f"  {dataset.json_object(row)}" for row in rows).encode()
    older = memoryview(json_data)[lo:end]
    body: list[bytes | memoryview] = [older, b",\n", fresh] if older and fresh else [older, fresh]
    new_json = b"".join([b"[\n", *body, b"\n]\n"]) if older or fresh else _EMPTY_JSON_BYTES
    if csv_data.count(b"\n") != json_data.count(b"\n") - (1 if hi > lo else 0):
        # a text cell spans lines (it holds a line break): no line-per-row shortcut
        whole = [r for r in read_window(dataset, json_data, dt.date.min) if r.date < since]
        whole.extend(rows)
        return new_json, encode_csv(dataset, whole).encode()
    csv_lo, csv_hi = _csv_body(csv_data)
    csv_keep = _window_start(csv_data, csv_lo, csv_hi, day, 0)
    head = csv_data if csv_keep >= csv_hi else memoryview(csv_data)[:csv_keep]  # older rows
    return new_json, b"".join([head, encode_csv(dataset, rows).split("\n", 1)[1].encode()])


def _json_body(data: bytes) -> tuple[int, int]:
    """Where the row lines of a file `encode_json` wrote start and end (`lo == hi`: none)."""
    return (0, 0) if data == _EMPTY_JSON_BYTES else (2, len(data) - 3)


def _csv_body(data: bytes) -> tuple[int, int]:
    """Where the row lines of a file `encode_csv` wrote start and end, header and last line
    end left out (`lo == hi`: none)."""
    lo = data.index(b"\n") + 1
    return lo, max(lo, len(data) - 1)


def _window_start(data: bytes, lo: int, hi: int, day: bytes, date_at: int) -> int:
    """Where the first line dated `day` or later starts among the lines of `data[lo:hi]` (in
    date order, each with its date `date_at` bytes in); `hi` if there is none. Reads from the
    end, so it costs what the window holds, not the whole file."""
    if lo < hi and data[lo + date_at : lo + date_at + 10] >= day:
        return lo  # the whole file (no need to walk it)
    start = hi
    end = hi
    while end > lo:
        newline = data.rfind(b"\n", lo, end)
        line = newline + 1 if newline >= 0 else lo
        if data[line + date_at : line + date_at + 10] < day:
            break
        start = line
        end = newline
    return start
