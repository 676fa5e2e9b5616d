"""What a run's commit says: its day, repos and new days, the folders moved, and the notes.

The first line is what `git log --oneline` shows; the body lists each saved repo, a line on a
move of the branch's layout, and the run's notes (a history set aside, a CSV rebuilt, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from traffic_sync.core.errors import TrafficSyncError
from traffic_sync.core.models import RepoResult, RepoStatus


def commit_message(
    today: dt.date,
    results: Sequence[RepoResult],
    *,
    moved: int = 0,
    layout1_left: int = 0,
    months: bool = False,
    notes: Sequence[TrafficSyncError] = (),
) -> str:
    """`traffic-sync: <date>, <n> repos, <k> new days`, a line on the move to layout 2 when
    folders moved, one line per saved repo, and one per note (a history set aside, a CSV
    rebuilt, a JSON recovered)."""
    saved = [r for r in results if r.status is RepoStatus.SAVED]
    days = sum(r.days_added for r in saved)
    body = "\n".join(
        f"- {r.full_name}: +{r.days_added} days"
        + (f" (moved from {r.renamed_from})" if r.renamed_from else "")
        for r in saved
    )
    if moved:
        body = f"{move_summary(moved, layout1_left, months=months)}\n\n{body}"
    if notes:
        body += "\n\n" + "\n".join(f"- {note.message}" for note in notes)
    return f"traffic-sync: {today.isoformat()}, {len(saved)} repos, {days} new days\n\n{body}\n"


def move_summary(moved: int, left: int, *, months: bool = False) -> str:
    """The line on a move to layout 2, or (`months`) of layout 2's first, flat month files
    (`referrers/2026-01.json`) into year folders (`referrers/2026/01.json`)."""
    if months and not left:
        return f"Moved the month files into year folders: {repo_count(moved)}."
    if months:
        return (
            f"Moved the month files of {repo_count(moved)} into year folders; "
            f"{repo_count(left)} not, whose files cannot be read (see the run's errors)."
        )
    if not left:
        return f"Moved the data branch to layout 2 (period files): {repo_count(moved)}."
    return (
        f"Moved {repo_count(moved)} to layout 2 (period files); "
        f"{repo_count(left)} still in layout 1, whose files cannot be read (see the run's errors)."
    )


def repo_count(count: int) -> str:
    """`1 repo`, `1,000 repos`."""
    return f"{count:,} repo" + ("" if count == 1 else "s")
