"""Pure Markdown: the data branch's index and repo pages, and the run's step summary.

Text that comes from GitHub (referrers, paths, page titles, error messages quoting it) is
untrusted: it goes through `escape_text`/`escape_cell`, so it can never break a table, make a
link, image or HTML, start emphasis or a code span, or forge a `::` workflow command.
Same input, same bytes: no time of day, rows in a fixed order, one trailing newline.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TypeVar
from urllib.parse import quote

from traffic_sync.branch import alltime
from traffic_sync.branch.alltime import AllTime, Counters, Reading
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
from traffic_sync.pages import charts

DASH = "—"
NOT_FINAL = r"\*"  # marks a day GitHub may still add to; explained under the table
SERVER_URL = "https://github.com"
# The runner refuses a step summary file over 1 MiB (1024k bytes) and shows none of it, only an
# error annotation ("$GITHUB_STEP_SUMMARY upload aborted"). The summary keeps to half of that
# whatever the number of repos, far from the edge whatever redaction or a later section adds.
# https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-markdown-summary
SUMMARY_BUDGET = 512 * 1024  # bytes
MAX_ERROR_CHARS = 1_000  # of one repo's error in the summary, so that no row eats the budget

# Characters Markdown, a GFM table or HTML would act on, as entities GitHub shows as themselves.
_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "&#124;",
    "[": "&#91;",
    "]": "&#93;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "~": "&#126;",
    "\\": "&#92;",
    "$": "&#36;",  # GitHub renders $...$ as math
}
# A block marker is only one at the start of a line; escaped text may be put there.
_LINE_START = {"#": "&#35;", "-": "&#45;", "+": "&#43;", "=": "&#61;"}
_ORDERED_LIST = re.compile(r"\A(\d{1,9})([.)])")
# Zero-width, unbreakable: after "@" it stops e-mail autolinks and @mentions, which GitHub
# finds in the decoded text, so an entity alone does not defuse them.
_WORD_JOINER = "&#8288;"
# Bidirectional overrides could make a row read as something else (CVE-2021-42574).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_Row = TypeVar("_Row", ReferrerRow, PathRow)

# (file stem, what it holds, its columns): the five datasets of DESIGN.md's layout.
_DATASETS = (  # folder, what it holds, its files' period, columns
    ("views", "Views per day", "year", "date, count, uniques, final"),
    ("clones", "Clones per day", "year", "date, count, uniques, final"),
    (
        "referrers",
        "Top referrers, a snapshot per run day",
        "month",
        "date, referrer, count, uniques",
    ),
    (
        "paths",
        "Popular content, a snapshot per run day",
        "month",
        "date, path, title, count, uniques",
    ),
    (
        "stats",
        "Stars, forks, watchers, open issues and 14-day totals, per run day",
        "year",
        "date, stars, forks, watchers, open_issues, views_14d, view_uniques_14d, clones_14d, "
        "clone_uniques_14d",
    ),
    ("stars", "Stars given each day since the repository's creation", "year", "date, new, total"),
    ("forks", "Forks made each day since the repository's creation", "year", "date, new, total"),
    (
        "releases",
        "Downloads of every release asset, a snapshot per run day",
        "month",
        "date, tag, asset, downloads",
    ),
)
# shown in a page's list of files only when the repo has them (an opt-in: `release-downloads`)
_OPTIONAL_DATASETS = frozenset({"releases"})


def escape_text(text: str) -> str:
    """Untrusted text as inline Markdown that GitHub shows verbatim, on one line, anywhere.

    Line breaks and other control characters become spaces (so no line can start with `::`),
    and edges are trimmed. `:` before `/` or next to `:` (URL autolinks, `::` commands), `.`
    after `www` and `@` (e-mail autolinks) are defused; `_` between letters stays, since
    GFM never reads it as emphasis there.
    """
    clean = "".join(" " if _is_break(char) else char for char in text).strip()
    out: list[str] = []
    for i, char in enumerate(clean):
        before = clean[i - 1] if i else ""
        after = clean[i + 1] if i + 1 < len(clean) else ""
        if char == "_" and before.isalnum() and after.isalnum():
            out.append(char)
        elif char == ":" and (after in {"/", ":"} or before == ":"):
            out.append("&#58;")
        elif char == "." and clean[max(i - 3, 0) : i].lower() == "www":
            out.append("&#46;")
        elif char == "@":
            out.append("@" + _WORD_JOINER)
        else:
            out.append(_ENTITIES.get(char, char))
    if out and out[0] in _LINE_START:
        out[0] = _LINE_START[out[0]]
    escaped = "".join(out)
    return _ORDERED_LIST.sub(lambda m: f"{m[1]}&#{ord(m[2])};", escaped, count=1)


def escape_cell(text: str) -> str:
    """Untrusted text inside a GitHub Markdown table cell: one line, no raw `|`.

    `escape_text` already guarantees both, so this names the place rather than adding rules.
    """
    return escape_text(text)


def render_index(repos: Mapping[str, IndexRow], *, today: dt.date) -> str:
    """The data branch's README.md: one row per repo, linking to its page."""
    lines = [
        "# Traffic history",
        "",
        "GitHub keeps repository traffic for 14 days only; this branch keeps it for good, "
        f"one folder per repository. Updated {today.isoformat()} by traffic-sync.",
        "",
    ]
    if not repos:
        lines.append("No repositories tracked yet.")
        return _page(lines)
    lines += [
        "Views, clones, unique visitors and unique cloners are GitHub's own totals for the "
        "14 days up to the repository's latest run (*As of*). Uniques are counted over the "
        "whole window, so they do not add up across days or repositories. *Last traffic* is "
        "the newest day with any views or clones.",
        "",
    ]
    header = (
        "Repository",
        "Views (14 d)",
        "Unique visitors (14 d)",
        "Clones (14 d)",
        "Unique cloners (14 d)",
        "Stars",
        "Forks",
        "As of",
        "Last traffic",
        "Views per week (12 weeks)",
        "Stars per week (12 weeks)",
        "Details",
    )
    end = _newest_day(repos.values())
    rows = [_index_row(name, repos[name], end=end) for name in sorted(repos, key=_name_order)]
    lines += _table(header, "lrrrrrrlllll", rows)
    lines.append("")
    if any("~" in name for name in repos):
        lines += [
            "A name ending in `~<id>` is the history of an earlier repository of that name "
            "(GitHub's repo id), kept apart when another repository took the name.",
            "",
        ]
    if end is not None:
        lines += [
            f"*Views per week* shows the 12 full weeks (Monday to Sunday) up to {end}, each "
            "repository scaled to its own busiest week; `·` is a week with no day recorded. "
            "*Stars per week* shows the stars given in the same weeks, from their dates.",
            "",
        ]
    lines += _overview_section(repos, heading="## All repositories")
    return _page(lines)


