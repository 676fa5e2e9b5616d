"""Markdown pages of the data branch and the step summary: golden files and escaping."""

from __future__ import annotations

import html
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.histories import (
    TODAY,
    busy_history,
    day,
    new_history,
    quiet_history,
    summary_report,
    three_year_history,
)
from traffic_sync.branch.alltime import index_row
from traffic_sync.core.models import (
    DailyRow,
    History,
    IndexRow,
    PathRow,
    PostHogReport,
    ReferrerRow,
    RepoResult,
    RepoStatus,
    RunReport,
    StatsRow,
)
from traffic_sync.pages.markdown import escape_cell, escape_text
from traffic_sync.pages.render import render_index, render_repo_page
from traffic_sync.pages.summary import SUMMARY_BUDGET, render_summary

GOLDEN = Path(__file__).parent / "golden" / "render"
HOSTILE = (
    "a|b",
    "<script>alert(1)</script>",
    "[x](https://evil)",
    "![i](https://evil/i.png)",
    "line\n::error::forged",
    "www.evil.com",
    "`code`",
    "**bold**",
    "mail me: evil@example.com",
    "cr\rlf\r\n::warning::x",
)


def indexed(histories: Mapping[str, History]) -> dict[str, IndexRow]:
    """The index rows of whole histories."""
    return {name: index_row(history) for name, history in histories.items()}


