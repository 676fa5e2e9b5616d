"""Collection through PyGithub: expand `repos`, fetch five answers per repo, classify failures.

Requests per repo are exactly five: `GET /repos/{o}/{r}` (canonical name, id, creation day,
visibility, and `subscribers_count`, which listings lack) and the four traffic calls; a renamed
repo's old name costs one more (the 301 and the request it leads to). With `release-downloads`,
`GET /repos/{o}/{r}/releases` is one more (a request per 100 releases).

PyGithub's requester sends the requests (auth, pacing, retries, status to exception); each
answer's JSON is read by `answers`, never by PyGithub's objects, so an answer GitHub never
sends fails its repo with a MalformedAnswerError instead of surprising the run.
https://docs.github.com/rest/metrics/traffic
https://docs.github.com/rest/releases/releases#list-releases
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.Requester import (
    HTTPRequestsConnectionClass,
    HTTPSRequestsConnectionClass,
    Requester,
    WithRequester,
)

from traffic_sync.core.config import RepoPattern
from traffic_sync.core.errors import (
    AccessDeniedError,
    AuthError,
    MalformedAnswerError,
    RateLimitedError,
    ReleasesUnreadError,
    RepoError,
    RepoNotFoundError,
    TrafficSyncError,
    TransientError,
)
from traffic_sync.core.growth import WEEKS_PER_PAGE, Series, weekly_growth
from traffic_sync.core.models import Observation, ReleaseAsset, RepoInfo, RepoRef, TrafficAnswer
from traffic_sync.github import answers
from traffic_sync.github.deadline import DeadlineAdapter, deadline_session
from traffic_sync.github.describe import BATCH, Described, describe
from traffic_sync.github.graphql import GraphQLClient, GrowthFetch, graphql_url
from traffic_sync.github.pacer import Pacer, RetryPolicy

T = TypeVar("T")

TRAFFIC_ACCESS_HELP = (
    "Traffic needs a token with push access to the repo: a classic PAT with the `repo` scope, "
    "a fine-grained PAT with the repository permission 'Administration: read', or a GitHub App "
    "installation token with administration read. The workflow's GITHUB_TOKEN cannot read traffic."
)


class Declined(Exception):
    """`observe` stopped after `GET /repos/{o}/{r}`: `accept` refused the repo's id.

    Not a TrafficSyncError, since nothing went wrong: the repo is another run's (another shard).
    """

    def __init__(self, full_name: str, repo_id: int) -> None:
        super().__init__(f"{full_name} (id {repo_id})")
        self.full_name = full_name
        self.repo_id = repo_id


class TrafficSource(Protocol):
    """Where observations come from: GitHub through PyGithub, or anything that acts like it."""

    def expand(
        self, patterns: Sequence[RepoPattern], *, include_forks: bool, include_archived: bool
    ) -> tuple[list[RepoRef], list[tuple[str, RepoError]]]: ...

    def describe(
        self, names: Sequence[str], *, tops: bool = False, workers: int = 1
    ) -> tuple[list[Described], TrafficSyncError | None]:
        """Each name's facts from GraphQL (see `describe`; with `tops`, the first page of its
        stars and forks too; `workers` queries at a time), and why some were not asked there
        (those come back empty, for `observe` to fetch over REST)."""
        ...

    def observe(
        self,
        full_name: str,
        *,
        fetched_on: dt.date,
        accept: Callable[[int], bool] | None = None,
        releases: bool = False,
        info: RepoInfo | None = None,
    ) -> Observation: ...

    def is_private(self, full_name: str) -> bool | None: ...

    def star_history(self, full_name: str, *, since: dt.date | None) -> GrowthFetch:
        """A repo's stars by day from the star history endpoint (REST), from `since` on."""
        ...

    def growth_client(self) -> GraphQLClient | None:
        """The GraphQL client for stars and forks history; None: this source has none."""
        ...

    def remaining_requests(self) -> int | None: ...

    @property
    def requests_made(self) -> int: ...


# GitHub sends a renamed repo's old name one 301; PyGithub follows 301s (and asks again after
# a 202) without a limit, so a server that sends them round and round is stopped here.
MAX_BOUNCES = 5
HISTORY_PAGES = 100  # the star history endpoint's last page (3,000 weeks)


class RedirectLoop(requests.TooManyRedirects):
    """More than MAX_BOUNCES 301s (or 202s) in a row: an answer GitHub never sends."""


