"""Repo folders of the data branch: reading them, merging an observation into one, and moving
one from layout 1 to layout 2.

A folder keeps each dataset in period files (`views/2026.json`, see `codec`). A folder this
tool wrote carries a fingerprint in state.json (`files_sha256`, over its data files' names and
git blob ids). When the folder still matches it, nobody changed the files since, so they are in
`codec`'s exact format: an observation rewrites only the period files its days reach, and those
at their tail (`codec`'s windows), and views, clones and stats are read through their CSV twins.
Any other folder is read whole and strictly, and refused if it cannot be trusted. Both ways give
the same bytes; the fingerprint only decides how much work that takes.

A folder that still holds layout 1's whole files (`views.json` ...), or month files in layout
2's first, flat form (`referrers/2026-01.json`, now `referrers/2026/01.json`), is always read
strictly, all its files together, and written back as period files in year folders only: the
old files go in the same commit.

Stars and forks rows carry a running `total` across period files. A write never needs the older
periods to get it right: `write_periods` recomputes the totals of the rows it writes from the
total the stored rows before them reach, which the period file itself tells (its last row
before the window, or its first row's `total - new`), or, for a new period, the last row of
the newest older period file: one more file read, at its tail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from traffic_sync.branch import alltime
from traffic_sync.branch.alltime import AllTime
from traffic_sync.branch.codec import (
    CLONES,
    DATASETS,
    FORKS,
    GROWTH,
    LAYOUT1_FILES,
    PATHS,
    REFERRERS,
    RELEASES,
    STARS,
    STATS,
    VIEWS,
    DataFile,
    Dataset,
    Row,
    dataset_rows,
    decode_csv,
    decode_layout1,
    decode_periods,
    encode_csv,
    encode_history,
    encode_json,
    join_history,
    parse_data_file,
    period_file,
    read_window,
    split_periods,
    total_before,
    write_window,
)
from traffic_sync.core.errors import CsvEditedWarning, JsonRecoveredWarning, TwinWarning
from traffic_sync.core.gitids import blob_sha
from traffic_sync.core.growth import GrowthRow, continue_totals, merge_growth
from traffic_sync.core.history import WINDOW_DAYS, apply_observation, merge_histories
from traffic_sync.core.models import History, IndexRow, Observation

_EMPTY_JSON = encode_json(VIEWS, ()).encode()


@dataclass(frozen=True, slots=True)
class Folder:
    """One repo folder as the branch holds it: `path` in the branch, its data files by name
    inside it (period files and layout-1 whole files; its page and any other file left out),
    and, per dataset, the periods that have a JSON file, oldest first."""

    path: str
    files: Mapping[str, bytes]
    periods: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    layout1: bool = False  # some of layout 1's whole files are still there
    flat: bool = False  # some month files are still in layout 2's first, flat form
    ids: Mapping[str, str] = field(default_factory=dict)  # every data file's git blob id

    @classmethod
    def of(
        cls, path: str, files: Mapping[str, bytes], *, ids: Mapping[str, str] | None = None
    ) -> Folder:
        """The folder at `path` whose files (by name inside it) are `files`; other files than
        data files are left out. `ids` (name -> git blob id) lists every file the folder
        holds when only some were read; without it, `files` are all of them."""
        if ids is None:
            ids = {name: blob_sha(data) for name, data in files.items()}
        data_ids: dict[str, str] = {}
        periods: dict[str, list[str]] = {d.name: [] for d in DATASETS}
        flat = False
        for name, sha in ids.items():
            data_file = parse_data_file(name)
            if data_file is None:
                continue
            data_ids[name] = sha
            flat = flat or data_file.flat
            if data_file.period and data_file.ext == "json":
                periods[data_file.dataset.name].append(data_file.period)
        return cls(
            path,
            {name: files[name] for name in data_ids if name in files},
            {name: tuple(sorted(found)) for name, found in periods.items()},
            layout1=any(name in LAYOUT1_FILES for name in data_ids),
            flat=flat,
            ids=data_ids,
        )

    @property
    def outdated(self) -> bool:
        """Whether the folder is not in the current layout yet: it moves, read whole."""
        return self.layout1 or self.flat

    def fingerprint(self) -> str:
        """The fingerprint of the folder's data files, read or not (see `fingerprint`)."""
        return _digest(self.ids)