GOLDEN_CASES = {
    "index": lambda: render_index(
        indexed({"octo-org/busy-lib": busy_history(), "Zed/quiet": quiet_history()}), today=TODAY
    ),
    "index_3_years": lambda: render_index(
        indexed(
            {
                "octo-org/veteran": three_year_history(),
                "octo-org/busy-lib": busy_history(),
                "octo-org/new-born": new_history(),
                "octo-org/fresh": History(),
            }
        ),
        today=TODAY,
    ),
    "index_empty": lambda: render_index({}, today=TODAY),
    "repo_busy": lambda: render_repo_page("octo-org/busy-lib", busy_history(), today=TODAY),
    "repo_quiet": lambda: render_repo_page(
        "Zed/quiet", quiet_history(), today=TODAY, datasets={"views", "clones", "stats"}
    ),
    "repo_empty": lambda: render_repo_page("octo-org/fresh", History(), today=TODAY, datasets=()),
    "repo_new": lambda: render_repo_page("octo-org/new-born", new_history(), today=TODAY),
    "repo_3_years": lambda: render_repo_page("octo-org/veteran", three_year_history(), today=TODAY),
    "summary": lambda: render_summary(summary_report()),
    "summary_dry_run": lambda: render_summary(summary_report(dry_run=True)),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_page_matches_golden(name: str) -> None:
    """Each page is exactly its golden file (UPDATE_GOLDEN=1 rewrites them; review the diff)."""
    text = GOLDEN_CASES[name]()
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_page_is_deterministic_and_ends_with_one_newline(name: str) -> None:
    """Same input, same bytes; one trailing newline; no time of day anywhere."""
    text = GOLDEN_CASES[name]()
    assert text == GOLDEN_CASES[name]()
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    assert not re.search(r"\d\d:\d\d", text)


def table_rows(text: str, first_cell: str) -> list[str]:
    """Table lines whose first cell starts with `first_cell`."""
    return [line for line in text.splitlines() if line.startswith(f"| {first_cell}")]


def cells(row: str) -> list[str]:
    """The cells of a rendered table row (no cell holds a raw `|`)."""
    assert row.startswith("| ")
    assert row.endswith(" |")
    return row[2:-2].split(" | ")


def test_index_shows_github_window_totals_not_sums() -> None:
    """The index's 14-day columns are the latest stats row verbatim, never sums of days."""
    text = render_index(indexed({"octo-org/busy-lib": busy_history()}), today=TODAY)
    (row,) = table_rows(text, "[octo-org/busy-lib]")
    assert cells(row) == [
        "[octo-org/busy-lib](octo-org/busy-lib/README.md)",
        "1,402",
        "356",
        "38",
        "11",
        "1,234",
        "88",
        "2026-01-20",
        "2026-01-20",
        "·········▁▂█",
        "—",
        "[page](octo-org/busy-lib/README.md)",
    ]


def test_index_row_without_stats_or_traffic_shows_dashes() -> None:
    """A repo with no stats row and only zero days shows "—", not zeros."""
    history = History(views=(DailyRow(day(3), 0, 0, True),))
    (row,) = table_rows(render_index(indexed({"a/b": history}), today=TODAY), "[a/b]")
    assert cells(row)[1:9] == ["—"] * 8
    assert cells(row)[9] == "············"  # its one day is in a week not over yet


def test_index_sorts_repos_case_insensitively() -> None:
    """Rows are in case-insensitive name order (`b` before `C` before `d`)."""
    names = ["d/x", "C/x", "b/x"]
    text = render_index(indexed(dict.fromkeys(names, History())), today=TODAY)
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert [cells(r)[0].split("]")[0] for r in rows] == ["[b/x", "[C/x", "[d/x"]


def test_repo_page_leaves_gaps_out_instead_of_zeros() -> None:
    """Dates with no row (the 5th and 6th) are absent from the daily table."""
    text = render_repo_page("octo-org/busy-lib", busy_history(), today=TODAY)
    dates = [cells(r)[0] for r in table_rows(text, "2026-01-")]
    assert "2026-01-05" not in " ".join(dates)
    assert "2026-01-06" not in " ".join(dates)
    assert dates[:3] == [r"2026-01-20 \*", r"2026-01-19 \*", "2026-01-18"]
    assert dates[-1] == "2026-01-01"
    assert "unknown, not zero" in text


def test_repo_page_limits_recent_days_and_points_to_the_files() -> None:
    """Only the newest `recent_days` dates are listed, with a pointer to the whole history."""
    text = render_repo_page("octo-org/busy-lib", busy_history(), today=TODAY, recent_days=5)
    assert len(table_rows(text, "2026-01-")) == 5
    assert "whole history is in the folders [views](views) and [clones](clones)" in text


def test_repo_page_all_time_sums_counts_only() -> None:
    """All-time totals add the daily counts; uniques are never added up."""
    history = busy_history()
    text = render_repo_page("octo-org/busy-lib", history, today=TODAY)
    views = sum(r.count for r in history.views)
    assert f"- Views: {views:,}" in text
    assert f"- Clones: {sum(r.count for r in history.clones):,}" in text
    assert "unique" not in text.split("## All time")[1].split("##")[0].split("\n\n")[2].lower()


def test_repo_page_lists_only_the_newest_snapshot() -> None:
    """Referrers and paths come from the newest date, by count, with that date named."""
    text = render_repo_page("octo-org/busy-lib", busy_history(), today=TODAY)
    section = text.split("## Top referrers")[1].split("##")[0]
    assert "up to 2026-01-20" in section
    assert [cells(r)[0] for r in table_rows(section, "")][2:] == [
        "github.com",
        "news.ycombinator.com",
        "Google",
    ]
    assert not [row for row in table_rows(section, "") if " 30 " in row]


def test_repo_page_says_when_the_newest_snapshot_is_empty() -> None:
    """A run whose answer had no referrers shows that, not the older run's list."""
    history = busy_history()
    later = StatsRow(day(21), 1, 1, 1, 1, 1, 1, 1, 1)
    history = History(referrers=history.referrers, stats=(*history.stats, later))
    text = render_repo_page("octo-org/busy-lib", history, today=day(21))
    assert "GitHub reported no referrers for the 14 days up to 2026-01-21." in text
    assert "news.ycombinator.com" not in text


def test_repo_page_links_repo_and_all_datasets() -> None:
    """The page links the repo on GitHub (or the given server) and the five dataset folders."""
    text = render_repo_page(
        "octo-org/busy-lib", History(), today=TODAY, server_url="https://ghe.example/"
    )
    assert "(https://ghe.example/octo-org/busy-lib)" in text
    assert "No traffic recorded yet" in text
    for stem in ("views", "clones", "referrers", "paths", "stats"):
        assert f"[{stem}/]({stem})" in text


def test_repo_page_links_only_the_dataset_folders_there_are() -> None:
    """A dataset without files yet (no referrers ever) gets no dead link."""
    text = render_repo_page("Zed/quiet", quiet_history(), today=TODAY, datasets={"views"})
    section = text.split("## Data files")[1]
    assert "[views/](views)" in section
    assert "referrers/" not in section
    assert section.count("none yet") == 6
    assert "releases" not in section  # kept only with release-downloads: no row without it


def test_summary_lists_failed_first_then_by_name() -> None:
    """Failed rows lead, then the rest in name order; errors read `title: message`."""
    rows = table_rows(render_summary(summary_report()), "")[2:]
    assert [cells(r)[0] for r in rows] == [
        "Acme/secret",
        "octo-org/Zeta",
        "octo-org/busy-lib",
        "octo-org/later",
        "octo-org/quiet",
    ]
    assert cells(rows[1])[5] == "Unreadable history file: octo-org/Zeta/views.json: not valid JSON"


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (RunReport(TODAY, (), commit_sha="abcdef0123"), "commit `abcdef0`"),
        (RunReport(TODAY, ()), "no changes"),
        (RunReport(TODAY, (), dry_run=True), "dry run: nothing written"),
        (RunReport(TODAY, (), store_failed=True), "could not be written"),
    ],
)
def test_summary_line_tells_what_happened(report: RunReport, expected: str) -> None:
    """The totals line names the short commit, "no changes", a dry run or a failed store."""
    assert expected in render_summary(report)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_snapshot_text_stays_in_its_cell(hostile: str) -> None:
    """Hostile referrers, paths and titles keep the row's cells and leave nothing live."""
    history = History(
        referrers=(ReferrerRow(day(20), hostile, 7, 3),),
        paths=(PathRow(day(20), hostile, hostile, 5, 2),),
    )
    text = render_repo_page("octo-org/busy-lib", history, today=TODAY)
    referrer_rows = table_rows(text.split("## Top referrers")[1], "")[2:3]
    path_rows = table_rows(text.split("## Popular content")[1], "")[2:3]
    assert [len(cells(r)) for r in referrer_rows + path_rows] == [3, 4]
    assert cells(referrer_rows[0])[1:] == ["7", "3"]
    assert cells(path_rows[0])[2:] == ["5", "2"]
    for row in referrer_rows + path_rows:
        for bad in ("<", "](", "://", "**", "`", "::", "\r"):
            assert bad not in row
    assert not [line for line in text.splitlines() if line.startswith("::")]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_error_stays_in_its_summary_cell(hostile: str) -> None:
    """A hostile error message or repo name cannot break the summary table."""
    result = RepoResult(hostile, RepoStatus.FAILED, error_title=hostile, error=hostile)
    text = render_summary(RunReport(TODAY, (result,)))
    (row,) = table_rows(text, "")[2:]
    assert len(cells(row)) == 6
    assert not [line for line in text.splitlines() if line.startswith("::")]
    for bad in ("<", "](", "://", "**", "`", "\r"):
        assert bad not in row


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a&#124;b"),
        ("<b>&amp;", "&lt;b&gt;&amp;amp;"),
        ("[x](https://evil)", "&#91;x&#93;(https&#58;//evil)"),
        ("![i](y)", "!&#91;i&#93;(y)"),
        ("line\n::error::forged", "line &#58;&#58;error&#58;&#58;forged"),
        ("WWW.evil.com", "WWW&#46;evil.com"),
        ("me@evil.com", "me@&#8288;evil.com"),
        (
            "**b** _i_ ~s~ `c` $m$ \\",
            "&#42;&#42;b&#42;&#42; &#95;i&#95; &#126;s&#126; &#96;c&#96; &#36;m&#36; &#92;",
        ),
        ("setup_guide.md", "setup_guide.md"),
        ("# title", "&#35; title"),
        ("- item", "&#45; item"),
        ("1. first", "1&#46; first"),
        ("  padded\t", "padded"),
        ("note: fine", "note: fine"),
        ("", ""),
    ],
)
def test_escape_text_examples(text: str, expected: str) -> None:
    """Each Markdown trigger is neutralised the documented way; plain text stays readable."""
    assert escape_text(text) == expected


