"""A simulated GitHub REST API on 127.0.0.1, for `traffic-sync demo` and the test suite.

It answers over real HTTP with GitHub's own JSON shapes (the examples of GitHub's OpenAPI
description, kept in `simdata/`) and GitHub's traffic-window behaviour, driven by a deterministic
"true traffic" model, so PyGithub and everything above it run unchanged:
https://docs.github.com/rest/metrics/traffic

- A fetch on UTC day F answers buckets F-14 .. F: F is partial (the hours so far), F-14 is
  truncated (the hours still inside the window), F-1 is missing before 12:00 UTC (not published
  yet), days without traffic and days before the repo existed are left out.
- The window's top-level `uniques` counts visitors once across the 14 days: never a sum.
- Tokens are treated as GitHub treats them (see `grant`), and `fail` injects any answer.
- The one write it serves is re-enabling a workflow (`add_workflow`, `workflow_state`).
- `POST /graphql` (and GitHub Enterprise Server's `/api/graphql`) serves a repo's `stargazers`
  and `forks` from a deterministic timeline of when each came (`growth_timeline`; `star`,
  `unstar` and `fork` change it), with GitHub's cursors, `pageInfo`, errors, and `rateLimit`
  points per token. Every query is first checked by `graphql_validator` when one is given (the
  test suite's checks it against GitHub's published schema; see `simgraphql`).

Stdlib only; nothing runs at import time.
"""

from __future__ import annotations

import base64
import bisect
import copy
import datetime as dt
import functools
import json
import math
import random
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from traffic_sync.demo.simgraphql import (
    FieldError,
    Item,
    QuerySyntaxError,
    Validator,
    connection_page,
    execute,
    iso,
    read_query,
)

Metric = Literal["views", "clones"]
Growth = Literal["stars", "forks"]
TokenKind = Literal["pat", "no-push", "github-token", "bad"]
# https://docs.github.com/rest/actions/workflows#get-a-workflow (`state`)
WorkflowState = Literal[
    "active", "deleted", "disabled_fork", "disabled_inactivity", "disabled_manually"
]
Json = Any  # decoded JSON: dicts, lists, strings, numbers

RATE_LIMIT = 5000
GRAPHQL_POINTS = 5000  # GraphQL points an hour per token, apart from REST's requests
GRAPHQL_PATHS = ("/graphql", "/api/graphql")  # github.com; GitHub Enterprise Server
GRAPHQL_DOCS = "https://docs.github.com/graphql"
PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100
PUBLISH_HOUR = 12  # yesterday's bucket shows up around midday UTC
DOCS = "https://docs.github.com/rest"
TRAFFIC_DOCS = f"{DOCS}/metrics/traffic"
ENABLE_DOCS = f"{DOCS}/actions/workflows#enable-a-workflow"
RATE_DOCS = f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api"
# Weekday shape of human traffic (Mon..Sun), normalised so the mean stays daily_views.
_WEEKLY = (1.05, 1.15, 1.15, 1.1, 0.95, 0.55, 0.5)
_WEEKLY_MEAN = sum(_WEEKLY) / len(_WEEKLY)

_REFERRERS = (
    "Google",
    "github.com",
    "news.ycombinator.com",
    "stackoverflow.com",
    "reddit.com",
    "Bing",
    "DuckDuckGo",
    "dev.to",
    "pypi.org",
    "t.co",
    "lobste.rs",
    "medium.com",
    "linkedin.com",
)
_HOSTILE_TITLE = (
    "Crash | <script>alert(1)</script> [x](http://evil)\n::error::pwned %0A"
    " · Issue #7 · {full} · GitHub"
)


@dataclass(frozen=True, slots=True)
class SimRepo:
    """One repository of the simulated GitHub and the parameters of its true traffic."""

    full_name: str  # canonical case, e.g. "Octo-Org/Hello-World"
    id: int
    created: dt.date
    private: bool = False
    fork: bool = False
    archived: bool = False
    stars: int = 10
    forks: int = 2
    watchers: int = 3
    open_issues: int = 1
    daily_views: int = 40  # mean true views/day; 0 = a repo with no traffic at all
    daily_clones: int = 4
    zero_weekdays: frozenset[int] = frozenset()  # weekdays (0=Mon) without any traffic
    seed: int = 0  # odd seeds add a hostile page title to the popular paths
    # the day `stars` and `forks` were counted: each was given between `created` and the day
    # before (see `growth_timeline`); None: the day the simulator starts
    counted_on: dt.date | None = None
    releases: int = 0  # releases published a month apart from `created` on (`release_assets`)
    # whether the token's account may push (traffic needs it); False: a collaborator with read
    # access alone, whose traffic calls are 403 and whose GraphQL `viewerPermission` is READ
    push: bool = True

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the simulator received it (the path without its query string)."""

    method: str
    path: str
    query: dict[str, str]
    body: Json = None  # a POST's JSON body (a GraphQL query and its variables)


@dataclass(slots=True)
class _Failure:
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    message: str
    delay: float
    body: bytes | None = None  # None: GitHub's own answer (its error shape from 400 on)
    rate: float = 0.0  # bytes a second the body is sent at; 0: all at once
    cut: int | None = None  # send only this many bytes of the body, then drop the connection


@dataclass(slots=True)
class _GraphQLFailure:
    kind: str  # GitHub's error `type`, "" for none
    message: str
    times: int
    after: int  # queries still answered as usual first


_REPO_PATH = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


_Route = tuple[re.Pattern[str], Callable[..., _Answer]]


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: dict[str, str]
    payload: bytes
    delay: float  # seconds to wait before answering: a slow GitHub
    rate: float = 0.0  # bytes a second the body trickles at; 0: all at once
    cut: int | None = None  # bytes of the body sent before the connection drops; None: all


# --- the true traffic model (pure) -------------------------------------------------------------


def daily_truth(repo: SimRepo, metric: Metric, day: dt.date) -> tuple[int, int]:
    """(count, uniques) of one whole UTC day: deterministic from (seed, name, metric, day)."""
    mean = repo.daily_views if metric == "views" else repo.daily_clones
    if mean <= 0 or day < repo.created or day.weekday() in repo.zero_weekdays:
        return 0, 0
    rng = _rng(repo, metric, day.isoformat())
    count = round(mean * _WEEKLY[day.weekday()] / _WEEKLY_MEAN * rng.uniform(0.55, 1.45))
    if count <= 0:
        return 0, 0
    share = rng.uniform(0.25, 0.55) if metric == "views" else rng.uniform(0.4, 0.9)
    return count, min(count, max(1, round(count * share)))


def traffic_window(repo: SimRepo, metric: Metric, now: dt.datetime, per: str = "day") -> Json:
    """The answer of `GET /repos/{o}/{r}/traffic/{metric}` at `now` (UTC)."""
    buckets = _day_buckets(repo, metric, now)
    if per == "week":
        buckets = _week_buckets(buckets)
    return {
        "count": sum(b[1] for b in buckets),
        "uniques": _window_uniques([b[2] for b in buckets]),
        metric: [
            {"timestamp": f"{day.isoformat()}T00:00:00Z", "count": count, "uniques": uniques}
            for day, count, uniques in buckets
        ],
    }


def _day_buckets(repo: SimRepo, metric: Metric, now: dt.datetime) -> list[tuple[dt.date, int, int]]:
    today, hour = now.date(), now.hour
    buckets = []
    for back in range(14, -1, -1):
        if back == 1 and hour < PUBLISH_HOUR:
            continue
        day = today - dt.timedelta(days=back)
        count, uniques = daily_truth(repo, metric, day)
        if back == 0:
            count, uniques = _scale(count, uniques, hour)
        elif back == 14:
            count, uniques = _scale(count, uniques, 24 - hour)
        if count > 0:
            buckets.append((day, count, uniques))
    return buckets


def _scale(count: int, uniques: int, hours: int) -> tuple[int, int]:
    """The part of a day inside the window: `hours` of its 24."""
    part = count * hours // 24
    return part, min(part, max(1 if part else 0, uniques * hours // 24))


def _window_uniques(daily: Sequence[int]) -> int:
    """Visitors across several days: at least the busiest day's, less than the sum (returners)."""
    if not daily:
        return 0
    busiest = max(daily)
    return busiest + (sum(daily) - busiest) * 3 // 5