def repo_folders(files: Mapping[str, bytes], prefix: str) -> dict[str, Folder]:
    """Every repo folder under `prefix` ("" or "data/") that holds a data file, by full name
    (`owner/name`)."""
    found: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/", 2)
        if len(parts) == 3 and not parts[0].startswith("."):
            found.setdefault(f"{parts[0]}/{parts[1]}", {})[parts[2]] = data
    folders = {name: Folder.of(f"{prefix}{name}", held) for name, held in found.items()}
    return {name: folder for name, folder in folders.items() if folder.files}


@dataclass(frozen=True)
class Merged:
    """One repo folder before and after a write, and what the write changes in it.

    `before` and `after` hold views, clones, stats, stars and forks whole, and referrers, paths
    and releases at least from `alltime.DAYS` days before the observation (all the pages draw):
    enough for the pages, the new-day count and PostHog. `files` are the period files written
    (by name inside the folder; some may hold the bytes they had), `deletes` the data files
    removed (periods left without rows, layout-1 whole files).
    """

    before: History
    after: History
    files: dict[str, bytes]
    deletes: tuple[str, ...]
    fingerprint: str  # of the folder's data files after the write
    datasets: frozenset[str]  # the datasets that have files after the write
    past: Mapping[int, AllTime] = field(default_factory=dict)  # stored figures of older years
    first_year: int = 0  # `after` holds the years from this one on whole; `past` the ones before
    notes: tuple[TwinWarning, ...] = ()  # CSV twins found edited, JSON files recovered

    @functools.cached_property
    def parts(self) -> dict[int, AllTime]:
        """Each year's figures after the write (made when a page or a stored file needs them:
        a repo whose files stay the same needs neither)."""
        return alltime.update_parts(self.past, self.after, first_year=self.first_year)

    @functools.cached_property
    def figures(self) -> AllTime:
        """The all-time figures after the write (`after` may hold only the newest years)."""
        return alltime.combine(self.parts.values())


def fingerprint(files: Mapping[str, bytes]) -> str:
    """The fingerprint of a folder's data files (by name inside it): a digest of their names
    and git blob ids, so it can be read off a tree listing as well."""
    return _digest({name: blob_sha(data) for name, data in files.items()})


