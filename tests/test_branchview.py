"""What a run reads of the data branch, with real git: the newest files of the repos it writes,
the derived files, and nothing of the years before or of the other repos; derived files that
are missing, stale or edited are rebuilt, and the branch ends as if they had been right."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

from tests import branch
from tests.helpers.gitrepo import blobs_in, git
from traffic_sync.branch.codec import encode_history
from traffic_sync.branch.state import STATE_FILE, encode_state
from traffic_sync.core.gitids import blob_sha
from traffic_sync.core.models import (
    Bucket,
    DailyRow,
    History,
    Observation,
    PopularPath,
    Referrer,
    ReferrerRow,
    RepoInfo,
    StatsRow,
    TrafficAnswer,
)
from traffic_sync.settings import parse_settings
from traffic_sync.sinks.gitremote import resolve_remote
from traffic_sync.sinks.gitstore import DataBranch
from traffic_sync.stages.store import store
from traffic_sync.sync import store_options

TODAY = dt.date(2026, 3, 2)
BRANCH = "traffic-data"
REPOS = [RepoInfo(f"octo/r{n}", n, dt.date(2023, 1, 1), private=False) for n in (1, 2, 3)]


def observation(repo: RepoInfo, day: dt.date) -> Observation:
    buckets = tuple(Bucket(day - dt.timedelta(days=b), 10 + b + repo.id, 3) for b in range(1, 15))
    return Observation(
        repo=repo,
        fetched_on=day,
        views=TrafficAnswer(sum(b.count for b in buckets), 20, buckets),
        clones=TrafficAnswer(14, 5, tuple(Bucket(b.date, 1, 1) for b in buckets)),
        referrers=(Referrer("news.example", 9, 2),),
        paths=(PopularPath(f"/{repo.full_name}", "Home", 7, 2),),
    )


def old_history(repo: RepoInfo) -> History:
    """Three years before TODAY: daily views, clones and stats, a referrer a day; no two
    repos have a file alike (git would store it once)."""
    days = [TODAY - dt.timedelta(days=d) for d in range(3 * 365, 0, -1)]
    return History(
        views=tuple(DailyRow(d, 5 + (d.day * repo.id) % 9, 2, final=True) for d in days),
        clones=tuple(DailyRow(d, d.month % 3, repo.id, final=True) for d in days),
        referrers=tuple(ReferrerRow(d, "old.example", 3, repo.id) for d in days),
        stats=tuple(StatsRow(d, d.toordinal() % 50, repo.id, 1, 0, 9, 3, 2, 1) for d in days),
    )


def seed(remote: Path, tmp: Path) -> None:
    """A branch as an earlier run left it: three repos with three years each (written without
    derived files, with a state.json that knows none of them yet), then one run for all of
    them on TODAY, which writes those."""
    files = {
        f"{repo.full_name}/{name}": text.encode()
        for repo in REPOS
        for name, text in encode_history(old_history(repo)).items()
    }
    files[STATE_FILE] = encode_state({})
    writer = DataBranch(
        remote=resolve_remote(str(remote), server_url="", cwd=tmp),
        branch=BRANCH,
        workdir=tmp / "seed",
    )
    writer.fetch()
    sha = writer.commit(files, "history kept so far")
    assert sha is not None
    writer.push(sha)
    run(remote, tmp / "first", [observation(r, TODAY) for r in REPOS], TODAY)


def run(remote: Path, workdir: Path, observations: list[Observation], day: dt.date) -> str:
    settings = parse_settings({"token": "t", "repos": "octo/*", "data-repository": str(remote)}, {})
    where = resolve_remote(str(remote), server_url="", cwd=workdir.parent)
    sha, plan = store(
        store_options(settings),
        observations,
        today=day,
        remote=where,
        workdir=workdir,
        sleep=lambda _: None,
    )
    assert not plan.errors
    return sha


def blob(remote: Path, path: str) -> str:
    return git("--git-dir", str(remote), "rev-parse", f"{BRANCH}:{path}")


def test_a_new_day_reads_the_newest_files_of_its_repo_and_nothing_else(tmp_path: Path) -> None:
    remote = branch.init_bare(tmp_path / "data.git")
    seed(remote, tmp_path)
    before = branch.files(remote)
    day = TODAY + dt.timedelta(days=1)
    assert run(remote, tmp_path / "work", [observation(REPOS[0], day)], day)
    read = blobs_in(tmp_path / "work")
    after = branch.files(remote)

    # read: r1's files of this year, last year's CSV (the charts' 90 days reach into it), its
    # referrers of the charts' months, its figures, state.json and the index rows
    for path in ("octo/r1/views/2026.json", "octo/r1/views/2025.csv", "octo/r1/stats/2025.csv"):
        assert blob_of(before, path) in read, path
    for path in (
        ".traffic-sync/state.json",
        ".traffic-sync/index.json",
        ".traffic-sync/totals/octo/r1.json",
    ):
        assert blob_of(before, path) in read, path
    # not read: r1's older years and older referrers, last year's JSON (the new day does
    # not reach it), and any file of the other repos
    for path in (
        "octo/r1/views/2025.json",
        "octo/r1/stats/2025.json",
        "octo/r1/views/2024.json",
        "octo/r1/views/2023.csv",
        "octo/r1/referrers/2025/06.json",
    ):
        assert blob_of(before, path) not in read, path
    others = {blob_of(before, p) for p in before if p.startswith(("octo/r2/", "octo/r3/"))}
    assert not others & read
    # and nothing of theirs changed, while r1 got its day
    assert {p: d for p, d in after.items() if p.startswith("octo/r2/")} == {
        p: d for p, d in before.items() if p.startswith("octo/r2/")
    }
    assert branch.rows(after, "octo/r1", "stats")[-1]["date"] == day.isoformat()


def blob_of(tree: dict[str, bytes], path: str) -> str:
    return blob_sha(tree[path])


def test_derived_files_missing_or_edited_are_rebuilt_and_change_nothing_else(
    tmp_path: Path,
) -> None:
    """The same day run on a branch whose derived files were deleted or edited by hand, and on
    an untouched copy: both end with the same files, derived ones included."""
    remote = branch.init_bare(tmp_path / "data.git")
    seed(remote, tmp_path)
    untouched = tmp_path / "copy.git"
    shutil.copytree(remote, untouched)
    edit = tmp_path / "edit"
    git("clone", "--quiet", "--branch", BRANCH, str(remote), str(edit))
    git("rm", "--quiet", ".traffic-sync/index.json", cwd=edit)
    totals = edit / ".traffic-sync/totals/octo/r1.json"
    totals.write_bytes(totals.read_bytes().replace(b'"count":', b'"count":1'))
    git("commit", "--quiet", "-am", "edited by hand", cwd=edit)
    git("push", "--quiet", "origin", BRANCH, cwd=edit)

    day = TODAY + dt.timedelta(days=1)
    for where in (remote, untouched):
        assert run(where, tmp_path / f"work-{where.stem}", [observation(REPOS[0], day)], day)
    assert branch.files(remote) == branch.files(untouched)


def test_a_run_that_learns_nothing_new_commits_nothing(tmp_path: Path) -> None:
    remote = branch.init_bare(tmp_path / "data.git")
    seed(remote, tmp_path)
    commits = branch.commit_count(remote)
    assert run(remote, tmp_path / "again", [observation(r, TODAY) for r in REPOS], TODAY) == ""
    assert branch.commit_count(remote) == commits


def test_a_rerun_with_nothing_new_reads_no_file_of_any_repo(tmp_path: Path) -> None:
    """The same observations again: state.json's `seen` keys tell the run that merging them
    would change nothing, before it reads a period file, a page or the figures of any repo."""
    remote = branch.init_bare(tmp_path / "data.git")
    seed(remote, tmp_path)
    before = branch.files(remote)
    commits = branch.commit_count(remote)
    assert run(remote, tmp_path / "again", [observation(r, TODAY) for r in REPOS], TODAY) == ""
    assert branch.commit_count(remote) == commits
    read = blobs_in(tmp_path / "again")
    assert blob_of(before, ".traffic-sync/state.json") in read
    assert blob_of(before, ".traffic-sync/index.json") in read
    repo_files = {
        blob_of(before, p) for p in before if p.startswith(("octo/", ".traffic-sync/totals/"))
    }
    assert repo_files
    assert not repo_files & read


def test_a_rerun_with_something_new_or_a_file_edited_since_writes(tmp_path: Path) -> None:
    """What the `seen` keys do not vouch for is read and written as ever: a repo whose
    observation changed (one more view today), and a repo whose figures were deleted by hand
    since (rebuilt to the bytes they had)."""
    remote = branch.init_bare(tmp_path / "data.git")
    seed(remote, tmp_path)
    before = branch.files(remote)
    edit = tmp_path / "edit"
    git("clone", "--quiet", "--branch", BRANCH, str(remote), str(edit))
    git("rm", "--quiet", ".traffic-sync/totals/octo/r3.json", cwd=edit)
    git("commit", "--quiet", "-m", "deleted by hand", cwd=edit)
    git("push", "--quiet", "origin", BRANCH, cwd=edit)

    more = observation(REPOS[1], TODAY)
    views = more.views
    busier = (*views.buckets, Bucket(TODAY, 1, 1))
    more = dataclasses.replace(more, views=TrafficAnswer(views.count + 1, views.uniques, busier))
    again = [observation(REPOS[0], TODAY), more, observation(REPOS[2], TODAY)]
    assert run(remote, tmp_path / "again", again, TODAY)
    after = branch.files(remote)
    assert after[".traffic-sync/totals/octo/r3.json"] == before[".traffic-sync/totals/octo/r3.json"]
    assert branch.rows(after, "octo/r2", "views")[-1] == {
        "date": TODAY.isoformat(),
        "count": 1,
        "uniques": 1,
        "final": False,
    }
    for path in before:
        if path.startswith(("octo/r1/", "octo/r3/")):
            assert after[path] == before[path], path
    # and a rerun of that is quiet again
    assert run(remote, tmp_path / "third", again, TODAY) == ""


def test_reading_part_of_a_folder_writes_what_reading_all_of_it_writes(tmp_path: Path) -> None:
    """The same day on the same branch, once with the derived files and state.json's
    fingerprints (a trusted folder: its newest files read) and once without (read whole)."""
    remote = branch.init_bare(tmp_path / "data.git")
    seed(remote, tmp_path)
    whole = tmp_path / "whole.git"
    shutil.copytree(remote, whole)
    edit = tmp_path / "edit"
    git("clone", "--quiet", "--branch", BRANCH, str(whole), str(edit))
    state = edit / ".traffic-sync/state.json"
    state.write_bytes(state.read_bytes().replace(b'"files_sha256"', b'"was_files_sha256"'))
    git("rm", "--quiet", "-r", ".traffic-sync/totals", ".traffic-sync/index.json", cwd=edit)
    git("commit", "--quiet", "-am", "no fingerprints", cwd=edit)
    git("push", "--quiet", "origin", BRANCH, cwd=edit)

    day = TODAY + dt.timedelta(days=1)
    for where in (remote, whole):
        assert run(
            where, tmp_path / f"work-{where.stem}", [observation(r, day) for r in REPOS], day
        )
    trusted, read_whole = branch.files(remote), branch.files(whole)
    state_path = ".traffic-sync/state.json"
    assert {p: d for p, d in trusted.items() if p != state_path} == {
        p: d for p, d in read_whole.items() if p != state_path
    }
