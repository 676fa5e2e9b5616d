"""GitHub's answers, checked and turned into typed records: the one place raw JSON is trusted.

Each function takes the decoded JSON of one answer and returns records, or raises BadAnswer
saying what is wrong. The shapes are GitHub's documented ones (its OpenAPI description):
https://docs.github.com/rest/metrics/traffic
https://docs.github.com/rest/repos/repos#get-a-repository
https://docs.github.com/rest/releases/releases#list-releases

Counts are integers (not bools, not floats, not text) from 0 to MAX_COUNT; dates are real and
inside the window the endpoint covers; names are of GitHub's characters. Anything else is an
answer GitHub never sends, so nothing of it may become stored history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from typing import Any

import requests

from traffic_sync.core.errors import MalformedAnswerError
from traffic_sync.core.models import (
    Bucket,
    PopularPath,
    Referrer,
    ReleaseAsset,
    RepoInfo,
    RepoRef,
    TrafficAnswer,
)

# The largest integer every JSON reader holds exactly (I-JSON, RFC 7493 section 2.2): the
# charts read the files in JavaScript. No real traffic count comes near it.
MAX_COUNT = 2**53 - 1
# A fetch on UTC day F answers F-14 .. F; a run that starts before midnight UTC may fetch
# after it, when GitHub's newest bucket is F+1.
WINDOW_BACK = 14
WINDOW_AHEAD = 1
# 100 repos a page: an owner with 100,000 repos is more than GitHub lists for one account
MAX_PAGES = 1000
_NAME_PART = re.compile(r"[A-Za-z0-9._-]+")


class BadAnswer(ValueError):
    """An answer in a shape GitHub never sends; the message says what is wrong."""


def repo_info(data: Any) -> RepoInfo:
    """`GET /repos/{o}/{r}`: the canonical name, id, creation day and counters."""
    repo = _object(data, "the repository")
    return RepoInfo(
        full_name=full_name(repo.get("full_name")),
        id=_count(repo, "id"),
        created=_instant(repo, "created_at").date(),
        private=_bool(repo, "private"),
        fork=_bool(repo, "fork"),
        archived=_bool(repo, "archived"),
        stars=_count(repo, "stargazers_count"),
        forks=_count(repo, "forks_count"),
        # the API's watchers_count is the star count; watchers are subscribers
        watchers=_count(repo, "subscribers_count"),
        open_issues=_count(repo, "open_issues_count"),
    )


# GraphQL's RepositoryPermission, weakest first; traffic needs push access (WRITE or more)
PERMISSIONS = ("READ", "TRIAGE", "WRITE", "MAINTAIN", "ADMIN")


def described_repo(data: Any) -> tuple[RepoInfo, str | None]:
    """GraphQL's `repository { ... }` as `github.describe` asks it: the same record as
    `GET /repos/{o}/{r}` gives, and the token's permission on the repo (None: not said)."""
    repo = _object(data, "the repository")
    permission = repo.get("viewerPermission")
    if permission is not None and permission not in PERMISSIONS:
        raise BadAnswer(f"`viewerPermission` is {_show(permission)}, not a RepositoryPermission")
    issues = _count(_object(repo.get("issues"), "`issues`"), "totalCount")
    pulls = _count(_object(repo.get("pullRequests"), "`pullRequests`"), "totalCount")
    info = RepoInfo(
        full_name=full_name(repo.get("nameWithOwner")),
        id=_count(repo, "databaseId"),
        created=_instant(repo, "createdAt").date(),
        private=_bool(repo, "isPrivate"),
        fork=_bool(repo, "isFork"),
        archived=_bool(repo, "isArchived"),
        stars=_count(repo, "stargazerCount"),
        forks=_count(repo, "forkCount"),
        watchers=_count(_object(repo.get("watchers"), "`watchers`"), "totalCount"),
        # REST's open_issues_count counts open pull requests too
        open_issues=issues + pulls,
    )
    return info, permission


