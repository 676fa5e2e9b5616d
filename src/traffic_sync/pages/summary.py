"""The run's step summary: a totals line, one row per repo within the runner's size limit,
what GraphQL and PostHog did, and the daily totals of every repo as charts.

Written for $GITHUB_STEP_SUMMARY and the terminal. Same input, same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from traffic_sync.core.models import PostHogReport, RepoResult, RepoStatus, RunReport
from traffic_sync.pages import markdown
from traffic_sync.pages.markdown import DASH, escape_cell, escape_text
from traffic_sync.pages.render import name_order, overview_section

# The runner refuses a step summary file over 1 MiB (1024k bytes) and shows none of it, only an
# error annotation ("$GITHUB_STEP_SUMMARY upload aborted"). The summary keeps to half of that
# whatever the number of repos, far from the edge whatever redaction or a later section adds.
# https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-markdown-summary
SUMMARY_BUDGET = 512 * 1024  # bytes
MAX_ERROR_CHARS = 1_000  # of one repo's error in the summary, so that no row eats the budget


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
        return markdown.page(lines + _posthog_lines(report))
    tail = _growth_lines(report) + _posthog_lines(report)
    if with_charts:
        tail += ["", *overview_section(dict(report.index), heading="### All repositories")]
    room = budget - markdown.size(lines) - markdown.size(tail)
    return markdown.page(lines + _summary_table(report, room=room) + tail)


def _summary_line(report: RunReport) -> str:
    skipped = sum(r.status is RepoStatus.SKIPPED for r in report.results)
    parts = [
        f"{markdown.plural(report.repos_synced, 'repo')} synced",
        f"{report.repos_failed:,} failed",
    ]
    if skipped:
        parts.append(f"{skipped:,} skipped")
    parts.append(f"{markdown.plural(report.days_added, 'new day')}")
    if report.dry_run:
        parts.append("dry run: nothing written")
    elif report.commit_sha:
        parts.append(f"commit {markdown.code(report.commit_sha[:7])}")
    elif not report.store_failed:
        parts.append("no changes")
    line = " · ".join(parts)
    if report.data_location:
        line += f" · data in {markdown.code(report.data_location)}"
    return line


def _growth_lines(report: RunReport) -> list[str]:
    """A paragraph after the table when stars and forks were looked at: what GraphQL did and
    the points it took (a budget of its own, apart from the REST requests)."""
    growth = report.growth
    if growth is None:
        return []
    points = growth.points
    histories = markdown.plural(growth.fetched, "history", "histories")
    line = (
        f"**Stars and forks**: {histories} brought up to "
        f"date, {growth.quiet:,} unchanged (no query). GraphQL points: {points.used:,} used "
        f"({markdown.plural(points.queries, 'query', 'queries')}) of {growth.planned:,} planned"
    )
    if points.remaining is not None:
        line += f", {points.remaining:,} left this hour"
    line += "."
    if growth.history_requests:
        requests = markdown.plural(growth.history_requests, "REST request", "REST requests")
        line += f" Star histories from GitHub's star history endpoint: {requests}."
    if growth.waiting:
        why = "The points ran low: " if points.stopped else ""
        verb = "waits" if growth.waiting == 1 else "wait"
        waiting = markdown.plural(growth.waiting, "history", "histories")
        line += f" {why}{waiting} {verb} for the next run, which goes on where this one stopped."
    return ["", line]


def _posthog_lines(report: RunReport) -> list[str]:
    """A paragraph after the table when the PostHog sink is on."""
    if report.posthog is None:
        return []
    return ["", _posthog_line(report.posthog, dry_run=report.dry_run)]


def _posthog_line(posthog: PostHogReport, *, dry_run: bool) -> str:
    """What the PostHog sink did, in one sentence."""
    days = f"settled days of {markdown.plural(posthog.repos, 'repo')}"
    planned = markdown.plural(posthog.planned, "event")
    if dry_run:
        return f"**PostHog** (dry run): {planned} ({days}) would be sent; nothing was sent."
    if posthog.failed:
        return (
            f"**PostHog failed** after {posthog.sent:,} of {planned}: "
            f"{escape_text(posthog.error_title)}: {escape_text(posthog.error)} The data branch "
            "is not affected; the days not sent are sent by the next run."
        )
    if not posthog.planned:
        return (
            "**PostHog**: no newly settled days to send (a day is sent once GitHub can no "
            "longer change it)."
        )
    return f"**PostHog**: {markdown.plural(posthog.sent, 'event')} sent ({days})."


def _summary_table(report: RunReport, *, room: int) -> list[str]:
    """The table of repos in at most `room` bytes, failed ones first, then by name; a note
    follows when rows had to be left out."""
    header = markdown.table(
        ("Repository", "Status", "Views (14 d)", "Clones (14 d)", "New days", "Error"),
        "llrrrl",
        [],
    )
    rows = [(result, markdown.row(_summary_row(result))) for result in report.results]
    table = [*header, *(row for _, row in sorted(rows, key=_shown_order))]
    if markdown.size(table) <= room:
        return table
    total = len(rows)
    worst = _omitted_note(report, dict.fromkeys(_OMITTED, total), total=total)
    room -= markdown.size(header) + markdown.size(["", worst])
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
    return (result.status is not RepoStatus.FAILED, *name_order(result.full_name))


def _importance(result: RepoResult) -> tuple[int, str, str]:
    """Rows kept first when not all fit: failed, then new days, then skipped, then the rest."""
    rank = _OMITTED.index(_omitted_kind(result))
    return (rank, *name_order(result.full_name))


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
    repos = markdown.plural(total, "repo")
    note = (
        f"**{count:,} of {repos} are not in this table** ({kinds}), to keep "
        "this summary under GitHub's 1 MiB limit: it keeps failed repos first, then repos with "
        "new days, then skipped ones."
    )
    if report.index_url:
        page = f"[{escape_text(report.index_path)}]({report.index_url})"
    else:
        where = f" in {markdown.code(report.data_location)}" if report.data_location else ""
        page = f"{markdown.code(report.index_path)}{where}" if report.index_path else ""
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
        markdown.number(result.days_added) if saved else DASH,
        escape_cell(_clip(error, MAX_ERROR_CHARS)),
    ]


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, marked with `…` when cut (before escaping, so no entity is
    cut in half)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _window(count: int | None, uniques: int | None) -> str:
    if count is None:
        return DASH
    return (
        markdown.number(count)
        if uniques is None
        else f"{markdown.number(count)} ({markdown.number(uniques)} unique)"
    )
