"""The parts of state.json's repo entries that collection and publishing keep between runs.

Pure reads and writes of the entry dicts: the stars and forks fetch states (`GrowthState`) and
PostHog's sent-through dates (the watermarks). The branch view reads them to plan what a run
reads; the stages write them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from traffic_sync.core.growth import Position, Series
from traffic_sync.core.models import GrowthState, GrowthUpdate, Metric, SeriesKey, Watermarks

STATE_KEY = "growth"  # a repo entry's key: its stars and forks states
WATERMARKS = "posthog_sent_through"  # a repo entry's key: what PostHog has


# --- the stars and forks fetch states -------------------------------------------------------------


def read_growth_state(entry: Mapping[str, object], series: Series) -> GrowthState:
    """A series' state from a state.json entry; what cannot be read counts as never fetched,
    which costs a backfill again, never a wrong row (rows merge by max)."""
    kept = entry.get(STATE_KEY)
    value = kept.get(str(series)) if isinstance(kept, dict) else None
    if not isinstance(value, dict):
        return GrowthState()
    try:
        count, through, queries = value.get("count"), value.get("through"), value.get("queries", 0)
        return GrowthState(
            count=count if _is_count(count) else None,
            through=dt.date.fromisoformat(through) if isinstance(through, str) else None,
            pending=tuple(Position.from_json(p) for p in value.get("pending") or ()),
            queries=queries if _is_count(queries) else 0,
        )
    except (ValueError, TypeError):
        return GrowthState()


def growth_state_json(state: GrowthState) -> dict[str, Any]:
    """A series' state as state.json keeps it."""
    return {
        "count": state.count,
        "through": None if state.through is None else state.through.isoformat(),
        "pending": [p.to_json() for p in state.pending],
        "queries": state.queries,
    }


def write_growth_state(entry: dict[str, object], updates: Sequence[GrowthUpdate]) -> None:
    """Put this run's series states into a state.json entry, keeping the other keys."""
    if not updates:
        return
    kept = entry.get(STATE_KEY)
    growth = dict(kept) if isinstance(kept, dict) else {}
    for update in updates:
        growth[str(update.series)] = growth_state_json(update.state)
    entry[STATE_KEY] = dict(sorted(growth.items()))


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- PostHog's sent-through dates -----------------------------------------------------------------


def read_watermarks(state: Mapping[str, Mapping[str, object]]) -> Watermarks:
    """The sent-through dates kept in state.json's repo entries; ValueError names a bad one."""
    marks: Watermarks = {}
    for repo_id, entry in state.items():
        stored = entry.get(WATERMARKS)
        if stored is None:
            continue
        if not isinstance(stored, dict) or not repo_id.isdigit():
            raise ValueError(f"repos.{repo_id}.{WATERMARKS} is not an object")
        for metric in Metric:
            text = stored.get(metric.value)
            if text is None:
                continue
            try:
                marks[(int(repo_id), metric)] = dt.date.fromisoformat(str(text))
            except ValueError:
                raise ValueError(
                    f"repos.{repo_id}.{WATERMARKS}.{metric.value} is not a date: {text!r}"
                ) from None
    return marks


def record_watermarks(
    state: MutableMapping[str, dict[str, object]], marks: Mapping[SeriesKey, dt.date]
) -> None:
    """Write `marks` into state.json's entries; a later date already there wins."""
    stored_marks = read_watermarks(state)
    for (repo_id, metric), day in sorted(marks.items()):
        latest = max(day, stored_marks.get((repo_id, metric), day))
        entry = state.setdefault(str(repo_id), {})
        stored = entry.get(WATERMARKS)
        series = dict(stored) if isinstance(stored, dict) else {}
        series[metric.value] = latest.isoformat()
        entry[WATERMARKS] = dict(sorted(series.items()))
