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

from traffic_sync.branch.folders import window
from traffic_sync.branch.state import (
    BranchState,
    state_path,
)
from traffic_sync.branch.view import (
    Listing,
    Survey,
    Target,
    folder_prefix,
    kept_name,
    nothing_new,
    other_owner,
    set_aside,
    survey_branch,
    written_folders,
)
from traffic_sync.core.errors import (
    PushRejectedError,
    StoreError,
)
from traffic_sync.core.log import Log
from traffic_sync.core.models import Observation, RepoInfo, RepoStatus, TrafficAnswer
from traffic_sync.sinks.gitremote import Remote, prepare_local
from traffic_sync.sinks.gitstore import DataBranch, Staging
from traffic_sync.stages.messages import commit_message, move_summary, repo_count
from traffic_sync.stages.plan import (
    Draft,
    Plan,
    claimed_last,
    finished_plan,
    plan_files,
    plan_repo,
    plan_write,
    quiet_plan,
)

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
    first: Callable[[], tuple[str, Plan] | None] | None = None,
) -> tuple[str, Plan]:
    """Merge into the data branch and push; on a moved branch, re-merge onto the new tip.

    `first` makes the first attempt when given (`StoreUnderway.attempt`: the merges made
    during the collection); when it returns None, or its push is rejected, the next attempt
    reads and merges everything again."""
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
        staging = branch.staging(
            survey.scope, shallow=[target.data_path], known=_known(survey, target.data_path)
        )
        with staging, _no_cycle_collection():
            plan = plan_write(survey, observations, today=today, target=target, on_repo=staging.add)
            del survey  # the files read are merged: their memory goes before the push
            sha = _commit(staging, plan, today=today)
        if sha is None:
            return "", plan
        branch.push(sha)
        return sha, plan

    firsts = [first] if first is not None else []

    def next_attempt() -> tuple[str, Plan]:
        done = firsts.pop()() if firsts else None
        return done if done is not None else attempt()

    return until_pushed(next_attempt, attempts=push_attempts(options.shards), sleep=sleep)


def _known(survey: Survey, data_path: str) -> dict[str, Listing]:
    """The folders of the commit's scope that the survey listed already (git need not walk
    them again), by path."""
    start = folder_prefix(data_path)
    scoped = set(survey.scope or ())
    return {
        start + name: inside for name, inside in survey.listings.items() if start + name in scoped
    }


def _commit(staging: Staging, plan: Plan, *, today: dt.date) -> str | None:
    """The commit of `plan` on what `staging` holds (None: no repo was saved, or no file
    changed)."""
    if not any(r.status is RepoStatus.SAVED for r in plan.results):
        return None
    message = commit_message(
        today,
        plan.results,
        moved=plan.moved,
        layout1_left=plan.layout1_left,
        months=plan.months,
        notes=[note for _, note in plan.warnings],
    )
    return staging.commit(plan.files, message, deletes=plan.deletes)


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


class StoreUnderway:
    """The store under the collection: while the first requests are under way the branch is
    fetched and the folders of the repos to be fetched are read (`expect`); each repo is then
    merged, and its files handed to git, as soon as its answers arrive (`add`), while the
    pacer holds the next requests; the store after the collection (`store`, whose first
    attempt is `attempt`) only adds the index, state.json and the commit, and pushes.

    What it reads is what `survey_branch` reads for these repos on this day, planned from
    the days a fetch can bring (the 14 days up to today). Anything else leaves the run to the
    store after the collection, which reads and merges everything as it always does: a dry
    run, a branch whose folders move (layout 1, flat month files), a repo GraphQL did not
    describe, an answer with days outside those 14, an unexpected failure here. A repo that
    was renamed, or whose folder another repo claims, is merged at the end, in the order
    renames free their folders. Nothing is written unless `attempt` commits and pushes.
    """

    def __init__(
        self,
        options: StoreOptions,
        *,
        remote: Remote,
        workdir: Path,
        today: dt.date,
        log: Log | None = None,
    ) -> None:
        self._options, self._remote, self._workdir = options, remote, workdir
        self._today, self._log = today, log
        self._live: _Underway | None = None
        self.merged = 0  # repos merged as they arrived (the benchmark and tests read it)

    def __enter__(self) -> StoreUnderway:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def expect(self, repos: Sequence[RepoInfo]) -> None:
        """Read what merging these repos' answers needs of the branch, and start git."""
        if self._options.dry_run or not repos:
            return
        target = self._options.target
        try:
            prepare_local(self._remote, branch=target.branch)
            branch = open_branch(self._options, self._remote, self._workdir)
            branch.fetch()
            stand_ins = [_stand_in(repo, self._today) for repo in repos]
            survey = survey_branch(
                branch, stand_ins, today=self._today, target=target, may_skip=False
            )
            if survey.scope is None or any(f.outdated for f in survey.folders.values()):
                return  # folders move to the current layout: the store after does it all
            survey.scope.extend(_kept_folders(repos, survey, target.data_path))
            staging = branch.staging(
                survey.scope, shallow=[target.data_path], known=_known(survey, target.data_path)
            )
        except StoreError:
            return  # the store after the collection meets it again, and reports it
        except Exception as error:
            self._surprised(error)
            return
        self._live = _Underway(
            branch, survey, staging, repos, window=window(stand_ins[0]), target=target
        )

    def add(self, observation: Observation) -> None:
        """Merge one repo's answers and hand its files to git (or keep it for the end)."""
        live = self._live
        if live is None:
            return
        try:
            merged = live.add(observation, target=self._options.target)
        except Exception as error:
            self._surprised(error)
            merged = None
        if merged is None:
            self._stop()
        else:
            self.merged += merged

    def attempt(self, observations: Sequence[Observation]) -> tuple[str, Plan] | None:
        """The first attempt of `store` for these observations (those handed to `add`), on
        what was merged meanwhile: (commit, plan) once pushed, or None when the store after
        the collection has to read and merge them itself."""
        live, self._live = self._live, None
        if live is None:
            return None
        try:
            with live.staging:
                done = live.finish(observations, target=self._options.target)
        except StoreError:
            return None  # git failed: the store after the collection goes again
        except Exception as error:
            self._surprised(error)
            return None
        if done is None:
            return None
        sha, plan = done
        if sha:
            live.branch.push(sha)
        return sha, plan

    def _surprised(self, error: Exception) -> None:
        """A failure that is a bug here: said in the log, and the store after the collection
        reads and merges everything instead (nothing is lost, it only takes longer)."""
        if self._log is not None:
            self._log.progress(
                f"The store under the collection stopped ({type(error).__name__}: {error}); "
                "the repos are stored after the collection instead. This is a bug in "
                "traffic-sync: please report it with this message."
            )

    def _stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.staging.__exit__(None, None, None)