def _week_buckets(days: Sequence[tuple[dt.date, int, int]]) -> list[tuple[dt.date, int, int]]:
    weeks: dict[dt.date, list[tuple[int, int]]] = {}
    for day, count, uniques in days:
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append((count, uniques))
    return [
        (monday, sum(c for c, _ in rows), _window_uniques([u for _, u in rows]))
        for monday, rows in sorted(weeks.items())
    ]


def popular_referrers(repo: SimRepo, fetched_on: dt.date) -> Json:
    """Top 10 referrers over the 14 days before `fetched_on`; [] for a repo without views."""
    total = _complete_window_views(repo, fetched_on)
    rng = _rng(repo, "referrers", fetched_on.isoformat())
    names = rng.sample(_REFERRERS, rng.randint(3, 10))
    return _top(rng, total, [{"referrer": name} for name in names])


def popular_paths(repo: SimRepo, fetched_on: dt.date) -> Json:
    """Top 10 content paths over the 14 days before `fetched_on`; [] for a repo without views."""
    total = _complete_window_views(repo, fetched_on)
    rng = _rng(repo, "paths", fetched_on.isoformat())
    pool = _path_pool(repo)
    picked = [pool[0], *rng.sample(pool[1:], rng.randint(2, 8))]  # the repo's front page first
    if repo.seed % 2:
        title = _HOSTILE_TITLE.format(full=repo.full_name)
        picked.append({"path": f"/{repo.full_name}/issues/7", "title": title})
    return _top(rng, total, picked, keep=repo.seed % 2 == 1)


def _path_pool(repo: SimRepo) -> list[dict[str, str]]:
    full, name = repo.full_name, repo.name
    page = f"· {full} · GitHub"
    return [
        {"path": f"/{full}", "title": f"GitHub - {full}: {_description(repo)}"},
        {"path": f"/{full}/blob/main/README.md", "title": f"{name}/README.md at main {page}"},
        {"path": f"/{full}/issues", "title": f"Issues {page}"},
        {"path": f"/{full}/pulls", "title": f"Pull requests {page}"},
        {"path": f"/{full}/releases", "title": f"Releases {page}"},
        {"path": f"/{full}/actions", "title": f"Workflow runs {page}"},
        {"path": f"/{full}/tree/main/docs", "title": f"{name}/docs at main {page}"},
        {"path": f"/{full}/blob/main/docs/usage.md", "title": f"{name}/usage.md at main {page}"},
        {"path": f"/{full}/blob/main/LICENSE", "title": f"{name}/LICENSE at main {page}"},
        {"path": f"/{full}/stargazers", "title": f"Stargazers {page}"},
        {"path": f"/{full}/wiki", "title": f"Home · {full} Wiki · GitHub"},
    ]


def _top(
    rng: random.Random, total: int, items: list[dict[str, str]], *, keep: bool = False
) -> Json:
    """Share `total` views out over `items` (first ones biggest), drop zeros, top 10 by count.

    `keep` keeps the last item with at least one view, so a hostile title is always there.
    """
    if total <= 0:
        return []
    weights = sorted((rng.uniform(0.05, 1.0) for _ in items), reverse=True)
    share = rng.uniform(0.4, 0.9) * total / sum(weights)
    rows: list[dict[str, Any]] = []
    for index, (item, weight) in enumerate(zip(items, weights, strict=True)):
        count = int(weight * share)
        if keep and index == len(items) - 1:
            count = max(count, 1)
        if count > 0:
            uniques = min(count, max(1, round(count * rng.uniform(0.3, 0.8))))
            rows.append({**item, "count": count, "uniques": uniques})
    rows.sort(key=lambda row: -row["count"])
    return rows[:10]


def _complete_window_views(repo: SimRepo, fetched_on: dt.date) -> int:
    """Views of the 14 whole days before `fetched_on`: the same all day long."""
    return sum(
        daily_truth(repo, "views", fetched_on - dt.timedelta(days=back))[0] for back in range(1, 15)
    )


def _rng(repo: SimRepo, *parts: str) -> random.Random:
    # str seeds are hashed with SHA-512, so the stream is the same in every process.
    return random.Random("|".join([str(repo.seed), repo.full_name, *parts]))  # noqa: S311 - fake traffic


def _description(repo: SimRepo) -> str:
    return f"{repo.name}, a simulated repository"


@functools.lru_cache(maxsize=256)
def growth_timeline(repo: SimRepo, series: Growth, until: dt.date) -> tuple[dt.datetime, ...]:
    """When each of the repo's `stars` (or `forks`) was given, oldest first: deterministic from
    (seed, name), spread over the UTC days from `created` to the day before `until`, busiest in
    the weeks after the launch, with quiet days in a small repo. 45,000 stars take a tenth of a
    second, once."""
    total = repo.stars if series == "stars" else repo.forks
    days = max(1, (until - repo.created).days)
    rng = _rng(repo, series, "timeline")
    weights = [(0.3 + 4 * math.exp(-day / 30)) * rng.uniform(0.1, 1.9) for day in range(days)]
    stamps: list[dt.datetime] = []
    for day, count in enumerate(_apportion(total, weights)):
        midnight = dt.datetime.combine(repo.created + dt.timedelta(days=day), dt.time(), dt.UTC)
        seconds = sorted(rng.randrange(86_400) for _ in range(count))
        stamps.extend(midnight + dt.timedelta(seconds=second) for second in seconds)
    return tuple(stamps)


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """`total` shared out in proportion to `weights`, largest remainders first: sums to total."""
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def release_assets(repo: SimRepo, day: dt.date) -> dict[tuple[str, str], int]:
    """The download counts of the repo's own releases' assets on `day`, by (tag, asset):
    release k is published `30 * (k + 1)` days after `created` (those not published yet are
    not listed), with two assets each whose downloads grow every day, deterministically."""
    assets: dict[tuple[str, str], int] = {}
    for number in range(repo.releases):
        published = repo.created + dt.timedelta(days=30 * (number + 1))
        if published > day:
            break
        tag = f"v1.{number}.0"
        rng = _rng(repo, "release", tag)
        days = (day - published).days
        for asset, share in ((f"{repo.name}-{tag}.tar.gz", 1.0), ("checksums.txt", 0.1)):
            rate = rng.uniform(1, 6) * share
            assets[(tag, asset)] = int(days * rate + rng.randrange(3))
    return assets


