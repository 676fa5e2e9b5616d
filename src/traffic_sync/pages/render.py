"""Pure Markdown: the data branch's index and repo pages.

Text that comes from GitHub goes through `markdown.escape_text`/`escape_cell` (see `markdown`);
the run's step summary is `summary`'s. Same input, same bytes: no time of day, rows in a fixed
order, one trailing newline.
"""

from __future__ import annotations

import datetime as dt
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
    ReferrerRow,
    StatsRow,
)
from traffic_sync.pages import charts, markdown
from traffic_sync.pages.markdown import DASH, escape_cell, escape_text

NOT_FINAL = r"\*"  # marks a day GitHub may still add to; explained under the table
SERVER_URL = "https://github.com"


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
        return markdown.page(lines)
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
    rows = [_index_row(name, repos[name], end=end) for name in sorted(repos, key=name_order)]
    lines += markdown.table(header, "lrrrrrrlllll", rows)
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
    lines += overview_section(repos, heading="## All repositories")
    return markdown.page(lines)


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
    return markdown.page(lines)


# --- index ------------------------------------------------------------------------------------


def _index_row(full_name: str, row: IndexRow, *, end: dt.date | None) -> list[str]:
    page = _page_link(full_name)
    stats = row.stats
    counters: list[str] = (
        [
            markdown.number(stats.views_14d),
            markdown.number(stats.view_uniques_14d),
            markdown.number(stats.clones_14d),
            markdown.number(stats.clone_uniques_14d),
            markdown.number(stats.stars),
            markdown.number(stats.forks),
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


def overview_section(repos: Mapping[str, IndexRow], *, heading: str) -> list[str]:
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


def name_order(full_name: str) -> tuple[str, str]:
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
    return [*lines, *markdown.table(header, "r" * 8, [[markdown.number(v) for v in values]]), ""]


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
    lines += markdown.table(
        ("Date", "Views", "Unique visitors", "Clones", "Unique cloners"), "lrrrr", rows
    )
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
        cells += [markdown.number(row.count), markdown.number(row.uniques)] if row else [DASH, DASH]
    return cells


def _all_time_section(figures: AllTime) -> list[str]:
    lines = ["## All time", ""]
    if figures.first is None or figures.last is None:
        return [*lines, "No views or clones recorded yet.", ""]
    return [
        *lines,
        f"From {figures.first.isoformat()} to {figures.last.isoformat()} "
        f"({markdown.plural(figures.dates, 'day')} with data):",
        "",
        f"- Views: {markdown.number(figures.views.count)}",
        f"- Clones: {markdown.number(figures.clones.count)}",
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
    counted = markdown.number(net)
    line = f"{noun.capitalize()}: {markdown.number(given)} in the history; GitHub counted {counted}"
    line += f" on {day.isoformat()}"
    if net < given:
        return line + f" ({markdown.number(given - net)} taken back since they were given)."
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
        f"({markdown.plural(len(tags), 'release')}; the {min(10, len(tags))} most downloaded):",
        "",
        *markdown.table(
            ("Release", "Downloads"),
            "lr",
            [[escape_cell(tag), markdown.number(count)] for tag, count in ordered],
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
    ordered = sorted(rows, key=lambda r: (-r.count, -r.uniques, *name_order(r.referrer)))
    table = [
        [escape_cell(r.referrer), markdown.number(r.count), markdown.number(r.uniques)]
        for r in ordered
    ]
    return [
        *lines,
        *_snapshot_chart(history.referrers, history.stats, what="referrers"),
        f"Sites that sent visitors in the 14 days up to {day}, as GitHub reported them "
        "(its top 10).",
        "",
        *markdown.table(("Referrer", "Views (14 d)", "Unique visitors (14 d)"), "lrr", table),
        "",
    ]


def _paths_section(history: History) -> list[str]:
    day, rows = _latest_snapshot(history.paths, history.stats)
    lines = ["## Popular content", ""]
    if day is None:
        return [*lines, "No popular content recorded yet.", ""]
    if not rows:
        return [*lines, f"GitHub reported no popular content for the 14 days up to {day}.", ""]
    ordered = sorted(rows, key=lambda r: (-r.count, -r.uniques, *name_order(r.path), r.title))
    table = [
        [
            escape_cell(r.path),
            escape_cell(r.title),
            markdown.number(r.count),
            markdown.number(r.uniques),
        ]
        for r in ordered
    ]
    return [
        *lines,
        *_snapshot_chart(history.paths, history.stats, what="paths"),
        f"The most viewed pages in the 14 days up to {day}, as GitHub reported them (its top 10).",
        "",
        *markdown.table(("Path", "Title", "Views (14 d)", "Unique visitors (14 d)"), "llrr", table),
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
        *markdown.table(("Data", "Folder", "Files", "Columns"), "llll", rows),
    ]
