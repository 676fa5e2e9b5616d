"""The one orchestrator: collect -> store -> publish -> report.

The action, the command line and the demo all call `run()`; only the collaborators differ.
Each stage is a module of its own: `collect` (GitHub), `store` (the data branch) and
`publish` (PostHog); `run` is the one place that calls them, in that order. The store starts
under the collection (`StoreUnderway`): it merges each repo as its answers arrive, so what is
left once the last answer is in is the index, state.json, the commit and the push.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote

from traffic_sync.branch.state import BranchState
from traffic_sync.branch.view import Target, join_path
from traffic_sync.core.config import Settings
from traffic_sync.core.errors import StoreError
from traffic_sync.core.log import Log
from traffic_sync.core.models import Observation, RepoResult, RunReport
from traffic_sync.github.pacer import Pacer, RetryPolicy
from traffic_sync.github.rest import GitHubSource, TrafficSource
from traffic_sync.sinks.gitremote import Remote, repo_on_server, resolve_remote
from traffic_sync.sinks.posthog import (
    EventSender,
    PostHogSender,
    clear_text_warning,
    sends_in_clear,
)
from traffic_sync.stages.collect import Collected, CollectOptions, collect
from traffic_sync.stages.plan import Plan
from traffic_sync.stages.publish import PublishOptions, publish
from traffic_sync.stages.store import (
    StoreOptions,
    StoreUnderway,
    moved_line,
    open_branch,
    push_attempts,
    read_state,
    store,
)


def run(
    settings: Settings,
    *,
    today: dt.date,
    source: TrafficSource,
    log: Log,
    workdir: Path,
    cwd: Path,
    sleep: Callable[[float], None] = time.sleep,
    posthog: EventSender | None = None,
) -> RunReport:
    """Sync every repo of `settings` for fetch day `today`; never raises for one repo's failure.

    The data branch is written first; PostHog gets its events afterwards, from the history as
    written, so PostHog can never block or lose the branch data.
    """
    remote = resolve_remote(settings.data_repository, server_url=settings.server_url, cwd=cwd)
    if "posthog" in settings.sinks and sends_in_clear(settings.posthog_host):
        log.warning(clear_text_warning(settings.posthog_host))
    storing = store_options(settings)
    branch = "branch" in settings.sinks
    read_state_once = functools.cache(
        partial(read_state, storing, remote=remote, workdir=workdir) if branch else BranchState
    )
    with StoreUnderway(storing, remote=remote, workdir=workdir, today=today, log=log) as underway:
        collected = collect(
            collect_options(settings),
            today=today,
            source=source,
            log=log,
            read_state=read_state_once,
            arrivals=underway if branch else None,
        )
        stored = _store(
            storing if branch else None,
            collected,
            today=today,
            log=log,
            remote=remote,
            workdir=workdir,
            sleep=sleep,
            first=underway.attempt,
        )
    posthog_report = None
    if "posthog" in settings.sinks:
        sender = posthog or PostHogSender(
            api_key=settings.posthog_api_key, host=settings.posthog_host, sleep=sleep
        )
        posthog_report = publish(
            publish_options(settings, data_location=remote.display),
            collected.observations,
            plan=None if stored.failed else stored.plan,
            store_failed=stored.failed,
            today=today,
            sender=sender,
            log=log,
            branch=partial(open_branch, storing, remote, workdir),
            sleep=sleep,
        )
    return RunReport(
        fetched_on=today,
        results=(*collected.results, *stored.results),
        commit_sha=stored.commit_sha,
        dry_run=settings.dry_run,
        data_location=f"{remote.display}@{settings.data_branch}" if branch else "",
        store_failed=stored.failed,
        posthog=posthog_report,
        index=stored.plan.index if stored.plan else (),
        shard=str(settings.shard) if settings.shard.count > 1 else "",
        index_path=join_path(settings.data_path, "README.md") if branch else "",
        index_url=index_url(settings) if branch else "",
        growth=collected.growth,
    )


def github_source(
    settings: Settings,
    *,
    token: str,
    budget: bool = False,
    clock: Callable[[], float] = time.time,
) -> GitHubSource:
    """The GitHub client the settings describe, for `token`: their pacing, timeout and
    endpoints; with `budget`, `max-requests` caps its requests."""
    return GitHubSource(
        token=token,
        api_url=settings.api_url,
        policy=RetryPolicy(timeout=settings.request_timeout),
        pacer=Pacer(
            per_minute=settings.requests_per_minute,
            budget=(settings.max_requests or None) if budget else None,
        ),
        graphql_url=settings.graphql_url,
        clock=clock,
    )


def publish_options(settings: Settings, *, data_location: str) -> PublishOptions:
    """What publishing takes of the settings (`data_location`: the data repository as
    messages name it)."""
    return PublishOptions(
        posthog_host=settings.posthog_host,
        from_branch="branch" in settings.sinks,
        data_path=settings.data_path,
        data_location=data_location,
        dry_run=settings.dry_run,
        push_attempts=push_attempts(settings.shard.count),
    )


def store_options(settings: Settings) -> StoreOptions:
    """What the store takes of the settings."""
    return StoreOptions(
        target=Target(
            data_path=settings.data_path,
            server_url=settings.server_url,
            keep_histories="posthog" in settings.sinks,
            branch=settings.data_branch,
        ),
        push_token=settings.push_token,
        dry_run=settings.dry_run,
        shards=settings.shard.count,
    )


def collect_options(settings: Settings) -> CollectOptions:
    """What collection takes of the settings."""
    branch = "branch" in settings.sinks
    return CollectOptions(
        repos=settings.repos,
        include_forks=settings.include_forks,
        include_archived=settings.include_archived,
        shard=settings.shard,
        concurrency=settings.concurrency,
        max_requests=settings.max_requests,
        release_downloads=settings.release_downloads,
        growth=branch,
        # the guard is about writing the data repository: without the branch sink nothing is
        data_repository=settings.data_repository,
        guarded=repo_on_server(settings.data_repository, server_url=settings.server_url)
        if branch
        else None,
        allow_private_in_public=settings.allow_private_in_public,
    )


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the store stage left: the plan written (None: nothing was), its commit, the repos'
    results, and whether writing the data branch failed."""

    plan: Plan | None = None
    commit_sha: str = ""
    results: tuple[RepoResult, ...] = ()
    failed: bool = False


