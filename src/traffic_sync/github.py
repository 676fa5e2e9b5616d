"""Collection through PyGithub: expand `repos`, fetch five answers per repo, classify failures.

Requests per repo are exactly five: `GET /repos/{o}/{r}` (canonical name, id, creation day,
visibility, and `subscribers_count`, which listings lack) and the four traffic calls.
https://docs.github.com/rest/metrics/traffic
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.Repository import Repository

from traffic_sync.errors import (
    AccessDeniedError,
    AuthError,
    RateLimitedError,
    RepoError,
    RepoNotFoundError,
    TransientError,
)
from traffic_sync.models import (
    Bucket,
    Observation,
    PopularPath,
    Referrer,
    RepoInfo,
    TrafficAnswer,
)
from traffic_sync.settings import RepoPattern

T = TypeVar("T")

TRAFFIC_ACCESS_HELP = (
    "Traffic needs a token with push access to the repo: a classic PAT with the `repo` scope, "
    "a fine-grained PAT with the repository permission 'Administration: read', or a GitHub App "
    "installation token with administration read. The workflow's GITHUB_TOKEN cannot read traffic."
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long collection may wait: bounded, so a rate limit never parks a run for an hour."""

    attempts: int = 4  # retries after the first try, for 5xx, 429, timeouts and rate limits
    backoff: float = 2.0  # seconds, doubled per retry, with jitter
    max_wait: float = 300.0  # a rate-limit wait longer than this stops collection instead
    secondary_wait: float = 60.0  # GitHub asks for at least a minute after a secondary limit
    timeout: float = 30.0  # seconds per request
    # spacing between requests: with 20 ms or more of latency, 50 ms keeps one client under
    # GitHub's secondary limit of 900 requests a minute (PyGithub's default of 250 ms would
    # make a 1,000-repo run take 20 minutes of sleeping)
    pause: float = 0.05


class TrafficSource(Protocol):
    """Where observations come from: GitHub through PyGithub, or anything that acts like it."""

    def expand(
        self, patterns: Sequence[RepoPattern], *, include_forks: bool, include_archived: bool
    ) -> tuple[list[str], list[tuple[str, RepoError]]]: ...

    def observe(self, full_name: str, *, fetched_on: dt.date) -> Observation: ...

    def is_private(self, full_name: str) -> bool | None: ...


class _BoundedRetry(GithubRetry):
    """PyGithub's retry, plus 429, and a cap on `Retry-After` waits as well as reset waits."""

    def get_retry_after(self, response: Any) -> float | None:
        wait: float | None = super().get_retry_after(response)
        limit = self.max_rate_limit_wait
        if wait is not None and limit is not None and wait > limit:
            raise RateLimitExceededExceedsMaxWait(
                response.status, None, dict(response.headers), wait=wait
            )
        return wait


class GitHubSource:
    """A TrafficSource over the REST API. One PyGithub client: its objects are not thread-safe."""

    def __init__(self, *, token: str, api_url: str, policy: RetryPolicy = RetryPolicy()) -> None:
        retry = _BoundedRetry(
            total=policy.attempts,
            backoff_factor=policy.backoff,
            backoff_jitter=policy.backoff / 2,
            status_forcelist=[429, *range(500, 600)],
            secondary_rate_wait=policy.secondary_wait,
            max_rate_limit_wait=policy.max_wait,
        )
        self._github = Github(
            base_url=api_url,
            auth=Auth.Token(token),
            retry=retry,
            timeout=int(policy.timeout),
            per_page=100,
            seconds_between_requests=policy.pause,
        )

    def expand(
        self, patterns: Sequence[RepoPattern], *, include_forks: bool, include_archived: bool
    ) -> tuple[list[str], list[tuple[str, RepoError]]]:
        """Names to sync (listing order, deduplicated case-insensitively) and failed patterns."""
        names: dict[str, str] = {}
        failures: list[tuple[str, RepoError]] = []
        for pattern in (p for p in patterns if not p.exclude):
            if not pattern.is_wildcard:
                names.setdefault(str(pattern).lower(), str(pattern))
                continue
            try:
                for repo in self._list_owner(pattern.owner):
                    if (repo.fork and not include_forks) or (
                        repo.archived and not include_archived
                    ):
                        continue
                    names.setdefault(repo.full_name.lower(), repo.full_name)
            except RepoError as error:
                failures.append((str(pattern), error))
        excludes = [p for p in patterns if p.exclude]
        kept = [n for n in names.values() if not any(x.matches(n) for x in excludes)]
        return kept, failures

    def _list_owner(self, owner: str) -> Iterable[Repository]:
        """Every repo of a user or org the token can see, 100 a page."""
        account = _call(lambda: self._github.get_user(owner), f"{owner}/*")
        if account.type == "Organization":
            lazy = self._github.withLazy(True)
            return _listing(lazy.get_organization(account.login).get_repos(type="all"), owner)
        viewer = self._github.get_user()
        if _call(lambda: viewer.login, f"{owner}/*").lower() == owner.lower():
            return _listing(viewer.get_repos(affiliation="owner"), owner)
        return _listing(account.get_repos(), owner)

    def observe(self, full_name: str, *, fetched_on: dt.date) -> Observation:
        """The five requests for one repo, turned into typed records."""
        repo = _call(lambda: self._github.get_repo(full_name), full_name)
        views = _call(lambda: repo.get_views_traffic(per="day"), full_name)
        clones = _call(lambda: repo.get_clones_traffic(per="day"), full_name)
        referrers = _call(repo.get_top_referrers, full_name) or []
        paths = _call(repo.get_top_paths, full_name) or []
        return Observation(
            repo=_repo_info(repo),
            fetched_on=fetched_on,
            views=_answer(views, "views"),
            clones=_answer(clones, "clones"),
            referrers=tuple(Referrer(r.referrer, r.count, r.uniques) for r in referrers),
            paths=tuple(PopularPath(p.path, p.title, p.count, p.uniques) for p in paths),
        )

    def is_private(self, full_name: str) -> bool | None:
        """The data repository's visibility, or None when the token cannot see it."""
        try:
            return bool(_call(lambda: self._github.get_repo(full_name), full_name).private)
        except RepoNotFoundError:
            return None


def _repo_info(repo: Repository) -> RepoInfo:
    return RepoInfo(
        full_name=repo.full_name,
        id=repo.id,
        created=repo.created_at.astimezone(dt.UTC).date(),
        private=bool(repo.private),
        fork=bool(repo.fork),
        archived=bool(repo.archived),
        stars=repo.stargazers_count,
        forks=repo.forks_count,
        # the API's watchers_count is the star count; watchers are subscribers
        watchers=repo.subscribers_count,
        open_issues=repo.open_issues_count,
    )


def _answer(traffic: Any, key: str) -> TrafficAnswer:
    if traffic is None:
        return TrafficAnswer(0, 0)
    items = getattr(traffic, key) or []
    return TrafficAnswer(
        count=traffic.count or 0,
        uniques=traffic.uniques or 0,
        buckets=tuple(
            Bucket(i.timestamp.astimezone(dt.UTC).date(), i.count, i.uniques) for i in items
        ),
    )


def _listing(pages: Iterable[Repository], owner: str) -> list[Repository]:
    return _call(lambda: list(pages), f"{owner}/*")


def _call(fetch: Callable[[], T], what: str) -> T:
    """Run one API call, turning every failure into our error hierarchy (status first)."""
    try:
        return fetch()
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
