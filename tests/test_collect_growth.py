"""What state.json keeps of stars and forks between runs, and what a run plans to ask."""

from __future__ import annotations

import datetime as dt

import pytest

from traffic_sync.branch.state import STATE_KEY, RepoEntry
from traffic_sync.core.growth import GrowthRow, Position, Series
from traffic_sync.core.models import GrowthState, GrowthUpdate

KEPT = GrowthState(
    count=1_234,
    through=dt.date(2026, 1, 20),
    pending=(Position("Y3Vyc29y", dt.date(2024, 5, 1), 7, None),),
    queries=96,
)


def test_state_round_trips_through_the_entry() -> None:
    """What a run writes is what the next run reads, series by series."""
    entry = RepoEntry.decode(
        RepoEntry().with_growth([GrowthUpdate(Series.STARS, (), KEPT)]).to_json()
    )
    assert entry.growth_state(Series.STARS) == KEPT
    assert entry.growth_state(Series.FORKS) == GrowthState()


def test_writing_keeps_the_keys_and_series_others_own() -> None:
    """A run that touched only stars keeps the forks' state and the entry's other keys."""
    entry = RepoEntry.decode({"posthog": {"views": "2026-01-01"}})
    entry = entry.with_growth([GrowthUpdate(Series.FORKS, (), GrowthState(count=3))])
    entry = entry.with_growth(
        [GrowthUpdate(Series.STARS, (GrowthRow(dt.date(2026, 1, 2), 1, 1),), KEPT)]
    )
    assert entry.to_json()["posthog"] == {"views": "2026-01-01"}
    assert entry.growth_state(Series.FORKS) == GrowthState(count=3)
    assert entry.growth_state(Series.STARS) == KEPT


@pytest.mark.parametrize(
    "kept",
    [
        "oops",
        {"stars": "oops"},
        {"stars": {"count": "12", "through": "not a day"}},
        {"stars": {"count": 12, "pending": [{"cursor": ""}]}},
        {"stars": {"count": True, "queries": -1}},
    ],
)
def test_a_state_it_cannot_read_counts_as_never_fetched(kept: object) -> None:
    """A hand-edited or damaged state costs a backfill again, never a wrong row."""
    assert RepoEntry.decode({STATE_KEY: kept}).growth_state(Series.STARS) == GrowthState()
