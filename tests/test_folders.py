"""Repo folders: a folder this tool wrote is updated in the period files an observation
reaches, at their tail, with the very bytes a whole rewrite gives; any other folder is read
strictly; a folder in layout 1 moves to period files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traffic_sync.branch.alltime import index_row
from traffic_sync.branch.codec import (
    DATASETS,
    FORKS,
    STARS,
    dataset_rows,
    encode_history,
    encode_json,
    parse_data_file,
    period_file,
)
from traffic_sync.branch.folders import (
    Folder,
    Merged,
    decode_folder,
    fingerprint,
    index_row_of,
    merge_into,
    move_folder,
    repo_folders,
    spans,
    stored_total_before,
    write_periods,
)
from traffic_sync.core.errors import HistoryFormatError
from traffic_sync.core.growth import GrowthRow, merge_growth
from traffic_sync.core.history import apply_observation, count_new_days
from traffic_sync.core.models import (
    Bucket,
    History,
    Observation,
    PopularPath,
    Referrer,
    ReleaseRow,
    RepoInfo,
    TrafficAnswer,
)

FOLDER = "data/octo/hello"
START = dt.date(2025, 6, 1)
REPO = RepoInfo("octo/hello", 7, START - dt.timedelta(days=3), private=False, stars=4)

counts = st.integers(0, 500)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def observations(draw: st.DrawFn, day: dt.date) -> Observation:
    """A fetch on `day`: some of its 15 daily buckets (rarely one from before the window),
    and a few referrers and paths whose text may hold commas, quotes or line breaks."""
    offsets = draw(st.sets(st.integers(0, 15), max_size=15))

    def answer() -> TrafficAnswer:
        buckets = tuple(
            Bucket(day - dt.timedelta(days=o), draw(counts), draw(counts)) for o in sorted(offsets)
        )
        return TrafficAnswer(sum(b.count for b in buckets), draw(counts), buckets)

    return Observation(
        repo=REPO,
        fetched_on=day,
        views=answer(),
        clones=answer(),
        referrers=tuple(
            Referrer(r, draw(counts), draw(counts)) for r in draw(st.sets(texts, max_size=3))
        ),
        paths=tuple(
            PopularPath(p, draw(texts), draw(counts), draw(counts))
            for p in draw(st.sets(texts, max_size=3))
        ),
    )


@st.composite
def runs(draw: st.DrawFn) -> list[Observation]:
    """Runs on increasing days, sometimes weeks apart, sometimes twice on the same day; from
    late in a year, so their windows cross month and year ends."""
    day = draw(st.sampled_from([START, dt.date(2025, 12, 20), dt.date(2026, 2, 25)]))
    out = []
    for _ in range(draw(st.integers(1, 8))):
        day += dt.timedelta(days=draw(st.sampled_from([0, 1, 1, 2, 9, 40])))
        out.append(draw(observations(day)))
    return out


def as_files(history: History) -> dict[str, bytes]:
    return {k: v.encode() for k, v in encode_history(history).items()}


def folder_of(files: Mapping[str, bytes]) -> Folder:
    return Folder.of(FOLDER, files)


def written(files: Mapping[str, bytes], merged: Merged) -> dict[str, bytes]:
    """The folder's data files after the write."""
    kept = {k: v for k, v in files.items() if k not in merged.deletes}
    return {**kept, **merged.files}


