"""Storage: merge the observations into the data branch's period files and push them.

`stages.plan.plan_write` is pure (what a run read of the branch in, the files to write out; see
`branch.view` for what is read); `store` wraps it in fetch, commit and push, and goes again on
the new tip when another run pushed first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from traffic_sync.branch.state import (
    BranchState,
    state_path,
)
from traffic_sync.branch.view import (
    Target,
    folder_prefix,
    survey_branch,
)
from traffic_sync.core.errors import (
    PushRejectedError,
    StoreError,
)
from traffic_sync.core.models import (
    Observation,
    RepoStatus,
)
from traffic_sync.sinks.gitremote import Remote, prepare_local
from traffic_sync.sinks.gitstore import DataBranch
from traffic_sync.stages.messages import commit_message, move_summary, repo_count
from traffic_sync.stages.plan import Plan, plan_files, plan_write

PUSH_ATTEMPTS = 5
Pushed = TypeVar("Pushed")  # what one push attempt returns


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """What the store takes of a run's settings (the orchestrator builds it from them)."""

    target: Target  # the branch, the data's folder, the server, what PostHog needs
    push_token: str = ""  # sent only to this GitHub server (`push_token_for`)
    dry_run: bool = False
    shards: int = 1  # the runs of a matrix pushing to the same branch (`push_attempts`)


def read_state(options: StoreOptions, *, remote: Remote, workdir: Path) -> BranchState:
    """state.json at the branch's tip; an empty one when there is none yet or it is unreadable
    (then every repo counts as never synced, and `store` reports the broken file)."""
    if remote.local_path is not None and not remote.local_path.exists():
        return BranchState()
    branch = open_branch(options, remote, workdir)
    path = state_path(options.target.data_path)
    try:
        branch.fetch()
        return BranchState.decode(branch.read_files(path).get(path), path=path)
    except StoreError:
        return BranchState()


def store(
    options: StoreOptions,
    observations: Sequence[Observation],
    *,
    today: dt.date,
    remote: Remote,
    workdir: Path,
    sleep: Callable[[float], None],
) -> tuple[str, Plan]:
    """Merge into the data branch and push; on a moved branch, re-merge onto the new tip."""
    target = options.target
    if options.dry_run and remote.local_path is not None and not remote.local_path.exists():
        return "", plan_files({}, observations, today=today, target=target)
    if not options.dry_run:
        prepare_local(remote, branch=target.branch)
    branch = open_branch(options, remote, workdir)

    def attempt() -> tuple[str, Plan]:
        branch.fetch()
        survey = survey_branch(branch, observations, today=today, target=target)
        if options.dry_run or survey.quiet:
            return "", plan_write(survey, observations, today=today, target=target)
        # git stores each repo's files while the next repo is merged
        start, scoped = folder_prefix(target.data_path), set(survey.scope or ())
        known = {
            start + name: inside
            for name, inside in survey.listings.items()
            if start + name in scoped
        }
        staging = branch.staging(survey.scope, shallow=[target.data_path], known=known)
        with staging, _no_cycle_collection():
            plan = plan_write(survey, observations, today=today, target=target, on_repo=staging.add)
            del survey  # the files read are merged: their memory goes before the push
            if not any(r.status is RepoStatus.SAVED for r in plan.results):
                return "", plan
            message = commit_message(
                today,
                plan.results,
                moved=plan.moved,
                layout1_left=plan.layout1_left,
                months=plan.months,
                notes=[note for _, note in plan.warnings],
            )
            sha = staging.commit(plan.files, message, deletes=plan.deletes)
        if sha is None:
            return "", plan
        branch.push(sha)
        return sha, plan

    return until_pushed(attempt, attempts=push_attempts(options.shards), sleep=sleep)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Merging a thousand repos makes millions of small immutable rows and no reference
    cycles; Python's cycle collector would rescan them again and again (a quarter of such a
    run), so it pauses meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def push_attempts(shards: int) -> int:
    """How often a run fetches, re-merges and pushes before it gives up.

    A rejected push means another run pushed since our fetch. The other shards of a matrix
    push at most twice each (the data, then PostHog's record), so with `2 * (N - 1)` more
    attempts a shard gets its turn even when all N end together; other writers get the rest.
    """
    return PUSH_ATTEMPTS + 2 * (shards - 1)


def until_pushed(
    attempt: Callable[[], Pushed], *, attempts: int, sleep: Callable[[float], None]
) -> Pushed:
    """Run `attempt` (fetch, write, push) again on the new tip while another run moved the
    branch in between: bounded, with jitter, never a force push."""
    for tries in range(attempts):
        try:
            return attempt()
        except PushRejectedError:
            sleep(random.uniform(0.5, 2.0) * (tries + 1))  # noqa: S311 - jitter, not crypto
    raise StoreError(
        f"The data branch kept moving: gave up after {attempts} attempts.",
        fix="Other runs are pushing at the same time; nothing was lost, the next run retries. "
        "A workflow `concurrency:` group avoids this.",
    )


def push_token_for(remote: Remote, *, token: str, server_url: str) -> str | None:
    """The push token goes only to this GitHub server, never to another host or a folder."""
    if remote.local_path is not None:
        return None
    server = server_url.rstrip("/") + "/"
    return token if remote.url.startswith(server) else None


def open_branch(options: StoreOptions, remote: Remote, workdir: Path) -> DataBranch:
    token = push_token_for(remote, token=options.push_token, server_url=options.target.server_url)
    return DataBranch(remote=remote, branch=options.target.branch, workdir=workdir, token=token)


def moved_line(plan: Plan, *, dry_run: bool) -> str:
    """The progress line of a run that moves folders to layout 2."""
    if dry_run:
        where = "month files into year folders" if plan.months else "layout 2 (period files)"
        return f"Dry run: {repo_count(plan.moved)} would move to {where}; nothing was written."
    return move_summary(plan.moved, plan.layout1_left, months=plan.months)
