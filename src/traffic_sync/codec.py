"""Records <-> deterministic JSON and CSV text.

JSON is the source of truth: an array of row objects with exactly the CSV's columns, in the
CSV's order, one row per line (so a new day is a one-line diff on github.com). The same rows
always give the same bytes ("\\n" line ends, a trailing newline), so a run that learns nothing
new changes no file and makes no commit.

A run only changes a repo's newest rows, so a file this tool wrote (and nobody changed since)
is updated at its tail: `read_window` reads the rows from a date on and `write_window` replaces
them, keeping every older line byte for byte. A run over years of history then costs what its
last weeks cost. A file of unknown origin goes through the strict `decode_json`, which refuses
what it cannot trust.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Generic, TypeVar

from traffic_sync.errors import HistoryFormatError
from traffic_sync.models import DailyRow, History, PathRow, ReferrerRow, StatsRow

Row = TypeVar("Row", DailyRow, ReferrerRow, PathRow, StatsRow)
Cell = str | int

_EMPTY_JSON = "[]\n"
_ROW_START = '  {"date": "'  # every JSON row line starts so, the row's date follows
_JSON_DATE = slice(len(_ROW_START), len(_ROW_START) + 10)


@dataclass(frozen=True)
class Dataset(Generic[Row]):
    """One of the five files of a repo: its name, columns in CSV order, and how a row is written.

    `kinds` names each column's type for the strict reader: date, count, flag or text.
    """

    name: str
    row_type: type[Row]
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    csv_cells: Callable[[Row], tuple[Cell, ...]]
    json_object: Callable[[Row], str]
    _rest: Callable[[dict[str, Any]], tuple[Any, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # every dataset has at least two columns after the date, so this returns a tuple
        object.__setattr__(self, "_rest", itemgetter(*self.columns[1:]))

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


def _daily_csv(r: DailyRow) -> tuple[Cell, ...]:
    return (r.date.isoformat(), r.count, r.uniques, _flag(r.final))


_DAILY_COLUMNS = ("date", "count", "uniques", "final")
_DAILY_KINDS = ("date", "count", "count", "flag")

VIEWS: Dataset[DailyRow] = Dataset(
    "views", DailyRow, _DAILY_COLUMNS, _DAILY_KINDS, _daily_csv, _daily_json
)
CLONES: Dataset[DailyRow] = Dataset(
    "clones", DailyRow, _DAILY_COLUMNS, _DAILY_KINDS, _daily_csv, _daily_json
)
REFERRERS: Dataset[ReferrerRow] = Dataset(
    "referrers",
    ReferrerRow,
    ("date", "referrer", "count", "uniques"),
    ("date", "text", "count", "count"),
    lambda r: (r.date.isoformat(), r.referrer, r.count, r.uniques),
    _referrer_json,
)
PATHS: Dataset[PathRow] = Dataset(
    "paths",
    PathRow,
    ("date", "path", "title", "count", "uniques"),
    ("date", "text", "text", "count", "count"),
    lambda r: (r.date.isoformat(), r.path, r.title, r.count, r.uniques),
    _path_json,
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
)
DATASETS = (VIEWS, CLONES, REFERRERS, PATHS, STATS)
FILE_NAMES = tuple(f"{d.name}.{ext}" for d in DATASETS for ext in ("json", "csv"))


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


def encode_history(history: History) -> dict[str, str]:
    """Every file of one repo folder: `<dataset>.json` and `<dataset>.csv` for all five datasets."""
    return {
        **_dataset_files(VIEWS, history.views),
        **_dataset_files(CLONES, history.clones),
        **_dataset_files(REFERRERS, history.referrers),
        **_dataset_files(PATHS, history.paths),
        **_dataset_files(STATS, history.stats),
    }


def _dataset_files(dataset: Dataset[Row], rows: Sequence[Row]) -> dict[str, str]:
    return {
        f"{dataset.name}.json": encode_json(dataset, rows),
        f"{dataset.name}.csv": encode_csv(dataset, rows),
    }


def decode_history(read: Callable[[str], str | None], *, folder: str) -> History:
    """Load a repo's history through `read(filename)`; a missing file is an empty dataset."""

    def load(dataset: Dataset[Row]) -> tuple[Row, ...]:
        name = f"{dataset.name}.json"
        text = read(name)
        return () if text is None else decode_json(dataset, text, path=f"{folder}/{name}")

    return History(
        views=load(VIEWS),
        clones=load(CLONES),
        referrers=load(REFERRERS),
        paths=load(PATHS),
        stats=load(STATS),
    )


# --- windows of files this tool wrote ----------------------------------------------------------


def read_window(dataset: Dataset[Row], text: str, since: dt.date) -> tuple[Row, ...]:
    """The rows dated `since` or later of a file `encode_json` wrote (`dt.date.min`: all)."""
    lines = _json_lines(text)
    tail = lines[_first_at_or_after(lines, since.isoformat(), _JSON_DATE) :]
    if not tail:
        return ()
    return tuple(map(dataset.from_json, json.loads("[" + "\n".join(tail) + "]")))


def write_window(
    dataset: Dataset[Row], json_text: str, csv_text: str, since: dt.date, rows: Sequence[Row]
) -> tuple[str, str]:
    """The two files `encode_json`/`encode_csv` wrote, with their rows dated `since` or later
    replaced by `rows` (all dated `since` or later, in file order). Every older line is kept
    as it was, so the result is exactly what encoding the whole new history would give."""
    day = since.isoformat()
    lines = _json_lines(json_text)
    keep = _first_at_or_after(lines, day, _JSON_DATE)
    objects = lines[:keep]
    if objects and not objects[-1].endswith(","):
        objects[-1] += ","  # the file's last row is kept, and rows follow it now
    objects += [f"  {dataset.json_object(row)}," for row in rows]
    if objects:
        objects[-1] = objects[-1].removesuffix(",")
    new_json = "[\n" + "\n".join(objects) + "\n]\n" if objects else _EMPTY_JSON
    if csv_text.count("\n") != len(lines) + 1:
        # a text cell spans lines (it holds a line break): no line-per-row shortcut
        whole = [r for r in read_window(dataset, json_text, dt.date.min) if r.date < since]
        whole.extend(rows)
        return new_json, encode_csv(dataset, whole)
    tail = encode_csv(dataset, rows).split("\n", 1)[1]
    return new_json, csv_text[: _csv_tail_start(csv_text, len(lines) - keep)] + tail


def _json_lines(text: str) -> list[str]:
    """The row lines of a file `encode_json` wrote (each but the last ends with a comma)."""
    return [] if text == _EMPTY_JSON else text[2:-3].split("\n")


def _first_at_or_after(lines: Sequence[str], day: str, date_at: slice) -> int:
    """The index of the first line dated `day` or later (lines are in date order)."""
    index = len(lines)
    while index and lines[index - 1][date_at] >= day:
        index -= 1
    return index


def _csv_tail_start(text: str, rows: int) -> int:
    """Where the last `rows` lines of a CSV text start."""
    start = len(text)
    for _ in range(rows):
        start = text.rindex("\n", 0, start - 1) + 1
    return start
