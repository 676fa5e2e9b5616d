"""Records <-> deterministic JSON and CSV text.

JSON is the source of truth: an array of row objects with exactly the CSV's columns. The same
rows always give the same bytes (sorted keys, indent 2, "\\n" line ends, trailing newline), so a
run that learns nothing new changes no file and makes no commit.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from traffic_sync.errors import HistoryFormatError
from traffic_sync.models import DailyRow, History, PathRow, ReferrerRow, StatsRow

Row = TypeVar("Row", DailyRow, ReferrerRow, PathRow, StatsRow)


@dataclass(frozen=True)
class Dataset(Generic[Row]):
    """One of the five files of a repo: its name, row type and columns in CSV order."""

    name: str
    row_type: type[Row]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.row_type))


VIEWS = Dataset("views", DailyRow)
CLONES = Dataset("clones", DailyRow)
REFERRERS = Dataset("referrers", ReferrerRow)
PATHS = Dataset("paths", PathRow)
STATS = Dataset("stats", StatsRow)


def encode_json(rows: Sequence[DailyRow | ReferrerRow | PathRow | StatsRow]) -> str:
    """Rows as a JSON array: dates as YYYY-MM-DD, integers as numbers, `final` as a boolean."""
    objects = [
        {
            k: v.isoformat() if isinstance(v, dt.date) else v
            for k, v in dataclasses.asdict(r).items()
        }
        for r in rows
    ]
    return json.dumps(objects, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def encode_csv(dataset: Dataset[Row], rows: Sequence[Row]) -> str:
    """Rows as CSV with a header line; `final` as true/false; quoting is the csv module's."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(dataset.columns)
    for row in rows:
        writer.writerow(_csv_cell(getattr(row, column)) for column in dataset.columns)
    return out.getvalue()


def _csv_cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def decode_json(dataset: Dataset[Row], text: str, *, path: str) -> tuple[Row, ...]:
    """Parse a stored file strictly: anything unexpected raises HistoryFormatError naming `path`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _unreadable(path, f"it is not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise _unreadable(path, "it is not a JSON array of rows")
    return tuple(_decode_row(dataset, item, path=path, index=i) for i, item in enumerate(data))


def _decode_row(dataset: Dataset[Row], item: Any, *, path: str, index: int) -> Row:
    columns = dataset.columns
    if not isinstance(item, dict) or set(item) != set(columns):
        want = ", ".join(columns)
        raise _unreadable(path, f"row {index + 1} does not have exactly the columns {want}")
    values: dict[str, Any] = {}
    for field in dataclasses.fields(dataset.row_type):
        # models.py postpones annotations, so field.type is the annotation's text
        value = _DECODERS[str(field.type)](item[field.name])
        if value is None:
            raise _unreadable(
                path, f"row {index + 1} has a bad {field.name!r}: {item[field.name]!r}"
            )
        values[field.name] = value
    return dataset.row_type(**values)


def _as_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _as_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


_DECODERS: dict[str, Callable[[Any], object | None]] = {
    "dt.date": _as_date,
    "int": _as_count,
    "bool": lambda v: v if isinstance(v, bool) else None,
    "str": lambda v: v if isinstance(v, str) else None,
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
        f"{dataset.name}.json": encode_json(rows),
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
