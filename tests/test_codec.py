"""Deterministic JSON/CSV files, and strict reading that refuses what it cannot trust."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traffic_sync.branch.codec import (
    DATASETS,
    FORKS,
    LAYOUT1_FILES,
    PATHS,
    REFERRERS,
    RELEASES,
    STARS,
    STATS,
    VIEWS,
    DataFile,
    Dataset,
    dataset_rows,
    decode_history,
    decode_json,
    decode_layout1,
    encode_csv,
    encode_history,
    encode_json,
    join_periods,
    parse_data_file,
    period_file,
    read_window,
    split_periods,
    total_before,
    write_window,
)
from traffic_sync.core.errors import HistoryFormatError
from traffic_sync.core.growth import GrowthRow, merge_growth
from traffic_sync.core.models import DailyRow, History, PathRow, ReferrerRow, ReleaseRow, StatsRow

GOLDEN = Path(__file__).parent / "golden" / "codec"
D0, D1, D2 = dt.date(2025, 12, 31), dt.date(2026, 1, 4), dt.date(2026, 1, 5)

SAMPLE = History(
    views=(DailyRow(D0, 7, 3, True), DailyRow(D1, 12, 5, True), DailyRow(D2, 3, 2, False)),
    clones=(DailyRow(D1, 0, 0, True),),
    referrers=(
        ReferrerRow(D0, "github.com", 1, 1),
        ReferrerRow(D2, "Google", 4, 3),
        ReferrerRow(D2, "news.ycombinator.com", 2, 2),
    ),
    paths=(PathRow(D2, "/octo/hello", 'octo/hello: "quoted", with commas · GitHub', 9, 4),),
    stats=(StatsRow(D2, 80, 9, 7, 3, 15, 7, 0, 0),),
    stars=(GrowthRow(D0, 3, 3), GrowthRow(D1, 1, 4), GrowthRow(D2, 2, 6)),
    forks=(GrowthRow(D1, 1, 1),),
    releases=(
        ReleaseRow(D2, "v1.0", "hello-1.0.tar.gz", 12),
        ReleaseRow(D2, "v1.1", 'hello "setup", 1.1.exe', 3),
    ),
)


def test_history_files_match_golden() -> None:
    """A repo folder's period files are exactly the expected bytes (UPDATE_GOLDEN=1 rewrites)."""
    files = encode_history(SAMPLE)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        for name, text in files.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(text, encoding="utf-8", newline="")
    expected = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in GOLDEN.rglob("*")
        if p.is_file()
    }
    assert files == expected


def test_rows_live_in_the_file_of_their_period() -> None:
    """Views, clones, stats, stars and forks by UTC year, referrers, paths and releases by
    month; no empty files."""
    assert sorted(encode_history(SAMPLE)) == [
        "clones/2026.csv",
        "clones/2026.json",
        "forks/2026.csv",
        "forks/2026.json",
        "paths/2026/01.csv",
        "paths/2026/01.json",
        "referrers/2025/12.csv",
        "referrers/2025/12.json",
        "referrers/2026/01.csv",
        "referrers/2026/01.json",
        "releases/2026/01.csv",
        "releases/2026/01.json",
        "stars/2025.csv",
        "stars/2025.json",
        "stars/2026.csv",
        "stars/2026.json",
        "stats/2026.csv",
        "stats/2026.json",
        "views/2025.csv",
        "views/2025.json",
        "views/2026.csv",
        "views/2026.json",
    ]


def test_empty_history_writes_no_file() -> None:
    """A period file exists once it has a row: an empty dataset has none."""
    assert encode_history(History()) == {}
    assert encode_history(History(stats=SAMPLE.stats)).keys() == {
        "stats/2026.json",
        "stats/2026.csv",
    }