def render_repo_page(
    full_name: str,
    history: History,
    *,
    today: dt.date,
    recent_days: int = 30,
    server_url: str = SERVER_URL,
    datasets: Collection[str] | None = None,
    figures: AllTime | None = None,
    created: dt.date | None = None,
) -> str:
    """`<owner>/<name>/README.md`: latest numbers, recent days, all-time totals, top lists.

    `datasets` names the dataset folders the repo has in the branch (all of them when None):
    the page links to those only. `figures` are the history's all-time figures, for a
    `history` that holds only its newest years (and referrers, paths and releases of the
    newest `charts.DAYS` days): the page draws nothing older from those rows. `created` is the
    repo's creation day, where the stars and forks charts start (their first day when None)."""
    figures = figures or alltime.of_rows(history)
    name = escape_text(full_name)
    repo_url = f"{server_url.rstrip('/')}/{quote(full_name, safe='/')}"
    whose = f"[{name}]({repo_url})"
    was, kept, old_id = full_name.partition("~")
    if kept:  # a history set aside: another repo took the name
        whose = (
            f"repo id {escape_text(old_id)}, once named {escape_text(was)} (another repo "
            "took that name, so this history is kept apart)"
        )
    lines = [
        f"# {name}",
        "",
        f"Traffic history of {whose}, kept by traffic-sync (GitHub itself keeps "
        f"only 14 days). Updated {today.isoformat()}. [All repositories](../../README.md)",
        "",
    ]
    if history == History():
        lines += [
            "No traffic recorded yet: this page fills in after the next run that reads it.",
            "",
        ]
    else:
        lines += _latest_section(history.stats)
        lines += _daily_section(history, recent_days, figures)
        lines += _all_time_section(figures)
        lines += _counters_section(history, figures.counters, today=today, created=created)
        lines += _releases_section(history)
        lines += _referrers_section(history)
        lines += _paths_section(history)
    present = {stem for stem, *_ in _DATASETS} if datasets is None else set(datasets)
    lines += _files_section(present, today=today)
    return _page(lines)