def star_history(data: Any) -> list[tuple[dt.date, tuple[int, ...]]]:
    """`GET /repos/{o}/{r}/stargazers/history`: each week's Sunday (from `week`, epoch seconds
    of its start, a UTC midnight) and its seven days' counts, whose sum is its `total`."""
    weeks: list[tuple[dt.date, tuple[int, ...]]] = []
    for item in _list(data, "the star history"):
        week = _object(item, "a week of the star history")
        start = _count(week, "week")
        days = _list(week.get("days"), "`days`")
        counts = tuple(_count({"days[]": day}, "days[]") for day in days)
        if start % 86_400 or len(counts) != 7:
            raise BadAnswer(f"a week of {len(counts)} days from {start}, not 7 from a midnight")
        if _count(week, "total") != sum(counts):
            raise BadAnswer(f"`total` {week['total']} is not the sum of `days` {list(counts)}")
        weeks.append((dt.datetime.fromtimestamp(start, dt.UTC).date(), counts))
    return weeks


def listed_repo(data: Any) -> tuple[RepoRef, bool, bool]:
    """One repo of an owner's listing: (its name and id, fork, archived)."""
    repo = _object(data, "a listed repository")
    ref = RepoRef(full_name(repo.get("full_name")), _count(repo, "id"))
    return ref, _bool(repo, "fork"), _bool(repo, "archived")


def repo_push(data: Any) -> bool:
    """`GET /repos/{o}/{r}`'s `permissions.push`: whether the token may push (false when
    GitHub leaves `permissions` out, as it does for a token that may only read)."""
    permissions = _object(data, "the repository").get("permissions", {})
    return _bool(_object(permissions, "`permissions`"), "push") if permissions else False


def budgets(data: Any) -> dict[str, tuple[int, int]]:
    """`GET /rate_limit`: resource ("core", "graphql", ...) -> (remaining, limit)."""
    resources = _object(_object(data, "the rate limits").get("resources"), "`resources`")
    return {
        str(name): (_count(bucket, "remaining"), _count(bucket, "limit"))
        for name, bucket in resources.items()
        if isinstance(bucket, dict)
    }


def repo_private(data: Any) -> bool:
    """`GET /repos/{o}/{r}`'s `private` alone (the data repository's visibility)."""
    return _bool(_object(data, "the repository"), "private")


def account(data: Any) -> tuple[str, str]:
    """`GET /users/{login}` or `GET /user`: (login, type), e.g. ("octo-org", "Organization")."""
    user = _object(data, "the account")
    login, kind = user.get("login"), user.get("type", "User")
    if not isinstance(login, str) or not _NAME_PART.fullmatch(login):
        raise BadAnswer(f"`login` is {_show(login)}, not a GitHub login")
    if not isinstance(kind, str):
        raise BadAnswer(f"`type` is {_show(kind)}, not text")
    return login, kind


def full_name(value: Any) -> str:
    """An `owner/name`: exactly two non-empty parts of GitHub's name characters, neither
    `.` nor `..`, since it becomes the repo's folder on the data branch."""
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) != 2 or not all(
        _NAME_PART.fullmatch(part) and part not in (".", "..") for part in parts
    ):
        raise BadAnswer(f"`full_name` is {_show(value)}, not owner/name of GitHub's characters")
    return str(value)


def traffic(data: Any, key: str, *, fetched_on: dt.date) -> TrafficAnswer:
    """`GET /repos/{o}/{r}/traffic/views|clones?per=day`: totals and a bucket per day."""
    answer = _object(data, f"the {key} traffic")
    items = answer.get(key)
    if not isinstance(items, list):
        raise BadAnswer(f"`{key}` is {_show(items)}, not a list of days")
    first = fetched_on - dt.timedelta(days=WINDOW_BACK)
    last = fetched_on + dt.timedelta(days=WINDOW_AHEAD)
    buckets: dict[dt.date, Bucket] = {}
    for item in items:
        bucket = _object(item, f"a day of `{key}`")
        day = _instant(bucket, "timestamp").date()
        if not first <= day <= last:
            raise BadAnswer(f"a day of `{key}` is {day}, outside the window {first} .. {last}")
        if day in buckets:
            raise BadAnswer(f"`{key}` holds {day} twice")
        buckets[day] = Bucket(day, _count(bucket, "count"), _count(bucket, "uniques"))
    return TrafficAnswer(
        count=_count(answer, "count"),
        uniques=_count(answer, "uniques"),
        buckets=tuple(buckets[day] for day in sorted(buckets)),
    )


