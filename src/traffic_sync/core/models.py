"""Typed records that flow between collection, merging, storage and rendering.

Everything here is a frozen dataclass: the core passes values, never shared mutable state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from traffic_sync.core.growth import GrowthRow, Position, Series

if TYPE_CHECKING:
    from traffic_sync.core.errors import RepoError, TrafficSyncError

DEFAULT_RESERVE = 200  # GraphQL points left unspent for whatever else uses the token this hour


class Metric(StrEnum):
    """The two daily traffic series GitHub keeps for 14 days."""

    VIEWS = "views"
    CLONES = "clones"


SeriesKey = tuple[int, Metric]  # (repo id, metric): the unit a watermark tracks
Watermarks = dict[SeriesKey, dt.date]


@dataclass(frozen=True, slots=True)
class DailyRow:
    """One day of views or clones: `final` once the day can no longer change."""

    date: dt.date
    count: int
    uniques: int
    final: bool


@dataclass(frozen=True, slots=True)
class ReferrerRow:
    """One top referrer in the 14-day snapshot fetched on `date`."""

    date: dt.date
    referrer: str
    count: int
    uniques: int


@dataclass(frozen=True, slots=True)
class PathRow:
    """One popular content path in the 14-day snapshot fetched on `date`."""

    date: dt.date
    path: str
    title: str
    count: int
    uniques: int


@dataclass(frozen=True, slots=True)
class StatsRow:
    """The repo's counters and 14-day traffic totals as seen on `date`."""

    date: dt.date
    stars: int
    forks: int
    watchers: int
    open_issues: int
    views_14d: int
    view_uniques_14d: int
    clones_14d: int
    clone_uniques_14d: int


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    """One release asset's `download_count` as seen on `date` (a daily snapshot)."""

    date: dt.date
    tag: str
    asset: str
    downloads: int


@dataclass(frozen=True, slots=True)
class History:
    """Everything stored for one repo: the eight datasets, each sorted as written.

    `stars` and `forks` are growth rows (`growth.GrowthRow`: stars gained each UTC day and
    their running total since the oldest stored day); `releases` are daily snapshots of the
    release assets' download counts.
    """

    views: tuple[DailyRow, ...] = ()
    clones: tuple[DailyRow, ...] = ()
    referrers: tuple[ReferrerRow, ...] = ()
    paths: tuple[PathRow, ...] = ()
    stats: tuple[StatsRow, ...] = ()
    stars: tuple[GrowthRow, ...] = ()
    forks: tuple[GrowthRow, ...] = ()
    releases: tuple[ReleaseRow, ...] = ()


@dataclass(frozen=True, slots=True)
class RepoInfo:
    """What `GET /repos/{owner}/{repo}` says about a repo (canonical name, counters)."""

    full_name: str
    id: int
    created: dt.date
    private: bool
    fork: bool = False
    archived: bool = False
    stars: int = 0
    forks: int = 0
    watchers: int = 0
    open_issues: int = 0

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(frozen=True, slots=True)
class RepoRef:
    """A repo a run is asked to sync: its name as listed or named, and its id when a listing
    gave it (a named `owner/name` has none until its `GET /repos/{o}/{r}`)."""

    full_name: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One daily bucket of a traffic answer, as the API returned it."""

    date: dt.date
    count: int
    uniques: int


@dataclass(frozen=True, slots=True)
class TrafficAnswer:
    """`GET /repos/{o}/{r}/traffic/views|clones?per=day`: window totals and daily buckets."""

    count: int
    uniques: int
    buckets: tuple[Bucket, ...] = ()


@dataclass(frozen=True, slots=True)
class Referrer:
    referrer: str
    count: int
    uniques: int


@dataclass(frozen=True, slots=True)
class PopularPath:
    path: str
    title: str
    count: int
    uniques: int


@dataclass(frozen=True, slots=True)
class ReleaseAsset:
    """One asset of a release, as `GET /repos/{o}/{r}/releases` lists it."""

    tag: str
    asset: str
    downloads: int


@dataclass(frozen=True, slots=True)
class GrowthState:
    """What state.json keeps per repo of one series (stars or forks) between runs.

    `count` is GitHub's count when the stored rows were last brought up to date (None before
    the first fetch), `through` the newest day the stored rows hold, `pending` where a fetch
    that stopped early goes on, and `queries` the queries that unfinished backfill took so far
    (for the budget's plan).
    """

    count: int | None = None
    through: dt.date | None = None
    pending: tuple[Position, ...] = ()
    queries: int = 0


@dataclass(frozen=True, slots=True)
class GrowthUpdate:
    """One series of one repo after this run: new rows to merge, and the state to keep."""

    series: Series
    rows: tuple[GrowthRow, ...]
    state: GrowthState


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything one run fetched for one repo on UTC day `fetched_on` (F)."""

    repo: RepoInfo
    fetched_on: dt.date
    views: TrafficAnswer
    clones: TrafficAnswer
    referrers: tuple[Referrer, ...] = field(default=())
    paths: tuple[PopularPath, ...] = field(default=())
    releases: tuple[ReleaseAsset, ...] | None = None  # None: not asked (`release-downloads`)
    growth: tuple[GrowthUpdate, ...] = ()  # stars and forks, when the run looked at them
    warnings: tuple[RepoError, ...] = ()  # what failed without failing the repo (its releases)


class RepoStatus(StrEnum):
    """How one repo fared in a run."""

    SAVED = "saved"  # merged and written (possibly with no file changed)
    FAILED = "failed"  # an error; none of its files changed
    SKIPPED = "skipped"  # not reached (rate limit or budget); nothing changed


@dataclass(frozen=True, slots=True)
class RepoResult:
    """One row of the run's report: what happened to one repo."""

    full_name: str
    status: RepoStatus
    views_14d: int | None = None
    view_uniques_14d: int | None = None
    clones_14d: int | None = None
    clone_uniques_14d: int | None = None
    days_added: int = 0
    error_title: str = ""
    error: str = ""
    renamed_from: str = ""  # the folder its history moved from (a renamed or transferred repo)

    @classmethod
    def saved(cls, observation: Observation, days_added: int, renamed_from: str = "") -> RepoResult:
        """A repo whose observation was merged and stored (`days_added`: new days it brought)."""
        return cls(
            full_name=observation.repo.full_name,
            status=RepoStatus.SAVED,
            views_14d=observation.views.count,
            view_uniques_14d=observation.views.uniques,
            clones_14d=observation.clones.count,
            clone_uniques_14d=observation.clones.uniques,
            days_added=days_added,
            renamed_from=renamed_from,
        )

    @classmethod
    def failed(cls, name: str, error: TrafficSyncError) -> RepoResult:
        return cls(name, RepoStatus.FAILED, error_title=error.title, error=str(error))

    @classmethod
    def skipped(cls, name: str, error: RepoError) -> RepoResult:
        return cls(name, RepoStatus.SKIPPED, error_title=error.title, error=error.message)


@dataclass(frozen=True, slots=True)
class PostHogReport:
    """What the PostHog sink did in a run."""

    sent: int = 0  # events PostHog acknowledged
    planned: int = 0  # settled days selected to send (what a dry run would send)
    repos: int = 0  # repos those events belong to
    error_title: str = ""
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error_title)