def render_summary(
    report: RunReport, *, with_charts: bool = True, budget: int = SUMMARY_BUDGET
) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY (and the terminal): totals line, one row per repo, and
    (`with_charts`) the daily totals of every repo in the data branch as charts.

    The whole text stays within `budget` bytes: when the rows would not fit, the ones that
    matter most are kept (failed, then new days, then skipped, then unchanged) and a note says
    how many were left out and where every repo is listed.
    """
    heading = f"## traffic-sync {report.fetched_on.isoformat()}"
    if report.shard:
        heading += f" (shard {report.shard})"
    if report.dry_run:
        heading += " (dry run)"
    lines = [heading, "", _summary_line(report), ""]
    if report.store_failed:
        lines += ["**The data branch could not be written: nothing was saved this run.**", ""]
    if not report.results:
        lines.append("No repositories to sync.")
        return _page(lines + _posthog_lines(report))
    tail = _growth_lines(report) + _posthog_lines(report)
    if with_charts:
        tail += ["", *_overview_section(dict(report.index), heading="### All repositories")]
    room = budget - _size(lines) - _size(tail)
    return _page(lines + _summary_table(report, room=room) + tail)


# --- index ------------------------------------------------------------------------------------


def _index_row(full_name: str, row: IndexRow, *, end: dt.date | None) -> list[str]:
    page = _page_link(full_name)
    stats = row.stats
    counters: list[str] = (
        [
            _number(stats.views_14d),
            _number(stats.view_uniques_14d),
            _number(stats.clones_14d),
            _number(stats.clone_uniques_14d),
            _number(stats.stars),
            _number(stats.forks),
            stats.date.isoformat(),
        ]
        if stats
        else [DASH] * 7
    )
    last = row.active.isoformat() if row.active else DASH
    trend = charts.sparkline(row.views, end=end) if end and row.views else DASH
    stars = _stars_trend(row, end=end)
    return [f"[{escape_cell(full_name)}]({page})", *counters, last, trend, stars, f"[page]({page})"]


def _stars_trend(row: IndexRow, *, end: dt.date | None) -> str:
    """Stars gained per week over the 12 weeks of the views trend (a week without a row
    gained none); a dash before the stars are fetched."""
    if end is None or not row.starred:
        return DASH
    weekly = [DailyRow(star.date, star.new, 0, final=True) for star in row.stars]
    return charts.sparkline(weekly, end=end, gaps=False)


def _newest_day(repos: Iterable[IndexRow]) -> dt.date | None:
    days = [rows[-1].date for repo in repos for rows in (repo.views, repo.clones) if rows]
    return max(days, default=None)


def _overview_section(repos: Mapping[str, IndexRow], *, heading: str) -> list[str]:
    """Total views and clones per day across all repos, as charts."""
    shown = [
        chart
        for metric in ("views", "clones")
        if (chart := charts.overview_chart(repos, metric=metric)) is not None
    ]
    if not shown:
        return []
    lines = [
        heading,
        "",
        "Daily totals across every tracked repository (counts add up; unique visitors do not, "
        "so they are left out).",
        "",
    ]
    for chart in shown:
        lines += [*charts.to_markdown(chart), ""]
    return lines


def _page_link(full_name: str) -> str:
    return quote(f"{full_name}/README.md", safe="/")


def _name_order(full_name: str) -> tuple[str, str]:
    return (full_name.casefold(), full_name)


# --- repo page --------------------------------------------------------------------------------


def _latest_section(stats: Sequence[StatsRow]) -> list[str]:
    lines = ["## Latest numbers", ""]
    if not stats:
        return [*lines, "No counters recorded yet.", ""]
    last = stats[-1]
    lines += [
        f"From the run of {last.date.isoformat()}. Views and clones are GitHub's totals for "
        "the 14 days up to that day; unique visitors and cloners are counted over that window.",
        "",
    ]
    header = (
        "Stars",
        "Forks",
        "Watchers",
        "Open issues",
        "Views (14 d)",
        "Unique visitors (14 d)",
        "Clones (14 d)",
        "Unique cloners (14 d)",
    )
    values = (
        last.stars,
        last.forks,
        last.watchers,
        last.open_issues,
        last.views_14d,
        last.view_uniques_14d,
        last.clones_14d,
        last.clone_uniques_14d,
    )
    return [*lines, *_table(header, "r" * 8, [[_number(v) for v in values]]), ""]


def _daily_section(history: History, recent_days: int, figures: AllTime) -> list[str]:
    lines = ["## Daily traffic", ""]
    views = {row.date: row for row in history.views}
    clones = {row.date: row for row in history.clones}
    dates = sorted(views.keys() | clones.keys(), reverse=True)
    if not dates:
        return [*lines, "No views or clones recorded yet.", ""]
    lines += _traffic_charts(history, figures)
    # of the charts' days (older ones are in the files, which a run may not have read)
    oldest = dates[0] - dt.timedelta(days=charts.DAYS - 1)
    shown = [day for day in dates[:recent_days] if day >= oldest]
    days = "day" if len(shown) == 1 else f"{len(shown):,} days"
    intro = f"The most recent {days} with data, newest first."
    if len(shown) < min(recent_days, figures.dates):
        intro = f"The {days} with data in the {charts.DAYS} days up to {dates[0]}, newest first."
    if figures.dates > len(shown):
        intro += " The whole history is in the folders [views](views) and [clones](clones)."
    rows = [_daily_row(day, views.get(day), clones.get(day)) for day in shown]
    lines += [intro, ""]
    lines += _table(("Date", "Views", "Unique visitors", "Clones", "Unique cloners"), "lrrrr", rows)
    lines.append("")
    if any(row[0].endswith(NOT_FINAL) for row in rows):
        lines += [f"{NOT_FINAL} Not final yet: may still grow.", ""]
    if any(DASH in row for row in rows):
        lines += [
            f"{DASH} not recorded: GitHub leaves out days without traffic, and traffic-sync "
            "fills them in as zero only once they are final.",
            "",
        ]
    if (shown[0] - shown[-1]).days + 1 > len(shown):
        lines += [
            "Dates missing between rows are days with no data recorded (for example, no run "
            "within GitHub's 14-day window): they are unknown, not zero.",
            "",
        ]
    return lines


def _traffic_charts(history: History, figures: AllTime) -> list[str]:
    """The daily views and clones charts, or a line saying why one is missing."""
    lines: list[str] = []
    for rows, traffic, noun, unique_noun in (
        (history.views, figures.views, "views", "unique visitors"),
        (history.clones, figures.clones, "clones", "unique cloners"),
    ):
        chart = charts.daily_chart(
            rows, noun=noun, unique_noun=unique_noun, counted=traffic.count > 0, since=traffic.first
        )
        if chart is not None:
            lines += [*charts.to_markdown(chart), ""]
        elif traffic.first is not None and traffic.last is not None:
            span = f"{traffic.first.isoformat()} to {traffic.last.isoformat()}"
            lines += [f"No {noun} from {span} (every recorded day is 0): no {noun} chart.", ""]
    return lines


def _daily_row(day: dt.date, views: DailyRow | None, clones: DailyRow | None) -> list[str]:
    settled = all(row.final for row in (views, clones) if row is not None)
    date = day.isoformat() if settled else f"{day.isoformat()} {NOT_FINAL}"
    cells = [date]
    for row in (views, clones):
        cells += [_number(row.count), _number(row.uniques)] if row else [DASH, DASH]
    return cells


def _all_time_section(figures: AllTime) -> list[str]:
    lines = ["## All time", ""]
    if figures.first is None or figures.last is None:
        return [*lines, "No views or clones recorded yet.", ""]
    return [
        *lines,
        f"From {figures.first.isoformat()} to {figures.last.isoformat()} "
        f"({_plural(figures.dates, 'day')} with data):",
        "",
        f"- Views: {_number(figures.views.count)}",
        f"- Clones: {_number(figures.clones.count)}",
        "",
        "These are sums of the daily counts. Unique visitors and cloners cannot be added up "
        "across days (one person can come back), so there is no all-time unique count.",
        "",
        *_weekly_charts(figures),
    ]


def _weekly_charts(figures: AllTime) -> list[str]:
    """Weekly sums over the whole history, once it reaches back further than the daily charts."""
    lines: list[str] = []
    for traffic, noun in ((figures.views, "views"), (figures.clones, "clones")):
        if not charts.spans_more_than_window(traffic):
            continue
        chart = charts.period_chart(traffic, noun=noun)
        if chart is not None:
            lines += [*charts.to_markdown(chart), ""]
    return lines


def _counters_section(
    history: History, counters: Counters, *, today: dt.date, created: dt.date | None
) -> list[str]:
    """Stars and forks since the repo's creation, from their dates; the counters as each run
    saw them until those are fetched."""
    if history.stars or history.forks:
        return _growth_section(history, today=today, created=created)
    lines = ["## Stars and forks", ""]
    shown = [
        chart
        for value, noun in ((_stars, "stars"), (_forks, "forks"))
        if (chart := charts.counter_chart(counters, value, noun=noun)) is not None
    ]
    if not shown:
        return [*lines, "The charts appear once two runs have recorded the counters.", ""]
    lines += ["As counted by each run.", ""]
    for chart in shown:
        lines += [*charts.to_markdown(chart), ""]
    return lines


def _growth_section(history: History, *, today: dt.date, created: dt.date | None) -> list[str]:
    lines = ["## Stars and forks", ""]
    last = history.stats[-1] if history.stats else None
    for rows, noun, net in (
        (history.stars, "stars", last.stars if last else None),
        (history.forks, "forks", last.forks if last else None),
    ):
        start = created or (rows[0].date if rows else today)
        chart = charts.growth_chart(rows, created=start, end=today, noun=noun)
        if chart is None:
            continue
        lines += [*charts.to_markdown(chart), ""]
        given = rows[-1].total
        if net is not None:
            lines += [_growth_counts(noun, given=given, net=net, day=last.date if last else today)]
            lines.append("")
    if history.stars:
        lines += [
            "The history counts each star on the day it was given, as GitHub lists them; a star "
            "taken back later stays counted on its day (a day is never lowered), while GitHub's "
            "own count, kept each run in `stats/`, is net of them. A star given and another "
            "taken back between two runs are noticed only when the count grows.",
            "",
        ]
    return lines


def _growth_counts(noun: str, *, given: int, net: int, day: dt.date) -> str:
    """Both counts, and why they differ when they do."""
    line = f"{noun.capitalize()}: {_number(given)} in the history; GitHub counted {_number(net)}"
    line += f" on {day.isoformat()}"
    if net < given:
        return line + f" ({_number(given - net)} taken back since they were given)."
    if net > given:
        return line + " (the newest are fetched by the next runs)."
    return line + "."


def _releases_section(history: History) -> list[str]:
    """Release downloads per day, and the newest snapshot's totals, when they are kept."""
    if not history.releases:
        return []
    newest = history.releases[-1].date
    latest = [row for row in history.releases if row.date == newest]
    lines = ["## Release downloads", ""]
    chart = charts.downloads_chart(history.releases)
    if chart is not None:
        lines += [*charts.to_markdown(chart), ""]
    else:
        lines += ["The chart of downloads per day appears once two runs have counted them.", ""]
    tags: dict[str, int] = {}
    for row in latest:
        tags[row.tag] = tags.get(row.tag, 0) + row.downloads
    ordered = sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:10]
    lines += [
        f"Downloads of every asset so far, as GitHub counted them on {newest.isoformat()} "
        f"({_plural(len(tags), 'release')}; the {min(10, len(tags))} most downloaded):",
        "",
        *_table(
            ("Release", "Downloads"),
            "lr",
            [[escape_cell(tag), _number(count)] for tag, count in ordered],
        ),
        "",
        "A day's downloads are the difference of two runs' counts; an asset deleted, or "
        "uploaded again (its count starts over), never makes a day negative.",
        "",
    ]
    return lines