@settings(max_examples=60, deadline=None)
@given(runs())
def test_merging_into_period_files_equals_merging_the_whole_and_splitting(
    observations: list[Observation],
) -> None:
    """Run after run, the fast way (fingerprint matches) and the strict way (no fingerprint)
    leave the folder with the period files that merging into the whole history and splitting
    it gives, count the same new days, and see the same views, clones and stats; the fast way
    writes only the period files the observation reaches."""
    files: dict[str, bytes] = {}
    whole = History()
    known: str | None = None
    for observation in observations:
        fast = merge_into(folder_of(files), observation, known=known)
        strict = merge_into(folder_of(files), observation, known=None)
        whole = apply_observation(whole, observation)
        expected = as_files(whole)
        assert written(files, fast) == expected
        assert written(files, strict) == expected
        assert count_new_days(fast.before, fast.after) == count_new_days(
            strict.before, strict.after
        )
        for name in ("views", "clones", "stats"):
            assert getattr(fast.after, name) == getattr(strict.after, name)
            assert getattr(fast.after, name) == getattr(whole, name)
        assert fast.fingerprint == strict.fingerprint == fingerprint(expected)
        assert fast.datasets == strict.datasets == {n.split("/")[0] for n in expected}
        if known is not None:
            since = observation.fetched_on - dt.timedelta(days=15)
            reached = {d.period(since) for d in DATASETS} | {
                d.period(observation.fetched_on) for d in DATASETS
            }
            periods = {n.split("/")[1].split(".")[0] for n in (*fast.files, *fast.deletes)}
            assert periods <= reached  # older period files are not rewritten
        files = expected
        known = fast.fingerprint


def test_matching_fingerprint_keeps_older_lines_as_they_are() -> None:
    """The fingerprint is what lets a run skip reading old rows: an old line in another valid
    spelling survives the fast way byte for byte, while the strict way rewrites it."""
    old = apply_observation(History(), _quiet(START))
    files = as_files(old)
    views = files["views/2025.json"].decode()
    first = views.split("\n")[1]
    respelled = first.replace(", ", ",")
    files["views/2025.json"] = views.replace(first, respelled, 1).encode()
    later = _quiet(START + dt.timedelta(days=30))

    fast = merge_into(folder_of(files), later, known=fingerprint(files))
    strict = merge_into(folder_of(files), later, known=None)

    assert respelled in fast.files["views/2025.json"].decode()
    assert respelled not in strict.files["views/2025.json"].decode()
    assert first in strict.files["views/2025.json"].decode()


def test_last_years_file_is_left_alone_once_the_window_leaves_it() -> None:
    """In January the window still reaches December, so last year's file is rewritten at its
    tail; from mid-January on it is not written at all."""
    files = as_files(apply_observation(History(), _quiet(dt.date(2025, 12, 20))))
    early = merge_into(folder_of(files), _quiet(dt.date(2026, 1, 5)), known=fingerprint(files))
    assert {"views/2025.json", "views/2026.json"} <= early.files.keys()
    assert early.files["views/2025.json"] != files["views/2025.json"]  # Dec 23 .. 31 now final
    files = written(files, early)
    late = merge_into(folder_of(files), _quiet(dt.date(2026, 1, 20)), known=early.fingerprint)
    assert not any(name.startswith(("views/2025", "stats/2025")) for name in late.files)
    assert written(files, late)["views/2025.json"] == files["views/2025.json"]


def test_a_snapshot_period_left_without_rows_is_removed() -> None:
    """An empty answer on the same day leaves that day with no rows: a month file that held
    only them goes, both ways."""
    day = dt.date(2026, 2, 1)
    files = as_files(apply_observation(History(), _busy(day)))
    assert "referrers/2026/02.json" in files
    for known in (fingerprint(files), None):
        again = merge_into(folder_of(files), _quiet(day), known=known)
        assert {"referrers/2026/02.json", "paths/2026/02.csv"} <= set(again.deletes)
        assert "referrers" not in again.datasets
        assert written(files, again) == as_files(
            apply_observation(apply_observation(History(), _busy(day)), _quiet(day))
        )