@dataclass(frozen=True, slots=True)
class Points:
    """The GraphQL points budget as the latest answers told it, for the run's summary."""

    queries: int = 0  # queries GitHub answered
    used: int = 0  # the points they cost (the sum of `rateLimit.cost`)
    remaining: int | None = None  # left this hour after the latest answer; None before one
    reset_at: dt.datetime | None = None  # when the hour's points come back
    reserve: int = DEFAULT_RESERVE
    stopped: bool = False  # the reserve or GitHub's limit ended collection early


@dataclass(frozen=True, slots=True)
class GrowthReport:
    """The run's stars and forks history fetches and the GraphQL points they took."""

    points: Points
    planned: int = 0  # points the plan expected the fetches to take
    fetched: int = 0  # series (a repo's stars, or its forks) fetched whole or brought up to date
    waiting: int = 0  # series left, whole or in part, for the next run (the points ran low)
    quiet: int = 0  # series whose count did not grow: no query
    history_requests: int = 0  # REST requests of the star history endpoint


@dataclass(frozen=True, slots=True)
class RunReport:
    """The whole run, as the step summary, the outputs and the terminal show it."""

    fetched_on: dt.date
    results: tuple[RepoResult, ...]
    commit_sha: str = ""
    dry_run: bool = False
    data_location: str = ""  # e.g. "octo/stats@traffic-data" or a local path
    store_failed: bool = False  # the data branch could not be written: always a failure
    posthog: PostHogReport | None = None  # None when the PostHog sink is off
    # Every repo of the data branch after this run, by name, as the index shows it: the
    # summary's chart.
    index: tuple[tuple[str, IndexRow], ...] = ()
    shard: str = ""  # "K/N" when the repos are split among N runs, "" when this run has all
    index_path: str = ""  # the data branch's index page, in the branch ("" without a branch)
    index_url: str = ""  # the same page on GitHub, when the data repository is there
    growth: GrowthReport | None = None  # stars and forks through GraphQL; None: not asked

    @property
    def repos_synced(self) -> int:
        return sum(r.status is RepoStatus.SAVED for r in self.results)

    @property
    def repos_failed(self) -> int:
        return sum(r.status is RepoStatus.FAILED for r in self.results)

    @property
    def days_added(self) -> int:
        return sum(r.days_added for r in self.results)

    @property
    def events_sent(self) -> int:
        return self.posthog.sent if self.posthog else 0


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One repo as the index shows it: its newest stats row, its last day with any views or
    clones, the first day of each, and each one's newest `alltime.DAYS` days (the overview
    charts and the weekly trend draw no further back)."""

    stats: StatsRow | None = None
    active: dt.date | None = None
    first_views: dt.date | None = None
    first_clones: dt.date | None = None
    views: tuple[DailyRow, ...] = ()
    clones: tuple[DailyRow, ...] = ()
    starred: bool = False  # whether the repo's stars history has been fetched
    stars: tuple[GrowthRow, ...] = ()  # its days with stars among those newest days
