"""The one orchestrator: collect -> store -> publish -> report.

The action, the command line and the demo all call `run()`; only the collaborators differ.
Each stage is a module of its own: `collect` (GitHub), `store` (the data branch) and
`publish` (PostHog); `run` is the one place that calls them, in that order.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from traffic_sync.branch.state import BranchState
from traffic_sync.branch.view import join_path
from traffic_sync.core.config import Settings
from traffic_sync.core.errors import StoreError
from traffic_sync.core.log import Log
from traffic_sync.core.models import IndexRow, RepoResult, RunReport
from traffic_sync.github.rest import TrafficSource
from traffic_sync.sinks.gitstore import repo_on_server, resolve_remote
from traffic_sync.sinks.posthog import (
    EventSender,
    PostHogSender,
    clear_text_warning,
    sends_in_clear,
)
from traffic_sync.stages.collect import collect
from traffic_sync.stages.publish import publish
from traffic_sync.stages.store import Plan, moved_line, read_state, store


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
    state: list[BranchState] = []

    def read_state_once() -> BranchState:
        if not state:
            state.append(read_state(settings, remote=remote, workdir=workdir))
        return state[0]

    collected = collect(settings, today=today, source=source, log=log, read_state=read_state_once)
    commit_sha = ""
    store_failed = False
    plan: Plan | None = None
    results = list(collected.results)
    index: tuple[tuple[str, IndexRow], ...] = ()
    if "branch" in settings.sinks and collected.observations:
        try:
            commit_sha, plan = store(
                settings,
                collected.observations,
                today=today,
                remote=remote,
                workdir=workdir,
                sleep=sleep,
            )
        except StoreError as error:
            store_failed = True
            log.error(error, where=remote.display)
            plan = Plan(
                {},
                tuple(RepoResult.failed(o.repo.full_name, error) for o in collected.observations),
            )
        for name, repo_error in plan.errors:
            log.error(repo_error, where=name)
        for name, warning in plan.warnings:
            log.warning(warning, where=name)
        if plan.moved:
            log.progress(moved_line(plan, dry_run=settings.dry_run))
        for result in plan.results:
            if result.renamed_from:
                log.progress(
                    f"{result.renamed_from} is now {result.full_name} (renamed or transferred): "
                    f"its history moved to {result.full_name}/"
                )
        results.extend(plan.results)
        index = plan.index
    elif "branch" not in settings.sinks:  # nothing to write: each repo goes to the other sinks
        results.extend(RepoResult.saved(o, 0) for o in collected.observations)
    posthog_report = None
    if "posthog" in settings.sinks:
        sender = posthog or PostHogSender(
            api_key=settings.posthog_api_key, host=settings.posthog_host, sleep=sleep
        )
        posthog_report = publish(
            settings,
            collected.observations,
            plan=None if store_failed else plan,
            store_failed=store_failed,
            today=today,
            sender=sender,
            log=log,
            remote=remote,
            workdir=workdir,
            sleep=sleep,
        )
    return RunReport(
        fetched_on=today,
        results=tuple(results),
        commit_sha=commit_sha,
        dry_run=settings.dry_run,
        data_location=f"{remote.display}@{settings.data_branch}"
        if "branch" in settings.sinks
        else "",
        store_failed=store_failed,
        posthog=posthog_report,
        index=index,
        shard=str(settings.shard) if settings.shard.count > 1 else "",
        index_path=join_path(settings.data_path, "README.md") if "branch" in settings.sinks else "",
        index_url=index_url(settings) if "branch" in settings.sinks else "",
        growth=collected.growth,
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
