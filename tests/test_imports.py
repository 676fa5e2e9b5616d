"""Reading the history other tools kept: github-repo-stats' and repository-traffic-action's files,
in their own formats, into traffic-sync's datasets; a file that cannot be read is named with
its line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from traffic_sync.core.growth import GrowthRow
from traffic_sync.core.models import DailyRow, PathRow, ReferrerRow
from traffic_sync.imports.formats import (
    Imported,
    ImportFormatError,
    Tool,
    read_ghrs,
    read_import,
    read_sangonzal,
    wanted_files,
)
from traffic_sync.imports.importer import load_folder

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
D = dt.date
AGGREGATE_HEADER = "time_iso8601,clones_total,clones_unique,views_total,views_unique\n"


def fixture(tool: Tool) -> Imported:
    folder, files, _ = load_folder(tool, FIXTURES / tool.value)
    return read_import(tool, files, where=str(folder))


def ghrs(**files: str) -> Imported:
    """A GHRS folder of these files (names with "/" as "__"), with an aggregate if none."""
    named = {name.replace("__", "/"): text for name, text in files.items()}
    named.setdefault("views_clones_aggregate.csv", AGGREGATE_HEADER)
    return read_ghrs(named, where="ghrs-data")


# --- github-repo-stats ------------------------------------------------------------------------


def test_ghrs_views_and_clones_are_daily_rows_final_up_to_two_days_before_the_last_run() -> None:
    """The aggregate's columns become views and clones; the last run was on Jan 5 (its newest
    snapshot), so days up to Jan 3 are final and Jan 4 and 5 are not; a day GHRS never
    recorded (Dec 30) stays absent."""
    history = fixture(Tool.GHRS).history
    assert history.views[0] == DailyRow(D(2025, 12, 27), 59, 13, final=True)
    assert history.clones[2] == DailyRow(D(2025, 12, 29), 0, 0, final=True)
    assert [(r.date, r.final) for r in history.views[-3:]] == [
        (D(2026, 1, 3), True),
        (D(2026, 1, 4), False),
        (D(2026, 1, 5), False),
    ]
    assert D(2025, 12, 30) not in {r.date for r in history.views}
    assert fixture(Tool.GHRS).last_run == D(2026, 1, 5)


def test_ghrs_cumulative_stars_become_new_stars_per_day() -> None:
    """stargazers.csv's running count becomes each day's new stars; the net snapshots go on
    after its last row, as GHRS joins them."""
    assert fixture(Tool.GHRS).history.stars == (
        GrowthRow(D(2024, 3, 2), 3, 3),
        GrowthRow(D(2024, 3, 5), 1, 4),
        GrowthRow(D(2025, 6, 10), 5, 9),
        GrowthRow(D(2025, 12, 31), 2, 11),
        GrowthRow(D(2026, 1, 2), 1, 12),
        GrowthRow(D(2026, 1, 4), 2, 14),  # from stargazer-snapshots.csv
    )
    assert [(r.date, r.new) for r in fixture(Tool.GHRS).history.forks] == [
        (D(2024, 4, 11), 1),
        (D(2025, 12, 30), 1),
        (D(2026, 1, 3), 1),
    ]


def test_raw_stars_with_times_count_per_utc_day() -> None:
    """GHRS's raw stars.csv has a row per star at its time (any zone): counted per UTC day."""
    imported = ghrs(
        **{
            "stars.csv": "time_iso8601,stars_cumulative\n"
            "2021-01-14 17:41:02+00:00,1\n"
            "2021-01-14 17:45:57+00:00,2\n"
            "2021-01-15 00:30:00+01:00,3\n"  # Jan 14, 23:30 UTC
            "2021-01-22 20:47:55+00:00,4\n"
        }
    )
    assert imported.history.stars == (
        GrowthRow(D(2021, 1, 14), 3, 3),
        GrowthRow(D(2021, 1, 22), 1, 4),
    )


def test_a_falling_net_count_never_makes_a_negative_day() -> None:
    """A net snapshot below the listed count (stars taken back) adds no day below zero."""
    imported = ghrs(
        **{
            "stars.csv": "time_iso8601,stars_cumulative\n2023-08-09 10:00:00+00:00,1000\n",
            "stars-snapshots.csv": "time_iso8601,stargazers_cumulative_snapshot\n"
            "2023-08-10 16:50:32+00:00,990\n2023-09-28 16:50:32+00:00,1100\n",
        }
    )
    assert [(r.date, r.new) for r in imported.history.stars] == [
        (D(2023, 8, 9), 1000),
        (D(2023, 8, 10), 0),
        (D(2023, 9, 28), 110),
    ]