def _stars(row: Reading) -> int:
    return row.stars


def _forks(row: Reading) -> int:
    return row.forks


def _referrers_section(history: History) -> list[str]:
    day, rows = _latest_snapshot(history.referrers, history.stats)
    lines = ["## Top referrers", ""]
    if day is None:
        return [*lines, "No referrers recorded yet.", ""]
    if not rows:
        return [*lines, f"GitHub reported no referrers for the 14 days up to {day}.", ""]
    ordered = sorted(rows, key=lambda r: (-r.count, -r.uniques, *_name_order(r.referrer)))
    table = [[escape_cell(r.referrer), _number(r.count), _number(r.uniques)] for r in ordered]
    return [
        *lines,
        *_snapshot_chart(history.referrers, history.stats, what="referrers"),
        f"Sites that sent visitors in the 14 days up to {day}, as GitHub reported them "
        "(its top 10).",
        "",
        *_table(("Referrer", "Views (14 d)", "Unique visitors (14 d)"), "lrr", table),
        "",
    ]


def _paths_section(history: History) -> list[str]:
    day, rows = _latest_snapshot(history.paths, history.stats)
    lines = ["## Popular content", ""]
    if day is None:
        return [*lines, "No popular content recorded yet.", ""]
    if not rows:
        return [*lines, f"GitHub reported no popular content for the 14 days up to {day}.", ""]
    ordered = sorted(rows, key=lambda r: (-r.count, -r.uniques, *_name_order(r.path), r.title))
    table = [
        [escape_cell(r.path), escape_cell(r.title), _number(r.count), _number(r.uniques)]
        for r in ordered
    ]
    return [
        *lines,
        *_snapshot_chart(history.paths, history.stats, what="paths"),
        f"The most viewed pages in the 14 days up to {day}, as GitHub reported them (its top 10).",
        "",
        *_table(("Path", "Title", "Views (14 d)", "Unique visitors (14 d)"), "llrr", table),
        "",
    ]


