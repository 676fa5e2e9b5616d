"""The simulated GitHub's world: its repos, accounts, tokens, clock and what changes in it.

`SimWorld` holds the state the REST and GraphQL answers are read from (see `rest` and
`simgraphql`) and the controls a test or the demo turns between requests: the clock, stars and
forks given or taken back, renamed repos, release assets, tokens and their kinds, workflows,
and the hourly budgets of requests and GraphQL points. The true traffic itself is a pure
function of the repo and the day (`traffic`). Every mutable field is guarded by `lock`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Literal

from traffic_sync.demo.traffic import (
    Growth,
    Metric,
    SimRepo,
    daily_truth,
    growth_timeline,
    release_assets,
)

TokenKind = Literal["pat", "no-push", "github-token", "bad"]
# https://docs.github.com/rest/actions/workflows#get-a-workflow (`state`)
WorkflowState = Literal[
    "active", "deleted", "disabled_fork", "disabled_inactivity", "disabled_manually"
]
Item = tuple[dt.datetime, int]  # a star or fork: (when, serial), the key GitHub's cursors hold

RATE_LIMIT = 5000
GRAPHQL_POINTS = 5000  # GraphQL points an hour per token, apart from REST's requests


class SimWorld:
    """The repos, accounts and tokens of the simulated GitHub on a simulated clock (UTC).

    `now` may be changed between requests; a naive datetime is read as UTC.
    """

    def __init__(
        self,
        repos: Sequence[SimRepo],
        *,
        now: dt.datetime,
        token: str,
        viewer: str,
        orgs: Collection[str],
        users: Collection[str],
        rate_limit: int,
        graphql_points: int,
    ) -> None:
        self.now = now
        self.rate_limit = rate_limit  # requests an hour; enforced like GitHub's primary limit
        self.graphql_points = graphql_points  # GraphQL points an hour, per token
        self.url = ""  # the base URL the answers link to, once served
        self.repos = {repo.full_name.lower(): repo for repo in repos}
        logins = {repo.owner.lower(): repo.owner for repo in repos}
        self.viewer = logins.get(viewer.lower(), viewer)  # the token's own login
        self.orgs = {org.lower(): logins.get(org.lower(), org) for org in orgs}
        self.users = {u.lower(): logins.get(u.lower(), u) for u in [*users, viewer, *logins]}
        self.users = {k: v for k, v in self.users.items() if k not in self.orgs}
        self.tokens: dict[str, TokenKind] = {token: "pat"}
        self.actions_writers = {token}  # tokens that may manage workflows (actions: write)
        self.workflows: dict[str, dict[str, WorkflowState]] = {}  # lower full name -> file
        self.served = 0  # REST requests of this hour
        self.moved: dict[str, int] = {}  # old lower-case full name -> repo id
        self.points: dict[str, tuple[float, int]] = {}  # token -> (reset epoch, points used)
        self._counted_on = self.now.date()  # SimRepo.counted_on's default
        self._timelines: dict[tuple[int, Growth], list[Item]] = {}  # (repo id, series)
        self._serials = 10**9  # the next star's or fork's serial (the base ones are 0..n-1)
        # release assets changed by `upload_asset`, `download` and `delete_asset`, by repo id:
        # downloads added to an asset of `release_assets`, those deleted, and those uploaded
        self._downloads: dict[int, dict[tuple[str, str], int]] = {}
        self._deleted_assets: dict[int, set[tuple[str, str]]] = {}
        self._uploaded: dict[int, dict[tuple[str, str], int]] = {}
        self.lock = threading.Lock()

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

    # controls

    def true_traffic(self, full_name: str, metric: Metric, day: dt.date) -> tuple[int, int]:
        """(count, uniques) of the whole UTC day: what the final, merged history must hold."""
        return daily_truth(self.repos[full_name.lower()], metric, day)

    def new_hour(self) -> None:
        """The rate limit resets: the token has its whole hourly budget again (GraphQL too)."""
        with self.lock:
            self.served = 0
            self.points.clear()

    def timeline(self, full_name: str, series: Growth) -> list[dt.datetime]:
        """When each star (or fork) the repo has now was given, oldest first: the truth the
        stored history must add up to."""
        with self.lock:
            return [when for when, _ in self.timeline_of(self.repos[full_name.lower()], series)]

    def star(self, full_name: str, at: dt.datetime, count: int = 1) -> None:
        """`count` new stars given at `at` (stargazers_count grows too)."""
        self._give(full_name, "stars", at, count)

    def fork(self, full_name: str, at: dt.datetime, count: int = 1) -> None:
        """`count` new forks made at `at` (forks_count grows too)."""
        self._give(full_name, "forks", at, count)

    def unstar(self, full_name: str, count: int = 1) -> None:
        """The `count` newest stars are taken back: GitHub lists them no more."""
        with self.lock:
            items = self.timeline_of(self.repos[full_name.lower()], "stars")
            del items[max(0, len(items) - count) :]

    def _give(self, full_name: str, series: Growth, at: dt.datetime, count: int) -> None:
        when = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
        with self.lock:
            items = self.timeline_of(self.repos[full_name.lower()], series)
            for _ in range(count):
                bisect.insort(items, (when, self._serials))
                self._serials += 1

    def timeline_of(self, repo: SimRepo, series: Growth) -> list[Item]:
        """The repo's stars (forks) as (when, serial), oldest first (the lock is held)."""
        key = (repo.id, series)
        if key not in self._timelines:
            base = growth_timeline(repo, series, repo.counted_on or self._counted_on)
            self._timelines[key] = [(when, serial) for serial, when in enumerate(base)]
        return self._timelines[key]

    def growth_count(self, repo: SimRepo, series: Growth) -> int:
        """stargazers_count (forks_count): the timeline's length once there is one."""
        with self.lock:
            items = self._timelines.get((repo.id, series))
        if items is not None:
            return len(items)
        return repo.stars if series == "stars" else repo.forks

    def upload_asset(self, full_name: str, tag: str, asset: str, downloads: int = 0) -> None:
        """A new asset in release `tag` (a new release when there is none of that tag)."""
        repo = self.repos[full_name.lower()]
        with self.lock:
            self._uploaded.setdefault(repo.id, {})[(tag, asset)] = downloads

    def download(self, full_name: str, tag: str, asset: str, count: int = 1) -> None:
        """`count` more downloads of an asset."""
        repo = self.repos[full_name.lower()]
        with self.lock:
            uploaded = self._uploaded.get(repo.id, {})
            if (tag, asset) in uploaded:
                uploaded[(tag, asset)] += count
            else:
                added = self._downloads.setdefault(repo.id, {})
                added[(tag, asset)] = added.get((tag, asset), 0) + count

    def delete_asset(self, full_name: str, tag: str, asset: str) -> None:
        """An asset deleted: it is listed no more (uploading it again starts at 0)."""
        repo = self.repos[full_name.lower()]
        with self.lock:
            if self._uploaded.get(repo.id, {}).pop((tag, asset), None) is None:
                self._deleted_assets.setdefault(repo.id, set()).add((tag, asset))

    def assets_of(self, full_name: str) -> dict[tuple[str, str], int]:
        """Every release asset the repo lists now, by (tag, asset): its download count."""
        repo = self.repos[full_name.lower()]
        with self.lock:
            return self.assets_now(repo)

    def assets_now(self, repo: SimRepo) -> dict[tuple[str, str], int]:
        """The repo's release assets and their download counts now (the lock is held)."""
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
        with self.lock:
            repo = self.repos.pop(full_name.lower())
            self.repos[new_full_name.lower()] = replace(repo, full_name=new_full_name)
            self.moved[full_name.lower()] = repo.id
            self.moved.pop(new_full_name.lower(), None)
            owner = new_full_name.split("/", 1)[0]
            if owner.lower() not in self.orgs:
                self.users.setdefault(owner.lower(), owner)

    def grant(self, token: str, kind: TokenKind, *, actions_write: bool | None = None) -> None:
        """Accept another token: "pat" reads everything, "no-push" is a PAT whose user cannot
        push (traffic 403), "github-token" is a workflow's GITHUB_TOKEN (traffic 403), "bad" is
        revoked (401).

        `actions_write` says whether it may enable a workflow: a GITHUB_TOKEN may with
        `permissions: actions: write`. By default only a "pat" may (a classic PAT's `repo` scope).
        """
        with self.lock:
            self.tokens[token] = kind
            may = kind == "pat" if actions_write is None else actions_write
            if may:
                self.actions_writers.add(token)
            else:
                self.actions_writers.discard(token)

    def add_workflow(
        self, full_name: str, file_name: str, *, state: WorkflowState = "active"
    ) -> None:
        """A workflow file in `.github/workflows/` of a repo, e.g. ("octo/site", "traffic.yml")."""
        with self.lock:
            self.workflows.setdefault(full_name.lower(), {})[file_name] = state

    def workflow_state(self, full_name: str, file_name: str) -> WorkflowState:
        """The workflow's state as `GET /repos/{o}/{r}/actions/workflows/{id}` would say it."""
        return self.workflows[full_name.lower()][file_name]

    # read by the REST and GraphQL answers

    def reset_epoch(self) -> int:
        """When the REST budget resets: an hour from the simulated now, in epoch seconds."""
        return int(self.now.timestamp()) + 3600

    def points_window(self, token: str) -> tuple[float, int]:
        """(reset epoch, points used) of the token's hour; a new hour once the reset passed.
        The lock is held."""
        now = self.now.timestamp()
        reset, used = self.points.get(token, (now + 3600, 0))
        if now >= reset:
            reset, used = now + 3600, 0
        self.points[token] = (reset, used)
        return reset, used

    def owned_by(self, owner: str) -> list[SimRepo]:
        """The repos of an account, whatever the case of its login."""
        return [r for r in self.repos.values() if r.owner.lower() == owner.lower()]