def test_net_star_snapshots_alone_are_skipped() -> None:
    """Without the stars' own days a net count cannot be spread over days: skipped, said why."""
    imported = ghrs(
        **{
            "stargazer-snapshots.csv": "time_iso8601,stargazers_cumulative_snapshot\n"
            "2023-08-10 16:50:32+00:00,1000\n"
        }
    )
    assert imported.history.stars == ()
    assert "stargazer-snapshots.csv" in {s.what for s in imported.skipped}


def test_ghrs_snapshots_are_dated_by_their_run_and_the_later_run_of_a_day_wins() -> None:
    """Referrers and paths come from the snapshot files, dated by the UTC day in their name;
    Jan 4 had two runs and keeps the later one; an older file's column names still read; a
    referrer with a comma round-trips; GHRS keeps no titles."""
    history = fixture(Tool.GHRS).history
    jan4 = [r for r in history.referrers if r.date == D(2026, 1, 4)]
    assert jan4 == [
        ReferrerRow(D(2026, 1, 4), "Google", 116, 59),
        ReferrerRow(D(2026, 1, 4), "github.com", 85, 61),
        ReferrerRow(D(2026, 1, 4), "news.ycombinator.com", 9, 7),
    ]
    assert ReferrerRow(D(2025, 12, 20), "Google", 90, 41) in history.referrers
    assert ReferrerRow(D(2026, 1, 5), "search.example, beta", 4, 2) in history.referrers
    assert PathRow(D(2026, 1, 5), "/octo-org/busy-lib", "", 590, 190) in history.paths
    assert history.stats == ()
    assert history.releases == ()
    skipped = {s.what for s in fixture(Tool.GHRS).skipped}
    assert {"stats", "paths titles", "releases"} <= skipped


def test_ghrs_empty_cells_are_zero_and_a_day_twice_keeps_the_max() -> None:
    """GHRS reads an empty cell as 0; a day in the aggregate and a leftover fragment keeps
    the highest of each number, as GHRS's own merge does."""
    imported = ghrs(
        **{
            "views_clones_aggregate.csv": AGGREGATE_HEADER + "2026-02-01 00:00:00+00:00,,,12,5\n",
            "snapshots__2026-02-03_120000_views_clones_series_fragment.csv": AGGREGATE_HEADER
            + "2026-02-01 00:00:00+00:00,2.0,1.0,9.0,7.0\n",
        }
    )
    assert imported.history.views == (DailyRow(D(2026, 2, 1), 12, 7, final=True),)
    assert imported.history.clones == (DailyRow(D(2026, 2, 1), 2, 1, final=True),)


def test_which_files_an_import_reads() -> None:
    """GHRS's data files and its snapshots are read; its reports and anything else are not."""
    names = [
        "views_clones_aggregate.csv",
        "stargazers.csv",
        "report.pdf",
        "snapshots/2026-01-04_231820_top_paths_snapshot.csv",
        "snapshots/notes.csv",
    ]
    assert wanted_files(Tool.GHRS, names) == (
        "snapshots/2026-01-04_231820_top_paths_snapshot.csv",
        "stargazers.csv",
        "views_clones_aggregate.csv",
    )
    assert wanted_files(Tool.SANGONZAL, ["views.csv", "clones.csv", "plots.png"]) == (
        "clones.csv",
        "views.csv",
    )


# --- repository-traffic-action ----------------------------------------------------------------


def test_sangonzal_views_and_clones_with_a_day_in_two_spellings() -> None:
    """views.csv and clones.csv become daily rows; Jan 2, written once as a date and once as
    PyGithub 2's timestamp, keeps the max of each number; the newest day is Jan 3, so days up
    to Jan 1 are final."""
    imported = fixture(Tool.SANGONZAL)
    views = {r.date: r for r in imported.history.views}
    assert views[D(2026, 1, 2)] == DailyRow(D(2026, 1, 2), 75, 14, final=False)
    assert views[D(2026, 1, 1)].final
    assert not views[D(2026, 1, 3)].final
    assert len(imported.history.views) == 6
    assert imported.history.clones[0] == DailyRow(D(2025, 12, 29), 1, 1, final=True)
    assert imported.history.referrers == ()


def test_sangonzal_folder_is_found_in_a_checkout() -> None:
    """The import takes the checkout (with traffic/) or the traffic folder itself; its plot
    is left out, said so."""
    outer = load_folder(Tool.SANGONZAL, FIXTURES / "sangonzal")
    inner = load_folder(Tool.SANGONZAL, FIXTURES / "sangonzal" / "traffic")
    assert outer[1] == inner[1]
    assert [s.what for s in outer[2]] == ["plots.png"]