def _snapshot_chart(
    rows: Sequence[ReferrerRow] | Sequence[PathRow], stats: Sequence[StatsRow], *, what: str
) -> list[str]:
    chart = charts.snapshot_chart(rows, (row.date for row in stats), what=what, name=escape_text)
    return [] if chart is None else [*charts.to_markdown(chart), ""]


def _latest_snapshot(
    rows: Sequence[_Row], stats: Sequence[StatsRow]
) -> tuple[str | None, list[_Row]]:
    """The newest run day's rows. Every run writes a stats row, so a run day newer than the
    newest snapshot row means GitHub's answer was empty that day: say so, not stale rows."""
    days = [row.date for row in rows] + [row.date for row in stats]
    if not days:
        return None, []
    newest = max(days)
    return newest.isoformat(), [row for row in rows if row.date == newest]


def _files_section(present: Collection[str], *, today: dt.date) -> list[str]:
    names = {"year": f"{today.year:04}", "month": f"{today.year:04}/{today.month:02}"}
    each = {"year": "one a year", "month": "one a month, in a folder a year"}
    rows = [
        [
            what,
            f"[{stem}/]({stem})" if stem in present else "none yet",
            f"{each[period]}: `{names[period]}.csv`, `{names[period]}.json`, ...",
            ", ".join(f"`{column}`" for column in columns.split(", ")),
        ]
        for stem, what, period, columns in _DATASETS
        if stem in present or stem not in _OPTIONAL_DATASETS
    ]
    return [
        "## Data files",
        "",
        "Each dataset is a folder of files, one per year (or month, in a folder per year), each "
        "kept as CSV and as JSON with the same rows, sorted by date. Joined in name order they "
        "are the whole dataset.",
        "",
        *_table(("Data", "Folder", "Files", "Columns"), "llll", rows),
    ]


