"""The PostHog sink: settled traffic days as events, each sent once, and the sender.

Events are those of the github-posthog-sync tool (same names, same UUIDv5 ids), so users who
switch get no duplicates. PostHog does not reliably replace an event that is sent again with new
values, so only days that can no longer change are sent, and each (repo, metric, day) once:
per repo and metric, state.json keeps a sent-through date W such that every settled non-zero row
up to W was acknowledged. W moves only over dates that can no longer change and only past events
PostHog answered with a 2xx.

Everything but `PostHogSender` is pure: `today` (the fetch day F) and the send time come in as
arguments. https://posthog.com/docs/api/capture
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import requests

from traffic_sync.core.errors import ClearTextKeyWarning, PostHogError, PostHogRejectedError
from traffic_sync.core.history import WINDOW_DAYS
from traffic_sync.core.models import DailyRow, History, Metric, RepoInfo, SeriesKey, Watermarks

NAMESPACE = uuid.UUID("45e8f109-f056-4372-9545-9d7b78b20c34")  # github-posthog-sync's
EVENT_NAMES = {Metric.VIEWS: "repository.viewed", Metric.CLONES: "repository.cloned"}
SOURCE = "traffic-sync"
DEFAULT_HOST = "https://us.i.posthog.com"
# PostHog treats a batch as a historical import only when every event is this old.
HISTORICAL_AGE = dt.timedelta(hours=48)
# A request may be up to 20 MB; an event is under 1 KB (names are at most 140 characters).
BATCH_SIZE = 1000
ONE_DAY = dt.timedelta(days=1)

KEY_HELP = (
    "Check `posthog-api-key`: it must be the project API key, which starts with `phc_` "
    "(PostHog: Project settings → Project API key), not a personal API key (`phx_`). Check "
    "`posthog-host`: the ingestion host of the project's region, `https://us.i.posthog.com` "
    "for US Cloud or `https://eu.i.posthog.com` for EU Cloud (a key of one region is unknown "
    "to the other), or your self-hosted URL."
)
RETRY_HELP = (
    "Nothing is lost: the data branch is saved, and the days not sent are sent by the next run. "
    "If it persists, check `posthog-host` and https://status.posthog.com."
)


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One settled day of one repo's views or clones, as PostHog receives it."""

    full_name: str  # the API's case: it is part of the uuid
    metric: Metric
    date: dt.date
    count: int
    uniques: int

    @property
    def uuid(self) -> str:
        return event_uuid(self.full_name, self.date, self.metric)

    @property
    def timestamp(self) -> dt.datetime:
        return dt.datetime.combine(self.date, dt.time(), tzinfo=dt.UTC)


def event_uuid(full_name: str, day: dt.date, metric: Metric) -> str:
    """github-posthog-sync's id: UUIDv5 of `<full_name>:<day>T00:00:00Z:<views|clones>`."""
    return str(uuid.uuid5(NAMESPACE, f"{full_name}:{day.isoformat()}T00:00:00Z:{metric.value}"))


def event_payload(event: Event) -> dict[str, object]:
    """The event as an item of a `/batch/` request."""
    event_id = event.uuid
    owner, _, name = event.full_name.partition("/")
    return {
        "event": EVENT_NAMES[event.metric],
        "uuid": event_id,
        "distinct_id": event_id,
        "timestamp": f"{event.date.isoformat()}T00:00:00Z",
        "properties": {
            "repo": event.full_name,
            "owner": owner,
            "name": name,
            "date": event.date.isoformat(),
            "count": event.count,
            "uniques": event.uniques,
            "source": SOURCE,
            "$process_person_profile": False,  # a day of traffic is not a person
            "$ignore_sent_at": True,  # the timestamp is the day, not "sent_at minus a delay"
            "$geoip_disable": True,  # the sender's IP says nothing about the traffic
        },
    }


def is_historical(events: Iterable[Event], *, now: dt.datetime) -> bool:
    """True when every event is more than 48 hours older than `now` (a historical import)."""
    return all(now - event.timestamp > HISTORICAL_AGE for event in events)


def _has_traffic(row: DailyRow) -> bool:
    return row.count > 0 or row.uniques > 0


def _event(repo: RepoInfo, metric: Metric, row: DailyRow) -> Event:
    return Event(repo.full_name, metric, row.date, row.count, row.uniques)


def _rows(history: History, metric: Metric) -> tuple[DailyRow, ...]:
    return history.views if metric is Metric.VIEWS else history.clones