def test_changed_folder_is_read_strictly() -> None:
    """A file edited by hand no longer matches the fingerprint, so it is checked row by row and
    refused when wrong, however old the bad row is."""
    files = as_files(apply_observation(History(), _quiet(START)))
    known = fingerprint(files)
    views = files["views/2025.json"].decode()
    files["views/2025.json"] = views.replace('"count": 0', '"count": -1', 1).encode()
    later = _quiet(START + dt.timedelta(days=400))
    with pytest.raises(HistoryFormatError, match=r"data/octo/hello/views/2025\.json"):
        merge_into(folder_of(files), later, known=known)
    with pytest.raises(HistoryFormatError, match=r"views/2025\.json"):
        index_row_of(folder_of(files))


def test_a_missing_file_changes_the_fingerprint() -> None:
    """A folder missing one of its files no longer matches; it reads as empty there."""
    files = as_files(apply_observation(History(), _quiet(START)))
    known = fingerprint(files)
    del files["views/2025.csv"]
    assert fingerprint(files) != known
    assert (
        decode_folder(folder_of(files)).views == apply_observation(History(), _quiet(START)).views
    )


def test_index_reads_only_what_it_shows() -> None:
    """The index needs views, clones and stats; the snapshots are not read for it."""
    history = apply_observation(History(), _busy(START))
    files = as_files(history)
    files["paths/2025/06.json"] = b"{broken"
    assert index_row_of(folder_of(files)) == index_row(history)


def test_other_files_in_a_folder_are_not_data() -> None:
    """The page and files someone added are neither read nor fingerprinted nor removed."""
    files = as_files(apply_observation(History(), _busy(START)))
    extra = {**files, "README.md": b"# page", "views/notes.txt": b"mine", "views/x.json": b"{"}
    assert folder_of(extra).files == files
    merged = merge_into(folder_of(extra), _busy(START + dt.timedelta(days=1)), known=None)
    assert not {"README.md", "views/notes.txt", "views/x.json"} & set(merged.deletes)


def layout1_files(history: History) -> dict[str, bytes]:
    """A folder as layout 1 kept it: one whole file per dataset, all five always there."""
    five = DATASETS[:5]  # layout 1 had no stars, forks or releases
    return {f"{d.name}.json": encode_json(d, dataset_rows(history, d)).encode() for d in five} | {
        f"{d.name}.csv": b"" for d in five
    }


def test_layout1_folder_moves_to_period_files() -> None:
    """Every row of the whole files is kept, in period files; every whole file goes."""
    history = apply_observation(History(), _busy(dt.date(2026, 1, 3)))
    folder = folder_of(layout1_files(history))
    assert folder.layout1
    moved = move_folder(folder)
    assert moved.files == as_files(history)
    assert set(moved.deletes) == set(layout1_files(history))
    assert moved.after == history


def test_layout1_folder_is_merged_strictly_whatever_the_fingerprint() -> None:
    """An observation into a folder still in layout 1 (or holding both layouts, say after an
    older version wrote it) merges both layouts' rows, a value never lowered."""
    first, second = _busy(START), _quiet(START + dt.timedelta(days=1))
    third = _quiet(START + dt.timedelta(days=2))
    old = apply_observation(History(), first)
    files = {**layout1_files(old), **as_files(apply_observation(History(), second))}
    merged = merge_into(folder_of(files), third, known=fingerprint(files))
    expected = apply_observation(apply_observation(old, second), third)
    assert merged.files == as_files(expected)
    assert set(layout1_files(old)) <= set(merged.deletes)


def test_unreadable_layout1_file_fails_the_move_naming_it() -> None:
    """A whole file that cannot be read stops the folder's move; the error names it."""
    files = layout1_files(apply_observation(History(), _busy(START)))
    files["stats.json"] = b'[{"date": "2025-06-01"}]'
    with pytest.raises(HistoryFormatError, match=r"data/octo/hello/stats\.json"):
        move_folder(folder_of(files))