# --- the demo world ------------------------------------------------------------------------------


def demo_world(today: dt.date) -> list[SimRepo]:
    """Fictional repos for `traffic-sync demo`: the first owner (sorted) is the token's user."""
    return [
        SimRepo(
            "acme-labs/rocket-sdk",
            1001,
            dt.date(2023, 3, 14),
            stars=1240,
            forks=87,
            watchers=41,
            open_issues=23,
            daily_views=220,
            daily_clones=18,
            seed=2,
            releases=4,
        ),
        SimRepo(
            "acme-labs/lint-kit",
            1002,
            dt.date(2024, 9, 2),
            stars=37,
            forks=4,
            watchers=5,
            open_issues=2,
            daily_views=14,
            daily_clones=2,
            zero_weekdays=frozenset({5, 6}),
            seed=4,
        ),
        SimRepo(
            "acme-labs/launch-plans",
            1003,
            dt.date(2024, 1, 8),
            private=True,
            stars=0,
            forks=0,
            watchers=3,
            open_issues=5,
            daily_views=9,
            daily_clones=1,
            seed=6,
        ),
        SimRepo(
            "nova-tools/orbit-cli",
            1004,
            today - dt.timedelta(days=4),
            stars=6,
            forks=0,
            watchers=2,
            open_issues=0,
            daily_views=35,
            daily_clones=5,
            seed=8,
        ),
        SimRepo(
            "nova-tools/legacy-uploader",
            1005,
            dt.date(2019, 5, 20),
            archived=True,
            stars=58,
            forks=12,
            watchers=4,
            open_issues=9,
            daily_views=3,
            daily_clones=0,
            seed=10,
        ),
    ]


# --- JSON shapes, from GitHub's OpenAPI examples ------------------------------------------------


@cache
def _template(name: str) -> Json:
    text = (
        resources.files("traffic_sync.demo").joinpath("simdata", f"{name}.json").read_text("utf-8")
    )
    return json.loads(text)