# --- step summary -----------------------------------------------------------------------------


def _summary_line(report: RunReport) -> str:
    skipped = sum(r.status is RepoStatus.SKIPPED for r in report.results)
    parts = [f"{_plural(report.repos_synced, 'repo')} synced", f"{report.repos_failed:,} failed"]
    if skipped:
        parts.append(f"{skipped:,} skipped")
    parts.append(f"{_plural(report.days_added, 'new day')}")
    if report.dry_run:
        parts.append("dry run: nothing written")
    elif report.commit_sha:
        parts.append(f"commit {_code(report.commit_sha[:7])}")
    elif not report.store_failed:
        parts.append("no changes")
    line = " · ".join(parts)
    if report.data_location:
        line += f" · data in {_code(report.data_location)}"
    return line


def _growth_lines(report: RunReport) -> list[str]:
    """A paragraph after the table when stars and forks were looked at: what GraphQL did and
    the points it took (a budget of its own, apart from the REST requests)."""
    growth = report.growth
    if growth is None:
        return []
    points = growth.points
    line = (
        f"**Stars and forks**: {_plural(growth.fetched, 'history', 'histories')} brought up to "
        f"date, {growth.quiet:,} unchanged (no query). GraphQL points: {points.used:,} used "
        f"({_plural(points.queries, 'query', 'queries')}) of {growth.planned:,} planned"
    )
    if points.remaining is not None:
        line += f", {points.remaining:,} left this hour"
    line += "."
    if growth.waiting:
        why = "The points ran low: " if points.stopped else ""
        verb = "waits" if growth.waiting == 1 else "wait"
        line += (
            f" {why}{_plural(growth.waiting, 'history', 'histories')} {verb} for the next run, "
            "which goes on where this one stopped."
        )
    return ["", line]