def test_repo_folders_are_found_by_their_data_files() -> None:
    """A folder is a repo's when it holds a data file, in either layout, under the data path."""
    tree = {
        "data/a/one/views/2026.json": b"[]",
        "data/a/one/README.md": b"",
        "data/b/two/stats.json": b"[]",
        "data/c/page-only/README.md": b"",
        "data/.traffic-sync/state.json": b"{}",
        "data/README.md": b"",
        "other/d/three/views/2026.json": b"[]",
    }
    folders = repo_folders(tree, "data/")
    assert sorted(folders) == ["a/one", "b/two"]
    assert folders["a/one"].path == "data/a/one"
    assert folders["a/one"].periods["views"] == ("2026",)
    assert folders["b/two"].layout1


def _quiet(day: dt.date) -> Observation:
    return Observation(REPO, day, TrafficAnswer(0, 0), TrafficAnswer(0, 0))


def _busy(day: dt.date) -> Observation:
    bucket = (Bucket(day - dt.timedelta(days=3), 5, 2),)
    return Observation(
        REPO,
        day,
        TrafficAnswer(5, 2, bucket),
        TrafficAnswer(5, 2, bucket),
        (Referrer("Google", 3, 1),),
        (PopularPath("/octo/hello", "Hello", 4, 2),),
    )


# --- stars, forks and releases ------------------------------------------------------------

NEW_YEAR = dt.date(2026, 1, 1)
GROWN = History(
    stars=merge_growth(
        [GrowthRow(dt.date(2024, 3, 1), 5, 0), GrowthRow(dt.date(2025, 12, 30), 2, 0)],
        [GrowthRow(NEW_YEAR, 3, 0), GrowthRow(dt.date(2026, 1, 2), 1, 0)],
    ),
    forks=merge_growth([GrowthRow(dt.date(2025, 12, 31), 1, 0), GrowthRow(NEW_YEAR, 2, 0)]),
    releases=(
        ReleaseRow(dt.date(2025, 12, 31), "v1.0", "hello.tar.gz", 10),
        ReleaseRow(NEW_YEAR, "v1.0", "hello.tar.gz", 12),
        ReleaseRow(NEW_YEAR, "v1.1", "hello, 1.1.zip", 1),
    ),
)


def test_new_datasets_round_trip_across_a_year_boundary() -> None:
    """Stars, forks and releases are written to their period files and read back as the same
    rows; 2026's stars go on from 2025's total."""
    files = as_files(GROWN)
    assert {n for n in files if n.startswith(("stars/", "forks/", "releases/"))} == {
        f"{d}/{p}.{e}"
        for d, p in [
            ("stars", "2024"),
            ("stars", "2025"),
            ("stars", "2026"),
            ("forks", "2025"),
            ("forks", "2026"),
            ("releases", "2025/12"),
            ("releases", "2026/01"),
        ]
        for e in ("json", "csv")
    }
    assert files["stars/2026.csv"] == b"date,new,total\n2026-01-01,3,10\n2026-01-02,1,11\n"
    assert decode_folder(folder_of(files)) == GROWN


@pytest.mark.parametrize("known", [True, False])
def test_a_traffic_run_keeps_stars_forks_and_releases(known: bool) -> None:
    """A fetch of traffic, the fast way or the strict way, leaves the new datasets' files
    byte for byte, and the history after it holds them."""
    files = as_files(GROWN)
    merged = merge_into(
        folder_of(files), _quiet(dt.date(2026, 1, 3)), known=fingerprint(files) if known else None
    )
    after = written(files, merged)
    for name, data in files.items():
        if name.startswith(("stars/", "forks/", "releases/")):
            assert after[name] == data, name
    assert (merged.after.stars, merged.after.forks) == (GROWN.stars, GROWN.forks)
    assert set(GROWN.releases) <= set(merged.after.releases)


