"""The PostHog sink: event mapping, settled-day selection, watermarks, and the batch sender."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fake_posthog import FakePostHog
from tests.helpers.factories import StartPostHog
from traffic_sync.branch.state import BranchState
from traffic_sync.core.errors import PostHogRejectedError
from traffic_sync.core.history import apply_observation
from traffic_sync.core.models import (
    Bucket,
    DailyRow,
    History,
    Metric,
    Observation,
    RepoInfo,
    SeriesKey,
    TrafficAnswer,
)
from traffic_sync.sinks.posthog import (
    Event,
    PostHogSender,
    advance,
    event_payload,
    event_uuid,
    is_historical,
    merge_watermarks,
    plan_events,
    plan_series,
    settled_through,
    window_events,
)

KEY = "phc_testProjectKey0123456789"
F = dt.date(2026, 2, 1)  # the fetch day of most examples
REPO = RepoInfo("octocat/Hello-World", 42, dt.date(2020, 1, 1), private=False)
DAY = dt.timedelta(days=1)


def day(offset: int) -> dt.date:
    """F + offset."""
    return F + dt.timedelta(days=offset)


def row(offset: int, count: int, *, final: bool = True) -> DailyRow:
    return DailyRow(day(offset), count, min(count, 3), final)


def events(n: int, start: dt.date = dt.date(2026, 1, 1)) -> list[Event]:
    return [Event("octo/a", Metric.VIEWS, start + i * DAY, i + 1, 1) for i in range(n)]


# --- events -----------------------------------------------------------------------------------


def test_uuids_match_github_posthog_sync() -> None:
    """The golden ids of the issue: same name format and namespace as github-posthog-sync."""
    jan5 = dt.date(2026, 1, 5)
    assert event_uuid("octocat/Hello-World", jan5, Metric.VIEWS) == (
        "c3703537-6a70-5d8c-a5d4-4fbc63fb31ba"
    )
    assert event_uuid("octocat/Hello-World", jan5, Metric.CLONES) == (
        "c1ba09fa-ae69-53ee-95ea-44695b47bad0"
    )


def test_event_payload_is_exactly_the_contract() -> None:
    """Event name, uuid as distinct_id, midnight timestamp and exactly DESIGN.md's properties."""
    event = Event("octocat/Hello-World", Metric.CLONES, dt.date(2026, 1, 5), 12, 4)
    assert event_payload(event) == {
        "event": "repository.cloned",
        "uuid": "c1ba09fa-ae69-53ee-95ea-44695b47bad0",
        "distinct_id": "c1ba09fa-ae69-53ee-95ea-44695b47bad0",
        "timestamp": "2026-01-05T00:00:00Z",
        "properties": {
            "repo": "octocat/Hello-World",
            "owner": "octocat",
            "name": "Hello-World",
            "date": "2026-01-05",
            "count": 12,
            "uniques": 4,
            "source": "traffic-sync",
            "$process_person_profile": False,
            "$ignore_sent_at": True,
            "$geoip_disable": True,
        },
    }
    assert event_payload(Event("o/r", Metric.VIEWS, F, 1, 1))["event"] == "repository.viewed"


def test_historical_only_when_every_event_is_older_than_48_hours() -> None:
    """Exactly 48 hours is not historical; one event too recent makes the batch live."""
    midnight = dt.datetime.combine(F, dt.time(), tzinfo=dt.UTC)
    old = Event("o/r", Metric.VIEWS, F - 2 * DAY, 1, 1)
    assert not is_historical([old], now=midnight)
    assert is_historical([old], now=midnight + dt.timedelta(seconds=1))
    assert not is_historical([old, Event("o/r", Metric.VIEWS, F, 1, 1)], now=midnight + DAY)


# --- selection --------------------------------------------------------------------------------


def test_left_edge_that_is_not_final_holds_back_the_days_after_it() -> None:
    """F-14 as first seen (truncated, not final) stops W at F-15; a day later it has settled."""
    rows = [row(-14, 5, final=False), *(row(-i, 9) for i in range(13, 1, -1))]
    assert settled_through(rows, sent_through=None, created=REPO.created, today=F) == day(-15)
    assert settled_through(rows, sent_through=None, created=REPO.created, today=day(1)) == day(-2)


def test_days_before_creation_are_settled() -> None:
    """A repo created at F-5 has nothing to wait for before its creation day."""
    rows = [row(-i, 2) for i in range(5, 1, -1)]
    assert settled_through(rows, sent_through=None, created=day(-5), today=F) == day(-2)