def _store(
    options: StoreOptions | None,
    collected: Collected,
    *,
    today: dt.date,
    log: Log,
    remote: Remote,
    workdir: Path,
    sleep: Callable[[float], None],
    first: Callable[[Sequence[Observation]], tuple[str, Plan] | None],
) -> _Stored:
    """Write the collected repos to the data branch and log what the plan says; without the
    branch sink (`options` None) each collected repo counts as saved (it goes to the other
    sinks). `first` makes the first attempt from what was merged during the collection."""
    observations = collected.observations
    if options is None:
        return _Stored(results=tuple(RepoResult.saved(o, 0) for o in observations))
    if not observations:
        return _Stored()
    try:
        commit_sha, plan = store(
            options,
            observations,
            today=today,
            remote=remote,
            workdir=workdir,
            sleep=sleep,
            first=partial(first, observations),
        )
    except StoreError as error:
        log.error(error, where=remote.display)
        failed = tuple(RepoResult.failed(o.repo.full_name, error) for o in observations)
        _log_plan(Plan({}, failed), log=log, dry_run=options.dry_run)
        return _Stored(plan=Plan({}, failed), results=failed, failed=True)
    _log_plan(plan, log=log, dry_run=options.dry_run)
    return _Stored(plan=plan, commit_sha=commit_sha, results=plan.results)


def _log_plan(plan: Plan, *, log: Log, dry_run: bool) -> None:
    """The plan's errors and warnings, the folders moved and the repos renamed."""
    for name, repo_error in plan.errors:
        log.error(repo_error, where=name)
    for name, warning in plan.warnings:
        log.warning(warning, where=name)
    if plan.moved:
        log.progress(moved_line(plan, dry_run=dry_run))
    for result in plan.results:
        if result.renamed_from:
            log.progress(
                f"{result.renamed_from} is now {result.full_name} (renamed or transferred): "
                f"its history moved to {result.full_name}/"
            )


def index_url(settings: Settings) -> str:
    """The data branch's index page for a data repository on this GitHub server (`owner/name`
    or its URL), else ""."""
    name = repo_on_server(settings.data_repository, server_url=settings.server_url)
    if name is None:
        return ""
    branch = quote(settings.data_branch, safe="/")
    page = quote(join_path(settings.data_path, "README.md"), safe="/")
    return f"{settings.server_url.rstrip('/')}/{name}/blob/{branch}/{page}"