def normalise(text: str) -> str:
    """What the reader should see: breaks and controls as spaces, edges trimmed."""
    bidi = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    breaks = {"Cc", "Zl", "Zp"}
    return "".join(
        " " if unicodedata.category(c) in breaks or c in bidi else c for c in text
    ).strip()


@given(st.text())
def test_escape_cell_leaves_no_raw_markup(text: str) -> None:
    """For any text, the cell has no raw `|`, line break, `<`, `>`, `[`, `]` or backtick."""
    cell = escape_cell(text)
    for char in "|\n\r<>[]`*~\\$":
        assert char not in cell
    row = f"| left | {cell} | right |"
    assert len(row.splitlines()) == 1
    assert cells(row)[0] == "left"
    assert cells(row)[-1] == "right"
    assert len(cells(row)) == 3


@given(st.text(alphabet=st.sampled_from("ab:/.@w_W *[]|&#;\n1-")))
def test_escape_text_defuses_autolinks_and_commands(text: str) -> None:
    """No `://`, `::`, `www.` or bare `@` survives, and `_` is only ever intraword."""
    out = escape_text(text)
    assert "://" not in out
    assert "::" not in out
    assert "www." not in out.lower()
    assert out.count("@") == out.count("@&#8288;")
    assert not re.search(r"(^|[^0-9A-Za-z])_|_([^0-9A-Za-z]|$)", out)