def test_a_missing_day_inside_the_window_holds_back() -> None:
    """A date of the window with no row may still get one: W stops before it."""
    rows = [row(-14, 1), row(-13, 1), row(-12, 1), row(-10, 1)]
    assert settled_through(rows, sent_through=None, created=REPO.created, today=F) == day(-12)
    assert settled_through(rows[1:], sent_through=None, created=REPO.created, today=F) == day(-15)


def test_old_rows_are_settled_whether_final_or_not() -> None:
    """Before F-14 nothing can change: a non-final left edge from long ago counts as settled."""
    rows = [row(-30, 7, final=False), row(-29, 3)]
    plan = plan_series(REPO, Metric.VIEWS, rows, sent_through=None, today=F)
    assert [e.date for e in plan.events] == [day(-30), day(-29)]
    assert plan.settled_through == day(-15)


def test_plan_sends_settled_non_zero_rows_after_w_only() -> None:
    """Rows up to W, zero rows and rows not final inside the window are not sent."""
    rows = [row(-13, 4), row(-12, 0), row(-11, 6), row(-10, 2), row(-1, 8, final=False)]
    rows += [row(-i, 0) for i in range(9, 1, -1)]
    plan = plan_series(REPO, Metric.CLONES, rows, sent_through=day(-12), today=F)
    assert [(e.date, e.count) for e in plan.events] == [(day(-11), 6), (day(-10), 2)]
    assert plan.settled_through == day(-2)
    assert plan.key == (42, Metric.CLONES)
    assert all(e.metric is Metric.CLONES and e.full_name == REPO.full_name for e in plan.events)


def test_plan_events_covers_both_metrics_of_each_repo_in_order() -> None:
    """Views then clones, per repo, with each series' own watermark."""
    history = History(views=(row(-20, 1),), clones=(row(-20, 2),))
    other = RepoInfo("octo/b", 7, dt.date(2020, 1, 1), private=True)
    plans = plan_events(
        [(REPO, history), (other, history)], {(42, Metric.VIEWS): day(-20)}, today=F
    )
    assert [p.key for p in plans] == [
        (42, Metric.VIEWS),
        (42, Metric.CLONES),
        (7, Metric.VIEWS),
        (7, Metric.CLONES),
    ]
    assert [len(p.events) for p in plans] == [0, 1, 1, 1]


def test_window_events_are_the_final_non_zero_days() -> None:
    """Without a branch: the final days of this fetch that had traffic."""
    history = History(
        views=(row(-14, 3, final=False), row(-13, 0), row(-5, 4), row(0, 9, final=False)),
        clones=(row(-2, 1),),
    )
    assert [(e.metric, e.date) for e in window_events(REPO, history)] == [
        (Metric.VIEWS, day(-5)),
        (Metric.CLONES, day(-2)),
    ]


# --- watermarks -------------------------------------------------------------------------------


def test_advance_moves_to_the_settled_end_when_everything_was_acknowledged() -> None:
    """All events acked: W jumps over the zero days too; a cut series stops before its gap."""
    rows = [row(-14, 0), row(-13, 1), row(-12, 0), row(-11, 2), row(-10, 3)]
    rows += [row(-i, 0) for i in range(9, 1, -1)]
    views = plan_series(REPO, Metric.VIEWS, rows, sent_through=None, today=F)
    clones = plan_series(REPO, Metric.CLONES, rows, sent_through=None, today=F)
    assert advance([views, clones], 6) == {
        (42, Metric.VIEWS): day(-2),
        (42, Metric.CLONES): day(-2),
    }
    assert advance([views, clones], 4) == {
        (42, Metric.VIEWS): day(-2),
        (42, Metric.CLONES): day(-12),
    }
    assert advance([views, clones], 0) == {
        (42, Metric.VIEWS): day(-14),
        (42, Metric.CLONES): day(-14),
    }


def test_advance_leaves_out_watermarks_that_did_not_move() -> None:
    """Nothing new settled: no watermark to write."""
    plan = plan_series(REPO, Metric.VIEWS, [row(-3, 1)], sent_through=day(-2), today=F)
    assert advance([plan], 0) == {}