def referrers(data: Any) -> tuple[Referrer, ...]:
    """`GET /repos/{o}/{r}/traffic/popular/referrers`: the top referrers."""
    rows = [_object(item, "a referrer") for item in _list(data, "the referrers")]
    return tuple(
        Referrer(_text(row, "referrer"), _count(row, "count"), _count(row, "uniques"))
        for row in rows
    )


def paths(data: Any) -> tuple[PopularPath, ...]:
    """`GET /repos/{o}/{r}/traffic/popular/paths`: the popular content."""
    rows = [_object(item, "a path") for item in _list(data, "the paths")]
    return tuple(
        PopularPath(
            _text(row, "path"), _text(row, "title"), _count(row, "count"), _count(row, "uniques")
        )
        for row in rows
    )


def release_assets(data: Any) -> list[ReleaseAsset]:
    """One release of `GET /repos/{o}/{r}/releases`: its assets, none for a draft (drafts
    have no downloads)."""
    release = _object(data, "a release")
    if _bool(release, "draft"):
        return []
    tag = _text(release, "tag_name")
    assets = [_object(entry, "an asset") for entry in _list(release.get("assets"), "assets")]
    return [ReleaseAsset(tag, _text(a, "name"), _count(a, "download_count")) for a in assets]


def listing(data: Any) -> list[Any]:
    """One page of a listing: a JSON array."""
    return _list(data, "the page")


def next_page(link: Any, api_url: str, *, seen: Collection[str]) -> str | None:
    """The URL of a listing's next page from its `Link` header, None after the last page.
    It must be on the API's own host (the token goes with it) and not one already read.
    https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api"""
    links = requests.utils.parse_header_links(link) if isinstance(link, str) else []
    url = next((item.get("url") for item in links if item.get("rel") == "next"), None)
    if url is None:
        return None
    if not url.startswith(f"{api_url.rstrip('/')}/"):
        raise BadAnswer(f"the next page is at {_show(url)}, not on {api_url}")
    if url in seen or len(seen) >= MAX_PAGES:
        raise BadAnswer(f"the pages do not end ({len(seen):,} read)")
    return url


# --- one value ----------------------------------------------------------------------------------


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BadAnswer(f"{what} is {_show(value)}, not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadAnswer(f"{what} is {_show(value)}, not a JSON array")
    return value


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    # bool is an int in Python, never a count in JSON
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BadAnswer(f"`{key}` is {_show(value)}, not a count from 0 to {MAX_COUNT:,}")
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise BadAnswer(f"`{key}` is {_show(value)}, not true or false")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise BadAnswer(f"`{key}` is {_show(value)}, not text")
    return value


def _instant(data: Mapping[str, Any], key: str) -> dt.datetime:
    """An ISO 8601 date-time as GitHub writes it (`2024-01-09T00:00:00Z`), in UTC."""
    value = data.get(key)
    try:
        stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise BadAnswer(f"`{key}` is {_show(value)}, not a date-time with its time zone")
    return stamp.astimezone(dt.UTC)


def _show(value: Any) -> str:
    """A value as the message shows it: short, its type said, never a whole body."""
    if value is None:
        return "missing (or null)"
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def malformed(what: str, path: str, problem: str, *, method: str = "GET") -> MalformedAnswerError:
    """`what`'s error for an answer to `method path` in a shape GitHub never sends."""
    return MalformedAnswerError(
        f"{what}: GitHub's answer to {method} {path} is not in the shape GitHub documents: "
        f"{problem}.",
        fix="Nothing of it was stored and the stored history is unchanged; the next run asks "
        "again. If it keeps happening, a proxy or a GitHub Enterprise Server in between may be "
        "answering instead of GitHub's API.",
    )