def test_data_file_names() -> None:
    """Period files and layout 1's whole files are data files; nothing else is."""
    assert parse_data_file("views/2026.json") == DataFile(VIEWS, "2026", "json")
    assert parse_data_file("referrers/2026/01.csv") == DataFile(REFERRERS, "2026-01", "csv")
    assert parse_data_file("stats.json") == DataFile(STATS, "", "json")
    assert period_file(PATHS, "2025-12", "csv") == "paths/2025/12.csv"
    assert parse_data_file("stars/2026.json") == DataFile(STARS, "2026", "json")
    assert parse_data_file("forks/2025.csv") == DataFile(FORKS, "2025", "csv")
    assert parse_data_file("releases/2026/02.json") == DataFile(RELEASES, "2026-02", "json")
    layout1 = ("views", "clones", "referrers", "paths", "stats")  # layout 1 had no others
    assert set(LAYOUT1_FILES) == {f"{d}.{e}" for d in layout1 for e in ("json", "csv")}
    for other in (
        "README.md",
        "views/2026-01.json",  # views are kept by year
        "referrers/2026.json",  # referrers by month
        "referrers/2026/13.json",
        "views/26.json",
        "views/2026.txt",
        "views/notes.json",
        "stars/2026-01.json",  # stars and forks by year
        "releases/2026.json",  # releases by month
        "stars.json",  # never a layout-1 file
        "views/2026/x.json",
    ):
        assert parse_data_file(other) is None, other


def test_csv_columns_follow_the_contract() -> None:
    """CSV headers are the documented columns in the documented order."""
    assert encode_csv(VIEWS, []).strip() == "date,count,uniques,final"
    assert encode_csv(REFERRERS, []).strip() == "date,referrer,count,uniques"
    assert encode_csv(PATHS, []).strip() == "date,path,title,count,uniques"
    assert encode_csv(STARS, []).strip() == "date,new,total"
    assert encode_csv(FORKS, []).strip() == "date,new,total"
    assert encode_csv(RELEASES, []).strip() == "date,tag,asset,downloads"


def test_missing_file_reads_as_empty() -> None:
    """A repo folder with no files yet is an empty history, in either layout."""
    assert decode_history({}, folder="octo/hello") == History()
    assert decode_layout1({}, folder="octo/hello") == History()


def test_layout1_whole_files_read_as_before() -> None:
    """Layout 1's whole files (`views.json` ...) read strictly into the same rows."""
    files = {f"{d.name}.json": encode_json(d, dataset_rows(SAMPLE, d)) for d in DATASETS}
    layout1 = dataclasses.replace(SAMPLE, stars=(), forks=(), releases=())  # it had five
    assert decode_layout1(files, folder="octo/hello") == layout1
    assert decode_history(files, folder="octo/hello") == History()  # not period files
    files["clones.json"] = "{broken"
    with pytest.raises(HistoryFormatError, match=r"octo/hello/clones\.json"):
        decode_layout1(files, folder="octo/hello")


def test_unreadable_period_file_is_named() -> None:
    """A bad period file fails the read with its own path."""
    files = encode_history(SAMPLE)
    files["referrers/2025/12.json"] = '[{"date": "2025-12-31"}]'
    with pytest.raises(HistoryFormatError, match=r"octo/hello/referrers/2025/12\.json"):
        decode_history(files, folder="octo/hello")


def test_stars_totals_run_on_across_period_files() -> None:
    """A year's first total goes on from the year before; the reader recomputes totals over
    every period it reads, so a total edited by hand is not trusted."""
    files = encode_history(SAMPLE)
    assert '{"date": "2026-01-04", "new": 1, "total": 4}' in files["stars/2026.json"]
    files["stars/2026.json"] = files["stars/2026.json"].replace('"total": 6', '"total": 60')
    assert decode_history(files, folder="octo/hello").stars == SAMPLE.stars


def test_total_before_reads_the_carry_off_one_file() -> None:
    """The total a window goes on from: the last row before it, or the first row's total
    less its new when the window starts the file; none for an empty file."""
    data = encode_json(STARS, SAMPLE.stars[1:]).encode()  # 2026: totals 4 and 6
    assert total_before(data, D2) == 4
    assert total_before(data, D1) == 3  # what 2025 held
    assert total_before(data, dt.date.max) == 6
    assert total_before(encode_json(STARS, ()).encode(), D1) is None