def test_merge_takes_the_later_date() -> None:
    """Concurrent runs' watermarks merge like the history: the later date wins, keys unite."""
    a: dict[SeriesKey, dt.date] = {(1, Metric.VIEWS): day(-3), (1, Metric.CLONES): day(-9)}
    b: dict[SeriesKey, dt.date] = {(1, Metric.VIEWS): day(-5), (2, Metric.VIEWS): day(-1)}
    assert (
        merge_watermarks(a, b)
        == merge_watermarks(b, a)
        == {
            (1, Metric.VIEWS): day(-3),
            (1, Metric.CLONES): day(-9),
            (2, Metric.VIEWS): day(-1),
        }
    )


def test_watermarks_live_in_state_entries_beside_other_keys() -> None:
    """record keeps other keys, never lowers a stored date; read gives them back."""
    state = BranchState.from_json(
        {
            "42": {
                "full_name": "octocat/Hello-World",
                "posthog_sent_through": {"views": "2026-01-30"},
            }
        }
    )
    state = state.with_watermarks({(42, Metric.VIEWS): day(-5), (42, Metric.CLONES): day(-4)})
    state = state.with_watermarks({(9, Metric.VIEWS): day(-1)})
    assert state.to_json() == {
        "42": {
            "full_name": "octocat/Hello-World",
            "posthog_sent_through": {"clones": "2026-01-28", "views": "2026-01-30"},
        },
        "9": {"posthog_sent_through": {"views": "2026-01-31"}},
    }
    assert state.watermarks() == {
        (42, Metric.VIEWS): day(-2),
        (42, Metric.CLONES): day(-4),
        (9, Metric.VIEWS): day(-1),
    }


@pytest.mark.parametrize(
    "entry",
    [{"posthog_sent_through": "2026-01-01"}, {"posthog_sent_through": {"views": "yesterday"}}],
)
def test_unreadable_watermark_is_an_error(entry: dict[str, object]) -> None:
    """A watermark that is not a date is reported, never read as "nothing sent"."""
    with pytest.raises(ValueError, match="posthog_sent_through"):
        BranchState.from_json({"42": entry}).watermarks()


# --- properties -------------------------------------------------------------------------------

CREATED = dt.date(2025, 12, 20)
FIRST = dt.date(2026, 1, 1)


def truth(seed: int, metric: Metric, when: dt.date) -> int:
    """Deterministic traffic with zero days: what GitHub counts for a whole day."""
    if when < CREATED:
        return 0
    value = (when.toordinal() * 7919 + seed * 104729 + len(metric.value)) % 11
    return 0 if value < 4 else value


def observe(seed: int, fetched_on: dt.date, truncate: int) -> Observation:
    """A fetch on `fetched_on`: buckets F-14..F, the left edge cut down, zero days omitted."""
    answers = {}
    for metric in Metric:
        buckets = []
        for offset in range(14, -1, -1):
            when = fetched_on - dt.timedelta(days=offset)
            count = truth(seed, metric, when)
            if offset == 14:
                count = max(0, count - truncate)
            if offset == 0:
                count //= 2
            if count:
                buckets.append(Bucket(when, count, 1))
        answers[metric] = TrafficAnswer(sum(b.count for b in buckets), 1, tuple(buckets))
    repo = RepoInfo("octo/prop", 5, CREATED, private=False)
    return Observation(repo, fetched_on, answers[Metric.VIEWS], answers[Metric.CLONES])


def settled_rows(history: History, metric: Metric, today: dt.date) -> set[dt.date]:
    rows = history.views if metric is Metric.VIEWS else history.clones
    edge = today - dt.timedelta(days=14)
    return {r.date for r in rows if (r.final or r.date < edge) and r.count}


