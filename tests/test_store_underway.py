"""The store under the collection: each repo is merged, and its files handed to git, as soon as
its answers arrive, while the next requests wait for their turn; what it writes is what the
store after the collection writes, and whatever it cannot take, that store takes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import branch
from tests.helpers.sync import TOKEN, ListLog, source_for
from traffic_sync import sync
from traffic_sync.core.config import Settings
from traffic_sync.core.models import Bucket, Observation, RepoInfo, RepoResult
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.rest import GitHubSource
from traffic_sync.settings import parse_settings
from traffic_sync.sinks.gitremote import resolve_remote
from traffic_sync.stages import store as store_module
from traffic_sync.stages.collect import collect
from traffic_sync.stages.store import StoreUnderway, store
from traffic_sync.sync import collect_options, store_options

NOW = dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)
REPOS = [
    SimRepo(f"octo/r{n}", 100 + n, dt.date(2025, 6, 1), stars=5 + n, forks=n, seed=2 * n)
    for n in range(6)
]


def settings_for(remote: Path, **inputs: str) -> Settings:
    raw = {"token": TOKEN, "repos": "octo/*", "data-repository": str(remote), **inputs}
    return parse_settings(raw, {})


def collected(sim: SimulatedGitHub, settings: Settings) -> list[Observation]:
    """What a run collects today (nothing stored meanwhile)."""
    return collect(
        collect_options(settings), today=sim.now.date(), source=source_for(sim), log=ListLog()
    ).observations


def store_both(
    settings: Settings,
    observations: list[Observation],
    remote: Path,
    tmp_path: Path,
    *,
    expected: list[RepoInfo] | None = None,
) -> tuple[int, tuple[RepoResult, ...]]:
    """Store `observations` into a copy of `remote` after the collection, and into `remote`
    under it (each repo handed over in turn; `expected`: the repos it was told would come, by
    default those observed); check both wrote the same tree and commit message. Returns (the
    repos merged as they arrived, the results)."""
    stamp = time.monotonic_ns()
    after = tmp_path / f"after-{stamp}.git"
    shutil.copytree(remote, after)
    options, today = store_options(settings), observations[0].fetched_on

    def where(path: Path) -> Any:
        return resolve_remote(str(path), server_url=settings.server_url, cwd=tmp_path)

    def work(name: str) -> Path:
        path = tmp_path / f"{name}-{stamp}"
        path.mkdir()
        return path

    def nap(_s: float) -> None:
        pass

    _, plan_after = store(
        options, observations, today=today, remote=where(after), workdir=work("a"), sleep=nap
    )
    with StoreUnderway(options, remote=where(remote), workdir=work("u"), today=today) as early:
        early.expect(expected or [o.repo for o in observations])
        for observation in observations:
            early.add(observation)
        _, plan_under = store(
            options,
            observations,
            today=today,
            remote=where(remote),
            workdir=work("s"),
            sleep=nap,
            first=partial(early.attempt, observations),
        )
    assert tree_of(remote) == tree_of(after)
    assert message_of(remote) == message_of(after)
    assert plan_under.results == plan_after.results
    assert plan_under.files.keys() == plan_after.files.keys()
    return early.merged, plan_under.results


def tree_of(remote: Path) -> str:
    return branch.git("-C", str(remote), "rev-parse", "traffic-data^{tree}").decode().strip()


def message_of(remote: Path) -> str:
    return branch.git("-C", str(remote), "log", "-1", "--format=%B", "traffic-data").decode()


def test_the_store_under_the_collection_writes_what_the_store_after_it_writes(
    remote: Path, tmp_path: Path
) -> None:
    settings = settings_for(remote)
    with SimulatedGitHub(REPOS, now=NOW, token=TOKEN, orgs=["octo"]) as sim:
        first = collected(sim, settings)
        assert store_both(settings, first, remote, tmp_path)[0] == len(REPOS)  # a first run

        sim.now += dt.timedelta(days=1)
        sim.star("octo/r2", sim.now - dt.timedelta(hours=3), 4)
        assert store_both(settings, collected(sim, settings), remote, tmp_path)[0] == len(REPOS)

        commits = branch.commit_count(remote)
        same_day = collected(sim, settings)  # nothing new: no commit, either way
        assert store_both(settings, same_day, remote, tmp_path)[0] == len(REPOS)
        assert branch.commit_count(remote) == commits

        sim.now += dt.timedelta(days=1)
        sim.rename("octo/r1", "octo/r1-renamed")  # its folder moves: merged at the end
        merged, results = store_both(settings, collected(sim, settings), remote, tmp_path)
        assert merged == len(REPOS) - 1
        assert [r.renamed_from for r in results if r.renamed_from] == ["octo/r1"]
        assert "octo/r1-renamed/views/2026.csv" in branch.files(remote)


def test_an_answer_with_days_it_did_not_read_for_is_stored_after_the_collection(
    remote: Path, tmp_path: Path
) -> None:
    """A day older than the 14 a fetch brings needs files the store under the collection did
    not read: the store after it reads and merges every repo, and no row is lost."""
    settings = settings_for(remote)
    with SimulatedGitHub(REPOS, now=NOW, token=TOKEN, orgs=["octo"]) as sim:
        store_both(settings, collected(sim, settings), remote, tmp_path)
        sim.now += dt.timedelta(days=40)
        observations = collected(sim, settings)
    old = Bucket(NOW.date() - dt.timedelta(days=3), 7, 2)  # stored already, 43 days back
    views = observations[3].views
    odd = dataclasses.replace(views, buckets=(old, *views.buckets))
    observations[3] = dataclasses.replace(observations[3], views=odd)
    merged, results = store_both(settings, observations, remote, tmp_path)
    assert merged == 3  # the three before it; then the store after the collection took over
    assert all(r.status == "saved" for r in results)


def test_a_collection_that_stops_early_stores_what_arrived_as_the_store_after_it_does(
    remote: Path, tmp_path: Path
) -> None:
    """A rate limit ends the collection: the folders read for the repos that did not come
    (one of them renamed, so its old folder was read too) are left as they are, and the
    index keeps their stored rows (a year on, only the newest part of each folder was read:
    a row drawn from that part would lose the first day of views)."""
    settings = settings_for(remote)
    with SimulatedGitHub(REPOS, now=NOW, token=TOKEN, orgs=["octo"]) as sim:
        store_both(settings, collected(sim, settings), remote, tmp_path)
        sim.now += dt.timedelta(days=400)
        sim.rename("octo/r4", "octo/r4-renamed")
        observations = collected(sim, settings)
    arrived = [o for o in observations if o.repo.full_name not in {"octo/r1", "octo/r4-renamed"}]
    merged, results = store_both(
        settings, arrived, remote, tmp_path, expected=[o.repo for o in observations]
    )
    assert merged == len(arrived) == len(REPOS) - 2
    assert {r.full_name for r in results} == {o.repo.full_name for o in arrived}
    assert "octo/r4/views/2026.csv" in branch.files(remote)  # not moved: it did not arrive


def test_each_repo_is_merged_while_the_next_requests_wait(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last repo's answers are held until the store has merged every repo before it: a
    store that waited for the end of the collection would never get there."""
    stores: list[StoreUnderway] = []

    class Recorded(StoreUnderway):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            stores.append(self)

    merged_before_last = threading.Event()
    asked: list[str] = []

    class Holding(GitHubSource):
        def observe(self, full_name: str, **kwargs: Any) -> Any:
            asked.append(full_name)  # one worker: one repo at a time, in order
            if len(asked) == len(REPOS):
                for _ in range(400):  # 20 s at most; a store under the collection takes ms
                    if stores and stores[0].merged == len(REPOS) - 1:
                        merged_before_last.set()
                        break
                    time.sleep(0.05)
            return super().observe(full_name, **kwargs)

    monkeypatch.setattr(sync, "StoreUnderway", Recorded)
    settings = settings_for(remote, concurrency="1")
    with SimulatedGitHub(REPOS, now=NOW, token=TOKEN, orgs=["octo"]) as sim:
        source = Holding(token=TOKEN, api_url=sim.url, clock=sim.clock)
        work = tmp_path / "work"
        work.mkdir()
        report = sync.run(
            settings,
            today=sim.now.date(),
            source=source,
            log=ListLog(),
            workdir=work,
            cwd=tmp_path,
            sleep=lambda _s: None,
        )
    assert merged_before_last.is_set()
    assert stores[0].merged == len(REPOS)
    assert report.repos_synced == len(REPOS)
    assert branch.commit_count(remote) == 1


