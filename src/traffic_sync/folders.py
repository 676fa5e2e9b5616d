"""Repo folders of the data branch: reading them, and merging an observation into one.

A folder this tool wrote carries a fingerprint in state.json (`files_sha256`, over its ten
data files). When the folder still matches it, nobody changed the files since, so they are in
`codec`'s exact format and only their newest rows need reading and rewriting (`codec`'s
windows). Any other folder is read whole and strictly, and refused if it cannot be trusted.
Both ways give the same bytes; the fingerprint only decides how much work that takes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from traffic_sync import charts
from traffic_sync.codec import (
    CLONES,
    FILE_NAMES,
    PATHS,
    REFERRERS,
    STATS,
    VIEWS,
    Dataset,
    Row,
    decode_history,
    decode_json,
    encode_history,
    read_window,
    write_window,
)
from traffic_sync.history import WINDOW_DAYS, apply_observation, merge_histories
from traffic_sync.models import History, Observation

FINGERPRINT = "files_sha256"  # the state.json key of a folder's fingerprint


@dataclass(frozen=True, slots=True)
class Merged:
    """One repo folder before and after an observation, and its new files.

    `before` and `after` hold views, clones and stats whole, and referrers and paths at least
    from `charts.DAYS` days before the observation (all the pages draw): enough for the pages,
    the new-day count and PostHog.
    """

    before: History
    after: History
    files: dict[str, bytes]

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.files.get) or ""  # all ten files are always there


def fingerprint(files: Mapping[str, bytes], folder: str) -> str | None:
    """The fingerprint of a folder's data files as they are in `files` (None if one is missing)."""
    return _fingerprint(lambda name: files.get(f"{folder}/{name}"))


def _fingerprint(read: Callable[[str], bytes | None]) -> str | None:
    digest = hashlib.sha256()
    for name in FILE_NAMES:
        data = read(name)
        if data is None:
            return None
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def merge_into(
    files: Mapping[str, bytes],
    folder: str,
    observation: Observation,
    *,
    known: str | None,
    moved_from: str = "",
) -> Merged:
    """Merge `observation` into `folder` (and into `moved_from`, the folder of the repo's old
    name); `known` is the fingerprint state.json has for the folder. Raises HistoryFormatError
    naming the file when a history cannot be trusted."""
    if not moved_from and _unchanged(files, folder, known):
        return _merge_window(files, folder, observation)
    stored = decode_folder(files, folder)
    if moved_from:
        stored = merge_histories(decode_folder(files, moved_from), stored)
    merged = apply_observation(stored, observation)
    return Merged(stored, merged, {k: v.encode() for k, v in encode_history(merged).items()})


def _merge_window(files: Mapping[str, bytes], folder: str, observation: Observation) -> Merged:
    """The fast way for a folder this tool wrote: only rows from the observation's window on
    change, so only they are rewritten; the pages' rows are read, the older snapshots are not."""
    buckets = (*observation.views.buckets, *observation.clones.buckets)
    day = observation.fetched_on
    since = min([day - dt.timedelta(days=WINDOW_DAYS), *(b.date for b in buckets)])
    shown = min(since, day - dt.timedelta(days=charts.DAYS))
    stored = {name: files[f"{folder}/{name}"] for name in FILE_NAMES}

    def read(dataset: Dataset[Row], start: dt.date) -> tuple[Row, ...]:
        name = dataset.name
        return read_window(dataset, stored[f"{name}.json"], start, csv_data=stored[f"{name}.csv"])

    whole = dt.date.min
    before = History(
        views=read(VIEWS, whole),
        clones=read(CLONES, whole),
        referrers=read(REFERRERS, shown),
        paths=read(PATHS, shown),
        stats=read(STATS, whole),
    )
    after = _join(_older(before, since), apply_observation(_newer(before, since), observation))
    out: dict[str, bytes] = {}

    def write(dataset: Dataset[Row], rows: tuple[Row, ...]) -> None:
        json_name, csv_name = f"{dataset.name}.json", f"{dataset.name}.csv"
        fresh = [row for row in rows if row.date >= since]
        out[json_name], out[csv_name] = write_window(
            dataset, stored[json_name], stored[csv_name], since, fresh
        )

    write(VIEWS, after.views)
    write(CLONES, after.clones)
    write(REFERRERS, after.referrers)
    write(PATHS, after.paths)
    write(STATS, after.stats)
    return Merged(before, after, out)


def _older(history: History, day: dt.date) -> History:
    """The rows dated before `day` (an observation from `day` on leaves them as they are)."""
    return History(*(tuple(r for r in rows if r.date < day) for rows in _datasets(history)))


def _newer(history: History, day: dt.date) -> History:
    return History(*(tuple(r for r in rows if r.date >= day) for rows in _datasets(history)))


def _join(older: History, newer: History) -> History:
    return History(*(a + b for a, b in zip(_datasets(older), _datasets(newer), strict=True)))


def _datasets(history: History) -> tuple[tuple[Any, ...], ...]:
    return (history.views, history.clones, history.referrers, history.paths, history.stats)


def decode_folder(files: Mapping[str, bytes], folder: str) -> History:
    """A repo folder's whole history, read strictly (HistoryFormatError names a bad file)."""

    def read(name: str) -> str | None:
        data = files.get(f"{folder}/{name}")
        return None if data is None else _text(data)

    return decode_history(read, folder=folder)


def _text(data: bytes) -> str:
    """A stored file as text for the strict reader; not UTF-8 is not JSON either, and
    decode_json then names the file."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd"


def _unchanged(files: Mapping[str, bytes], folder: str, known: str | None) -> bool:
    """Whether the folder still holds the files whose fingerprint state.json keeps."""
    return known is not None and known == fingerprint(files, folder)


def index_history(files: Mapping[str, bytes], folder: str, *, known: str | None) -> History:
    """What the index shows of a folder: its views, clones and stats (no snapshots)."""
    trusted = _unchanged(files, folder, known)

    def load(dataset: Dataset[Row]) -> tuple[Row, ...]:
        path = f"{folder}/{dataset.name}.json"
        data = files.get(path)
        if data is None:
            return ()
        if trusted:
            csv_data = files[f"{folder}/{dataset.name}.csv"]
            return read_window(dataset, data, dt.date.min, csv_data=csv_data)
        return decode_json(dataset, _text(data), path=path)

    return History(views=load(VIEWS), clones=load(CLONES), stats=load(STATS))