runs = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4),  # days since the previous run
        st.integers(min_value=0, max_value=3),  # how much of the left edge is cut off
        st.one_of(st.none(), st.integers(min_value=0, max_value=30)),  # acked prefix; None: all
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(min_value=0, max_value=50), schedule=runs)
def test_no_row_is_sent_twice_or_skipped(
    seed: int, schedule: list[tuple[int, int, int | None]]
) -> None:
    """Any sequence of runs, gaps and failed batches: each settled day acked once, none skipped."""
    history = History()
    marks: dict[SeriesKey, dt.date] = {}
    acked: list[tuple[Metric, dt.date]] = []
    today = FIRST
    repo = observe(seed, today, 0).repo
    for gap, truncate, prefix in schedule:
        today += dt.timedelta(days=gap)
        history = apply_observation(history, observe(seed, today, truncate))
        plans = plan_events([(repo, history)], marks, today=today)
        sendable = [e for p in plans for e in p.events]
        done = len(sendable) if prefix is None else min(prefix, len(sendable))
        acked += [(e.metric, e.date) for e in sendable[:done]]
        marks = merge_watermarks(marks, advance(plans, done))
        assert len(acked) == len(set(acked)), "a day was acknowledged twice"
        for metric in Metric:
            mark = marks.get((repo.id, metric))
            settled = settled_rows(history, metric, today)
            below = {d for d in settled if mark is not None and d <= mark}
            assert below <= {d for m, d in acked if m is metric}, "a settled day was skipped"
            assert {d for m, d in acked if m is metric} <= settled, "an unsettled day was sent"
    # one more successful run after everything left GitHub's window sends all the rest
    today += dt.timedelta(days=16)
    plans = plan_events([(repo, history)], marks, today=today)
    acked += [(e.metric, e.date) for p in plans for e in p.events]
    assert len(acked) == len(set(acked))
    everything = {(m, d) for m in Metric for d in settled_rows(history, m, today)}
    assert set(acked) == everything


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=50),
    days=st.integers(min_value=1, max_value=30),
    first=st.integers(min_value=0, max_value=40),
    second=st.integers(min_value=0, max_value=40),
)
def test_concurrent_watermarks_merge_without_skipping(
    seed: int, days: int, first: int, second: int
) -> None:
    """Two runs from the same state acking different prefixes: the merged W skips nothing."""
    history = History()
    today = FIRST
    for _ in range(days):
        today += DAY
        history = apply_observation(history, observe(seed, today, 1))
    repo = observe(seed, today, 0).repo
    plans = plan_events([(repo, history)], {}, today=today)
    sendable = [(e.metric, e.date) for p in plans for e in p.events]
    acked = set(sendable[:first]) | set(sendable[:second])
    marks = merge_watermarks(advance(plans, first), advance(plans, second))
    for (_, metric), mark in marks.items():
        below = {d for d in settled_rows(history, metric, today) if d <= mark}
        assert below <= {d for m, d in acked if m is metric}


# --- the sender -------------------------------------------------------------------------------


@pytest.fixture
def posthog(start_posthog: StartPostHog) -> FakePostHog:
    return start_posthog(KEY)


def sender(
    url: str, sleeps: list[float] | None = None, key: str = KEY, **options: object
) -> PostHogSender:
    recorded = sleeps if sleeps is not None else []
    return PostHogSender(
        api_key=key,
        host=url,
        sleep=recorded.append,
        clock=lambda: dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),
        **options,
    )


def test_sends_batches_in_order_as_historical_imports(posthog: FakePostHog) -> None:
    """Events go out in order, `batch_size` at a time, flagged historical when 48 h old."""
    sent = events(5)
    delivery = sender(posthog.url, batch_size=2).send(sent)
    assert (delivery.acknowledged, delivery.batches, delivery.error) == (5, 3, None)
    assert posthog.uuids == [e.uuid for e in sent]
    assert [r.events for r in posthog.requests] == [2, 2, 1]
    assert all(r.historical_migration is True for r in posthog.requests)


def test_recent_events_are_not_a_historical_import(posthog: FakePostHog) -> None:
    """A batch with an event from the last 48 hours goes to the live pipeline."""
    sender(posthog.url).send(events(1, start=dt.date(2026, 2, 28)))
    assert posthog.requests[0].historical_migration is False


def test_server_errors_are_retried_with_jittered_backoff(posthog: FakePostHog) -> None:
    """503 twice then accepted: two waits, growing, each within its jitter range."""
    posthog.answer(503, times=2)
    sleeps: list[float] = []
    delivery = sender(posthog.url, sleeps).send(events(3))
    assert delivery.acknowledged == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_retryable_statuses(posthog: FakePostHog, status: int) -> None:
    """408, 429 and every 5xx are retried."""
    posthog.answer(status)
    assert sender(posthog.url).send(events(1)).acknowledged == 1


def test_retry_after_is_honoured(posthog: FakePostHog) -> None:
    """429 with Retry-After: 7 waits exactly 7 s, in seconds or as an HTTP date."""
    posthog.answer(429, headers={"Retry-After": "7"})
    when = dt.datetime(2026, 3, 1, 12, 0, 30, tzinfo=dt.UTC)
    posthog.answer(503, headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)})
    sleeps: list[float] = []
    assert sender(posthog.url, sleeps).send(events(1)).acknowledged == 1
    assert sleeps == [7.0, 30.0]