@dataclasses.dataclass(frozen=True)
class Day:
    """A branch after a first run, and what the next run collected (one repo renamed)."""

    remote: Path
    settings: Settings
    observations: list[Observation]


@pytest.fixture(scope="module")
def next_day(tmp_path_factory: pytest.TempPathFactory) -> Day:
    tmp_path = tmp_path_factory.mktemp("day")
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote)
    with SimulatedGitHub(REPOS, now=NOW, token=TOKEN, orgs=["octo"]) as sim:
        store_both(settings, collected(sim, settings), remote, tmp_path)
        sim.now += dt.timedelta(days=1)
        sim.star("octo/r3", sim.now - dt.timedelta(hours=2), 2)
        sim.rename("octo/r2", "octo/r2-renamed")
        return Day(remote, settings, collected(sim, settings))


@pytest.mark.slow  # two stores with git for each example
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_arrivals_in_any_order_write_what_the_store_after_writes(
    next_day: Day, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Whichever of the expected repos arrive, in whichever order, one of them perhaps with a
    day the store under the collection did not read for: the same tree, commit message and
    results as the store after the collection."""
    arrived = data.draw(st.permutations(next_day.observations)).copy()
    arrived = arrived[: data.draw(st.integers(1, len(arrived)))]
    odd = data.draw(st.none() | st.integers(0, len(arrived) - 1))
    if odd is not None:
        views = arrived[odd].views
        old = Bucket(views.buckets[0].date - dt.timedelta(days=20), 3, 1)
        arrived[odd] = dataclasses.replace(
            arrived[odd], views=dataclasses.replace(views, buckets=(old, *views.buckets))
        )
    tmp_path = tmp_path_factory.mktemp("arrivals")
    remote = tmp_path / "data.git"
    shutil.copytree(next_day.remote, remote)
    merged, results = store_both(
        next_day.settings,
        arrived,
        remote,
        tmp_path,
        expected=[o.repo for o in next_day.observations],
    )
    assert {r.full_name for r in results} == {o.repo.full_name for o in arrived}
    assert merged <= len(arrived)


def test_a_surprise_in_the_store_under_the_collection_costs_nothing_but_time(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug met while merging a repo as it arrives: the log says so, and the store after the
    collection reads and merges every repo, the one it failed on included."""
    calls: list[str] = []
    merge = store_module.plan_repo

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append("merge")
        if len(calls) == 3:
            raise KeyError("a bug")
        return merge(*args, **kwargs)

    monkeypatch.setattr(store_module, "plan_repo", fails_once)
    log = ListLog()
    with SimulatedGitHub(REPOS, now=NOW, token=TOKEN, orgs=["octo"]) as sim:
        work = tmp_path / "work"
        work.mkdir()
        report = sync.run(
            settings_for(remote),
            today=sim.now.date(),
            source=source_for(sim),
            log=log,
            workdir=work,
            cwd=tmp_path,
            sleep=lambda _s: None,
        )
    assert report.repos_synced == len(REPOS)
    assert not report.store_failed
    assert len(calls) == 3  # then the store after the collection merged them all
    assert any("The store under the collection stopped (KeyError" in line for line in log.lines)
    stored = branch.files(remote)
    assert all(f"{repo.full_name}/views/2026.csv" in stored for repo in REPOS)