@pytest.mark.parametrize(
    ("dataset", "text", "why"),
    [
        (STARS, '[{"date": "2026-01-01", "new": 1}]', "exactly the columns"),
        (STARS, '[{"date": "2026-01-01", "new": -1, "total": 0}]', "bad 'new'"),
        (FORKS, '[{"date": "2026-01-01", "new": 1, "total": "1"}]', "bad 'total'"),
        (RELEASES, '[{"date": "2026-01-01", "tag": 1, "asset": "a", "downloads": 1}]', "bad 'tag'"),
        (
            RELEASES,
            '[{"date": "2026-01-01", "tag": "v1", "asset": "a", "downloads": 1.0}]',
            "bad 'downloads'",
        ),
    ],
)
def test_new_datasets_are_read_strictly(dataset: Dataset[Any], text: str, why: str) -> None:
    """Stars, forks and releases files are checked column by column like the others."""
    with pytest.raises(HistoryFormatError, match=why):
        decode_json(dataset, text, path="x.json")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not valid JSON"),
        ('{"date": "2026-01-01"}', "not a JSON array"),
        ('[{"date": "2026-01-01", "count": 1, "uniques": 1}]', "exactly the columns"),
        (
            '[{"date": "2026-01-01", "count": 1, "uniques": 1, "final": true, "x": 1}]',
            "exactly the columns",
        ),
        ('[{"date": "2026-1-1", "count": 1, "uniques": 1, "final": true}]', "bad 'date'"),
        ('[{"date": "2026-01-01", "count": -1, "uniques": 1, "final": true}]', "bad 'count'"),
        ('[{"date": "2026-01-01", "count": true, "uniques": 1, "final": true}]', "bad 'count'"),
        ('[{"date": "2026-01-01", "count": 1.5, "uniques": 1, "final": true}]', "bad 'count'"),
        ('[{"date": "2026-01-01", "count": 1, "uniques": 1, "final": "yes"}]', "bad 'final'"),
    ],
)
def test_unreadable_file_names_the_file_and_the_fix(text: str, why: str) -> None:
    """Bad JSON or wrong columns raise an error naming the file, the reason and what to do."""
    with pytest.raises(HistoryFormatError) as caught:
        decode_json(VIEWS, text, path="data/octo/hello/views.json")
    assert "data/octo/hello/views.json" in caught.value.message
    assert why in caught.value.message
    assert "left untouched" in caught.value.fix


def test_non_string_referrer_is_refused() -> None:
    """A referrer that is not text is refused rather than coerced."""
    with pytest.raises(HistoryFormatError):
        decode_json(
            REFERRERS,
            '[{"date": "2026-01-01", "referrer": 5, "count": 1, "uniques": 1}]',
            path="r.json",
        )


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
counts = st.integers(0, 2**40)
day_st = st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2100, 1, 1))
histories = st.builds(
    History,
    views=st.lists(st.builds(DailyRow, day_st, counts, counts, st.booleans())).map(tuple),
    referrers=st.lists(st.builds(ReferrerRow, day_st, texts, counts, counts)).map(tuple),
    paths=st.lists(st.builds(PathRow, day_st, texts, texts, counts, counts)).map(tuple),
    stats=st.lists(st.builds(StatsRow, day_st, *[counts] * 8)).map(tuple),
    # stars and forks as a history holds them: one row a day, totals the running sum
    stars=st.lists(st.builds(GrowthRow, day_st, counts, st.just(0))).map(merge_growth),
    forks=st.lists(st.builds(GrowthRow, day_st, counts, st.just(0))).map(merge_growth),
    releases=st.lists(st.builds(ReleaseRow, day_st, texts, texts, counts)).map(tuple),
)


def _by_date(history: History) -> History:
    """Each dataset's rows sorted by date (stable): the order a history is kept in."""
    return History(
        **{d.name: tuple(sorted(dataset_rows(history, d), key=lambda r: r.date)) for d in DATASETS}
    )


@given(histories)
def test_files_round_trip(history: History) -> None:
    """Whatever is written reads back as the same rows, and writing again gives the same bytes."""
    history = _by_date(history)
    files = encode_history(history)
    back = decode_history(files, folder="x")
    assert back == history
    assert encode_history(back) == files


@given(histories, st.sampled_from(DATASETS))
def test_split_then_join_is_the_identity(history: History, dataset: Dataset[Any]) -> None:
    """Splitting rows by period and joining the periods back gives the rows; every row is in
    its date's period, and no period is empty."""
    rows = dataset_rows(_by_date(history), dataset)
    parts = split_periods(dataset, rows)
    assert join_periods(parts) == rows
    for period, part in parts.items():
        assert part
        assert all(dataset.period(row.date) == period for row in part)
        assert dataset.is_period(period)


