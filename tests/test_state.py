"""state.json as one record: read tolerantly, written back byte for byte."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from traffic_sync.branch.state import (
    FINGERPRINT,
    STATE_FILE,
    BranchState,
    RepoEntry,
    read_state,
)
from traffic_sync.core.growth import Series
from traffic_sync.core.models import GrowthState, Metric

GOLDEN_STATE = Path(__file__).parent / "golden" / "e2e" / STATE_FILE


def test_a_golden_state_decodes_to_typed_entries_and_encodes_to_the_same_bytes() -> None:
    """The e2e golden state.json reads into typed entries and writes back unchanged."""
    raw = GOLDEN_STATE.read_bytes()
    state = BranchState.decode(raw)
    entry = state.entry(101)
    assert entry.full_name == "octo-org/busy-lib"
    assert entry.last_success == dt.date(2026, 1, 22)
    assert entry.fingerprint is not None
    assert entry.seen is not None
    assert entry.growth_state(Series.STARS).count == 10
    assert not entry.kept
    assert state.encode() == raw


@pytest.mark.parametrize(
    "odd",
    [
        {"full_name": 7},
        {"last_success": "last tuesday"},
        {FINGERPRINT: None},
        {"growth": "oops"},
        {"growth": {}},
        {"posthog_sent_through": {"views": "soon"}},
        {"posthog_sent_through": {"views": "2026-01-01", "pageviews": "2026-01-01"}},
        {"a key of a later version": [1, 2]},
    ],
)
def test_what_cannot_be_read_is_unknown_and_written_back_as_found(
    odd: dict[str, object],
) -> None:
    """An unreadable value or unknown key counts as unknown and is kept byte for byte."""
    repos = {"5": {"full_name": "o/r", "last_success": "2026-01-02", **odd}}
    raw = (json.dumps({"repos": repos, "schema": 2}, indent=2, sort_keys=True) + "\n").encode()
    state = BranchState.decode(raw)
    assert state.encode() == raw
    key = next(iter(odd))
    assert key in state.entry(5).kept


def test_setting_a_value_replaces_the_unreadable_one_it_had() -> None:
    """A fingerprint written over an unreadable one leaves no trace of the old value."""
    entry = RepoEntry.decode({FINGERPRINT: 3, "full_name": "o/r"})
    assert entry.fingerprint is None
    after = entry.with_values(fingerprint="abc")
    assert after.to_json() == {FINGERPRINT: "abc", "full_name": "o/r"}


def test_records_are_new_values_never_changed_in_place() -> None:
    """with_entry, with_watermarks and with_fingerprint leave the record they start from."""
    state = BranchState.from_json({"1": {"full_name": "o/a"}})
    later = state.with_watermarks({(1, Metric.VIEWS): dt.date(2026, 1, 1)})
    later = later.with_fingerprint("o/a", "f").with_entry(2, RepoEntry(full_name="o/b"))
    assert state.to_json() == {"1": {"full_name": "o/a"}}
    assert later.to_json() == {
        "1": {
            FINGERPRINT: "f",
            "full_name": "o/a",
            "posthog_sent_through": {"views": "2026-01-01"},
        },
        "2": {"full_name": "o/b"},
    }


def test_a_growth_state_it_cannot_read_in_one_series_leaves_the_other() -> None:
    """A damaged stars state counts as never fetched; the forks state is still read."""
    entry = RepoEntry.decode({"growth": {"stars": "oops", "forks": {"count": 4}}})
    assert entry.growth_state(Series.STARS) == GrowthState()
    assert entry.growth_state(Series.FORKS) == GrowthState(count=4)


def test_state_is_found_under_the_data_path() -> None:
    """read_state looks for state.json inside `data-path`; none there is a new branch."""
    raw = BranchState.from_json({"1": {"full_name": "o/a"}}).encode()
    assert read_state({f"traffic/{STATE_FILE}": raw}, "traffic").entry(1).full_name == "o/a"
    assert read_state({STATE_FILE: raw}, "traffic") == BranchState()