class _Underway:
    """A store under way: the branch as read, the plan drafted so far, and git's staging."""

    def __init__(
        self,
        branch: DataBranch,
        survey: Survey,
        staging: Staging,
        repos: Sequence[RepoInfo],
        *,
        window: tuple[dt.date, dt.date],
        target: Target,
    ) -> None:
        self.branch, self.survey, self.staging, self.window = branch, survey, staging, window
        self.expected = {repo.id: repo.full_name for repo in repos}
        self.state = survey.state
        self.claims = survey.state.folder_claims()
        self.draft = Draft(target.data_path, staging.add, set(), survey.listings)
        entries = [(repo, survey.state.entry(repo.id).full_name) for repo in repos]
        self.old_names = {old for repo, old in entries if old not in (None, repo.full_name)}
        self.later: list[Observation] = []  # merged at the end
        self.handed: set[int] = set()

    def add(self, observation: Observation, *, target: Target) -> int | None:
        """Merge a repo now (1), or keep it for the end (0); None when the store after the
        collection has to read it (a repo not expected, days outside the window read)."""
        repo = observation.repo
        if self.expected.get(repo.id) != repo.full_name or window(observation) != self.window:
            return None
        self.handed.add(repo.id)
        if not self._alone(repo):
            self.later.append(observation)
            return 0
        today = observation.fetched_on
        self.state = plan_repo(
            self.draft,
            self.survey,
            self.state,
            observation,
            taken=None,
            claims=self.claims,
            today=today,
            target=target,
        )
        if repo.full_name in self.draft.index:  # merged: the rows read are in the draft now
            self.survey.folders.pop(repo.full_name, None)
        return 1

    def finish(
        self, observations: Sequence[Observation], *, target: Target
    ) -> tuple[str, Plan] | None:
        """The repos kept for the end merged, the index and state.json planned, and the
        commit made (its id, "" when nothing changed); None when the store after the
        collection has to do it."""
        if {o.repo.id for o in observations} != self.handed or not observations:
            return None
        survey, today = self.survey, observations[0].fetched_on
        if not self._unread(observations):
            return None
        if not target.keep_histories and nothing_new(
            self.branch, survey, observations, today=today, target=target
        ):
            return "", quiet_plan(survey, observations)
        aside = set_aside(observations, survey.state, survey.trees)
        start, scope = folder_prefix(target.data_path), set(survey.scope or ())
        if any(start + moved not in scope for _, moved in aside.values()):
            return None
        for observation in claimed_last(self.later, survey.state, self.claims):
            self.state = plan_repo(
                self.draft,
                survey,
                self.state,
                observation,
                taken=aside.get(observation.repo.full_name),
                claims=self.claims,
                today=today,
                target=target,
            )
        plan = finished_plan(self.draft, survey, self.state, observations, today=today)
        return _commit(self.staging, plan, today=today) or "", plan

    def _unread(self, observations: Sequence[Observation]) -> bool:
        """Forget the folders read for repos that did not arrive (the collection stopped
        early), as the store after the collection would not have read them: their index rows
        are the stored ones. False when such a folder's stored row is out of date (that store
        reads it otherwise)."""
        survey = self.survey
        written = written_folders(observations, survey.state, survey.trees)
        for name in [name for name in survey.folders if name not in written]:
            if survey.index.get(name, ("", None))[0] != survey.trees.get(name):
                return False
            del survey.folders[name]
        return True

    def _alone(self, repo: RepoInfo) -> bool:
        """Whether merging the repo touches no other repo's folder, nor another its own: not
        renamed, its folder claimed by no other id and no other repo's old name."""
        return (
            self.survey.state.entry(repo.id).full_name in (None, repo.full_name)
            and set(self.claims.get(repo.full_name, ())) <= {str(repo.id)}
            and repo.full_name not in self.old_names
        )


def _stand_in(repo: RepoInfo, today: dt.date) -> Observation:
    """An observation of `repo` with no days: what a fetch today can change (`window`) is
    what the store reads for it."""
    return Observation(repo, today, TrafficAnswer(0, 0), TrafficAnswer(0, 0))


def _kept_folders(repos: Sequence[RepoInfo], survey: Survey, data_path: str) -> list[str]:
    """The folders another repo id's history may be set aside to (`set_aside`): of every
    repo whose folder another id claims, whichever of them the run ends up storing."""
    claims, start = survey.state.folder_claims(), folder_prefix(data_path)
    return [
        start + kept_name(repo.full_name, other)
        for repo in repos
        if repo.full_name in survey.trees
        and (other := other_owner(claims, survey.state, repo)) is not None
    ]