@given(st.text())
def test_escape_text_shows_the_text_itself(text: str) -> None:
    """Decoded as GitHub does, the escaped text reads as the original (one line, trimmed)."""
    shown = html.unescape(escape_text(text)).replace("\u2060", "")
    assert shown == normalise(text).replace("\u2060", "")


def test_repo_page_with_views_only_says_what_is_missing() -> None:
    """Sections without rows say so instead of showing empty tables."""
    history = History(views=(DailyRow(day(3), 2, 1, True),))
    text = render_repo_page("a/b", history, today=TODAY)
    assert "No counters recorded yet." in text
    assert "No referrers recorded yet." in text
    assert "No popular content recorded yet." in text
    assert "The most recent day with data" in text
    assert "Not final yet" not in text


def test_summary_escapes_a_data_location_a_code_span_cannot_hold() -> None:
    """A data location with a backtick or pipe is escaped text, not a broken code span."""
    text = render_summary(RunReport(TODAY, (), data_location="odd`|path"))
    assert "data in odd&#96;&#124;path" in text


@pytest.mark.parametrize(
    ("posthog", "dry_run", "expected"),
    [
        (PostHogReport(sent=12, planned=12, repos=2), False, "12 events sent (settled days of 2"),
        (PostHogReport(), False, "no newly settled days to send"),
        (PostHogReport(planned=5, repos=1), True, "5 events (settled days of 1 repo) would be"),
        (
            PostHogReport(sent=3, planned=9, repos=2, error_title="PostHog failed", error="503"),
            False,
            "**PostHog failed** after 3 of 9 events: PostHog failed: 503",
        ),
    ],
)
def test_summary_says_what_posthog_got(
    posthog: PostHogReport, dry_run: bool, expected: str
) -> None:
    """A PostHog paragraph follows the table: sent, nothing new, would send, or failed."""
    result = RepoResult("octo/a", RepoStatus.SAVED, 1, 1, 0, 0)
    text = render_summary(RunReport(TODAY, (result,), dry_run=dry_run, posthog=posthog))
    assert expected in text
    assert text.index("| octo/a") < text.index("PostHog")
    assert "PostHog" not in render_summary(RunReport(TODAY, (result,)))
    assert "PostHog" in render_summary(RunReport(TODAY, (), posthog=posthog))


# --- the step summary at scale ------------------------------------------------------------------

MIB = 1024 * 1024
BIG_RUN = 10_000


def failed(n: int) -> RepoResult:
    """A failed repo whose error quotes GitHub (hostile text included), as long as they come."""
    return RepoResult(
        f"octo-org/failed-{n:05}",
        RepoStatus.FAILED,
        error_title="Token cannot read traffic",
        error=f"octo-org/failed-{n:05}: {HOSTILE[n % len(HOSTILE)]} " + "x" * 150,
    )


def changed(n: int) -> RepoResult:
    return RepoResult(
        f"octo-org/changed-{n:05}", RepoStatus.SAVED, 123_456, 7_890, 456, 78, days_added=2
    )


def unchanged(n: int) -> RepoResult:
    return RepoResult(f"octo-org/quiet-{n:05}", RepoStatus.SAVED, 0, 0, 0, 0)


def skipped(n: int) -> RepoResult:
    return RepoResult(
        f"octo-org/later-{n:05}",
        RepoStatus.SKIPPED,
        error_title="Rate limited",
        error="The repos need more API requests than this run may make (5 per repo).",
    )


def big_report(results: list[RepoResult]) -> RunReport:
    return RunReport(
        fetched_on=TODAY,
        results=tuple(results),
        commit_sha="0123456789abcdef0123456789abcdef01234567",
        data_location="octo-org/stats@traffic-data",
        index=(
            ("octo-org/busy-lib", index_row(busy_history())),
            ("octo-org/quiet", index_row(quiet_history())),
        ),
        index_path="README.md",
        index_url="https://github.com/octo-org/stats/blob/traffic-data/README.md",
    )