def _digest(ids: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(ids):
        digest.update(f"{name}\0{ids[name]}\n".encode())
    return digest.hexdigest()


def trusted(folder: Folder, *, known: str | None) -> bool:
    """Whether the folder is as this tool wrote it (`known`: the fingerprint state.json keeps
    for it), so that its newest period files can be read alone."""
    return known is not None and not folder.outdated and folder.fingerprint() == known


def merge_into(
    folder: Folder,
    observation: Observation,
    *,
    known: str | None,
    moved_from: Folder | None = None,
    past: Mapping[int, AllTime] | None = None,
    since: dt.date = dt.date.min,
) -> Merged:
    """Merge `observation` into `folder` (and into `moved_from`, the folder of the repo's old
    name); `known` is the fingerprint state.json has for the folder. Raises HistoryFormatError
    naming the file when a history cannot be trusted.

    A trusted folder (`trusted`) may have been read from `since` on only (views, clones and
    stats of that year and later; referrers and paths of the charts' days), with `past` the
    stored figures of the years before; any other folder must have been read whole."""
    if moved_from is None and trusted(folder, known=known):
        if past is None:
            past, since = {}, dt.date.min
        return _merge_window(folder, observation, dict(folder.ids), past, since)
    stored, notes = read_folder(folder)
    if moved_from is not None:
        older, moved_notes = read_folder(moved_from)
        stored, notes = merge_histories(older, stored), moved_notes + notes
    return _rewrite(folder, stored, apply_observation(stored, observation), notes)


def merge_history(folder: Folder, history: History) -> Merged:
    """Merge rows from elsewhere (an import) into `folder`, read strictly, by the rules a
    fetch's rows merge by: views and clones by the max per day, stars and forks by the max
    `new` per day, and a snapshot day `history` holds replaces that day's rows. Raises
    HistoryFormatError naming a stored file that cannot be read."""
    stored, notes = read_folder(folder)
    return _rewrite(folder, stored, merge_histories(stored, history), notes)


def move_folder(folder: Folder) -> Merged:
    """A folder with layout-1 files, as period files only: every row kept (a day both layouts
    hold is merged as two runs' rows are), the whole files removed. Raises HistoryFormatError
    naming a file that cannot be read."""
    history, notes = read_folder(folder)
    return _rewrite(folder, history, history, notes)


def move_to(folder: Folder, path: str) -> Merged:
    """A folder's history as the period files of a new folder at `path`: every row kept, read
    strictly (HistoryFormatError names a file that cannot be read)."""
    history, notes = read_folder(folder)
    return _rewrite(Folder.of(path, {}), history, history, notes)


def _rewrite(
    folder: Folder, before: History, after: History, notes: tuple[TwinWarning, ...]
) -> Merged:
    """The strict way: every period file of `after`, and every other data file removed
    (`notes`: what reading `before` found to report)."""
    files = {name: text.encode() for name, text in encode_history(after).items()}
    deletes = tuple(sorted(name for name in folder.ids if name not in files))
    datasets = _datasets_of(files)
    return Merged(before, after, files, deletes, fingerprint(files), datasets, notes=notes)


@dataclass(frozen=True, slots=True)
class Span:
    """Which period files of one dataset of a trusted folder a run reads and writes: the rows
    from `read_since` on are read (`dt.date.min`: every file), those from `write_since` on are
    rewritten, in the period files from that day's on, and the JSON files are read from
    `json_since`'s period on (a write rewrites the JSON it reaches)."""

    dataset: Dataset[Any]
    read_since: dt.date
    write_since: dt.date
    json_since: dt.date

    def reads(self, data_file: DataFile) -> bool:
        """Whether the period file is read."""
        if data_file.dataset is not self.dataset or not data_file.period:
            return False
        since = self.json_since if data_file.ext == "json" else self.read_since
        return data_file.period >= self.dataset.period(since)


def spans(observation: Observation, *, since_read: dt.date) -> dict[str, Span]:
    """The one rule for what a run reads and writes of a trusted folder, by dataset name;
    `since_read` is the first day the run needs views, clones and stats of (the pages',
    PostHog's), `dt.date.min` for all.

    The observation changes rows from its window on (`window`), so those are rewritten; the
    years that reaches are read whole (their figures are made anew), and of the years before,
    the days from `since_read` on (`past` stands in for the rest). Referrers, paths and
    releases are read from the days the pages draw on. A stars or forks fetch may bring days
    from long ago (the first run's backfill): those two datasets are small (a row per day with
    stars), read whole, JSON too (a write goes on from the older rows' total), and written
    from the oldest day brought. Views, clones and stats are decoded from their CSV twins: the
    JSON of a year not written is not read."""
    changes, shown = window(observation)
    grown = min([changes, *(row.date for update in observation.growth for row in update.rows)])
    year = dt.date(changes.year, 1, 1) if since_read > dt.date.min else since_read
    planned: dict[str, Span] = {}
    for dataset in DATASETS:
        if dataset in GROWTH:
            planned[dataset.name] = Span(dataset, dt.date.min, grown, dt.date.min)
        elif dataset in (REFERRERS, PATHS, RELEASES):
            planned[dataset.name] = Span(dataset, shown, changes, shown)
        else:
            first = min(since_read, year)
            planned[dataset.name] = Span(dataset, first, changes, max(first, changes))
    return planned


def _merge_window(
    folder: Folder,
    observation: Observation,
    ids: dict[str, str],
    past: Mapping[int, AllTime],
    since_read: dt.date,
) -> Merged:
    """The fast way for a folder this tool wrote: only the period files `spans` names are
    read and rewritten (at their tail)."""
    planned = spans(observation, since_read=since_read)
    since = window(observation)[0]
    files = folder.files

    def read(dataset: Dataset[Row]) -> tuple[Row, ...]:
        rows: list[Row] = []
        start = planned[dataset.name].read_since
        first = dataset.period(start)
        for period in folder.periods.get(dataset.name, ()):
            if period >= first:
                csv_data = files[period_file(dataset, period, "csv")]
                if dataset.from_csv:  # decoded from the CSV: its JSON twin may not be read
                    json_data = files.get(period_file(dataset, period, "json"), b"")
                else:
                    json_data = files[period_file(dataset, period, "json")]
                rows.extend(read_window(dataset, json_data, start, csv_data=csv_data))
        return tuple(rows)

    before = History(
        views=read(VIEWS),
        clones=read(CLONES),
        referrers=read(REFERRERS),
        paths=read(PATHS),
        stats=read(STATS),
        stars=read(STARS),
        forks=read(FORKS),
        releases=read(RELEASES),
    )
    after = _join(_older(before, since), apply_observation(_newer(before, since), observation))
    # the newer rows' totals ran from 0: the whole series is here, so they go on from the older
    after = dataclasses.replace(
        after, stars=merge_growth(after.stars), forks=merge_growth(after.forks)
    )
    out: dict[str, bytes] = {}
    deletes: list[str] = []
    for dataset in DATASETS:
        start = planned[dataset.name].write_since
        written, removed = write_periods(folder, dataset, dataset_rows(after, dataset), start)
        out.update(written)
        deletes.extend(removed)
    for name in deletes:
        ids.pop(name, None)
    ids.update((name, blob_sha(data)) for name, data in out.items())
    return Merged(
        before,
        after,
        out,
        tuple(sorted(deletes)),
        _digest(ids),
        _datasets_of(ids),
        past,
        since.year if since_read > dt.date.min else dt.date.min.year,
    )


def window(observation: Observation) -> tuple[dt.date, dt.date]:
    """(the first day an observation can change, the first day the pages draw of referrers
    and paths): from those days on a trusted folder's rows are read."""
    buckets = (*observation.views.buckets, *observation.clones.buckets)
    day = observation.fetched_on
    since = min([day - dt.timedelta(days=WINDOW_DAYS), *(b.date for b in buckets)])
    return since, min(since, day - dt.timedelta(days=alltime.DAYS))


def _datasets_of(names: Iterable[str]) -> frozenset[str]:
    """The datasets that these period files (names inside a folder) hold."""
    return frozenset(name.split("/", 1)[0] for name in names)


def write_periods(
    folder: Folder, dataset: Dataset[Row], rows: Iterable[Row], since: dt.date
) -> tuple[dict[str, bytes], list[str]]:
    """The period files that hold rows dated `since` or later, with those rows replaced by
    `rows`' (in file order; older lines kept as they are), and the names of the period files
    left without rows (to remove). `folder` needs only the files of the periods from `since`
    on (and, for stars and forks, the newest older one).

    For stars and forks the totals given are not trusted: they are recomputed from the total
    of the stored rows before `since` (`stored_total_before`), so rows whose totals were summed
    over this year's file only still go on from last year's."""
    newer = [row for row in rows if row.date >= since]
    if dataset in GROWTH:
        carry = stored_total_before(folder, dataset, since)
        newer = cast("list[Row]", list(continue_totals(_growth_rows(newer), carry)))
    fresh = split_periods(dataset, newer)
    first = dataset.period(since)
    touched = {p for p in folder.periods.get(dataset.name, ()) if p >= first} | fresh.keys()
    out: dict[str, bytes] = {}
    removed: list[str] = []
    for period in sorted(touched):
        json_name = period_file(dataset, period, "json")
        csv_name = period_file(dataset, period, "csv")
        new_rows = fresh.get(period, ())
        old_json = folder.files.get(json_name)
        if old_json is None and period in folder.periods.get(dataset.name, ()):
            # the branch holds it, but it was not read: writing would drop its older rows
            raise RuntimeError(f"{folder.path}/{json_name} is written but was not read")
        if old_json is None:
            out[json_name] = encode_json(dataset, new_rows).encode()
            out[csv_name] = encode_csv(dataset, new_rows).encode()
            continue
        new_json, new_csv = write_window(dataset, old_json, folder.files[csv_name], since, new_rows)
        if new_json == _EMPTY_JSON:
            removed += [json_name, csv_name]
        else:
            out[json_name], out[csv_name] = new_json, new_csv
    return out, removed


def stored_total_before(folder: Folder, dataset: Dataset[Any], day: dt.date) -> int:
    """The running total of a stars or forks dataset's stored rows dated before `day`, read
    off the period file of `day` (its last row before `day`, or its first row's `total - new`)
    or, when that file has no row, off the last row of the newest older period file; 0 when
    there is none. The files must be as this tool wrote them (a folder matching its
    fingerprint, or one just encoded)."""
    first = dataset.period(day)
    for period in reversed(folder.periods.get(dataset.name, ())):
        if period > first:
            continue
        json_data = folder.files[period_file(dataset, period, "json")]
        total = total_before(json_data, day if period == first else dt.date.max)
        if total is not None:
            return total
    return 0


def _growth_rows(rows: Iterable[Any]) -> list[GrowthRow]:
    return [row for row in rows if isinstance(row, GrowthRow)]


def _older(history: History, day: dt.date) -> History:
    """The rows dated before `day` (an observation from `day` on leaves them as they are)."""
    return History(*(tuple(r for r in rows if r.date < day) for rows in _datasets(history)))


def _newer(history: History, day: dt.date) -> History:
    return History(*(tuple(r for r in rows if r.date >= day) for rows in _datasets(history)))


def _join(older: History, newer: History) -> History:
    return History(*(a + b for a, b in zip(_datasets(older), _datasets(newer), strict=True)))


def _datasets(history: History) -> tuple[tuple[Any, ...], ...]:
    return (
        history.views,
        history.clones,
        history.referrers,
        history.paths,
        history.stats,
        history.stars,
        history.forks,
        history.releases,
    )


def decode_folder(folder: Folder) -> History:
    """A repo folder's whole history, read strictly (HistoryFormatError names a bad file):
    its period files and any layout-1 whole files, merged, in file order."""
    return read_folder(folder)[0]


def read_folder(folder: Folder) -> tuple[History, tuple[TwinWarning, ...]]:
    """`decode_folder`, and what a rewrite of the folder must report first: each period CSV
    that differs from its JSON (edited by hand: the JSON is the source of truth, the CSV is
    rebuilt from it), and each period whose JSON is missing while its CSV is there (its rows
    are read from the CSV, strictly, so the JSON is recovered rather than made anew from
    GitHub's window alone)."""
    texts = {name: _text(data) for name, data in folder.files.items() if name.endswith(".json")}
    parts = decode_periods(texts, folder=folder.path)
    notes: list[TwinWarning] = []
    for name, data in sorted(folder.files.items()):
        data_file = parse_data_file(name)
        if data_file is None or not data_file.period or data_file.ext != "csv":
            continue
        dataset, period = data_file.dataset, data_file.period
        # its twin is named in its own form (a flat month file's twin is flat too)
        csv_path, json_name = f"{folder.path}/{name}", f"{name.removesuffix('.csv')}.json"
        read = parts[dataset.name]
        if json_name not in folder.ids:
            read[period] = decode_csv(dataset, _text(data), path=csv_path)
            notes.append(JsonRecoveredWarning(f"{folder.path}/{json_name}", csv_path))
        elif period in read and encode_csv(dataset, read[period]).encode() != data:
            notes.append(CsvEditedWarning(csv_path, f"{folder.path}/{json_name}"))
    whole = decode_layout1(texts, folder=folder.path) if folder.layout1 else History()
    return merge_histories(whole, join_history(parts)), tuple(notes)


def _text(data: bytes) -> str:
    """A stored file as text for the strict reader; not UTF-8 is not JSON either, and
    decode_json then names the file."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd"


INDEXED = (VIEWS, CLONES, STATS, STARS)  # the datasets the index is made of


def index_row_of(folder: Folder) -> IndexRow:
    """A folder's row of the index, from its views, clones, stats and stars (read whole, strictly:
    HistoryFormatError names a file that cannot be read)."""
    names = {d.name for d in INDEXED}
    files = {
        name: data
        for name, data in folder.files.items()
        if (parsed := parse_data_file(name)) is not None and parsed.dataset.name in names
    }
    return alltime.index_row(decode_folder(Folder.of(folder.path, files)))
