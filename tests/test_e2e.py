"""The action end to end: the real entrypoint, run as the runner runs it, day after day.

A simulated GitHub on 127.0.0.1 answers with GitHub's shapes and window behaviour; the data
branch lives in a bare git repo; each step runs `entrypoint.py` in another working directory
with `INPUT_*` env vars and the runner's files, on a day faked with libfaketime.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.runner import ENTRYPOINT, StepResult, faketime_env, run_step
from traffic_sync.core.growth import GrowthRow, daily_growth, queries_needed
from traffic_sync.demo import SimRepo, SimulatedGitHub

pytestmark = pytest.mark.slow  # runs the entrypoint day after day

TOKEN = "ghp_e2eSimulatedToken0123456789"
START = dt.date(2026, 1, 1)
DAYS = 22
GOLDEN = Path(__file__).parent / "golden" / "e2e"

WORLD = [
    SimRepo(
        "octo-org/busy-lib", 101, dt.date(2024, 3, 1), daily_views=180, daily_clones=12, seed=2
    ),
    SimRepo("octo-org/quiet", 102, dt.date(2025, 6, 1), daily_views=0, daily_clones=0),
    SimRepo(
        "octo-org/weekday-tool",
        103,
        dt.date(2025, 1, 1),
        daily_views=25,
        daily_clones=3,
        zero_weekdays=frozenset({5, 6}),
        seed=4,
    ),
    SimRepo("octo-org/newborn", 104, START + dt.timedelta(days=9), daily_views=40, seed=6),
    SimRepo("octo-org/old-fork", 105, dt.date(2024, 1, 1), fork=True),
    SimRepo("octo-org/secret-sauce", 106, dt.date(2024, 1, 1)),
    SimRepo("octocat/private-tool", 107, dt.date(2025, 2, 1), private=True, daily_views=9, seed=8),
]
TRACKED = [
    "octo-org/busy-lib",
    "octo-org/newborn",
    "octo-org/quiet",
    "octo-org/weekday-tool",
    "octocat/private-tool",
]


def at(day: dt.date, hour: int = 12, minute: int = 30) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def inputs(remote: Path, **extra: str) -> dict[str, str]:
    """The inputs as a workflow would pass them, defaults included (the runner sends all)."""
    return {
        "token": TOKEN,
        "repos": "octo-org/*\n!octo-org/secret-sauce, octocat/private-tool",
        "sink": "auto",
        "data-repository": str(remote),
        "data-branch": "traffic-data",
        "data-path": "",
        "push-token": "ghs_pushTokenNotUsedForLocalPaths",
        "include-forks": "false",
        "include-archived": "false",
        "allow-private-in-public": "false",
        "dry-run": "false",
        "fail-on-error": "true",
        **extra,
    }


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(WORLD, now=at(START), token=TOKEN, orgs=["octo-org"])


def step(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path, now: dt.datetime, **extra: str
) -> StepResult:
    sim.now = now
    return run_step(
        inputs(remote, **extra), now=now, api_url=sim.url, workspace=tmp_path / "workspace"
    )


def test_daily_runs_keep_every_day_exactly(github: SimulatedGitHub, tmp_path: Path) -> None:
    """22 daily runs: final days equal the truth, no day is lost, files match the golden tree."""
    remote = branch.init_bare(tmp_path / "data.git")
    for offset in range(DAYS):
        day = START + dt.timedelta(days=offset)
        hour = 8 if offset == 5 else 12  # one run before midday: yesterday not yet published
        result = step(github, remote, tmp_path, at(day, hour))
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.outputs["repos-synced"] == "5"
        assert result.outputs["repos-failed"] == "0"
        assert len(result.outputs["commit-sha"]) == 40
        # the runner hides ::add-mask:: lines; the token must appear in no other line
        shown = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
        assert TOKEN not in "\n".join(shown) + result.stderr + result.summary
    last = START + dt.timedelta(days=DAYS - 1)
    tree = branch.files(remote)

    for name in TRACKED:
        repo = next(r for r in WORLD if r.full_name == name)
        for metric in ("views", "clones"):
            rows = branch.rows(tree, name, metric)
            by_date = {dt.date.fromisoformat(r["date"]): r for r in rows}
            first = max(START - dt.timedelta(days=13), repo.created)
            expected_final = {first + dt.timedelta(days=i) for i in range((last - first).days - 1)}
            final = {d for d, r in by_date.items() if r["final"]}
            assert final == expected_final, f"{name} {metric}: a final day is missing or extra"
            for day, row in by_date.items():
                truth = github.true_traffic(name, metric, day)
                if row["final"]:
                    assert (row["count"], row["uniques"]) == truth, f"{name} {metric} {day}"
                else:
                    assert row["count"] <= truth[0]
    for name in TRACKED:  # stars and forks since the repo's creation, fetched once
        for series in ("stars", "forks"):
            truth = daily_growth(github.timeline(name, series))
            stored = [
                GrowthRow(dt.date.fromisoformat(r["date"]), r["new"], r["total"])
                for r in branch.rows(tree, name, series)
            ]
            assert tuple(stored) == truth, f"{name} {series}"
    graphql = [
        r
        for r in github.requests
        if r.path == "/graphql" and not r.body["query"].startswith("query Describe")
    ]
    # the first 100 of each came with the repos' facts; the rest once, on the first run
    assert len(graphql) == sum(
        max(0, queries_needed(len(github.timeline(n, s))) - 1)
        for n in TRACKED
        for s in ("stars", "forks")
    ), "stars and forks are asked for once, on the first run, one query per 100 beyond the first"
    assert not any(p.startswith(("octo-org/old-fork/", "octo-org/secret-sauce/")) for p in tree)
    assert branch.rows(tree, "octo-org/quiet", "views")[-1]["count"] == 0
    assert not branch.dataset_files(tree, "octo-org/quiet", "referrers")  # no rows, no file
    assert branch.commit_count(remote) == DAYS

    if os.environ.get("UPDATE_GOLDEN") == "1":
        for path, data in tree.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
    golden = {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()
    }
    assert sorted(tree) == sorted(golden)
    for path, data in tree.items():
        assert data == golden[path], f"{path} differs from tests/golden/e2e/{path}"

    before = branch.tip(remote)
    again = step(github, remote, tmp_path, at(last, 12, 45))  # same answers: nothing new
    assert again.returncode == 0
    assert again.outputs["commit-sha"] == ""
    assert again.outputs["days-added"] == "0"
    assert branch.tip(remote) == before


def test_first_run_reports_outputs_and_summary(github: SimulatedGitHub, tmp_path: Path) -> None:
    """The first run creates the branch and fills outputs and the step summary."""
    remote = branch.init_bare(tmp_path / "data.git")
    result = step(github, remote, tmp_path, at(START))
    assert result.returncode == 0, result.stdout + result.stderr
    assert branch.commit_count(remote) == 1
    message = branch.git("-C", str(remote), "log", "-1", "--format=%s%n%an <%ae>", "traffic-data")
    subject, author = message.decode().splitlines()
    assert subject == f"traffic-sync: {START}, 5 repos, {result.outputs['days-added']} new days"
    assert author == "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    assert int(result.outputs["days-added"]) > 0
    for name in TRACKED:
        assert name in result.summary
    assert "```mermaid" in result.summary  # the overview charts, where GitHub draws them
    assert "[1/5]" in result.stdout


def test_dry_run_writes_nothing(github: SimulatedGitHub, tmp_path: Path) -> None:
    """dry-run collects, merges and reports, and pushes nothing."""
    remote = branch.init_bare(tmp_path / "data.git")
    result = step(github, remote, tmp_path, at(START), **{"dry-run": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert branch.tip(remote) == ""
    assert result.outputs["commit-sha"] == ""
    assert int(result.outputs["days-added"]) > 0
    assert "dry run" in result.summary


def test_corrupt_history_is_left_untouched(github: SimulatedGitHub, tmp_path: Path) -> None:
    """An unreadable views file stays byte-identical and fails its repo; the others are saved."""
    remote = branch.init_bare(tmp_path / "data.git")
    assert step(github, remote, tmp_path, at(START)).returncode == 0
    corrupt = b'[{"date": "2026-01-01", "count": "lots"'
    branch.write_file(remote, "octo-org/busy-lib/views/2026.json", corrupt, tmp_path)
    before = branch.files(remote)

    result = step(github, remote, tmp_path, at(START + dt.timedelta(days=1)))
    assert result.returncode == 1
    assert result.outputs["repos-failed"] == "1"
    assert result.outputs["repos-synced"] == "4"
    assert "::error title=Unreadable history file%3A octo-org/busy-lib::" in result.stdout
    assert "octo-org/busy-lib/views/2026.json" in result.summary
    after = branch.files(remote)
    for path in before:
        if path.startswith("octo-org/busy-lib/"):
            assert after[path] == before[path], f"{path} changed"
    assert b"2026-01-02" in after["octo-org/quiet/stats/2026.json"]


def test_concurrent_writers_lose_nothing(github: SimulatedGitHub, tmp_path: Path) -> None:
    """Two runs pushing at once both land: the loser re-merges onto the winner, no force push."""
    remote = branch.init_bare(tmp_path / "data.git")
    branch.install_hook(remote, "#!/bin/sh\nsleep 1\n")  # hold both pushes so they overlap
    github.now = at(START)
    procs = []
    for index, repos in enumerate(["octo-org/busy-lib", "octo-org/weekday-tool"]):
        env = {k: v for k, v in os.environ.items() if not k.startswith("INPUT_")}
        env.update({f"INPUT_{k.upper()}": v for k, v in inputs(remote, repos=repos).items()})
        env.update(faketime_env(at(START)), GITHUB_ACTIONS="true", GITHUB_API_URL=github.url)
        work = tmp_path / f"ws{index}"
        work.mkdir()
        procs.append(
            subprocess.Popen(
                [sys.executable, str(ENTRYPOINT)],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
    tree = branch.files(remote)
    assert branch.rows(tree, "octo-org/busy-lib", "views")
    assert branch.rows(tree, "octo-org/weekday-tool", "views")
    assert branch.commit_count(remote) == 2
    page = tree["README.md"].decode()
    assert "busy-lib" in page
    assert "weekday-tool" in page