def test_unreadable_retry_after_falls_back_to_backoff(posthog: FakePostHog) -> None:
    """A Retry-After that is neither seconds nor a date is ignored."""
    posthog.answer(429, headers={"Retry-After": "soon"})
    sleeps: list[float] = []
    assert sender(posthog.url, sleeps).send(events(1)).acknowledged == 1
    assert 0.5 <= sleeps[0] <= 1.0


def test_too_long_a_wait_stops_instead_of_parking_the_run(posthog: FakePostHog) -> None:
    """A Retry-After beyond max_wait ends the send; the next run catches up."""
    posthog.answer(429, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    delivery = sender(posthog.url, sleeps).send(events(2))
    assert delivery.acknowledged == 0
    assert delivery.error is not None
    assert "3600 s" in delivery.error.message
    assert sleeps == []


def test_retries_are_bounded_and_what_was_acked_is_a_prefix(posthog: FakePostHog) -> None:
    """The first batch lands, the second fails every attempt: 2 acknowledged, then stop."""
    posthog.answer(200)  # the first batch is taken, then every attempt of the second fails
    posthog.answer(503, times=5)
    delivery = sender(posthog.url, batch_size=2, attempts=5).send(events(6))
    assert delivery.acknowledged == 2
    assert delivery.error is not None
    assert "after 5 attempts: HTTP 503" in delivery.error.message
    assert "next run" in delivery.error.fix
    assert len(posthog.requests) == 6  # nothing after the failed batch


def test_network_errors_are_retried_then_reported() -> None:
    """Nothing listening: each attempt fails to connect, bounded, with the host in the error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    delivery = sender(f"http://127.0.0.1:{port}", sleeps, attempts=3, timeout=2).send(events(1))
    assert delivery.acknowledged == 0
    assert delivery.error is not None
    assert f"127.0.0.1:{port}" in delivery.error.message
    assert "no answer (ConnectionError)" in delivery.error.message
    assert len(sleeps) == 2


def test_413_splits_the_batch(posthog: FakePostHog) -> None:
    """Too large: the batch is halved until PostHog takes it, order kept."""
    posthog.max_batch = 3
    sent = events(10)
    delivery = sender(posthog.url).send(sent)
    assert delivery.acknowledged == 10
    assert posthog.uuids == [e.uuid for e in sent]
    assert [r.events for r in posthog.requests if r.status == 200] == [2, 3, 2, 3]


def test_413_on_a_single_event_is_an_error(posthog: FakePostHog) -> None:
    """One event that is still too large cannot be split: stop with an error."""
    posthog.answer(413, times=3)
    delivery = sender(posthog.url).send(events(2))
    assert delivery.acknowledged == 0
    assert delivery.error is not None
    assert "413" in delivery.error.message


@pytest.mark.parametrize("status", [400, 401])
def test_bad_request_or_key_stops_at_once_and_says_what_to_check(
    posthog: FakePostHog, status: int
) -> None:
    """400/401 are not retried; the fix names the key format and the US/EU hosts."""
    posthog.answer(status)
    sleeps: list[float] = []
    delivery = sender(posthog.url, sleeps).send(events(3))
    assert isinstance(delivery.error, PostHogRejectedError)
    assert delivery.acknowledged == 0
    assert sleeps == []
    assert len(posthog.requests) == 1
    for needle in ("posthog-api-key", "phc_", "posthog-host", "https://eu.i.posthog.com"):
        assert needle in delivery.error.fix


def test_wrong_key_is_refused_by_the_server(posthog: FakePostHog) -> None:
    """The fake checks the key: a wrong one gets 401 and nothing is recorded."""
    delivery = sender(posthog.url, key="phc_wrong").send(events(1))
    assert isinstance(delivery.error, PostHogRejectedError)
    assert "HTTP 401" in delivery.error.message
    assert posthog.events == []


def test_other_client_errors_point_at_the_host(posthog: FakePostHog) -> None:
    """A 404 means the URL is not a capture endpoint: check posthog-host."""
    delivery = sender(posthog.url + "/not-here").send(events(1))
    assert delivery.error is not None
    assert not isinstance(delivery.error, PostHogRejectedError)
    assert "HTTP 404" in delivery.error.message
    assert "posthog-host" in delivery.error.fix


def test_nothing_to_send_makes_no_request(posthog: FakePostHog) -> None:
    """No events, no request."""
    assert sender(posthog.url).send([]).acknowledged == 0
    assert posthog.requests == []
