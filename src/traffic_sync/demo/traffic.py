"""The simulated repos and their true traffic: a deterministic model, pure.

What GitHub would answer about a repo's traffic on any UTC day, from (seed, name, metric, day)
alone: the whole days' counts (`daily_truth`), the 14-day window a fetch sees
(`traffic_window`), the top referrers and paths, when each star and fork came
(`growth_timeline`) and the release assets' downloads; plus the fictional repos of
`traffic-sync demo` (`demo_world`). https://docs.github.com/rest/metrics/traffic

- A fetch on UTC day F answers buckets F-14 .. F: F is partial (the hours so far), F-14 is
  truncated (the hours still inside the window), F-1 is missing before 12:00 UTC (not published
  yet), days without traffic and days before the repo existed are left out.
- The window's top-level `uniques` counts visitors once across the 14 days: never a sum.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Metric = Literal["views", "clones"]
Growth = Literal["stars", "forks"]
Json = Any  # decoded JSON: dicts, lists, strings, numbers

PUBLISH_HOUR = 12  # yesterday's bucket shows up around midday UTC
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
    # how GitHub lists the stargazers to this token: since 2026-06-30 only to admins and
    # collaborators; "forbidden" (GraphQL FORBIDDEN) or "empty" (an empty list) otherwise
    stargazers_listed: str = "yes"

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


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
        {"path": f"/{full}", "title": f"GitHub - {full}: {description(repo)}"},
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


def description(repo: SimRepo) -> str:
    """The repo's description, as its REST shapes and its front page's title give it."""
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
