"""Benchmark: merge and write 1,000 repos with 3 years of daily history each.

    python benchmarks/store.py [--repos 1000] [--days 1095] [--checkout]

Builds the data branch once (not timed), then times `store()` for an unchanged run (the same
day's observations again: no commit expected) and for a run that adds one new day, each in a
fresh process that also reports its peak memory. The data repo is a bare repo, as the Action's
GitHub repo is; with `--checkout` it is a folder with a work tree, which each push checks out.

Last, "git alone" times what git must do for any new day, with no merging or rendering: a
new day rewrites each repo's current period files (this year's views, clones and stats, this
month's referrers and paths), so git fetches the branch, stores those files anew, and pushes.
That is the floor a new day cannot go below on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from traffic_sync.codec import encode_history, parse_data_file
from traffic_sync.gitstore import DataBranch, Remote, prepare_local, resolve_remote
from traffic_sync.history import apply_observation
from traffic_sync.models import (
    Bucket,
    DailyRow,
    History,
    Observation,
    PathRow,
    PopularPath,
    Referrer,
    ReferrerRow,
    RepoInfo,
    StatsRow,
    TrafficAnswer,
)
from traffic_sync.settings import Settings, parse_settings
from traffic_sync.store import plan_files, store

TODAY = dt.date(2026, 3, 2)


def observation(repo: RepoInfo, day: dt.date) -> Observation:
    buckets = tuple(
        Bucket(day - dt.timedelta(days=b), 10 + b + repo.id % 7, 3) for b in range(1, 15)
    )
    return Observation(
        repo=repo,
        fetched_on=day,
        views=TrafficAnswer(sum(b.count for b in buckets), 20, buckets),
        clones=TrafficAnswer(14, 5, tuple(Bucket(b.date, 1, 1) for b in buckets)),
        referrers=tuple(Referrer(f"site{i}.example", 10 - i, 2) for i in range(5)),
        paths=tuple(PopularPath(f"/o/r/p{i}", f"Page {i}", 10 - i, 2) for i in range(5)),
    )


def observations(repos: list[RepoInfo], day: dt.date) -> list[Observation]:
    return [observation(r, day) for r in repos]


def old_history(days: int, seed: int) -> History:
    """`days` days of history before TODAY, different for every seed (so git stores every
    repo's files, as it would for real repos): 3 referrers and 3 paths a day."""
    dates = [TODAY - dt.timedelta(days=d) for d in range(days, 0, -1)]
    days_n = list(zip(dates, [(seed * 31 + i * 7) % 97 for i in range(days)], strict=True))
    return History(
        views=tuple(DailyRow(d, 12 + k, 4 + k // 3, final=True) for d, k in days_n),
        clones=tuple(DailyRow(d, 2 + k % 5, 1, final=True) for d, k in days_n),
        referrers=tuple(
            ReferrerRow(d, f"site{i}.example", 5 + k, 2) for d, k in days_n for i in range(3)
        ),
        paths=tuple(
            PathRow(d, f"/o/r/p{i}", f"Page {i}", 5 + k, 2) for d, k in days_n for i in range(3)
        ),
        stats=tuple(StatsRow(d, 10 + k, 2, 3, 1, 100, 40, 14, 5) for d, k in days_n),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--checkout", action="store_true", help="a data folder with a work tree")
    args = parser.parse_args()
    repos = [
        RepoInfo(f"org/repo-{i:05}", i + 1, dt.date(2020, 1, 1), False) for i in range(args.repos)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = parse_settings(
            {"token": "t", "repos": "org/*", "data-repository": str(root / "data")}, {}
        )
        remote = resolve_remote(settings.data_repository, server_url="", cwd=root)
        if not args.checkout:
            subprocess.run(["git", "init", "--bare", "--quiet", str(root / "data")], check=True)
        prepare_local(remote, branch=settings.data_branch)
        started = time.perf_counter()
        today = observations(repos, TODAY)
        seeded = {
            r.full_name: apply_observation(old_history(args.days, r.id), o)
            for r, o in zip(repos, today, strict=True)
        }
        files = {
            f"{name}/{file}": text.encode()
            for name, h in seeded.items()
            for file, text in encode_history(h).items()
        }
        branch = DataBranch(remote=remote, branch=settings.data_branch, workdir=root / "seed")
        branch.fetch()
        plan = plan_files(files, today, today=TODAY, settings=settings)
        branch.push(branch.commit({**files, **plan.files}, "seed") or "")
        size = sum(len(b) for b in files.values())
        print(
            f"seeded {args.repos:,} repos x {args.days:,} days: {len(files):,} files, "
            f"{size / 2**20:.0f} MiB of JSON/CSV in {time.perf_counter() - started:.1f} s"
        )
        new_day = TODAY + dt.timedelta(days=1)
        runs: list[tuple[str, Callable[..., tuple[float, str, float]], tuple[object, ...]]] = [
            ("unchanged run", timed_store, (settings, today, TODAY, remote, root / "w1")),
            (
                "one new day",
                timed_store,
                (settings, observations(repos, new_day), new_day, remote, root / "w2"),
            ),
            ("git alone", timed_git_alone, (settings, remote, root / "w3")),
        ]
        for label, timed, job in runs:
            # a fresh process per run, so its peak memory is the run's own, not the seeding's
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                wall, sha, peak = pool.submit(timed, *job).result()
            print(f"{label:14} {wall:6.2f} s  commit {sha[:7] or 'none'}  peak {peak:,.0f} MiB")


def timed_store(
    settings: Settings, observations: list[Observation], day: dt.date, remote: Remote, work: Path
) -> tuple[float, str, float]:
    """(wall seconds, commit sha, peak memory in MiB) of one `store()`."""
    started = time.perf_counter()
    sha, _ = store(settings, observations, today=day, remote=remote, workdir=work, sleep=time.sleep)
    wall = time.perf_counter() - started
    return wall, sha, peak_mib()


def timed_git_alone(settings: Settings, remote: Remote, work: Path) -> tuple[float, str, float]:
    """(wall seconds, commit sha, peak memory in MiB) of fetching the branch, rewriting each
    repo's current period files with one more line (as a new day does), committing and
    pushing: git's share."""
    started = time.perf_counter()
    new_day = TODAY + dt.timedelta(days=1)
    branch = DataBranch(remote=remote, branch=settings.data_branch, workdir=work)
    branch.fetch()
    current = branch.read_files()
    by_repo: dict[str, dict[str, bytes]] = {}
    for path, data in current.items():
        owner, _, rest = path.partition("/")
        repo, _, name = rest.partition("/")
        parsed = parse_data_file(name)
        if parsed is not None and parsed.period == parsed.dataset.period(new_day):
            by_repo.setdefault(f"{owner}/{repo}", {})[path] = data + b"\n"
    with branch.staging() as staging:
        for changed in by_repo.values():  # a repo folder's files at a time, as a run stages them
            staging.add(changed)
        sha = staging.commit({}, "git alone") or ""
    branch.push(sha)
    return time.perf_counter() - started, sha, peak_mib()


def peak_mib() -> float:
    """This process's own peak memory. Linux carries `ru_maxrss` over fork and exec, so a
    spawned worker would report the seeding parent's peak; VmHWM is this program's alone."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


if __name__ == "__main__":
    main()