# --- what to send -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """What one repo's views or clones have to send this run, and where its watermark may go."""

    key: SeriesKey
    sent_through: dt.date | None  # W as stored; None: nothing sent yet
    settled_through: dt.date  # every date up to here can no longer change
    events: tuple[Event, ...]  # the non-zero rows in (W, settled_through], oldest first


def settled_through(
    rows: Sequence[DailyRow],
    *,
    sent_through: dt.date | None,
    created: dt.date,
    today: dt.date,
) -> dt.date:
    """The end of the run of dates after W that can no longer change.

    GitHub never answers about a day before F-14 again, and no repo has traffic before it was
    created; inside the window only a `final` row is complete. The run stops at the first other
    date, so a left-edge day that is not final yet holds back the days after it until it settles.
    """
    through = today - dt.timedelta(days=WINDOW_DAYS + 1)  # F-15: every earlier date is settled
    if sent_through is not None:
        through = max(through, sent_through)
    by_date = {row.date: row for row in rows}
    while True:
        day = through + ONE_DAY
        row = by_date.get(day)
        if (row.final if row is not None else day < created) and day <= today:
            through = day
        else:
            return through


def plan_series(
    repo: RepoInfo,
    metric: Metric,
    rows: Sequence[DailyRow],
    *,
    sent_through: dt.date | None,
    today: dt.date,
) -> SeriesPlan:
    """The settled non-zero rows after W, up to where nothing can change any more."""
    through = settled_through(rows, sent_through=sent_through, created=repo.created, today=today)
    events = tuple(
        _event(repo, metric, row)
        for row in rows
        if (sent_through is None or row.date > sent_through)
        and row.date <= through
        and _has_traffic(row)
    )
    return SeriesPlan((repo.id, metric), sent_through, through, events)


def plan_events(
    histories: Iterable[tuple[RepoInfo, History]],
    watermarks: Mapping[SeriesKey, dt.date],
    *,
    today: dt.date,
) -> tuple[SeriesPlan, ...]:
    """One plan per repo and metric, in the order their events are sent."""
    return tuple(
        plan_series(
            repo,
            metric,
            _rows(history, metric),
            sent_through=watermarks.get((repo.id, metric)),
            today=today,
        )
        for repo, history in histories
        for metric in Metric
    )


def window_events(repo: RepoInfo, history: History) -> tuple[Event, ...]:
    """Without a data branch: the final non-zero days of the current window, every run."""
    return tuple(
        _event(repo, metric, row)
        for metric in Metric
        for row in _rows(history, metric)
        if row.final and _has_traffic(row)
    )


def advance(plans: Sequence[SeriesPlan], acknowledged: int) -> Watermarks:
    """The watermarks that moved, when the first `acknowledged` events of `plans` were acked.

    A series whose events were all acknowledged moves to its settled end (zero days need no
    event); one cut short moves to the day before its first unacknowledged event.
    """
    moved: Watermarks = {}
    remaining = acknowledged
    for plan in plans:
        done = min(remaining, len(plan.events))
        remaining -= done
        if done == len(plan.events):
            mark = plan.settled_through
        else:
            mark = plan.events[done].date - ONE_DAY
        if plan.sent_through is None or mark > plan.sent_through:
            moved[plan.key] = mark
    return moved


def merge_watermarks(*marks: Mapping[SeriesKey, dt.date]) -> Watermarks:
    """Union taking the later date: two runs' acknowledgements both hold."""
    merged: Watermarks = {}
    for mapping in marks:
        for key, day in mapping.items():
            merged[key] = max(day, merged.get(key, day))
    return merged


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """How far a send got: the first `acknowledged` events were answered with a 2xx."""

    acknowledged: int
    batches: int = 0
    error: PostHogError | None = None


class EventSender(Protocol):
    """Where events go: `PostHogSender` in production."""

    def send(self, events: Sequence[Event]) -> Delivery: ...


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sends_in_clear(host: str) -> bool:
    """Whether events to `host` (a checked http(s) URL) cross a network unencrypted: plain
    http to anything but this machine."""
    parts = urlsplit(host)
    if parts.scheme != "http":
        return False
    name = parts.hostname or ""
    if name == "localhost":
        return False
    try:
        return not ipaddress.ip_address(name).is_loopback
    except ValueError:
        return True


def clear_text_warning(host: str) -> ClearTextKeyWarning:
    return ClearTextKeyWarning(
        f"`posthog-host` {host} is plain http: the project key and the events cross the "
        "network unencrypted, readable by anyone on the way.",
        fix="Use the https address of your PostHog (PostHog Cloud: `https://us.i.posthog.com` "
        "or `https://eu.i.posthog.com`).",
    )