# --- refused folders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({}, r"ghrs-data/views_clones_aggregate\.csv is missing"),
        (
            {"views_clones_aggregate.csv": "time,views\n"},
            r"ghrs-data/views_clones_aggregate\.csv, line 1: its header",
        ),
        (
            {
                "views_clones_aggregate.csv": AGGREGATE_HEADER
                + "2026-01-01 00:00:00+00:00,1,1,x,1\n"
            },
            r"views_clones_aggregate\.csv, line 2: 'x' is not a count",
        ),
        (
            {
                "views_clones_aggregate.csv": AGGREGATE_HEADER
                + "2026-01-01 00:00:00+00:00,1,1,1,1\n\n2026-01-02,1,1,-3,1\n"
            },
            r"views_clones_aggregate\.csv, line 4: '-3' is not a count",
        ),
        (
            {"views_clones_aggregate.csv": AGGREGATE_HEADER + "yesterday,1,1,1,1\n"},
            r"line 2: 'yesterday' is not a timestamp",
        ),
        (
            {
                "views_clones_aggregate.csv": AGGREGATE_HEADER,
                "forks.csv": "time_iso8601,forks_cumulative\n2024-04-11 00:00:00+00:00,1.5\n",
            },
            r"ghrs-data/forks\.csv, line 2: '1\.5' is not a count",
        ),
        (
            {
                "views_clones_aggregate.csv": AGGREGATE_HEADER,
                "snapshots/2026-01-04_231820_top_paths_snapshot.csv": "url_path,views_total\n",
            },
            r"top_paths_snapshot\.csv, line 1: its header",
        ),
        (
            {
                "views_clones_aggregate.csv": AGGREGATE_HEADER,
                "snapshots/2026-13-04_231820_top_paths_snapshot.csv": "",
            },
            r"2026-13-04_231820_top_paths_snapshot\.csv: its name",
        ),
        (
            {"views_clones_aggregate.csv": AGGREGATE_HEADER + "2026-01-01,1,1,1\n"},
            r"line 2: it has 4 cells, the header 5",
        ),
    ],
)
def test_ghrs_folder_that_cannot_be_read_is_refused_naming_file_and_line(
    files: dict[str, str], where: str
) -> None:
    """A missing aggregate, a bad header, number, timestamp or snapshot name is an error that
    names the file and line."""
    with pytest.raises(ImportFormatError, match=where):
        read_ghrs(files, where="ghrs-data")


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"views.csv": "_date,total_views,unique_views\n"}, r"traffic/clones\.csv is missing"),
        (
            {
                "views.csv": "_date,total_views,unique_views\n2026-01-01,3,2\n",
                "clones.csv": "_date,total_views,unique_views\n",
            },
            r"traffic/clones\.csv, line 1: its header",
        ),
        (
            {
                "views.csv": "_date,total_views,unique_views\n2026-01-01,3,2\n2026-01-32,3,2\n",
                "clones.csv": "_date,total_clones,unique_clones\n",
            },
            r"traffic/views\.csv, line 3: '2026-01-32' is not a timestamp",
        ),
    ],
)
def test_sangonzal_folder_that_cannot_be_read_is_refused(files: dict[str, str], where: str) -> None:
    """A missing file, a bad header or a bad date names the file and line."""
    with pytest.raises(ImportFormatError, match=where):
        read_sangonzal(files, where="traffic")


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    """A data file that is not UTF-8 is named, before anything else happens."""
    (tmp_path / "traffic").mkdir()
    (tmp_path / "traffic" / "views.csv").write_bytes(b"_date,total_views\xff\n")
    with pytest.raises(ImportFormatError, match=r"traffic/views\.csv is not UTF-8"):
        load_folder(Tool.SANGONZAL, tmp_path)


def test_a_path_that_is_no_folder_is_refused(tmp_path: Path) -> None:
    """A mistyped path is named."""
    with pytest.raises(ImportFormatError, match="is not a folder"):
        load_folder(Tool.GHRS, tmp_path / "nowhere")


def test_of_two_files_of_one_series_one_is_read_and_the_other_reported() -> None:
    """A folder with GHRS's daily stargazers.csv and its raw stars-raw.csv reads the first
    and says why it left the second."""
    header = "time_iso8601,stars_cumulative\n"
    imported = ghrs(
        **{
            "stargazers.csv": header + "2021-01-14 00:00:00+00:00,3\n",
            "stars-raw.csv": header + "2021-01-14 17:41:02+00:00,1\n",
        }
    )
    assert imported.history.stars == (GrowthRow(D(2021, 1, 14), 3, 3),)
    assert "stars-raw.csv" in {s.what for s in imported.skipped}
    assert "stars-raw.csv" not in imported.files