def _rewrite(value: Json, mapping: Mapping[str, str]) -> Json:
    """Every string of `value` with the example's names and host replaced, in one pass."""
    pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))

    def walk(node: Json) -> Json:
        if isinstance(node, str):
            return pattern.sub(lambda m: mapping[m.group(0)], node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        return node

    return walk(value)


def _example_names(api: str, full_name: str) -> dict[str, str]:
    owner = full_name.split("/", 1)[0]
    return {
        "https://api.github.com/repos/octocat/Hello-World": f"{api}/repos/{full_name}",
        "https://api.github.com/users/octocat": f"{api}/users/{owner}",
        "https://github.com/octocat/Hello-World": f"https://github.com/{full_name}",
        "https://github.com/octocat": f"https://github.com/{owner}",
        "https://api.github.com": api,
        "octocat/Hello-World": full_name,
    }


def _account_id(login: str) -> int:
    return 100_000 + zlib.crc32(login.lower().encode()) % 90_000_000


def _node_id(prefix: str, number: int) -> str:
    return base64.b64encode(f"{prefix}{number}".encode()).decode()


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T10:00:00Z"


# --- the server ---------------------------------------------------------------------------------


class SimulatedGitHub:
    """A fake api.github.com on 127.0.0.1: `with SimulatedGitHub(repos, now=...) as sim: sim.url`.

    `now` is the simulated clock (UTC) and may be changed between requests; `requests` logs
    every request received, `GET /rate_limit` included.
    """

    def __init__(
        self,
        repos: Sequence[SimRepo],
        *,
        now: dt.datetime,
        token: str = "ghp_simulated",  # noqa: S107 - the simulator's own fake token
        viewer: str = "octocat",
        orgs: Collection[str] = (),
        users: Collection[str] = (),
        latency: float = 0.0,
        rate_limit: int = RATE_LIMIT,
        graphql_points: int = GRAPHQL_POINTS,
        graphql_validator: Validator | None = None,
    ) -> None:
        self.now = now
        self.latency = latency  # seconds every answer takes: a real network
        self.rate_limit = rate_limit  # requests an hour; enforced like GitHub's primary limit
        self.graphql_points = graphql_points  # GraphQL points an hour, per token
        self.graphql_validator = graphql_validator  # None: queries are not checked
        self.url = ""
        self.requests: list[Request] = []
        self._repos = {repo.full_name.lower(): repo for repo in repos}
        logins = {repo.owner.lower(): repo.owner for repo in repos}
        self.viewer = logins.get(viewer.lower(), viewer)  # the token's own login
        self._orgs = {org.lower(): logins.get(org.lower(), org) for org in orgs}
        self._users = {u.lower(): logins.get(u.lower(), u) for u in [*users, viewer, *logins]}
        self._users = {k: v for k, v in self._users.items() if k not in self._orgs}
        self._tokens: dict[str, TokenKind] = {token: "pat"}
        self._actions_writers = {token}  # tokens that may manage workflows (actions: write)
        self._workflows: dict[str, dict[str, WorkflowState]] = {}  # lower full name -> file
        self._failures: list[_Failure] = []
        self._served = 0
        self._moved: dict[str, int] = {}  # old lower-case full name -> repo id
        self._counted_on = self.now.date()  # SimRepo.counted_on's default
        self._timelines: dict[tuple[int, Growth], list[Item]] = {}  # (repo id, series)
        self._serials = 10**9  # the next star's or fork's serial (the base ones are 0..n-1)
        self._points: dict[str, tuple[float, int]] = {}  # token -> (reset epoch, points used)
        self._graphql_failures: list[_GraphQLFailure] = []
        # release assets changed by `upload_asset`, `download` and `delete_asset`, by repo id:
        # downloads added to an asset of `release_assets`, those deleted, and those uploaded
        self._downloads: dict[int, dict[tuple[str, str], int]] = {}
        self._deleted_assets: dict[int, set[tuple[str, str]]] = {}
        self._uploaded: dict[int, dict[tuple[str, str], int]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def now(self) -> dt.datetime:
        return self._now

    @now.setter
    def now(self, value: dt.datetime) -> None:
        # a naive clock is read as UTC; traffic buckets are UTC days
        aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
        self._now = aware.astimezone(dt.UTC)

    def clock(self) -> float:
        """The simulated now in epoch seconds: the clock a client of this server reads, so both
        sides agree on when a rate limit resets whatever the machine's time."""
        return self._now.timestamp()

    # lifecycle

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a daemon thread; returns the base URL."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.respond = self._respond
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # controls

    def true_traffic(self, full_name: str, metric: Metric, day: dt.date) -> tuple[int, int]:
        """(count, uniques) of the whole UTC day: what the final, merged history must hold."""
        return daily_truth(self._repos[full_name.lower()], metric, day)

    def fail(
        self,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        message: str = "",
        delay: float = 0.0,
        body: bytes | None = None,
        rate: float = 0.0,
        cut: int | None = None,
    ) -> None:
        """The next `times` requests whose path matches the regex get this answer.

        A status below 400 (with a `delay`) answers normally, only late: a slow answer. With
        `body`, the answer is exactly `status`, these bytes and GitHub's headers (`headers`
        replace them, `Content-Length` included): any answer a broken or hostile server could
        send. `rate` trickles the body at that many bytes a second; `cut` sends only its first
        `cut` bytes (the full length announced) and drops the connection.
        """
        failure = _Failure(
            re.compile(path_pattern),
            status,
            times,
            dict(headers or {}),
            message,
            delay,
            body,
            rate,
            cut,
        )
        with self._lock:
            self._failures.append(failure)

    def fail_graphql(self, kind: str, message: str, *, times: int = 1, after: int = 0) -> None:
        """After `after` more queries answered as usual, the next `times` get HTTP 200 with one
        error of GitHub's `type` (FORBIDDEN, RATE_LIMITED, ...; "" for none) and `message`."""
        with self._lock:
            self._graphql_failures.append(_GraphQLFailure(kind, message, times, after))

    def clear_failures(self) -> None:
        """Forget the injected answers not given yet: GitHub is well again."""
        with self._lock:
            self._failures.clear()
            self._graphql_failures.clear()

    def new_hour(self) -> None:
        """The rate limit resets: the token has its whole hourly budget again (GraphQL too)."""
        with self._lock:
            self._served = 0
            self._points.clear()

    def timeline(self, full_name: str, series: Growth) -> list[dt.datetime]:
        """When each star (or fork) the repo has now was given, oldest first: the truth the
        stored history must add up to."""
        with self._lock:
            return [when for when, _ in self._timeline(self._repos[full_name.lower()], series)]

    def star(self, full_name: str, at: dt.datetime, count: int = 1) -> None:
        """`count` new stars given at `at` (stargazers_count grows too)."""
        self._give(full_name, "stars", at, count)

    def fork(self, full_name: str, at: dt.datetime, count: int = 1) -> None:
        """`count` new forks made at `at` (forks_count grows too)."""
        self._give(full_name, "forks", at, count)

    def unstar(self, full_name: str, count: int = 1) -> None:
        """The `count` newest stars are taken back: GitHub lists them no more."""
        with self._lock:
            items = self._timeline(self._repos[full_name.lower()], "stars")
            del items[max(0, len(items) - count) :]

    def _give(self, full_name: str, series: Growth, at: dt.datetime, count: int) -> None:
        when = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
        with self._lock:
            items = self._timeline(self._repos[full_name.lower()], series)
            for _ in range(count):
                bisect.insort(items, (when, self._serials))
                self._serials += 1

    def _timeline(self, repo: SimRepo, series: Growth) -> list[Item]:
        """The repo's stars (forks) as (when, serial), oldest first (the lock is held)."""
        key = (repo.id, series)
        if key not in self._timelines:
            base = growth_timeline(repo, series, repo.counted_on or self._counted_on)
            self._timelines[key] = [(when, serial) for serial, when in enumerate(base)]
        return self._timelines[key]

    def _count(self, repo: SimRepo, series: Growth) -> int:
        """stargazers_count (forks_count): the timeline's length once there is one."""
        with self._lock:
            items = self._timelines.get((repo.id, series))
        if items is not None:
            return len(items)
        return repo.stars if series == "stars" else repo.forks

    def upload_asset(self, full_name: str, tag: str, asset: str, downloads: int = 0) -> None:
        """A new asset in release `tag` (a new release when there is none of that tag)."""
        repo = self._repos[full_name.lower()]
        with self._lock:
            self._uploaded.setdefault(repo.id, {})[(tag, asset)] = downloads

    def download(self, full_name: str, tag: str, asset: str, count: int = 1) -> None:
        """`count` more downloads of an asset."""
        repo = self._repos[full_name.lower()]
        with self._lock:
            uploaded = self._uploaded.get(repo.id, {})
            if (tag, asset) in uploaded:
                uploaded[(tag, asset)] += count
            else:
                added = self._downloads.setdefault(repo.id, {})
                added[(tag, asset)] = added.get((tag, asset), 0) + count

    def delete_asset(self, full_name: str, tag: str, asset: str) -> None:
        """An asset deleted: it is listed no more (uploading it again starts at 0)."""
        repo = self._repos[full_name.lower()]
        with self._lock:
            if self._uploaded.get(repo.id, {}).pop((tag, asset), None) is None:
                self._deleted_assets.setdefault(repo.id, set()).add((tag, asset))

    def assets_of(self, full_name: str) -> dict[tuple[str, str], int]:
        """Every release asset the repo lists now, by (tag, asset): its download count."""
        repo = self._repos[full_name.lower()]
        with self._lock:
            return self._assets(repo)

    def _assets(self, repo: SimRepo) -> dict[tuple[str, str], int]:
        """The lock is held."""
        deleted = self._deleted_assets.get(repo.id, set())
        added = self._downloads.get(repo.id, {})
        assets = {
            key: count + added.get(key, 0)
            for key, count in release_assets(repo, self.now.date()).items()
            if key not in deleted
        }
        assets.update(self._uploaded.get(repo.id, {}))
        return assets

    def rename(self, full_name: str, new_full_name: str) -> None:
        """Rename or transfer a repo: the old name answers 301 to `/repositories/{id}`."""
        with self._lock:
            repo = self._repos.pop(full_name.lower())
            self._repos[new_full_name.lower()] = replace(repo, full_name=new_full_name)
            self._moved[full_name.lower()] = repo.id
            self._moved.pop(new_full_name.lower(), None)
            owner = new_full_name.split("/", 1)[0]
            if owner.lower() not in self._orgs:
                self._users.setdefault(owner.lower(), owner)

    def grant(self, token: str, kind: TokenKind, *, actions_write: bool | None = None) -> None:
        """Accept another token: "pat" reads everything, "no-push" is a PAT whose user cannot
        push (traffic 403), "github-token" is a workflow's GITHUB_TOKEN (traffic 403), "bad" is
        revoked (401).

        `actions_write` says whether it may enable a workflow: a GITHUB_TOKEN may with
        `permissions: actions: write`. By default only a "pat" may (a classic PAT's `repo` scope).
        """
        with self._lock:
            self._tokens[token] = kind
            may = kind == "pat" if actions_write is None else actions_write
            if may:
                self._actions_writers.add(token)
            else:
                self._actions_writers.discard(token)

    def add_workflow(
        self, full_name: str, file_name: str, *, state: WorkflowState = "active"
    ) -> None:
        """A workflow file in `.github/workflows/` of a repo, e.g. ("octo/site", "traffic.yml")."""
        with self._lock:
            self._workflows.setdefault(full_name.lower(), {})[file_name] = state

    def workflow_state(self, full_name: str, file_name: str) -> WorkflowState:
        """The workflow's state as `GET /repos/{o}/{r}/actions/workflows/{id}` would say it."""
        return self._workflows[full_name.lower()][file_name]

    # answering

    def _respond(self, method: str, target: str, authorization: str, body: bytes = b"") -> _Reply:
        """Log, count and answer one request, with GitHub's headers."""
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        graphql = path in GRAPHQL_PATHS  # points of its own, not REST's requests
        with self._lock:
            self.requests.append(Request(method, path, query, _json_or_none(body)))
            if path != "/rate_limit" and not graphql:
                self._served += 1
            failure = self._take_failure(path)
            limited = path != "/rate_limit" and not graphql and self._served > self.rate_limit
        if limited and failure is None:
            answer = self._rate_limited()
        else:
            answer = self._answer(method, path, query, authorization, failure=failure, body=body)
        rate = self._points_headers(_token_of(authorization)) if graphql else self._rate_headers()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-media-type": "github.v3; format=json",
            **rate,
        }
        # injected headers replace GitHub's own, whatever their case
        injected = failure.headers if failure else {}
        kept = {k: v for k, v in headers.items() if k.lower() not in {i.lower() for i in injected}}
        payload = b"" if answer.status == 204 else json.dumps(answer.body).encode()
        delay = self.latency + (failure.delay if failure else 0.0)
        if failure is None:
            return _Reply(answer.status, {**kept, **answer.headers}, payload, delay)
        if failure.body is not None:
            answer, payload = _Answer(failure.status, None), failure.body
        headers = {**kept, **answer.headers, **injected}
        return _Reply(answer.status, headers, payload, delay, failure.rate, failure.cut)

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        authorization: str,
        *,
        failure: _Failure | None,
        body: bytes = b"",
    ) -> _Answer:
        if failure and failure.status >= 400 and failure.body is None:
            message = failure.message or HTTPStatus(failure.status).phrase
            return _error(
                failure.status, message, RATE_DOCS if "rate limit" in message.lower() else DOCS
            )
        token = _token_of(authorization)
        kind = self._tokens.get(token)
        if kind is None or kind == "bad":
            return _error(401, "Bad credentials", GRAPHQL_DOCS if path in GRAPHQL_PATHS else DOCS)
        if method == "POST" and path in GRAPHQL_PATHS:
            return self._graphql(body, token, kind)
        if method == "PUT":
            return self._route(path, query, kind, self._put_routes(token))
        if method != "GET":
            return _error(404, "Not Found", DOCS)
        return self._route(path, query, kind, self._routes())

    def _take_graphql_failure(self) -> _GraphQLFailure | None:
        """The injected GraphQL error this query gets, if any (the lock is held)."""
        failure = next((f for f in self._graphql_failures if f.times > 0), None)
        if failure is None:
            return None
        if failure.after > 0:
            failure.after -= 1
            return None
        failure.times -= 1
        return failure

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.pattern.search(path):
                failure.times -= 1
                return failure
        return None

    def _rate_limited(self) -> _Answer:
        """GitHub's answer once the hourly budget is spent (the headers say when it resets)."""
        return _error(403, "API rate limit exceeded for user ID 1.", RATE_DOCS)

    def _rate_headers(self) -> dict[str, str]:
        """GitHub's `x-ratelimit-*` headers for the requests served so far."""
        used = min(self._served, self.rate_limit)
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - used)),
            "x-ratelimit-reset": str(self._reset_epoch()),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }

    def _reset_epoch(self) -> int:
        return int(self.now.timestamp()) + 3600

    def _points_headers(self, token: str) -> dict[str, str]:
        """GitHub's `x-ratelimit-*` headers of a GraphQL answer: the token's points."""
        with self._lock:
            reset, used = self._points_window(token)
        return {
            "x-ratelimit-limit": str(self.graphql_points),
            "x-ratelimit-remaining": str(max(0, self.graphql_points - used)),
            "x-ratelimit-reset": str(int(reset)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "graphql",
        }

    def _points_window(self, token: str) -> tuple[float, int]:
        """(reset epoch, points used) of the token's hour; a new hour once the reset passed.
        The lock is held."""
        now = self.now.timestamp()
        reset, used = self._points.get(token, (now + 3600, 0))
        if now >= reset:
            reset, used = now + 3600, 0
        self._points[token] = (reset, used)
        return reset, used

    def _route(
        self, path: str, query: dict[str, str], kind: TokenKind, routes: Iterator[_Route]
    ) -> _Answer:
        moved = self._redirect(path)
        if moved is not None:
            return moved
        for pattern, handler in routes:
            match = pattern.fullmatch(path)
            if match:
                args = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(query, kind, **args)
        return _error(404, "Not Found", DOCS)

    def _routes(self) -> Iterator[_Route]:
        repo = _REPO_PATH
        yield re.compile(r"/rate_limit"), self._get_rate_limit
        yield re.compile(r"/user"), self._get_viewer
        yield re.compile(r"/user/repos"), self._list_viewer_repos
        yield re.compile(r"/users/(?P<login>[^/]+)"), self._get_account
        yield re.compile(r"/users/(?P<login>[^/]+)/repos"), self._list_user_repos
        yield re.compile(r"/orgs/(?P<org>[^/]+)"), self._get_org
        yield re.compile(r"/orgs/(?P<org>[^/]+)/repos"), self._list_org_repos
        yield re.compile(repo), self._get_repo
        yield re.compile(r"/repositories/(?P<number>[0-9]+)"), self._get_repo_by_id
        yield re.compile(repo + r"/traffic/(?P<metric>views|clones)"), self._get_traffic
        yield re.compile(repo + r"/traffic/popular/(?P<popular>referrers|paths)"), self._get_popular
        yield re.compile(repo + r"/releases"), self._list_releases

    def _put_routes(self, token: str) -> Iterator[_Route]:
        enable = functools.partial(
            self._enable_workflow, actions_write=token in self._actions_writers
        )
        yield re.compile(_REPO_PATH + r"/actions/workflows/(?P<workflow>[^/]+)/enable"), enable

    # endpoints

    def _get_rate_limit(self, query: dict[str, str], kind: TokenKind) -> _Answer:
        body = copy.deepcopy(_template("rate-limit-overview"))
        reset = self._reset_epoch()
        for bucket in body["resources"].values():
            bucket.update(used=0, remaining=bucket["limit"], reset=reset)
        used = min(self._served, self.rate_limit)
        core = {
            "limit": self.rate_limit,
            "used": used,
            "remaining": max(0, self.rate_limit - used),
            "reset": reset,
        }
        body["resources"]["core"] = core
        body["rate"] = dict(core)
        return _Answer(200, body)

    def _get_repo(self, query: dict[str, str], kind: TokenKind, owner: str, name: str) -> _Answer:
        repo = self._repos.get(f"{owner}/{name}".lower())
        if repo is None:
            return _error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository")
        return _Answer(200, self._full_repository(repo, kind))

    def _redirect(self, path: str) -> _Answer | None:
        """A renamed or transferred repo's old name: GitHub's 301 to the repo by id.
        https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects
        """
        match = re.fullmatch(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?", path)
        if match is None:
            return None
        number = self._moved.get(f"{unquote(match['owner'])}/{unquote(match['name'])}".lower())
        if number is None:
            return None
        location = f"{self.url}/repositories/{number}{match['rest'] or ''}"
        body = {"message": "Moved Permanently", "url": location, "documentation_url": DOCS}
        return _Answer(301, body, {"Location": location})

    def _get_repo_by_id(self, query: dict[str, str], kind: TokenKind, number: str) -> _Answer:
        repo = next((r for r in self._repos.values() if r.id == int(number)), None)
        if repo is None:
            return _error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository")
        return _Answer(200, self._full_repository(repo, kind))

    def _get_traffic(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str, metric: Metric
    ) -> _Answer:
        docs = f"{TRAFFIC_DOCS}#get-{'page-views' if metric == 'views' else 'repository-clones'}"
        repo, denied = self._traffic_access(owner, name, kind, docs)
        if repo is None:
            return denied
        return _Answer(200, traffic_window(repo, metric, self.now, query.get("per", "day")))

    def _get_popular(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str, popular: str
    ) -> _Answer:
        top = f"{TRAFFIC_DOCS}#get-top-referral-{'sources' if popular == 'referrers' else 'paths'}"
        repo, denied = self._traffic_access(owner, name, kind, top)
        if repo is None:
            return denied
        answer = popular_referrers if popular == "referrers" else popular_paths
        return _Answer(200, answer(repo, self.now.date()))

    def _list_releases(
        self, query: dict[str, str], kind: TokenKind, owner: str, name: str
    ) -> _Answer:
        """`GET /repos/{o}/{r}/releases`: newest first, paged, each with its assets.
        https://docs.github.com/rest/releases/releases#list-releases"""
        repo = self._repos.get(f"{owner}/{name}".lower())
        if repo is None:
            return _error(404, "Not Found", f"{DOCS}/releases/releases#list-releases")
        with self._lock:
            assets = self._assets(repo)
        tags: dict[str, list[tuple[str, int]]] = {}
        for (tag, asset), count in sorted(assets.items()):
            tags.setdefault(tag, []).append((asset, count))
        names = _example_names(self.url, repo.full_name)
        bodies = []
        for number, tag in enumerate(sorted(tags, reverse=True), start=1):
            body = _rewrite(copy.deepcopy(_template("release")), names)
            template_asset = body["assets"][0]
            release_id = repo.id * 1000 + number
            body.update(
                id=release_id,
                node_id=_node_id("07:Release", release_id),
                tag_name=tag,
                name=tag,
                url=f"{self.url}/repos/{repo.full_name}/releases/{release_id}",
                html_url=f"https://github.com/{repo.full_name}/releases/{tag}",
            )
            body["assets"] = [
                {
                    **template_asset,
                    "id": release_id * 100 + index,
                    "name": asset,
                    "download_count": count,
                    "browser_download_url": f"https://github.com/{repo.full_name}/releases/"
                    f"download/{tag}/{asset}",
                }
                for index, (asset, count) in enumerate(tags[tag])
            ]
            bodies.append(body)
        path = f"/repos/{repo.full_name}/releases"
        per_page = min(PER_PAGE_MAX, max(1, _int(query.get("per_page"), PER_PAGE_DEFAULT)))
        page = max(1, _int(query.get("page"), 1))
        last = max(1, -(-len(bodies) // per_page))
        header = ""
        if page < last:
            header = (
                f'<{self.url}{path}?{urlencode({**query, "page": str(page + 1)})}>; rel="next", '
                f'<{self.url}{path}?{urlencode({**query, "page": str(last)})}>; rel="last"'
            )
        items = bodies[(page - 1) * per_page : page * per_page]
        return _Answer(200, items, {"Link": header} if header else {})

    def _enable_workflow(
        self,
        query: dict[str, str],
        kind: TokenKind,
        owner: str,
        name: str,
        workflow: str,
        *,
        actions_write: bool,
    ) -> _Answer:
        """`PUT .../actions/workflows/{file}/enable`: 204 without a body, the workflow active.

        A token without actions write gets 403 before the workflow is looked up.
        """
        full_name = f"{owner}/{name}".lower()
        if full_name not in self._repos:
            return _error(404, "Not Found", ENABLE_DOCS)
        if not actions_write:
            if kind == "no-push":
                return _error(403, "Must have admin rights to Repository.", ENABLE_DOCS)
            return _error(403, "Resource not accessible by integration", ENABLE_DOCS)
        with self._lock:
            workflows = self._workflows.get(full_name, {})
            if workflow not in workflows:
                return _error(404, "Not Found", ENABLE_DOCS)
            workflows[workflow] = "active"
        return _Answer(204, None)

    def _traffic_access(
        self, owner: str, name: str, kind: TokenKind, docs: str
    ) -> tuple[SimRepo | None, _Answer]:
        """The repo, or the answer GitHub gives this token: 404 first, then 403 by token kind."""
        repo = self._repos.get(f"{owner}/{name}".lower())
        if repo is None:
            return None, _error(404, "Not Found", docs)
        if kind == "github-token":
            return None, _error(403, "Resource not accessible by integration", docs)
        if kind == "no-push" or not repo.push:
            return None, _error(403, "Must have push access to repository", docs)
        return repo, _Answer(200, None)

    def _get_viewer(self, query: dict[str, str], kind: TokenKind) -> _Answer:
        if kind == "github-token":
            docs = f"{DOCS}/users/users#get-the-authenticated-user"
            return _error(403, "Resource not accessible by integration", docs)
        return _Answer(200, self._account(self.viewer, "User"))

    def _get_account(self, query: dict[str, str], kind: TokenKind, login: str) -> _Answer:
        if login.lower() in self._orgs:
            return _Answer(200, self._account(self._orgs[login.lower()], "Organization"))
        if login.lower() in self._users:
            return _Answer(200, self._account(self._users[login.lower()], "User"))
        return _error(404, "Not Found", f"{DOCS}/users/users#get-a-user")

    def _get_org(self, query: dict[str, str], kind: TokenKind, org: str) -> _Answer:
        if org.lower() not in self._orgs:
            return _error(404, "Not Found", f"{DOCS}/orgs/orgs#get-an-organization")
        return _Answer(200, self._organization(self._orgs[org.lower()]))

    def _list_org_repos(self, query: dict[str, str], kind: TokenKind, org: str) -> _Answer:
        if org.lower() not in self._orgs:
            return _error(404, "Not Found", f"{DOCS}/repos/repos#list-organization-repositories")
        wanted = query.get("type", "all")
        repos = [r for r in self._owned_by(org) if _has_type(r, wanted)]
        return self._page(f"/orgs/{org}/repos", query, repos, "minimal-repository", kind)

    def _list_user_repos(self, query: dict[str, str], kind: TokenKind, login: str) -> _Answer:
        if login.lower() not in self._users and login.lower() not in self._orgs:
            return _error(404, "Not Found", f"{DOCS}/repos/repos#list-repositories-for-a-user")
        repos = [r for r in self._owned_by(login) if not r.private]
        return self._page(f"/users/{login}/repos", query, repos, "minimal-repository", kind)

    def _list_viewer_repos(self, query: dict[str, str], kind: TokenKind) -> _Answer:
        if kind == "github-token":
            docs = f"{DOCS}/repos/repos#list-repositories-for-the-authenticated-user"
            return _error(403, "Resource not accessible by integration", docs)
        affiliation = query.get("affiliation", "owner,collaborator,organization_member")
        owners = {self.viewer.lower()} if "owner" in affiliation else set()
        if "organization_member" in affiliation:
            owners |= set(self._orgs)
        visibility = query.get("visibility", "all")
        repos = [
            r
            for r in self._repos.values()
            if r.owner.lower() in owners
            and visibility in ("all", "private" if r.private else "public")
        ]
        return self._page("/user/repos", query, repos, "repository", kind)

    def _owned_by(self, owner: str) -> list[SimRepo]:
        return [r for r in self._repos.values() if r.owner.lower() == owner.lower()]

    # GraphQL

    def _graphql(self, body: bytes, token: str, kind: TokenKind) -> _Answer:
        """`POST /graphql`: validate (when a validator is given), charge a point, execute.

        Like GitHub: errors in the query are HTTP 200 with `errors` and cost nothing; a spent
        hour is HTTP 200 with a RATE_LIMITED error; each query of `first: 100` costs one point.
        """
        request = _read_graphql(body)
        if isinstance(request, _Answer):
            return request
        text, variables = request
        if self.graphql_validator is not None:
            errors = [dict(e) for e in self.graphql_validator(text, variables)]
            if errors:
                return _Answer(200, {"errors": errors})
        try:
            operation = read_query(text)
        except QuerySyntaxError as error:
            return _graphql_errors(error.message, line=error.line, column=error.column)
        with self._lock:
            injected = self._take_graphql_failure()
            if injected is not None:
                return _graphql_errors(injected.message, kind=injected.kind)
            reset, used = self._points_window(token)
            if used + 1 > self.graphql_points:
                return _graphql_errors(
                    "API rate limit already exceeded for user ID 1.", kind="RATE_LIMITED"
                )
            self._points[token] = (reset, used + 1)
        rate = {
            "__typename": "RateLimit",
            "cost": 1,
            "limit": self.graphql_points,
            "used": used + 1,
            "remaining": self.graphql_points - used - 1,
            "resetAt": iso(dt.datetime.fromtimestamp(reset, dt.UTC)),
        }
        root = {
            "__typename": "Query",
            "rateLimit": rate,
            "repository": functools.partial(self._graphql_repository, kind=kind),
        }
        data, errors = execute(operation, variables, root)
        return _Answer(200, {"data": data, "errors": errors} if errors else {"data": data})

    def _graphql_repository(self, arguments: dict[str, Json], *, kind: TokenKind) -> Json:
        """`repository(owner:, name:)`: renamed repos are followed, as `followRenames` says."""
        owner, name = str(arguments.get("owner")), str(arguments.get("name"))
        repo = self._repos.get(f"{owner}/{name}".lower())
        moved = self._moved.get(f"{owner}/{name}".lower())
        if repo is None and moved is not None and arguments.get("followRenames", True):
            repo = next((r for r in self._repos.values() if r.id == moved), None)
        if repo is None or (repo.private and kind == "github-token"):
            raise FieldError(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        stars = functools.partial(self._graphql_connection, repo, "stars")
        forks = functools.partial(self._graphql_connection, repo, "forks")
        return {
            "__typename": "Repository",
            "nameWithOwner": repo.full_name,
            "databaseId": repo.id,
            "createdAt": _stamp(repo.created),
            "isPrivate": repo.private,
            "isFork": repo.fork,
            "isArchived": repo.archived,
            "stargazerCount": self._count(repo, "stars"),
            "forkCount": self._count(repo, "forks"),
            "watchers": {"__typename": "UserConnection", "totalCount": repo.watchers},
            # REST's open_issues_count is both; the simulator keeps its open items as issues
            "issues": lambda _arguments: {
                "__typename": "IssueConnection",
                "totalCount": repo.open_issues,
            },
            "pullRequests": lambda _arguments: {
                "__typename": "PullRequestConnection",
                "totalCount": 0,
            },
            # a "no-push" token may read; a workflow's GITHUB_TOKEN may push to its repo, yet
            # GitHub refuses it traffic all the same (the traffic answers' 403 says so)
            "viewerPermission": {"pat": "ADMIN", "github-token": "WRITE"}.get(kind, "READ")
            if repo.push
            else "READ",
            "stargazers": stars,
            "forks": forks,
        }

    def _graphql_connection(
        self, repo: SimRepo, series: Growth, arguments: dict[str, Json]
    ) -> Json:
        with self._lock:
            items = tuple(self._timeline(repo, series))
        if series == "stars":
            return connection_page(
                items,
                arguments,
                name="stargazers",
                typename="StargazerConnection",
                order_field="STARRED_AT",
                edge=lambda item: {
                    "__typename": "StargazerEdge",
                    "starredAt": iso(item[0]),
                    "node": {"__typename": "User", "login": f"stargazer-{item[1]}"},
                },
            )
        return connection_page(
            items,
            arguments,
            name="forks",
            typename="RepositoryConnection",
            order_field="CREATED_AT",
            edge=lambda item: {
                "__typename": "RepositoryEdge",
                "node": {
                    "__typename": "Repository",
                    "createdAt": iso(item[0]),
                    "nameWithOwner": f"forker-{item[1]}/{repo.name}",
                },
            },
        )

    # shapes

    def _page(
        self, path: str, query: dict[str, str], repos: list[SimRepo], shape: str, kind: TokenKind
    ) -> _Answer:
        """One page of a listing, in GitHub's order, with GitHub's `Link` header."""
        default = "created" if path.startswith("/orgs/") else "full_name"  # GitHub's defaults
        ordered = _sorted(repos, query.get("sort", default), query.get("direction"))
        per_page = min(PER_PAGE_MAX, max(1, _int(query.get("per_page"), PER_PAGE_DEFAULT)))
        page = max(1, _int(query.get("page"), 1))
        last = max(1, -(-len(ordered) // per_page))
        items = ordered[(page - 1) * per_page : page * per_page]
        body = [self._listing_item(repo, shape, kind) for repo in items]
        links: dict[str, int] = {}
        if page < last:
            links.update(next=page + 1, last=last)
        if page > 1:
            links.update(prev=page - 1, first=1)
        header = ", ".join(
            f'<{self.url}{path}?{urlencode({**query, "page": str(number)})}>; rel="{rel}"'
            for rel, number in links.items()
        )
        return _Answer(200, body, {"Link": header} if header else {})

    def _full_repository(self, repo: SimRepo, kind: TokenKind) -> Json:
        body = self._repository_shape(repo, "full-repository", kind)
        body.update(subscribers_count=repo.watchers, network_count=self._count(repo, "forks"))
        body["template_repository"] = None
        if repo.owner.lower() in self._orgs:
            body["organization"].update(self._owner_fields(repo.owner, "Organization"))
        else:
            del body["organization"]
        if repo.fork:  # `parent` and `source` are there only for a fork
            body["parent"] = body["source"] = self._upstream(repo, kind)
        else:
            del body["parent"], body["source"]
        return body

    def _upstream(self, repo: SimRepo, kind: TokenKind) -> Json:
        """A fork's parent: a repo of a fictional upstream owner, outside the simulated world."""
        upstream = SimRepo(f"upstream-{repo.owner}/{repo.name}", repo.id + 10_000_000, repo.created)
        names = _example_names(self.url, upstream.full_name)
        body = _rewrite(_template("full-repository")["parent"], names)
        return self._fill_repository(body, upstream, kind)

    def _listing_item(self, repo: SimRepo, shape: str, kind: TokenKind) -> Json:
        body = self._repository_shape(repo, shape, kind)
        # listings never carry these: the stats row needs `GET /repos/{o}/{r}`
        body.pop("subscribers_count", None)
        body.pop("network_count", None)
        return body

    def _repository_shape(self, repo: SimRepo, shape: str, kind: TokenKind) -> Json:
        body = _rewrite(_template(shape), _example_names(self.url, repo.full_name))
        return self._fill_repository(body, repo, kind)

    def _fill_repository(self, body: Json, repo: SimRepo, kind: TokenKind) -> Json:
        """The example's fields that say which repo it is, replaced by this repo's."""
        owner_type = "Organization" if repo.owner.lower() in self._orgs else "User"
        body["owner"].update(self._owner_fields(repo.owner, owner_type))
        body.update(
            id=repo.id,
            node_id=_node_id("010:Repository", repo.id),
            name=repo.name,
            full_name=repo.full_name,
            private=repo.private,
            visibility="private" if repo.private else "public",
            description=_description(repo),
            fork=repo.fork,
            archived=repo.archived,
            homepage=None,
            mirror_url=None,
            language="Python",
            topics=[],
            default_branch="main",
            size=repo.id % 5000 + 100,
            created_at=_stamp(repo.created),
            updated_at=_stamp(repo.created),
            pushed_at=_stamp(repo.created),
            stargazers_count=self._count(repo, "stars"),
            watchers_count=self._count(repo, "stars"),  # GitHub's watchers_count is the stars
            watchers=self._count(repo, "stars"),
            forks_count=self._count(repo, "forks"),
            forks=self._count(repo, "forks"),
            open_issues_count=repo.open_issues,
            open_issues=repo.open_issues,
            html_url=f"https://github.com/{repo.full_name}",
            url=f"{self.url}/repos/{repo.full_name}",
            permissions={
                "admin": kind == "pat" and repo.push,
                "push": kind == "pat" and repo.push,
                "pull": True,
            },
        )
        return body

    def _owner_fields(self, login: str, account_type: str) -> dict[str, Json]:
        number = _account_id(login)
        return {
            "login": login,
            "id": number,
            "node_id": _node_id(
                "04:User" if account_type == "User" else "012:Organization", number
            ),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
            "type": account_type,
            "site_admin": False,
        }

    def _account(self, login: str, account_type: str) -> Json:
        """`GET /users/{login}` (and `/user`): simple-user fields plus the profile."""
        owner = _template("full-repository")["owner"]
        body = _rewrite(owner, _example_names(self.url, f"{login}/-"))
        body.update(self._owner_fields(login, account_type))
        public = [r for r in self._owned_by(login) if not r.private]
        body.update(
            name=login,
            company=None,
            blog="",
            location=None,
            email=None,
            bio=None,
            public_repos=len(public),
            public_gists=0,
            followers=0,
            following=0,
            created_at="2015-01-01T10:00:00Z",
            updated_at="2025-01-01T10:00:00Z",
        )
        return body

    def _organization(self, login: str) -> Json:
        """`GET /orgs/{org}`: the organization's own shape."""
        api = f"{self.url}/orgs/{login}"
        number = _account_id(login)
        return {
            "login": login,
            "id": number,
            "node_id": _node_id("012:Organization", number),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
            "description": None,
            "name": login,
            "html_url": f"https://github.com/{login}",
            "public_repos": len([r for r in self._owned_by(login) if not r.private]),
            "type": "Organization",
            "created_at": "2015-01-01T10:00:00Z",
            "updated_at": "2025-01-01T10:00:00Z",
        }


def _has_type(repo: SimRepo, wanted: str) -> bool:
    """`type` of `GET /orgs/{org}/repos`: all, public, private, forks, sources, member."""
    return {
        "public": not repo.private,
        "private": repo.private,
        "forks": repo.fork,
        "sources": not repo.fork,
    }.get(wanted, True)


def _sorted(repos: list[SimRepo], sort: str, direction: str | None) -> list[SimRepo]:
    """GitHub's listing order: by name ascending, by dates newest first, unless told."""
    if sort == "full_name":
        ordered = sorted(repos, key=lambda r: r.full_name.lower())
        return ordered[::-1] if direction == "desc" else ordered
    ordered = sorted(repos, key=lambda r: (r.created, r.id))
    return ordered if direction == "asc" else ordered[::-1]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _token_of(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") else ""


def _error(status: int, message: str, docs: str) -> _Answer:
    """GitHub's error shape (basic-error)."""
    return _Answer(status, {"message": message, "documentation_url": docs, "status": str(status)})


def _graphql_errors(message: str, *, kind: str = "", line: int = 0, column: int = 0) -> _Answer:
    """A GraphQL error answer: HTTP 200, `errors` only."""
    error: dict[str, Json] = {"message": message}
    if kind:
        error["type"] = kind
    if line:
        error["locations"] = [{"line": line, "column": column}]
    return _Answer(200, {"errors": [error]})


def _read_graphql(body: bytes) -> tuple[str, dict[str, Json]] | _Answer:
    """A GraphQL request's query and variables, or GitHub's answer to a malformed one."""
    request = _json_or_none(body)
    if request is None and body.strip() not in (b"", b"null"):
        return _error(400, "Problems parsing JSON", GRAPHQL_DOCS)
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return _graphql_errors("A query attribute must be specified and must be a string.")
    variables = request.get("variables") or {}
    if not isinstance(variables, dict):
        return _graphql_errors("Variables are invalid JSON.")
    return request["query"], variables


def _json_or_none(body: bytes) -> Json:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


# --- HTTP plumbing ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    respond: Callable[[str, str, str, bytes], _Reply]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up waiting (a timeout test) is expected; anything else is a bug."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Like api.github.com, keep each client's connection open across requests (every answer
    # has a Content-Length), and send each answer as soon as it is written: without TCP_NODELAY
    # the body waits for the client's delayed ACK of the headers.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "GitHub.com"

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self._reply()

    def do_PUT(self) -> None:
        self._reply()

    def _reply(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        authorization = self.headers.get("Authorization", "")
        reply = self.server.respond(self.command, self.path, authorization, body)
        if reply.delay > 0:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if "content-length" not in {name.lower() for name in reply.headers}:
            self.send_header("Content-Length", str(len(reply.payload)))
        self.end_headers()
        payload = reply.payload if reply.cut is None else reply.payload[: reply.cut]
        if reply.rate > 0:
            _trickle(self.wfile, payload, reply.rate)
        else:
            self.wfile.write(payload)
        if reply.cut is not None:
            self.close_connection = True  # the rest never comes

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: `SimulatedGitHub.requests` is the request log."""


def _trickle(out: Any, payload: bytes, rate: float) -> None:
    """Write `payload` at `rate` bytes a second, a piece every tenth of a second at most."""
    piece = max(1, int(rate / 10))
    for start in range(0, len(payload), piece):
        out.write(payload[start : start + piece])
        out.flush()
        time.sleep(piece / rate)