class _PacedAdapter(DeadlineAdapter):
    """Sends each request once the shared pacer gives it a turn, within `request-timeout`
    as a whole (see `deadline`).

    Every request of a client passes here, those PyGithub makes on its own included: it follows
    a 301 (a renamed or transferred repo) and asks again after a 202, re-sending the headers it
    already has. urllib3's retries within one `send` take their turn in `_BoundedRetry.sleep`.
    A client is one thread's, so its 301s and 202s in a row are one request's.
    """

    def __init__(self, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pacer = pacer
        self._bounces = 0

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self._pacer.acquire()
        response = super().send(request, *args, **kwargs)
        bounced = response.status_code in (202, 301, 302, 303, 307, 308)
        self._bounces = self._bounces + 1 if bounced else 0
        if self._bounces > MAX_BOUNCES:
            self._bounces = 0
            raise RedirectLoop(
                f"it sent the request elsewhere (or asked it again) {MAX_BOUNCES + 1} times "
                f"in a row, the last time with {response.status_code}"
            )
        return response


class _PacedConnection:
    """PyGithub's connection (one requests Session, kept alive), sending through `_PacedAdapter`.

    The proxy and CA-bundle variables (`HTTPS_PROXY`, `NO_PROXY`, `REQUESTS_CA_BUNDLE`, ...) are
    read once for the connection's host, as requests would read them: requests otherwise reads
    the whole environment again for every request, a quarter of the client's time per request.
    """

    protocol: str
    host: str
    port: int
    verify: bool | str | None
    retry: Any
    pool_size: int
    session: requests.Session
    adapter: requests.adapters.HTTPAdapter

    def __init__(self, *args: Any, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.adapter = _PacedAdapter(
            pacer,
            max_retries=self.retry,
            pool_connections=self.pool_size,
            pool_maxsize=self.pool_size,
        )
        self.session.mount(f"{self.protocol}://", self.adapter)
        url = f"{self.protocol}://{self.host}:{self.port}/"
        environment = self.session.merge_environment_settings(url, {}, None, self.verify, None)
        self.session.proxies = environment["proxies"]
        self.verify = environment["verify"]  # PyGithub passes it with every request
        self.session.trust_env = False


class _PacedHTTPConnection(_PacedConnection, HTTPRequestsConnectionClass):
    pass


class _PacedHTTPSConnection(_PacedConnection, HTTPSRequestsConnectionClass):
    pass


class _PacedToken(Auth.Token, WithRequester["_PacedToken"]):
    """The token, for clients whose every request waits for the shared pacer.

    PyGithub hands the Auth each Requester it builds (the copies `withLazy` makes included), so
    this is where each one gets paced connections. PyGithub has no public way to choose them:
    the Requester keeps its connection classes in private attributes (the one for its base URL,
    and one per scheme for a URL on another host), checked here so a PyGithub that renames
    them fails loudly instead of sending unpaced requests.
    """

    def __init__(self, token: str, pacer: Pacer) -> None:
        super().__init__(token)
        self._pacer = pacer

    def withRequester(self, requester: Requester) -> _PacedToken:
        http = functools.partial(_PacedHTTPConnection, pacer=self._pacer)
        https = functools.partial(_PacedHTTPSConnection, pacer=self._pacer)
        classes = {
            "_Requester__httpConnectionClass": http,
            "_Requester__httpsConnectionClass": https,
            "_Requester__connectionClass": https if requester.scheme == "https" else http,
        }
        for attribute, connection in classes.items():
            if not hasattr(requester, attribute):
                raise RuntimeError("This PyGithub version cannot be paced: pin the tested one.")
            setattr(requester, attribute, connection)
        return self


class _BoundedRetry(GithubRetry):
    """PyGithub's retry, plus 429 (a primary limit's 429 waits for its reset, as PyGithub does
    only for a 403), a cap on every rate-limit wait, and the shared pacer.

    Each retry waits its jittered backoff (or GitHub's `Retry-After`), then takes a turn from
    the pacer like any request. A rate-limit answer holds back every worker, not only this one.
    """

    def __init__(
        self, *, pacer: Pacer, clock: Callable[[], float] = time.time, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.pacer = pacer
        self.clock = clock

    def new(self, **kw: Any) -> Any:
        kw.setdefault("pacer", self.pacer)
        kw.setdefault("clock", self.clock)
        return super().new(**kw)

    def sleep(self, response: Any = None) -> None:
        if response is not None and response.status in (403, 429):
            wait = self.get_retry_after(response) or self.get_backoff_time()
            secondary = response.headers.get("x-ratelimit-remaining") != "0"
            # acquire() below waits it out, with every other worker
            self.pacer.slow_down(wait, halve_rate=secondary)
        else:
            super().sleep(response)
        self.pacer.acquire()

    def get_retry_after(self, response: Any) -> float | None:
        wait: float | None = super().get_retry_after(response)
        if wait is None and response.status in (403, 429):
            wait = _until_reset(response.headers, now=self.clock())
        limit = self.max_rate_limit_wait
        if wait is not None and limit is not None and wait > limit:
            raise RateLimitExceededExceedsMaxWait(
                response.status, None, dict(response.headers), wait=wait
            )
        return wait


def _until_reset(headers: Any, *, now: float) -> float | None:
    """A primary rate limit (403 or 429 with `x-ratelimit-remaining: 0`) lasts until
    `x-ratelimit-reset` (epoch seconds), plus a second as PyGithub adds: which part of that
    second it resets in is unknown. None for any other answer. `now`: epoch seconds.
    https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
    """
    reset = str(headers.get("x-ratelimit-reset") or "")
    if headers.get("x-ratelimit-remaining") != "0" or not reset.isdigit():
        return None
    return max(0.0, int(reset) - now) + 1


def new_client(
    *,
    token: str,
    api_url: str,
    policy: RetryPolicy,
    pacer: Pacer,
    clock: Callable[[], float] = time.time,
) -> Github:
    """A PyGithub client whose every request, retries included, takes its turn from `pacer`
    and is retried as `policy` says; rate-limit resets are read against `clock` (epoch
    seconds). Not thread-safe: one per thread."""
    retry = _BoundedRetry(
        pacer=pacer,
        clock=clock,
        total=policy.attempts,
        backoff_factor=policy.backoff,
        backoff_jitter=policy.backoff / 2,
        status_forcelist=[429, *range(500, 600)],
        secondary_rate_wait=policy.secondary_wait,
        max_rate_limit_wait=policy.max_wait,
    )
    return Github(
        base_url=api_url,
        auth=_PacedToken(token, pacer),
        retry=retry,
        timeout=max(1, round(policy.timeout)),
        per_page=100,
        seconds_between_requests=policy.pause or None,
    )


class GitHubSource:
    """A TrafficSource over the REST API, safe to call from several threads.

    PyGithub objects are not thread-safe, so each thread gets its own client; all clients share
    one Pacer, which keeps the whole run under GitHub's secondary limits and counts requests.
    """

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        policy: RetryPolicy = RetryPolicy(),
        pacer: Pacer | None = None,
        graphql_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` (epoch seconds) is the one clock both APIs' rate-limit resets are read
        against: the wall clock, or a simulated GitHub's."""
        self._token = token
        self._api_url = api_url
        self._graphql_url = graphql_url  # GITHUB_GRAPHQL_URL, taken only on the API's host
        self._policy = policy
        self._clock = clock
        self.pacer = pacer or Pacer()
        self._local = threading.local()
        self._growth: GraphQLClient | None = None
        self._growth_lock = threading.Lock()

    @property
    def _github(self) -> Github:
        """This thread's client."""
        client: Github | None = getattr(self._local, "github", None)
        if client is None:
            client = self._local.github = self._new_client()
        return client

    def _new_client(self) -> Github:
        return new_client(
            token=self._token,
            api_url=self._api_url,
            policy=self._policy,
            pacer=self.pacer,
            clock=self._clock,
        )

    @property
    def requests_made(self) -> int:
        """API requests so far, retries included (`GET /rate_limit` is free and not counted)."""
        return self.pacer.requests

    def remaining_requests(self) -> int | None:
        """What the token has left this hour (the free `GET /rate_limit`), None if unknown."""
        core = self.budgets().get("core")
        return None if core is None else core[0]

    def budgets(self) -> dict[str, tuple[int, int]]:
        """The token's budgets this hour, resource -> (remaining, limit): "core" for REST,
        "graphql" for GraphQL's points; {} when unknown. `GET /rate_limit` is free: it waits
        its turn but is not counted (PyGithub's path would count it)."""
        try:
            self.pacer.acquire(free=True)
            with deadline_session() as session:
                answer = session.get(
                    f"{self._api_url}/rate_limit",
                    headers={
                        "Authorization": f"token {self._token}",
                        "Accept": "application/vnd.github+json",
                    },
                    timeout=self._policy.timeout,
                )
            return answers.budgets(answer.json()) if answer.ok else {}
        except (requests.RequestException, ValueError, answers.BadAnswer):
            return {}

    def viewer(self) -> str:
        """The token's own login (`GET /user`); a token without a user (a workflow's
        GITHUB_TOKEN, a GitHub App's installation token) raises AccessDeniedError."""
        return self._fetch("/user", "the token", answers.account)[0]

    def can_push(self, full_name: str) -> bool:
        """Whether the token may push to `full_name` (`GET /repos/{o}/{r}`'s permissions)."""
        return self._fetch(f"/repos/{full_name}", full_name, answers.repo_push)

    def expand(
        self, patterns: Sequence[RepoPattern], *, include_forks: bool, include_archived: bool
    ) -> tuple[list[RepoRef], list[tuple[str, RepoError]]]:
        """Repos to sync (listing order, deduplicated case-insensitively; listed ones with
        their id) and failed patterns."""
        refs: dict[str, RepoRef] = {}
        failures: list[tuple[str, RepoError]] = []
        for pattern in (p for p in patterns if not p.exclude):
            if not pattern.is_wildcard:
                refs.setdefault(str(pattern).lower(), RepoRef(str(pattern)))
                continue
            try:
                for repo, fork, archived in self._list_owner(pattern.owner):
                    if (fork and not include_forks) or (archived and not include_archived):
                        continue
                    # a repo also named keeps its place and spelling, and learns its id
                    named = refs.get(repo.full_name.lower())
                    if named is None or named.id is None:
                        name = named.full_name if named else repo.full_name
                        refs[repo.full_name.lower()] = RepoRef(name, repo.id)
            except RepoError as error:
                failures.append((str(pattern), error))
        excludes = [p for p in patterns if p.exclude]
        kept = [r for r in refs.values() if not any(x.matches(r.full_name) for x in excludes)]
        return kept, failures

    def _list_owner(self, owner: str) -> list[tuple[RepoRef, bool, bool]]:
        """Every repo of a user or org the token can see, 100 a page: (repo, fork, archived)."""
        what = f"{owner}/*"
        login, kind = self._fetch(f"/users/{owner}", what, answers.account)
        if kind == "Organization":
            return self._pages(f"/orgs/{login}/repos", what, answers.listed_repo, type="all")
        viewer, _ = self._fetch("/user", what, answers.account)
        if viewer.lower() == owner.lower():
            return self._pages("/user/repos", what, answers.listed_repo, affiliation="owner")
        return self._pages(f"/users/{login}/repos", what, answers.listed_repo)

    def describe(
        self, names: Sequence[str], *, tops: bool = False, workers: int = 1
    ) -> tuple[list[Described], TrafficSyncError | None]:
        """Each name's facts from GraphQL, `BATCH` a query, `workers` queries at a time (with
        `tops`, each repo's first page of stars and forks too). A batch GraphQL cannot answer
        (no GraphQL API, its points spent, retries run out) comes back without facts and
        `observe` fetches them over REST, one request more a repo: nothing is lost. A 401
        raises."""
        client = self.growth_client()
        batches = [names[start : start + BATCH] for start in range(0, len(names), BATCH)]
        if not batches:
            return [], None
        described: list[Described] = []
        reason: TrafficSyncError | None = None
        count = max(1, min(workers, len(batches)))
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="traffic-sync-facts") as pool:
            outcomes = [pool.submit(describe, client, batch, tops=tops) for batch in batches]
            for batch, outcome in zip(batches, outcomes, strict=True):
                try:
                    described.extend(outcome.result())
                except AuthError:
                    for other in outcomes:
                        other.cancel()
                    raise
                except RepoError as error:  # RateLimitedError and TransientError included
                    reason = reason or error
                    described.extend(Described(name) for name in batch)
        return described, reason

    def observe(
        self,
        full_name: str,
        *,
        fetched_on: dt.date,
        accept: Callable[[int], bool] | None = None,
        releases: bool = False,
        info: RepoInfo | None = None,
    ) -> Observation:
        """The four traffic requests for one repo (five with `releases`), each answer checked
        and turned into typed records (see `answers`): an answer GitHub never sends fails the
        repo. `info` is the repo's facts (`describe`); without it `GET /repos/{o}/{r}` asks.

        With `accept`, a repo whose id it refuses raises Declined before any traffic request
        (a sharded run learning a named repo's id).
        """
        repo = info or self._fetch(f"/repos/{full_name}", full_name, answers.repo_info)
        if accept is not None and not accept(repo.id):
            raise Declined(repo.full_name, repo.id)
        # the canonical name: a renamed repo's old one would cost a 301 per request
        base = f"/repos/{repo.full_name}"
        day = {"per": "day"}
        views = self._fetch(f"{base}/traffic/views", full_name, _traffic("views", fetched_on), day)
        clones = self._fetch(
            f"{base}/traffic/clones", full_name, _traffic("clones", fetched_on), day
        )
        referrers = self._fetch(f"{base}/traffic/popular/referrers", full_name, answers.referrers)
        paths = self._fetch(f"{base}/traffic/popular/paths", full_name, answers.paths)
        assets, failure = self._releases(repo.full_name) if releases else (None, None)
        return Observation(
            repo=repo,
            fetched_on=fetched_on,
            views=views,
            clones=clones,
            referrers=referrers,
            paths=paths,
            releases=assets,
            warnings=(failure,) if failure else (),
        )

    def _fetch(
        self,
        path: str,
        what: str,
        read: Callable[[Any], T],
        parameters: dict[str, Any] | None = None,
    ) -> T:
        """`GET path`, its answer checked by `read`: one that breaks GitHub's documented shape
        is `what`'s MalformedAnswerError, naming the endpoint."""
        return self._get(path, what, read, parameters)[1]

    def _get(
        self,
        path: str,
        what: str,
        read: Callable[[Any], T],
        parameters: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], T]:
        """(headers, checked answer) of `GET path` (or of a next page's whole URL)."""
        requester = self._github.requester  # built outside `_call`: a failure here is a bug
        headers, data = _call(
            lambda: requester.requestJsonAndCheck("GET", path, parameters), what, path
        )
        try:
            return headers, read(data)
        except answers.BadAnswer as error:
            raise answers.malformed(what, path, str(error)) from None

    def _pages(self, path: str, what: str, read: Callable[[Any], T], **query: str) -> list[T]:
        """Every item of a listing, following GitHub's `Link: <...>; rel="next"` header,
        which must stay on the API's own host (the token goes with each request)."""
        items: list[T] = []
        url: str | None = path
        parameters: dict[str, Any] | None = {**query, "per_page": 100}
        seen: set[str] = set()
        while url is not None:
            headers, page = self._get(url, what, answers.listing, parameters)
            items.extend(_checked(what, url, read, item) for item in page)
            seen.add(url)
            try:
                url = answers.next_page(headers.get("link"), self._api_url, seen=seen)
            except answers.BadAnswer as error:
                raise answers.malformed(what, path, str(error)) from None
            parameters = None  # the next page's URL carries them
        return items

    def _releases(self, full_name: str) -> tuple[tuple[ReleaseAsset, ...] | None, RepoError | None]:
        """The release assets, or None and why: a token that reads traffic but not contents
        (a fine-grained token without "Contents: read") must not cost the repo its traffic.
        A rate limit or a 401 still stops collection, as for any request."""
        try:
            releases = self._pages(
                f"/repos/{full_name}/releases", full_name, answers.release_assets
            )
            assets = (asset for release in releases for asset in release)
            return tuple(sorted(assets, key=lambda a: (a.tag, a.asset))), None
        except (AuthError, RateLimitedError):
            raise
        except AccessDeniedError as error:
            return None, ReleasesUnreadError(
                f"{full_name}: its releases could not be read ({error.message}).",
                fix="Release downloads need read access to the repo's contents (a fine-grained "
                "token: 'Contents: read'). The repo's traffic is saved as usual.",
            )
        except RepoError as error:
            return None, ReleasesUnreadError(
                f"{full_name}: its releases could not be read ({error.message}).",
                fix="The next run tries again; the repo's traffic is saved as usual.",
            )

    def star_history(self, full_name: str, *, since: dt.date | None) -> GrowthFetch:
        """A repo's stars from `GET /repos/{o}/{r}/stargazers/history`, newest week first, down
        to the week of `since` (counted again in full; None: back to the repo's creation). The
        stars still given today, by the UTC day they were given: what walking the stargazers
        gives, at a request per 30 weeks instead of a query per 100 stars."""
        path = f"/repos/{full_name}/stargazers/history"
        weeks: list[tuple[dt.date, tuple[int, ...]]] = []
        requests = 0
        for page in range(1, HISTORY_PAGES + 1):
            query = {"per_page": WEEKS_PER_PAGE, "page": page}
            items = self._fetch(path, f"{full_name} stars", answers.star_history, query)
            requests += 1
            weeks.extend(items)
            reached = min((start for start, _ in items), default=None)
            if len(items) < WEEKS_PER_PAGE or reached is None:
                break
            if since is not None and reached <= since:
                break
        return GrowthFetch(
            series=Series.STARS,
            rows=weekly_growth(weeks, since=since),
            requests=requests,
        )

    def growth_client(self) -> GraphQLClient:
        """One GraphQL client for the run (thread-safe), at the REST API's GraphQL endpoint."""

        with self._growth_lock:
            if self._growth is None:
                self._growth = GraphQLClient(
                    token=self._token,
                    url=graphql_url(self._api_url, self._graphql_url),
                    policy=self._policy,
                    clock=self._clock,
                )
            return self._growth

    def is_private(self, full_name: str) -> bool | None:
        """The data repository's visibility, or None when the token cannot see it."""
        try:
            return self._fetch(f"/repos/{full_name}", full_name, answers.repo_private)
        except (RepoNotFoundError, MalformedAnswerError):
            return None


def _traffic(key: str, fetched_on: dt.date) -> Callable[[Any], TrafficAnswer]:
    return functools.partial(answers.traffic, key=key, fetched_on=fetched_on)


def _checked(what: str, path: str, read: Callable[[Any], T], item: Any) -> T:
    try:
        return read(item)
    except answers.BadAnswer as error:
        raise answers.malformed(what, path, str(error)) from None


def _call(fetch: Callable[[], T], what: str, path: str = "") -> T:
    """Run one API call, turning every failure into our error hierarchy (status first)."""
    try:
        return fetch()
    except RedirectLoop as exc:
        raise answers.malformed(what, path, str(exc)) from None
    except RateLimitExceededExceedsMaxWait as exc:
        wait = exc.wait or 0.0
        raise RateLimitedError(
            f"GitHub asks to wait {wait:.0f} s before the next request (rate limit).",
            fix="The repos not reached are reported as skipped; the next run collects them.",
            wait_seconds=wait,
        ) from None
    except GithubException as exc:
        raise classify(exc.status, _message(exc.data), what) from None
    except (requests.RequestException, OSError) as exc:
        raise TransientError(
            f"{what}: GitHub did not answer after retries ({type(exc).__name__}).",
            fix="This is usually temporary; the next run collects the same 14 days again.",
        ) from None
    except ValueError as exc:  # a body that is not JSON, or not UTF-8
        raise answers.malformed(
            what, path, f"the body is not JSON ({type(exc).__name__})"
        ) from None
    except RuntimeError as exc:  # PyGithub refuses a redirect to another host or to itself
        raise answers.malformed(what, path, f"a redirect PyGithub cannot follow ({exc})") from None


def _message(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("message", ""))
    return str(data or "")


def classify(status: int, message: str, what: str) -> RepoError:
    """One failed answer as an error that says what to fix."""
    lowered = message.lower()
    if status == 401:
        return AuthError(
            f"{what}: GitHub rejected the token (401 {message or 'Bad credentials'}).",
            fix="The token is wrong, expired or revoked: make a new one and update the secret.",
        )
    if status == 404:
        return RepoNotFoundError(
            f"{what}: not found (404).",
            fix="Check the spelling. For a private repo the token must have access to it "
            "(classic PAT `repo` scope, or a fine-grained PAT that includes this repo).",
        )
    if status in (403, 429) and "rate limit" in lowered:
        return TransientError(f"{what}: rate limited ({status} {message}).")
    if status == 403:
        if "not accessible by integration" in lowered:
            why = "this token cannot read traffic (GITHUB_TOKEN, or an app without that permission)"
        elif "push access" in lowered:
            why = "the token's user has no push access to this repo"
        else:
            why = message or "forbidden"
        return AccessDeniedError(f"{what}: {why} (403).", fix=TRAFFIC_ACCESS_HELP)
    return TransientError(f"{what}: GitHub answered {status} {message}".strip() + ".")
