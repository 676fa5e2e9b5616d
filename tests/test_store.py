"""Storage on its own: state.json's schema, the commit message and the bounded push loop.

Runs with real git (tests/test_sync.py, tests/test_e2e.py, tests/test_layout_move.py) show
these at work; here each rule is checked by itself.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from traffic_sync.branch.codec import encode_history
from traffic_sync.branch.state import (
    LAYOUT1_SCHEMA,
    STATE_FILE,
    STATE_SCHEMA,
    BranchState,
    encode_state,
    read_state,
)
from traffic_sync.branch.view import FilesInMemory, survey_branch
from traffic_sync.core.errors import PushRejectedError, StoreError
from traffic_sync.core.history import apply_observation
from traffic_sync.core.models import (
    Bucket,
    History,
    Observation,
    RepoInfo,
    RepoResult,
    RepoStatus,
    TrafficAnswer,
)
from traffic_sync.settings import parse_settings
from traffic_sync.stages.plan import plan_files, plan_write
from traffic_sync.stages.store import Target, commit_message, until_pushed
from traffic_sync.sync import store_options


def test_a_branch_without_state_is_new_and_in_the_current_layout() -> None:
    assert read_state({}, "") == BranchState(STATE_SCHEMA, {})


@pytest.mark.parametrize("schema", [LAYOUT1_SCHEMA, STATE_SCHEMA])
def test_state_round_trips_byte_for_byte(schema: int) -> None:
    state = {"12": {"full_name": "o/b", "last_success": "2026-03-01"}, "3": {"full_name": "o/a"}}
    data = encode_state(state, schema=schema)
    assert read_state({f"traffic/{STATE_FILE}": data}, "traffic") == BranchState.from_json(
        state, schema=schema
    )
    assert read_state({f"traffic/{STATE_FILE}": data}, "traffic").encode() == data
    assert encode_state(dict(reversed(state.items())), schema=schema) == data
    assert data.endswith(b"}\n")


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b'{"schema": 2}', b'{"schema": "2", "repos": {}}', b'{"schema": 0, "repos": {}}'],
)
def test_unreadable_state_is_an_error_that_names_the_file(raw: bytes) -> None:
    with pytest.raises(StoreError) as caught:
        read_state({STATE_FILE: raw}, "")
    assert STATE_FILE in str(caught.value)
    assert "nothing was written" in str(caught.value)


def test_state_from_a_newer_version_is_refused() -> None:
    raw = json.dumps({"schema": STATE_SCHEMA + 1, "repos": {}}).encode()
    with pytest.raises(StoreError, match="newer version of traffic-sync"):
        read_state({STATE_FILE: raw}, "")


def test_commit_message_counts_saved_repos_and_new_days() -> None:
    results = [
        RepoResult("o/a", RepoStatus.SAVED, days_added=2),
        RepoResult("o/b", RepoStatus.FAILED),
        RepoResult("o/c", RepoStatus.SAVED, days_added=0, renamed_from="o/old"),
    ]
    assert commit_message(dt.date(2026, 3, 2), results) == (
        "traffic-sync: 2026-03-02, 2 repos, 2 new days\n\n"
        "- o/a: +2 days\n- o/c: +0 days (moved from o/old)\n"
    )


def test_a_rejected_push_is_tried_again_with_a_growing_pause() -> None:
    pauses: list[float] = []
    outcomes = iter([PushRejectedError("moved"), PushRejectedError("moved"), "sha"])

    def attempt() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert until_pushed(attempt, attempts=5, sleep=pauses.append) == "sha"
    assert len(pauses) == 2
    assert 0.5 <= pauses[0] <= 2.0
    assert 1.0 <= pauses[1] <= 4.0


def test_the_push_loop_gives_up_after_its_attempts() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise PushRejectedError("moved")

    with pytest.raises(StoreError, match="gave up after 3 attempts"):
        until_pushed(attempt, attempts=3, sleep=lambda _: None)
    assert len(calls) == 3


def _seen(name: str, repo_id: int, day: dt.date) -> Observation:
    repo = RepoInfo(name, repo_id, dt.date(2025, 1, 1), private=False)
    views = TrafficAnswer(5, 2, (Bucket(day - dt.timedelta(days=3), 5, 2),))
    return Observation(repo, day, views, TrafficAnswer(0, 0))


def test_planning_leaves_what_was_read_as_it_was() -> None:
    """plan_write takes the values it uses and changes nothing of the survey it is handed: a
    second plan from the same survey is the same plan."""
    day = dt.date(2026, 3, 2)
    earlier = {"o/old": _seen("o/old", 7, day - dt.timedelta(days=5)), "o/b": _seen("o/b", 8, day)}
    files = {
        f"{name}/{rel}": text.encode()
        for name, observation in earlier.items()
        for rel, text in encode_history(apply_observation(History(), observation)).items()
    }
    state = {"7": {"full_name": "o/old", "last_success": "2026-02-25"}}
    files[STATE_FILE] = encode_state(state)
    runs = [_seen("o/new", 7, day), _seen("o/b", 8, day)]  # o/old was renamed to o/new
    settings = parse_settings({"token": "t", "repos": "o/*", "data-repository": "./d"}, {})
    survey = survey_branch(
        FilesInMemory(files), runs, today=day, target=store_options(settings).target
    )
    before = (dict(survey.folders), survey.state, dict(survey.index), dict(survey.listings))
    target = Target(data_path="", server_url="https://github.com")
    plan = plan_write(survey, runs, today=day, target=target)
    assert (dict(survey.folders), survey.state, dict(survey.index), dict(survey.listings)) == before
    assert plan_write(survey, runs, today=day, target=target) == plan
    assert plan == plan_files(files, runs, today=day, target=store_options(settings).target)
    assert plan.results[0].renamed_from == "o/old"
    assert read_state(plan.files, "").entry(7).full_name == "o/new"
    assert survey.state.entry(7).full_name == "o/old"