def test_writing_this_year_needs_only_this_years_file() -> None:
    """A new day written into 2026 with only 2026's file read, its totals summed over 2026's
    rows alone, still goes on from 2025's total: the file itself says where it starts."""
    files = as_files(GROWN)
    only_2026 = {n: d for n, d in files.items() if n.startswith("stars/2026.")}
    added = GrowthRow(dt.date(2026, 1, 5), 4, 0)
    this_year = merge_growth(dataset_rows(GROWN, STARS)[2:], [added])  # totals from 0
    out, removed = write_periods(folder_of(only_2026), STARS, this_year, NEW_YEAR)
    whole = dataclasses.replace(GROWN, stars=merge_growth(GROWN.stars, [added]))
    assert out == {n: d for n, d in as_files(whole).items() if n.startswith("stars/2026.")}
    assert removed == []


def test_a_new_year_goes_on_from_the_newest_older_file() -> None:
    """The first row of 2027 (no file yet) goes on from the last row of 2026's file."""
    files = {n: d for n, d in as_files(GROWN).items() if n.startswith("forks/2026.")}
    first = GrowthRow(dt.date(2027, 1, 2), 1, 1)
    out, _ = write_periods(folder_of(files), FORKS, [first], dt.date(2027, 1, 1))
    assert out[period_file(FORKS, "2027", "csv")] == b"date,new,total\n2027-01-02,1,4\n"
    assert stored_total_before(folder_of(files), FORKS, dt.date(2027, 1, 1)) == 3
    assert stored_total_before(folder_of({}), FORKS, dt.date(2027, 1, 1)) == 0


growth_series = st.lists(
    st.builds(
        GrowthRow,
        st.dates(min_value=dt.date(2023, 11, 1), max_value=dt.date(2026, 2, 1)),
        st.integers(0, 50),
        st.just(0),
    ),
    max_size=25,
).map(merge_growth)


@settings(deadline=None)
@given(growth_series, growth_series, st.dates(dt.date(2023, 10, 1), dt.date(2026, 3, 1)))
def test_writing_from_any_day_equals_encoding_the_whole(
    stored: tuple[GrowthRow, ...], fresh: tuple[GrowthRow, ...], since: dt.date
) -> None:
    """Rows from any day on, their totals summed over them alone, written into a folder that
    holds only the period files from that day's on and the newest older one, give exactly
    the files of the whole merged history."""
    fresh = merge_growth(r for r in fresh if r.date >= since)
    whole = merge_growth([r for r in stored if r.date < since], fresh)
    files = as_files(History(stars=stored))
    periods = sorted({n.split("/")[1].split(".")[0] for n in files})
    older = [p for p in periods if p < str(since.year)][-1:]
    read = {
        n: d
        for n, d in files.items()
        if n.split("/")[1].split(".")[0] in older
        or n.split("/")[1].split(".")[0] >= str(since.year)
    }
    out, removed = write_periods(folder_of(read), STARS, fresh, since)
    after = {**{n: d for n, d in files.items() if n not in removed}, **out}
    assert after == as_files(History(stars=whole))


@settings(max_examples=40, deadline=None)
@given(runs(), st.sampled_from([0, 30, 90, 400]))
def test_the_files_spans_read_are_all_a_trusted_write_needs(
    observations: list[Observation], days_shown: int
) -> None:
    """A trusted folder given only the period files `spans` says a run reads writes the same
    files as the folder given whole: the rule for reads and the rule for writes are one."""
    files: dict[str, bytes] = {}
    for observation in observations:
        known = folder_of(files).fingerprint() if files else None
        since_read = observation.fetched_on - dt.timedelta(days=days_shown)
        planned = spans(observation, since_read=since_read)
        read = {
            name: data
            for name, data in files.items()
            if (data_file := parse_data_file(name)) is not None
            and planned[data_file.dataset.name].reads(data_file)
        }
        partial = Folder.of(FOLDER, read, ids=folder_of(files).ids)
        whole = merge_into(folder_of(files), observation, known=known)
        part = merge_into(partial, observation, known=known, past={}, since=since_read)
        assert (part.files, part.deletes) == (whole.files, whole.deletes)
        files = written(files, whole)
