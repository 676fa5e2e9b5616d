"""GitHub's GraphQL API: the moment each star and fork came, newest first, within a points budget.

REST lists stargazers with their dates only up to page 400 (40,000 stars); GraphQL cursors have
no such cap, so the history since a repo's creation comes from the `stargazers` and `forks`
connections, 100 a query:
https://docs.github.com/graphql/reference/objects#stargazerconnection
https://docs.github.com/graphql/reference/objects#repository (`forks`: direct forks)

Points. GraphQL has its own hourly budget per token (5,000 points for a user's token), apart
from REST's and from `max-requests`; each query of `first: 100` costs one point and reports
`rateLimit { cost remaining resetAt }`. A backfill of S stars takes ceil(S/100) queries. The
client keeps a reserve: it makes a query only while more than `reserve` points remain, and stops
cleanly, as it does when GitHub says the points are spent (HTTP 200 with a RATE_LIMITED error)
and the reset is further away than `RetryPolicy.max_wait`:
https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api

Newest first, and what "resume" means. A fetch walks a connection newest first. Given `since`
(the newest day already stored), it counts that day again in full, since it may have gained
more, and stops at the first item dated before it; without `since` it walks to the end. A fetch
that stops early (the points) returns the rows it counted and a `Position`: the cursor of the
last item it read, the oldest day it reached and how many items of that day it counted (the day
may go on past the cursor), and where that walk was to end. The next run first walks from the
top again, down to the newest stored day (that picks up what came meanwhile), then goes on from
each stored position. GitHub's cursors encode the sort key of the item they point at
(`cursor:v2:`, then its time and id), not an offset, so items added at the top do not move
them. Every row a fetch returns is at most the day's true count, and a day a walk finishes is
exact, so merging by max gives the right rows whatever order runs happen in.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from traffic_sync.core.errors import (
    AccessDeniedError,
    AuthError,
    RateLimitedError,
    RepoError,
    RepoNotFoundError,
    TrafficSyncError,
    TransientError,
)
from traffic_sync.core.growth import (
    PAGE_SIZE,
    GrowthRow,
    Position,
    Series,
    daily_growth,
    merge_growth,
)
from traffic_sync.core.models import DEFAULT_RESERVE, Points
from traffic_sync.github.deadline import deadline_session
from traffic_sync.github.pacer import Pacer, RetryPolicy

DOCS = "https://docs.github.com/graphql"

STARGAZERS_QUERY = """\
query Stargazers($owner: String!, $name: String!, $first: Int!, $cursor: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    stargazers(first: $first, after: $cursor, orderBy: {field: STARRED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { starredAt }
    }
  }
}
"""
FORKS_QUERY = """\
query Forks($owner: String!, $name: String!, $first: Int!, $cursor: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    forks(first: $first, after: $cursor, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { createdAt }
    }
  }
}
"""


# the first page of both lists, asked beside a repo's other facts (`github.describe`): GitHub
# counts a connection of a repository as one request whatever its `first`, so 50 repos' facts
# with both lists still cost one point, and a repo's first 100 stars and forks come with them
TOP_FIELDS = """\
    stargazers(first: 100, orderBy: {field: STARRED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { starredAt }
    }
    forks(first: 100, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { createdAt }
    }"""


@dataclass(frozen=True, slots=True)
class _Shape:
    """Where a series lives in its query's answer."""

    query: str
    connection: str  # the field under `repository`
    items: str  # `edges` or `nodes`
    stamp: str  # the item's time field


_SHAPES = {
    Series.STARS: _Shape(STARGAZERS_QUERY, "stargazers", "edges", "starredAt"),
    Series.FORKS: _Shape(FORKS_QUERY, "forks", "nodes", "createdAt"),
}

ACCESS_HELP = (
    "Stars and forks need read access to the repo. In an organization with SAML single sign-on "
    "the token must be authorized for it (the token's settings, 'Configure SSO'); a fine-grained "
    "token must include the repo."
)
BUG_HELP = (
    "GitHub refused traffic-sync's query: please report this message as a bug. The repo's "
    "other data is saved as usual."
)


class PointsSpentError(RateLimitedError):
    """The token's GraphQL points are spent for this hour, or down to the reserve."""

    title = "GraphQL points used up"


class GraphQLQueryError(RepoError):
    """GitHub answered a GraphQL query with an error that names no missing repo or access."""

    title = "Stars and forks failed"


def graphql_url(api_url: str, override: str = "") -> str:
    """Where GraphQL is, given the REST API's URL (`GITHUB_API_URL`).

    `override` is `GITHUB_GRAPHQL_URL` as the Actions runner sets it; it is taken only when it
    is on the REST API's host (anything else belongs to another server). Otherwise: GitHub
    Enterprise Server answers REST at `https://HOST/api/v3` and GraphQL at
    `https://HOST/api/graphql`; github.com and GHE.com answer both on `api.` hosts, GraphQL at
    `/graphql`.
    """
    api = api_url.rstrip("/")
    wanted = override.strip().rstrip("/")
    if wanted and urlsplit(wanted).netloc.lower() == urlsplit(api).netloc.lower():
        return wanted
    if api.endswith("/api/v3"):
        return api.removesuffix("/v3") + "/graphql"
    return api + "/graphql"


class GraphQLClient:
    """POSTs queries to GitHub's GraphQL API, paced, retried and within the points budget.

    Safe to share between threads (each thread gets its own connection); `pacer` is its own,
    not the REST one: GitHub's secondary limit counts GraphQL points per minute apart from
    REST's, and `max-requests` caps REST requests only. `clock` is the wall clock in epoch
    seconds (what `x-ratelimit-reset` and `resetAt` are in).
    """

    def __init__(
        self,
        *,
        token: str,
        url: str,
        policy: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        reserve: int = DEFAULT_RESERVE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self.url = url
        self._policy = policy or RetryPolicy()
        self.pacer = pacer or Pacer()
        self._reserve = reserve
        self._sleep = sleep
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._queries = 0
        self._used = 0
        self._remaining: int | None = None
        self._reset: float | None = None  # epoch seconds
        self._stopped = False

    @property
    def points(self) -> Points:
        with self._lock:
            reset = self._reset
            return Points(
                queries=self._queries,
                used=self._used,
                remaining=self._remaining,
                reset_at=None if reset is None else dt.datetime.fromtimestamp(reset, dt.UTC),
                reserve=self._reserve,
                stopped=self._stopped,
            )

    def query(self, document: str, variables: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        """The answer's `data`. Raises PointsSpentError (the reserve reached, or GitHub's limit
        lasting longer than the policy's `max_wait`), RateLimitedError (a secondary limit that
        long), TransientError once retries run out, or a RepoError that says what to fix."""
        data, errors = self.query_each(document, variables, what=what)
        if errors:
            raise self._errors_error(errors, what)
        return data

    def query_each(
        self, document: str, variables: Mapping[str, Any], *, what: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(`data`, the errors of single fields) for a query that asks about many things at
        once: an error with a `path` nulls only its field, so it is that field's to report.
        An error without a path still fails the whole query, as `query` says."""
        payload = {"query": document, "variables": dict(variables)}
        failure: TrafficSyncError = TransientError(f"{what}: GitHub's GraphQL API did not answer.")
        for attempt in range(self._policy.attempts + 1):
            self._check_reserve(what)
            self.pacer.acquire()
            try:
                response = self._session().post(
                    self.url, json=payload, headers=self._headers(), timeout=self._policy.timeout
                )
            except requests.RequestException as exc:
                failure = TransientError(
                    f"{what}: GitHub's GraphQL API did not answer after retries "
                    f"({type(exc).__name__})."
                )
                self._back_off(attempt)
                continue
            answer = _Answer.read(response)
            self._note_headers(answer)
            retry = self._retry_reason(answer, what, attempt)
            if retry is not None:
                failure = retry
                continue
            if answer.status != 200:
                raise self._status_error(answer, what)
            whole = [error for error in answer.errors if not error.get("path")]
            if whole:
                raise self._errors_error(whole, what)
            data = answer.body.get("data") if isinstance(answer.body, dict) else None
            if not isinstance(data, dict):
                if answer.errors:
                    raise self._errors_error(answer.errors, what)
                raise GraphQLQueryError(f"{what}: GitHub's answer has no data.", fix=BUG_HELP)
            self._note_cost(data.get("rateLimit"))
            return data, [error for error in answer.errors if error.get("path")]
        raise failure

    def field_error(self, errors: Sequence[Mapping[str, Any]], what: str) -> RepoError:
        """The RepoError for one field's GraphQL errors (by their `type`, then message)."""
        return self._errors_error(errors, what)

    def close(self) -> None:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is not None:
            session.close()

    # one answer

    def _retry_reason(self, answer: _Answer, what: str, attempt: int) -> TrafficSyncError | None:
        """Why this answer is worth another try (after waiting here), or None: a rate limit, a
        5xx, or GitHub's "Something went wrong" (a query that timed out on its side)."""
        limit = _rate_limit(answer)
        if limit == "primary":
            wait = self._until_reset(answer)
            if wait > self._policy.max_wait:
                with self._lock:
                    self._stopped = True
                    self._remaining = 0
                raise PointsSpentError(
                    f"{what}: GitHub's GraphQL points are spent until "
                    f"{_clock_time(self._clock() + wait)} UTC.",
                    fix="What was fetched is kept; the next run goes on from there.",
                    wait_seconds=wait,
                )
            with self._lock:
                self._remaining = None  # back by the time the pacer lets the retry go
            self.pacer.slow_down(wait, halve_rate=False)
            return RateLimitedError(f"{what}: GitHub's GraphQL points are spent.")
        if limit == "secondary":
            wait = answer.retry_after or max(self._policy.secondary_wait, self._backoff(attempt))
            if wait > self._policy.max_wait:
                raise RateLimitedError(
                    f"{what}: GitHub asks to wait {wait:.0f} s before the next GraphQL query "
                    "(secondary rate limit).",
                    fix="What was fetched is kept; the next run goes on from there.",
                    wait_seconds=wait,
                )
            self.pacer.slow_down(wait, halve_rate=True)
            return RateLimitedError(f"{what}: secondary rate limit.")
        if answer.status >= 500 or answer.went_wrong:
            self._back_off(attempt)
            message = self._redact(answer.message)
            return TransientError(
                f"{what}: GitHub's GraphQL API answered {answer.status} {message}".strip() + "."
            )
        return None

    def _status_error(self, answer: _Answer, what: str) -> RepoError:
        message = self._redact(answer.message)
        if answer.status == 401:
            return AuthError(
                f"{what}: GitHub rejected the token (401 {message or 'Bad credentials'}).",
                fix="The token is wrong, expired or revoked: make a new one and update the secret.",
            )
        if answer.status == 404:
            return GraphQLQueryError(
                f"{what}: no GraphQL API at {self.url} (404).",
                fix="On GitHub Enterprise Server it is https://HOST/api/graphql, found from "
                "GITHUB_API_URL (https://HOST/api/v3); set GITHUB_GRAPHQL_URL if it is elsewhere.",
            )
        if answer.status == 403:
            return AccessDeniedError(f"{what}: {message or 'forbidden'} (403).", fix=ACCESS_HELP)
        return GraphQLQueryError(
            f"{what}: GitHub's GraphQL API answered {answer.status} {message}".strip() + ".",
            fix=BUG_HELP,
        )

    def _errors_error(self, errors: Sequence[Mapping[str, Any]], what: str) -> RepoError:
        """GraphQL errors (HTTP 200) by their `type`, then their message."""
        kinds = {str(error.get("type", "")) for error in errors}
        text = self._redact("; ".join(str(error.get("message", "")) for error in errors))
        if "NOT_FOUND" in kinds:
            return RepoNotFoundError(
                f"{what}: not found ({text}).",
                fix="Check the spelling. For a private repo the token must have access to it.",
            )
        if "FORBIDDEN" in kinds:
            return AccessDeniedError(f"{what}: {text} (FORBIDDEN).", fix=ACCESS_HELP)
        return GraphQLQueryError(f"{what}: {text or 'an error without a message'}.", fix=BUG_HELP)

    # the budget

    def _check_reserve(self, what: str) -> None:
        """Refuse a query once no more than `reserve` points are left this hour."""
        with self._lock:
            if self._reset is not None and self._clock() >= self._reset:
                self._remaining = None  # a new hour: the points came back
                self._reset = None
            if self._remaining is None or self._remaining > self._reserve:
                return
            self._stopped = True
            wait = max(0.0, (self._reset or self._clock()) - self._clock())
            remaining = self._remaining
        raise PointsSpentError(
            f"{what}: {remaining:,} GraphQL points left this hour; {self._reserve:,} are kept "
            "in reserve.",
            fix="What was fetched is kept; the next run goes on from there.",
            wait_seconds=wait,
        )

    def _note_headers(self, answer: _Answer) -> None:
        if answer.headers.get("x-ratelimit-resource", "graphql") != "graphql":
            return  # another budget's headers (a proxy, or a REST answer): not ours
        remaining = answer.header_int("x-ratelimit-remaining")
        reset = answer.header_int("x-ratelimit-reset")
        with self._lock:
            if remaining is not None:
                self._remaining = remaining
            if reset is not None:
                self._reset = float(reset)

    def _note_cost(self, rate: Any) -> None:
        """One answered query: its `rateLimit { cost remaining resetAt }`."""
        with self._lock:
            self._queries += 1
            if not isinstance(rate, dict):
                self._used += 1
                return
            self._used += _int(rate.get("cost"), 1)
            remaining = rate.get("remaining")
            if isinstance(remaining, int):
                self._remaining = remaining
            reset = _parse_time(rate.get("resetAt"))
            if reset is not None:
                self._reset = reset.timestamp()

    def _until_reset(self, answer: _Answer) -> float:
        """Seconds until the points come back (plus one: which part of that second is unknown)."""
        reset = answer.header_int("x-ratelimit-reset")
        with self._lock:
            at = float(reset) if reset is not None else self._reset
        if at is None:
            return max(self._policy.secondary_wait, 60.0)
        return max(0.0, at - self._clock()) + 1

    # plumbing

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = deadline_session()
        return session

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "User-Agent": "traffic-sync",
        }

    def _backoff(self, attempt: int) -> float:
        base = self._policy.backoff * 2.0**attempt
        return base + random.uniform(0, self._policy.backoff / 2)  # noqa: S311 - jitter

    def _back_off(self, attempt: int) -> None:
        if attempt < self._policy.attempts:
            self._sleep(self._backoff(attempt))

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


@dataclass(frozen=True, slots=True)
class _Answer:
    """One HTTP answer of the GraphQL endpoint, read once."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @classmethod
    def read(cls, response: requests.Response) -> _Answer:
        try:
            body = response.json()
        except ValueError:
            body = None
        return cls(response.status_code, response.headers, body)

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        if not isinstance(errors, list):
            return []
        return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]

    @property
    def message(self) -> str:
        """The REST-style `message`, or the GraphQL errors' messages."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return str(self.body["message"])
        return "; ".join(str(e.get("message", "")) for e in self.errors)

    @property
    def went_wrong(self) -> bool:
        """GitHub's answer to a query that failed on its side, often a timeout."""
        return "something went wrong while executing your query" in self.message.lower()

    @property
    def retry_after(self) -> float | None:
        value = self.header_int("retry-after")
        return None if value is None else float(value)

    def header_int(self, name: str) -> int | None:
        value = str(self.headers.get(name) or "").strip()
        return int(value) if value.isdigit() else None


def _rate_limit(answer: _Answer) -> str | None:
    """ "primary" (the hour's points spent), "secondary" (too much too fast), or None.

    GitHub answers a spent budget with HTTP 200 (or 403/429), a RATE_LIMITED error and
    `x-ratelimit-remaining: 0`; a secondary limit with 200 or 403 (or 429) and a message that
    says so, sometimes with `retry-after`.
    https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api#exceeding-the-rate-limit
    """
    message = answer.message.lower()
    limited = any(e.get("type") == "RATE_LIMITED" for e in answer.errors) or "rate limit" in message
    if answer.status == 429:
        limited = True
    if answer.status == 403 and answer.retry_after is not None:
        limited = True
    if not limited:
        return None
    if "secondary" in message or answer.retry_after is not None:
        return "secondary"
    if answer.headers.get("x-ratelimit-remaining") == "0" or "api rate limit" in message:
        return "primary"
    return "secondary"


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def _clock_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M")


# --- fetching a history -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrowthFetch:
    """What one fetch of a repo's stars (or forks) learned."""

    series: Series
    rows: tuple[GrowthRow, ...] = ()  # exact for the days walked through, at most it otherwise
    pending: tuple[Position, ...] = ()  # where the next run goes on, newest first
    count: int | None = None  # GitHub's `totalCount` (net) at the first answer; None: no answer
    queries: int = 0
    points: int = 0  # what those queries cost
    stopped: bool = False  # the points (reserve or GitHub's limit) ended it early
    requests: int = 0  # REST requests, when the rows came from the star history endpoint

    @property
    def complete(self) -> bool:
        """Every walk reached its end: the stored rows are whole through today."""
        return not self.stopped and not self.pending


@dataclass(slots=True)
class _Walk:
    """One walk down a connection, newest first, and what it counted."""

    start: Position | None
    stop: dt.date | None
    stamps: list[dt.datetime] = field(default_factory=list)
    cursor: str | None = None
    count: int | None = None
    queries: int = 0
    points: int = 0
    done: bool = False

    def position(self) -> Position | None:
        """Where to go on, or None when there is nothing to go on from (done, or not begun)."""
        if self.done:
            return None
        if not self.stamps or self.cursor is None:
            return self.start  # not begun, or no item read: the same place as before
        reached = _day(self.stamps[-1])  # newest first: the last item is the oldest
        seen = sum(1 for s in self.stamps if _day(s) == reached)
        if self.start is not None and self.start.reached == reached:
            seen += self.start.seen
        return Position(self.cursor, reached, seen, self.stop)

    def rows(self) -> tuple[GrowthRow, ...]:
        carried = {self.start.reached: self.start.seen} if self.start is not None else None
        return daily_growth(self.stamps, carried=carried)


def fetch_growth(
    client: GraphQLClient,
    full_name: str,
    series: Series,
    *,
    since: dt.date | None,
    pending: Sequence[Position] = (),
    top: Page | None = None,
) -> GrowthFetch:
    """Walk a repo's stars (or forks) newest first: from the top down to `since` (the newest
    stored day, counted again in full; None: down to the repo's first star), then on from each
    `pending` position. `top` is the list's first page when a query already brought it (the
    one that describes the repos), so the walk from the top starts without a query. Stops
    cleanly when the points run short, with the positions to go on from; other failures raise
    (RepoNotFoundError, AccessDeniedError, GraphQLQueryError, TransientError, AuthError)."""
    owner, name = full_name.split("/", 1)
    # without `since` the walk from the top covers every stored position too
    walks = [_Walk(None, since), *(_Walk(p, p.stop) for p in pending if since is not None)]
    stopped = False
    for walk in walks:
        if stopped:
            break
        try:
            first = top if walk.start is None else None
            what = f"{full_name} {series}"
            _walk(client, walk, owner=owner, name=name, series=series, what=what, first=first)
        except RateLimitedError:
            stopped = True
    positions = (walk.position() for walk in walks)
    return GrowthFetch(
        series=series,
        rows=merge_growth(*(walk.rows() for walk in walks)),
        pending=tuple(p for p in positions if p is not None),
        count=next((w.count for w in walks if w.count is not None), None),
        queries=sum(w.queries for w in walks),
        points=sum(w.points for w in walks),
        stopped=stopped,
    )


def _walk(
    client: GraphQLClient,
    walk: _Walk,
    *,
    owner: str,
    name: str,
    series: Series,
    what: str,
    first: Page | None = None,
) -> None:
    """Page down until an item older than `walk.stop`, or the end, starting with `first` when
    it is given (no query for it); RateLimitedError ends it early with what it read so far
    kept in `walk`."""
    shape = _SHAPES[series]
    walk.cursor = walk.start.cursor if walk.start is not None else None
    while True:
        if first is not None:
            page, first = first, None
        else:
            variables = {"owner": owner, "name": name, "first": PAGE_SIZE, "cursor": walk.cursor}
            data = client.query(shape.query, variables, what=what)
            page = _page(data, shape, what)
            walk.queries += 1
            walk.points += _int(_dig(data, "rateLimit", "cost"), 1)
        if walk.count is None:
            walk.count = page.total
        for stamp in page.stamps:
            if walk.stop is not None and _day(stamp) < walk.stop:
                walk.done = True
                return
            walk.stamps.append(stamp)
        if not page.has_next or page.end_cursor is None:
            walk.done = True
            return
        walk.cursor = page.end_cursor


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a stars (or forks) list, newest first."""

    total: int
    stamps: tuple[dt.datetime, ...]  # newest first
    has_next: bool
    end_cursor: str | None


def _page(data: Mapping[str, Any], shape: _Shape, what: str) -> Page:
    connection = _dig(data, "repository", shape.connection)
    try:
        items = connection[shape.items] or []
        stamps = tuple(_parse_item(item[shape.stamp]) for item in items if item is not None)
        info = connection["pageInfo"]
        cursor = info["endCursor"]
        return Page(
            total=int(connection["totalCount"]),
            stamps=stamps,
            has_next=bool(info["hasNextPage"]),
            end_cursor=cursor if isinstance(cursor, str) else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GraphQLQueryError(
            f"{what}: GitHub's answer is not shaped as asked ({type(exc).__name__}: {exc}).",
            fix=BUG_HELP,
        ) from None


def top_page(repository: Mapping[str, Any], series: Series, what: str) -> Page:
    """The first page of a series' list inside a `repository` answer that asked for it as
    `TOP_FIELDS` does; GraphQLQueryError when it is not shaped as asked."""
    return _page({"repository": repository}, _SHAPES[series], what)


def _parse_item(value: Any) -> dt.datetime:
    stamp = _parse_time(value)
    if stamp is None:
        raise ValueError(f"not a time: {value!r}")
    return stamp


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _day(stamp: dt.datetime) -> dt.date:
    return stamp.astimezone(dt.UTC).date()