class PostHogSender:
    """`POST {host}/batch/` in order, batch after batch; stops at the first batch that fails.

    Stopping keeps what was acknowledged a prefix of the events, which is what `advance` needs.
    Network errors, 408, 429 and 5xx are retried (bounded, jittered, honouring Retry-After);
    413 splits the batch in two; 400 and 401 stop at once, and so does a redirect: the body
    carries the project key, so it goes to `host` and nowhere else.
    """

    def __init__(
        self,
        *,
        api_key: str,
        host: str = DEFAULT_HOST,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = _utc_now,
        batch_size: int = BATCH_SIZE,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        self._api_key = api_key
        self._url = f"{host.rstrip('/')}/batch/"
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._batch_size = batch_size
        self._attempts = attempts
        self._backoff = backoff
        self._max_wait = max_wait
        self._timeout = timeout

    def send(self, events: Sequence[Event]) -> Delivery:
        """Send every event in order; on a failure, report how many were acknowledged before it."""
        queue = deque(
            tuple(events[i : i + self._batch_size]) for i in range(0, len(events), self._batch_size)
        )
        acknowledged = batches = 0
        while queue:
            batch = queue.popleft()
            try:
                accepted = self._post(batch)
            except PostHogError as failure:
                return Delivery(acknowledged, batches, failure)
            if accepted:
                acknowledged += len(batch)
                batches += 1
            elif len(batch) > 1:  # 413: the same events in two smaller requests, in order
                half = len(batch) // 2
                queue.extendleft((batch[half:], batch[:half]))
            else:
                error = PostHogError(
                    f"PostHog refused a single event as too large (HTTP 413) at {self._url}.",
                    fix=RETRY_HELP,
                )
                return Delivery(acknowledged, batches, error)
        return Delivery(acknowledged, batches)

    def _post(self, batch: Sequence[Event]) -> bool:
        """True when PostHog acknowledged the batch, False when it is too large (413)."""
        problem = ""
        for attempt in range(1, self._attempts + 1):
            body = {
                "api_key": self._api_key,
                "batch": [event_payload(event) for event in batch],
                "historical_migration": is_historical(batch, now=self._clock()),
            }
            wait: float | None = None
            try:
                response = self._session.post(
                    self._url, json=body, timeout=self._timeout, allow_redirects=False
                )
            except requests.RequestException as error:
                problem = f"no answer ({type(error).__name__})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return True
                if status == 413:
                    return False
                if status not in (408, 429) and status < 500:
                    raise self._refused(response)
                problem = f"HTTP {status}"
                wait = self._retry_after(response)
            if attempt == self._attempts:
                break
            delay = self._delay(attempt) if wait is None else wait
            if delay > self._max_wait:
                raise PostHogError(
                    f"PostHog asked to wait {delay:.0f} s before the next batch ({problem}).",
                    fix=RETRY_HELP,
                )
            self._sleep(delay)
        raise PostHogError(
            f"PostHog did not take a batch of {len(batch)} events at {self._url} after "
            f"{self._attempts} attempts: {problem}.",
            fix=RETRY_HELP,
        )

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so runs that failed together do not retry together."""
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not crypto
        return float(self._backoff * 2 ** (attempt - 1) * jitter)

    def _retry_after(self, response: requests.Response) -> float | None:
        """`Retry-After` in seconds or as an HTTP date; None when absent or unreadable."""
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - self._clock()).total_seconds())

    def _refused(self, response: requests.Response) -> PostHogError:
        status = response.status_code
        if 300 <= status < 400:
            # the body holds the project key: never re-sent to where a server points
            where = " ".join(response.headers.get("Location", "").split())[:300]
            return PostHogError(
                f"PostHog answered HTTP {status} at {self._url}, a redirect"
                + (f" to {where}" if where else "")
                + "; the events were not sent on, so the project key stays where you put it.",
                fix="Set `posthog-host` to the ingestion host itself (like "
                "`https://us.i.posthog.com`), if the address it redirects to is yours to trust.",
            )
        said = " ".join(response.text.split())[:300]
        detail = f": {said}" if said else ""
        if status in (400, 401):
            return PostHogRejectedError(
                f"PostHog refused the events with HTTP {status} at {self._url}{detail}",
                fix=KEY_HELP,
            )
        return PostHogError(
            f"PostHog answered HTTP {status} at {self._url}{detail}",
            fix="Check `posthog-host`: it must be the ingestion host (like "
            "`https://us.i.posthog.com`), not the address of the PostHog app.",
        )