def _posthog_lines(report: RunReport) -> list[str]:
    """A paragraph after the table when the PostHog sink is on."""
    if report.posthog is None:
        return []
    return ["", _posthog_line(report.posthog, dry_run=report.dry_run)]


def _posthog_line(posthog: PostHogReport, *, dry_run: bool) -> str:
    """What the PostHog sink did, in one sentence."""
    days = f"settled days of {_plural(posthog.repos, 'repo')}"
    if dry_run:
        return (
            f"**PostHog** (dry run): {_plural(posthog.planned, 'event')} ({days}) would be "
            "sent; nothing was sent."
        )
    if posthog.failed:
        return (
            f"**PostHog failed** after {posthog.sent:,} of {_plural(posthog.planned, 'event')}: "
            f"{escape_text(posthog.error_title)}: {escape_text(posthog.error)} The data branch "
            "is not affected; the days not sent are sent by the next run."
        )
    if not posthog.planned:
        return (
            "**PostHog**: no newly settled days to send (a day is sent once GitHub can no "
            "longer change it)."
        )
    return f"**PostHog**: {_plural(posthog.sent, 'event')} sent ({days})."


def _summary_table(report: RunReport, *, room: int) -> list[str]:
    """The table of repos in at most `room` bytes, failed ones first, then by name; a note
    follows when rows had to be left out."""
    header = _table(
        ("Repository", "Status", "Views (14 d)", "Clones (14 d)", "New days", "Error"),
        "llrrrl",
        [],
    )
    rows = [(result, _row(_summary_row(result))) for result in report.results]
    table = [*header, *(row for _, row in sorted(rows, key=_shown_order))]
    if _size(table) <= room:
        return table
    total = len(rows)
    worst = _omitted_note(report, dict.fromkeys(_OMITTED, total), total=total)
    room -= _size(header) + _size(["", worst])
    kept: list[tuple[RepoResult, str]] = []
    for result, row in sorted(rows, key=lambda pair: _importance(pair[0])):
        room -= len(row.encode()) + 1
        if room < 0:
            break
        kept.append((result, row))
    left_out = Counter(_omitted_kind(r) for r in report.results)
    left_out.subtract(_omitted_kind(r) for r, _ in kept)
    table = [*header, *(row for _, row in sorted(kept, key=_shown_order))]
    return [*table, "", _omitted_note(report, left_out, total=total)]


