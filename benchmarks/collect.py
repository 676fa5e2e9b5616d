"""Benchmark: collect N repos from a fake GitHub with latency, and store them in a local repo.

    python benchmarks/collect.py [--repos 500] [--latency 0.05] [--concurrency 8] [--rpm 900]
                                 [--checkout]

The fake GitHub runs in its own process (so its JSON work does not share the benchmark's GIL)
and answers every request after `--latency` seconds. The same code then runs serially
(concurrency 1, pacer unchanged) for the ratio; `--no-serial` skips that slow part.

The data repo is a bare repo in a temporary folder, as the Action's GitHub repo is; with
`--checkout` it is a folder with a work tree instead, which each push also checks out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from traffic_sync.core.errors import TrafficSyncError
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import Pacer, RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.settings import parse_settings
from traffic_sync.sync import run

TOKEN = "ghp_benchmark"  # noqa: S105 - the fake server's token
NOW = dt.datetime(2026, 3, 2, 13, tzinfo=dt.UTC)


def serve(count: int, latency: float, queue: Any) -> None:
    repos = [
        SimRepo(f"bench-org/repo-{i:05}", 10_000 + i, dt.date(2024, 1, 1), seed=2 * i)
        for i in range(count)
    ]
    sim = SimulatedGitHub(
        repos, now=NOW, token=TOKEN, orgs=["bench-org"], latency=latency, rate_limit=10**9
    )
    queue.put(sim.start())
    while True:
        time.sleep(3600)


class Quiet:
    def progress(self, line: str) -> None:
        pass

    def error(self, error: TrafficSyncError, *, where: str = "") -> None:
        print(f"error: {where}: {error}")

    def warning(self, error: TrafficSyncError, *, where: str = "") -> None:
        print(f"warning: {where}: {error}")


class Timed(GitHubSource):
    """The client, noting when each repo's traffic answers were all in."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answered: list[float] = []

    def observe(self, full_name: str, **kwargs: Any) -> Any:
        observation = super().observe(full_name, **kwargs)
        self.answered.append(time.perf_counter())
        return observation


def sync(
    url: str, *, concurrency: int, rpm: int, out: Path, checkout: bool
) -> tuple[float, int, int, float]:
    """(wall seconds, requests made, repos saved, seconds from the last answer to the end) of
    one run."""
    if not checkout:
        subprocess.run(["git", "init", "--bare", "--quiet", str(out)], check=True)
    settings = parse_settings(
        {
            "token": TOKEN,
            "repos": "bench-org/*",
            "data-repository": str(out),
            "concurrency": str(concurrency),
            "requests-per-minute": str(rpm),
        },
        {},
    )
    source = Timed(
        token=TOKEN,
        api_url=url,
        policy=RetryPolicy(attempts=2, timeout=30),
        pacer=Pacer(per_minute=rpm),
    )
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        report = run(
            settings, today=NOW.date(), source=source, log=Quiet(), workdir=Path(work), cwd=out
        )
        ended = time.perf_counter()
    wall = ended - started
    return wall, source.requests_made, report.repos_synced, ended - max(source.answered)


def used(url: str) -> int:
    answer = requests.get(
        f"{url}/rate_limit", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    )
    return int(answer.json()["resources"]["core"]["used"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rpm", type=int, default=900, help="the pacer's requests per minute")
    parser.add_argument("--no-serial", action="store_true", help="skip the serial run")
    parser.add_argument("--checkout", action="store_true", help="a data folder with a work tree")
    args = parser.parse_args()
    queue: Any = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(args.repos, args.latency, queue), daemon=True
    )
    server.start()
    url = queue.get(timeout=60)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wall, made, saved, tail = sync(
                url,
                concurrency=args.concurrency,
                rpm=args.rpm,
                out=Path(tmp) / "data",
                checkout=args.checkout,
            )
            served = used(url)
            by_latency = made * args.latency / args.concurrency
            by_pacer = max(0.0, (made - args.rpm / 60) * 60 / args.rpm)  # after a 1 s burst
            bound = max(by_latency, by_pacer)
            print(f"repos                {args.repos:,} ({saved:,} saved)")
            print(f"requests made        {made:,} (server counted {served:,})")
            print(f"requests per repo    {made / args.repos:.3f}")
            print(f"wall time            {wall:.2f} s")
            print(f"after the last answer {tail:.2f} s (the store's end: index, commit, push)")
            print(
                f"lower bound          {bound:.2f} s (latency x requests / concurrency "
                f"{by_latency:.2f} s, pacer {by_pacer:.2f} s)"
            )
            print(f"ratio to bound       {wall / bound:.2f}")
            # GitHub's floor: the four traffic calls a repo, at the pacer's rate
            floor = max(0.0, (4 * args.repos - args.rpm / 60) * 60 / args.rpm)
            print(f"floor (4 a repo)     {floor:.2f} s, ratio {wall / max(floor, 1e-9):.2f}")
            if not args.no_serial:
                serial, _, _, _ = sync(
                    url,
                    concurrency=1,
                    rpm=args.rpm,
                    out=Path(tmp) / "serial",
                    checkout=args.checkout,
                )
                print(f"serial wall time     {serial:.2f} s")
                print(f"speed-up vs serial   {serial / wall:.2f}x")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak memory          {peak:.0f} MiB (max RSS of this process)")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