@given(histories)
def test_period_files_are_each_periods_rows_encoded(history: History) -> None:
    """Each period file holds exactly its period's rows, encoded as a whole file would be:
    the bytes do not depend on the other periods."""
    history = _by_date(history)
    files = encode_history(history)
    for dataset in DATASETS:
        for period, rows in split_periods(dataset, dataset_rows(history, dataset)).items():
            assert files[period_file(dataset, period, "json")] == encode_json(dataset, rows)
            assert files[period_file(dataset, period, "csv")] == encode_csv(dataset, rows)
    assert len(files) == 2 * sum(len(split_periods(d, dataset_rows(history, d))) for d in DATASETS)


@given(histories)
def test_json_has_no_time_of_day(history: History) -> None:
    """Files hold dates only, so an unchanged re-run cannot change a byte."""
    assert "T00:" not in encode_json(VIEWS, history.views)
    assert encode_json(STATS, history.stats) == encode_json(STATS, tuple(history.stats))


def test_stats_decoder_reads_what_encoder_wrote() -> None:
    """The stats dataset reads back field for field."""
    text = encode_json(STATS, SAMPLE.stats)
    assert decode_json(STATS, text, path="s.json") == SAMPLE.stats


@given(histories)
def test_json_is_one_object_per_line_in_column_order(history: History) -> None:
    """Each row is one line: exactly what `json.dumps` makes of its columns in CSV order."""
    for dataset in DATASETS:
        rows = dataset_rows(history, dataset)
        lines = encode_json(dataset, rows).split("\n")[:-1]
        assert len(lines) == (len(rows) + 2 if rows else 1)
        for row, line in zip(rows, lines[1:-1], strict=True):
            obj = json.loads(line.removesuffix(","))
            assert list(obj) == list(dataset.columns)
            assert line.removesuffix(",") == "  " + json.dumps(obj, ensure_ascii=False)
            assert dataset.from_json(obj) == row


def _in_file_order(dataset: Dataset[Any], rows: Iterable[Any]) -> list[Any]:
    return sorted(set(rows), key=lambda r: (r.date, *dataset.csv_cells(r)[1:]))


@st.composite
def windows(draw: st.DrawFn) -> tuple[Dataset[Any], list[Any], dt.date, list[Any]]:
    """A dataset, its stored rows, a date, and new rows from that date on."""
    history = draw(histories)
    dataset = draw(st.sampled_from(DATASETS))
    rows = _in_file_order(dataset, getattr(history, dataset.name))
    since = draw(day_st)
    fresh = [
        dataclasses.replace(r, date=max(r.date, since))
        for r in getattr(draw(histories), dataset.name)
    ]
    return dataset, rows, since, _in_file_order(dataset, fresh)


@given(windows())
def test_window_reads_and_writes_equal_whole_files(
    window: tuple[Dataset[Any], list[Any], dt.date, list[Any]],
) -> None:
    """Reading a file's newest rows (from its JSON, or from its CSV when that can hold no text)
    gives those rows; replacing them gives the very bytes that
    encoding the whole new history gives, including text cells with commas, quotes and line
    breaks (which take the CSV off its line-per-row shortcut)."""
    dataset, rows, since, fresh = window
    json_data, csv_data = encode_json(dataset, rows).encode(), encode_csv(dataset, rows).encode()
    for csv_twin in (None, csv_data):  # the CSV twin is read for datasets without text
        newest = read_window(dataset, json_data, since, csv_data=csv_twin)
        assert newest == tuple(r for r in rows if r.date >= since)
        assert read_window(dataset, json_data, dt.date.min, csv_data=csv_twin) == tuple(rows)
    whole = [*(r for r in rows if r.date < since), *fresh]
    assert write_window(dataset, json_data, csv_data, since, fresh) == (
        encode_json(dataset, whole).encode(),
        encode_csv(dataset, whole).encode(),
    )


def test_window_keeps_older_lines_byte_for_byte() -> None:
    """A new day rewrites the tail only; a path title with a line break still round-trips."""
    old = (PathRow(D1, "/a", "two\nlines", 3, 1), PathRow(D2, "/b", "b", 2, 1))
    new = (PathRow(D2, "/c", 'say "hi", then go', 5, 2),)
    json_data, csv_data = write_window(
        PATHS, encode_json(PATHS, old).encode(), encode_csv(PATHS, old).encode(), D2, new
    )
    assert json_data.startswith(encode_json(PATHS, old[:1])[:-3].encode())
    assert decode_json(PATHS, json_data.decode(), path="p.json") == (old[0], *new)
    assert csv_data == encode_csv(PATHS, (old[0], *new)).encode()