def summary_names(text: str) -> list[str]:
    return [cells(row)[0] for row in table_rows(text, "")[2:]]


@pytest.mark.parametrize("make", [failed, changed, unchanged, skipped])
def test_summary_of_10000_repos_stays_under_half_a_mib(make: Callable[[int], RepoResult]) -> None:
    """10,000 rows of any kind, all failed or all changed included, would pass GitHub's 1 MiB
    cap; the summary keeps to 512 KiB, says how many rows it left out and links the index
    page that lists them all."""
    report = big_report([make(n) for n in range(BIG_RUN)])
    text = render_summary(report)
    size = len(text.encode())
    assert SUMMARY_BUDGET - 4_096 < size <= SUMMARY_BUDGET < MIB
    shown = summary_names(text)
    left_out = BIG_RUN - len(shown)
    assert 1_000 < len(shown) < BIG_RUN
    assert f"**{left_out:,} of 10,000 repos are not in this table**" in text
    assert "[README.md](https://github.com/octo-org/stats/blob/traffic-data/README.md)" in text
    assert "```mermaid" in text  # the charts stay
    assert _totals_line(text).startswith(
        "10,000 repos synced" if make in (changed, unchanged) else "0 repos synced"
    )


def _totals_line(text: str) -> str:
    return text.splitlines()[2]


def test_summary_keeps_failed_then_new_days_then_skipped_rows() -> None:
    """Rows that matter most are kept: every failed and changed repo, then skipped ones, and
    no unchanged one; what is shown keeps the usual order (failed first, then by name)."""
    results = [unchanged(n) for n in range(4_500)] + [skipped(n) for n in range(4_000)]
    results += [changed(n) for n in range(1_400)] + [failed(n) for n in range(100)]
    text = render_summary(big_report(results))
    shown = summary_names(text)
    assert len(text.encode()) <= SUMMARY_BUDGET
    assert shown[:100] == [f"octo-org/failed-{n:05}" for n in range(100)]
    assert {f"octo-org/changed-{n:05}" for n in range(1_400)} <= set(shown)
    later = [name for name in shown if name.startswith("octo-org/later-")]
    assert 0 < len(later) < 4_000
    assert later == [f"octo-org/later-{n:05}" for n in range(len(later))]
    assert not [name for name in shown if name.startswith("octo-org/quiet-")]
    assert shown[100:] == sorted(shown[100:], key=lambda name: (name.casefold(), name))
    left = 4_000 - len(later)
    assert f"({left:,} skipped, 4,500 unchanged)" in text


def test_summary_rows_stay_escaped_when_cut() -> None:
    """Hostile errors in a summary cut to size still keep their cells; nothing is live."""
    text = render_summary(big_report([failed(n) for n in range(BIG_RUN)]))
    assert not [line for line in text.splitlines() if line.startswith("::")]
    for row in table_rows(text, "")[2:]:
        assert len(cells(row)) == 6
        for bad in ("<", "](", "://", "**", "`", "\r"):
            assert bad not in row


def test_one_huge_error_is_clipped_to_a_thousand_characters() -> None:
    """An error of any length takes at most 1,000 characters of its row (marked with …)."""
    result = RepoResult("octo-org/x", RepoStatus.FAILED, error_title="T", error="y" * 100_000)
    text = render_summary(RunReport(TODAY, (result,)))
    (row,) = table_rows(text, "")[2:]
    assert cells(row)[5] == "T: " + "y" * 996 + "…"


def test_left_out_rows_point_to_the_index_page_in_a_local_folder() -> None:
    """Without a page on GitHub, the note names the index file and where the branch is."""
    report = RunReport(
        TODAY,
        tuple(unchanged(n) for n in range(50)),
        data_location="/data/stats@traffic-data",
        index_path="traffic/README.md",
    )
    text = render_summary(report, budget=3_000)
    assert len(text.encode()) <= 3_000
    assert "**" in text
    assert "index page lists every repo: `traffic/README.md` in `/data/stats@traffic-data`." in text


def test_summary_that_fits_has_no_note_and_names_its_shard() -> None:
    """A run whose rows fit lists every one with no note; a sharded run says which shard."""
    report = big_report([changed(n) for n in range(100)])
    text = render_summary(report)
    assert len(summary_names(text)) == 100
    assert "not in this table" not in text
    sharded = RunReport(TODAY, (changed(1),), shard="2/4")
    assert render_summary(sharded).startswith("## traffic-sync 2026-01-20 (shard 2/4)\n")