def _shown_order(pair: tuple[RepoResult, str]) -> tuple[bool, str, str]:
    result = pair[0]
    return (result.status is not RepoStatus.FAILED, *_name_order(result.full_name))


def _importance(result: RepoResult) -> tuple[int, str, str]:
    """Rows kept first when not all fit: failed, then new days, then skipped, then the rest."""
    rank = _OMITTED.index(_omitted_kind(result))
    return (rank, *_name_order(result.full_name))


# What a left-out row was, in the order rows are kept.
_OMITTED = ("failed", "with new days", "skipped", "unchanged")


def _omitted_kind(result: RepoResult) -> str:
    if result.status is RepoStatus.FAILED:
        return "failed"
    if result.status is RepoStatus.SKIPPED:
        return "skipped"
    return "with new days" if result.days_added else "unchanged"


def _omitted_note(report: RunReport, left_out: Mapping[str, int], *, total: int) -> str:
    """Says how many rows the table leaves out, and where every repo is listed."""
    count = sum(left_out.values())
    kinds = ", ".join(f"{left_out[k]:,} {k}" for k in _OMITTED if left_out.get(k))
    note = (
        f"**{count:,} of {_plural(total, 'repo')} are not in this table** ({kinds}), to keep "
        "this summary under GitHub's 1 MiB limit: it keeps failed repos first, then repos with "
        "new days, then skipped ones."
    )
    if report.index_url:
        page = f"[{escape_text(report.index_path)}]({report.index_url})"
    else:
        where = f" in {_code(report.data_location)}" if report.data_location else ""
        page = f"{_code(report.index_path)}{where}" if report.index_path else ""
    if page:
        note += f" The data branch's index page lists every repo: {page}."
    return note


def _summary_row(result: RepoResult) -> list[str]:
    statuses = {
        RepoStatus.SAVED: "✅ saved",
        RepoStatus.FAILED: "❌ failed",
        RepoStatus.SKIPPED: "⏭️ skipped",
    }
    error = ": ".join(part for part in (result.error_title, result.error) if part)
    if result.renamed_from:
        moved = f"renamed from {result.renamed_from}: history moved"
        error = f"{moved}; {error}" if error else moved
    saved = result.status is RepoStatus.SAVED
    return [
        escape_cell(result.full_name),
        statuses[result.status],
        _window(result.views_14d, result.view_uniques_14d),
        _window(result.clones_14d, result.clone_uniques_14d),
        _number(result.days_added) if saved else DASH,
        escape_cell(_clip(error, MAX_ERROR_CHARS)),
    ]


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, marked with `…` when cut (before escaping, so no entity is
    cut in half)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _window(count: int | None, uniques: int | None) -> str:
    if count is None:
        return DASH
    return _number(count) if uniques is None else f"{_number(count)} ({_number(uniques)} unique)"


def _code(text: str) -> str:
    """A code span (readable in a terminal too) when it can hold the text, else escaped text."""
    if text and not any(char in "`|" or _is_break(char) for char in text):
        return f"`{text}`"
    return escape_text(text)


# --- shared -----------------------------------------------------------------------------------


def _table(header: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; `align` has one letter per column, `l` or `r`."""
    rule = ["---:" if side == "r" else "---" for side in align]
    return [_row(header), _row(rule), *(_row(row) for row in rows)]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _number(value: int) -> str:
    return f"{value:,}"


def _plural(count: int, noun: str, nouns: str = "") -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {nouns or noun + 's'}"


def _is_break(char: str) -> bool:
    """Control characters, line/paragraph separators and bidi overrides become a space."""
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI


def _size(lines: Sequence[str]) -> int:
    """Bytes these lines take in a page (UTF-8, a newline each)."""
    return sum(len(line.encode()) + 1 for line in lines)


def _page(lines: Sequence[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n"
