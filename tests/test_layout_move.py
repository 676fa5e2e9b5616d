"""Moving a data branch from layout 1 (one whole file per dataset) to layout 2 (period files).

Every test starts from tests/fixtures/layout1.bundle, a branch the last version that wrote
layout 1 made (see tests/fixtures/README.md), cloned into a bare repo, and runs the real
entrypoint on it as the Actions runner does, on faked days, against the simulated GitHub.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests import branch
from tests.fake_posthog import FakePostHog
from tests.helpers.factories import StartGitHub
from tests.helpers.gitrepo import hold_script
from tests.helpers.trees import check_tree
from tests.runner import (
    ENTRYPOINT,
    RunningStep,
    StepResult,
    faketime_env,
    finish_step,
    kill_step,
    run_step,
    start_step,
    wait_for_exit,
)
from traffic_sync.branch import codec
from traffic_sync.core.errors import StoreError
from traffic_sync.core.history import apply_observation
from traffic_sync.core.models import History, Observation, RepoInfo, TrafficAnswer
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.settings import parse_settings
from traffic_sync.stages import messages
from traffic_sync.stages.plan import plan_files
from traffic_sync.sync import store_options

pytestmark = pytest.mark.slow  # runs the entrypoint on a real layout-1 branch

FIXTURE = Path(__file__).parent / "fixtures" / "layout1.bundle"
FIXTURE_END = dt.date(2025, 12, 20)  # its last run
TOKEN = "ghp_layout1FixtureToken0123456789"
KEY = "phc_layout1FixtureKey0123456789abcd"
# The fixture's world (tests/fixtures/README.md); octo-org/old-name is renamed below.
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
    SimRepo("octo-org/newborn", 104, dt.date(2025, 12, 1), daily_views=40, seed=6),
    SimRepo("octo-org/old-name", 105, dt.date(2025, 3, 1), daily_views=12, daily_clones=2, seed=8),
    SimRepo("octocat/tiny", 106, dt.date(2025, 8, 1), daily_views=3, daily_clones=1, seed=9),
]
FOLDERS = [
    "octo-org/busy-lib",
    "octo-org/new-name",
    "octo-org/newborn",
    "octo-org/quiet",
    "octo-org/weekday-tool",
    "octocat/tiny",
]
DATASETS = ("views", "clones", "referrers", "paths", "stats")
SNAPSHOT_KEYS = {"referrers": "referrer", "paths": "path", "stats": ""}
LAYOUT1_NAMES = {f"{d}.{ext}" for d in DATASETS for ext in ("json", "csv")}
STATE = ".traffic-sync/state.json"
MOVED = "Moved the data branch to layout 2 (period files): 6 repos."


def at(day: dt.date, hour: int = 12, minute: int = 30) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def day_after(days: int) -> dt.date:
    return FIXTURE_END + dt.timedelta(days=days)


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    sim = start_github(WORLD, now=at(day_after(1)), token=TOKEN, orgs=["octo-org"])
    sim.rename("octo-org/old-name", "octo-org/new-name")
    return sim


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repo whose traffic-data branch is the layout-1 fixture."""
    path = tmp_path / "data.git"
    branch.git("clone", "--bare", "--quiet", str(FIXTURE), str(path))
    return path


def inputs(remote: Path, **extra: str) -> dict[str, str]:
    return {
        "token": TOKEN,
        "repos": "octo-org/*, octocat/tiny",
        "data-repository": str(remote),
        "push-token": "ghs_pushTokenNotUsedForLocalPaths",
        "fail-on-error": "true",
        **extra,
    }


def step(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path, now: dt.datetime, **extra: str
) -> StepResult:
    sim.now = now
    return run_step(
        inputs(remote, **extra), now=now, api_url=sim.url, workspace=tmp_path / "workspace"
    )


def layout1_files(tree: dict[str, bytes]) -> list[str]:
    """Layout 1's whole files (`<owner>/<name>/views.json` ...) in a tree."""
    return sorted(p for p in tree if p.count("/") == 2 and p.rsplit("/", 1)[1] in LAYOUT1_NAMES)


def layout1_rows(tree: dict[str, bytes], folder: str, dataset: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(tree[f"{folder}/{dataset}.json"])
    return rows


def check_kept(old: dict[str, bytes], new: dict[str, bytes], *, folders: list[str]) -> None:
    """Every row of the layout-1 tree `old` is in `new`'s period files: a day's values never
    lower and never less final, each snapshot row as it was."""
    for folder in folders:
        for dataset in DATASETS:
            before = layout1_rows(old, folder, dataset)
            after = branch.rows(new, folder, dataset)
            where = f"{folder} {dataset}"
            if dataset in SNAPSHOT_KEYS:
                kept = {json.dumps(row, sort_keys=True) for row in after}
                lost = [row for row in before if json.dumps(row, sort_keys=True) not in kept]
                assert not lost, f"{where}: rows lost {lost[:3]}"
                continue
            now = {row["date"]: row for row in after}
            for row in before:
                assert row["date"] in now, f"{where} {row['date']} was dropped"
                got = now[row["date"]]
                assert got["count"] >= row["count"], f"{where} {row['date']}: count lowered"
                assert got["uniques"] >= row["uniques"], f"{where} {row['date']}: uniques"
                assert got["final"] or not row["final"], f"{where} {row['date']}: not final"


def commit_message(remote: Path, rev: str = "traffic-data") -> str:
    return branch.git("-C", str(remote), "log", "-1", "--format=%B", rev).decode()


def test_fixture_is_a_layout1_branch(remote: Path) -> None:
    """The fixture holds what the old version wrote: whole files, schema 1, all six folders."""
    tree = branch.files(remote)
    assert json.loads(tree[STATE])["schema"] == 1
    assert len(layout1_files(tree)) == 10 * len(FOLDERS)
    assert not branch.repo_folders(tree)  # no period file yet
    assert layout1_rows(tree, "octocat/tiny", "paths")  # a title with a line break in it
    assert layout1_rows(tree, "octo-org/quiet", "referrers") == []


def test_first_run_moves_the_branch_in_one_commit(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """The first run moves every folder, the ones it does not sync too, in the commit of its
    data: every row kept, no whole file left, schema 2; the same run again changes nothing."""
    old = branch.files(remote)
    old_tip, commits = branch.tip(remote), branch.commit_count(remote)
    day = day_after(1)
    repos = "octo-org/*, !octo-org/weekday-tool"
    result = step(github, remote, tmp_path, at(day), repos=repos)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["repos-synced"] == "4"  # octocat/tiny and weekday-tool not asked for
    assert MOVED in result.stdout
    assert branch.commit_count(remote) == commits + 1
    assert branch.git("-C", str(remote), "rev-parse", "traffic-data~1").decode().strip() == old_tip
    message = commit_message(remote)
    assert message.startswith(f"traffic-sync: {day}, 4 repos, ")
    assert f"\n\n{MOVED}\n\n- " in message
    assert "- octo-org/busy-lib: +2 days" in message

    tree = branch.files(remote)
    check_tree(tree, "the move", names=FOLDERS)
    assert layout1_files(tree) == []
    assert sorted(branch.repo_folders(tree)) == FOLDERS
    check_kept(old, tree, folders=FOLDERS)
    for folder in ("octo-org/weekday-tool", "octocat/tiny"):  # moved as they were
        for dataset in DATASETS:
            assert branch.rows(tree, folder, dataset) == layout1_rows(old, folder, dataset)
        page = tree[f"{folder}/README.md"].decode()
        assert f"Updated {FIXTURE_END}" in page  # drawn as of its last run
        assert "[views/](views)" in page
    assert branch.dataset_files(tree, "octo-org/busy-lib", "views") == [
        "octo-org/busy-lib/views/2025.json"
    ]
    assert branch.dataset_files(tree, "octo-org/busy-lib", "referrers") == [
        "octo-org/busy-lib/referrers/2025/11.json",
        "octo-org/busy-lib/referrers/2025/12.json",
    ]
    assert not branch.dataset_files(tree, "octo-org/quiet", "referrers")  # never had a row
    state = json.loads(tree[STATE])
    old_state = json.loads(old[STATE])
    assert state["schema"] == 2
    assert set(state["repos"]) == set(old_state["repos"])
    for repo_id, entry in old_state["repos"].items():
        assert state["repos"][repo_id]["posthog_sent_through"] == entry["posthog_sent_through"]
        assert state["repos"][repo_id]["files_sha256"] != entry["files_sha256"]

    tip = branch.tip(remote)
    again = step(github, remote, tmp_path, at(day, 12, 45), repos=repos)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.outputs["commit-sha"] == ""
    assert branch.tip(remote) == tip
    assert "layout 2" not in again.stdout


def test_daily_runs_after_the_move_cross_a_month_and_a_year(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """From the move on, each row goes to its period's file: in January, last year's files
    still take the window's late days; every day made final is the truth."""
    old = branch.files(remote)
    tips = {}
    last = dt.date(2026, 1, 3)
    day = day_after(1)
    while day <= last:
        result = step(github, remote, tmp_path, at(day))
        assert result.returncode == 0, result.stdout + result.stderr
        tips[day] = branch.tip(remote)
        day += dt.timedelta(days=1)
    tree = branch.files(remote)
    check_tree(tree, "after the new year", names=FOLDERS)
    check_kept(old, tree, folders=FOLDERS)
    assert branch.dataset_files(tree, "octo-org/busy-lib", "views") == [
        "octo-org/busy-lib/views/2025.json",
        "octo-org/busy-lib/views/2026.json",
    ]
    assert branch.dataset_files(tree, "octo-org/busy-lib", "paths") == [
        "octo-org/busy-lib/paths/2025/11.json",
        "octo-org/busy-lib/paths/2025/12.json",
        "octo-org/busy-lib/paths/2026/01.json",
    ]
    assert branch.dataset_files(tree, "octo-org/busy-lib", "stats") == [
        "octo-org/busy-lib/stats/2025.json",
        "octo-org/busy-lib/stats/2026.json",
    ]

    def changed(day: dt.date) -> set[str]:
        before, after = tips[day - dt.timedelta(days=1)], tips[day]
        out = branch.git("-C", str(remote), "diff", "--name-only", before, after)
        return set(out.decode().split())

    # New Year's Day: 2026's files begin, and 2025's still take the days the window reaches
    first = changed(dt.date(2026, 1, 1))
    assert {"octo-org/busy-lib/views/2025.json", "octo-org/busy-lib/views/2026.json"} <= first
    assert "octo-org/busy-lib/stats/2026.json" in first
    assert "octo-org/busy-lib/stats/2025.json" not in first  # a snapshot is of its own day
    assert not any("/referrers/2025/" in path for path in first)
    views_2025 = json.loads(tree["octo-org/busy-lib/views/2025.json"])
    assert views_2025[-1]["date"] == "2025-12-31"
    assert views_2025[-1]["final"]  # made final by the run of January 2nd
    assert "octo-org/busy-lib/views/2025.json" in changed(dt.date(2026, 1, 2))

    for repo in WORLD[:4]:
        for metric in ("views", "clones"):
            for row in branch.rows(tree, repo.full_name, metric):
                when = dt.date.fromisoformat(row["date"])
                if row["final"] and when >= day_after(1) - dt.timedelta(days=13):
                    truth = github.true_traffic(repo.full_name, metric, when)
                    assert (row["count"], row["uniques"]) == truth, f"{repo.full_name} {when}"


def test_dry_run_moves_nothing(github: SimulatedGitHub, remote: Path, tmp_path: Path) -> None:
    """A dry run says it would move the branch and leaves it as it is."""
    tip = branch.tip(remote)
    result = step(github, remote, tmp_path, at(day_after(1)), **{"dry-run": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 repos would move to layout 2" in result.stdout
    assert branch.tip(remote) == tip


def test_unreadable_file_keeps_its_repo_in_layout1_until_fixed(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """A repo whose whole file cannot be read fails as a whole, its files as they were, while
    the others move; the schema stays 1 while any whole file is left, and the run after the
    file is fixed finishes the move."""
    fixture = branch.files(remote)
    broken = {
        "octo-org/busy-lib/views.json": b'[{"date": "2025-12-01", "count": "lots"',  # synced
        "octo-org/weekday-tool/stats.json": b"{}\n",  # not synced by this run
    }
    for path, data in broken.items():
        branch.write_file(remote, path, data, tmp_path / path.replace("/", "-"))
    old = branch.files(remote)
    result = step(
        github, remote, tmp_path, at(day_after(1)), repos="octo-org/*, !octo-org/weekday-tool"
    )
    assert result.returncode == 1
    assert result.outputs["repos-failed"] == "2"
    assert result.outputs["repos-synced"] == "3"
    for path in broken:
        assert path in result.summary
    assert "::error title=Unreadable history file%3A octo-org/busy-lib::" in result.stdout
    message = commit_message(remote)
    assert "Moved 4 repos to layout 2 (period files); 2 repos still in layout 1" in message
    tree = branch.files(remote)
    for folder in ("octo-org/busy-lib", "octo-org/weekday-tool"):
        same = {p: d for p, d in old.items() if p.startswith(f"{folder}/")}
        assert {p: d for p, d in tree.items() if p.startswith(f"{folder}/")} == same
    assert json.loads(tree[STATE])["schema"] == 1
    assert len(layout1_files(tree)) == 20
    check_kept(old, tree, folders=["octo-org/new-name", "octo-org/newborn", "octocat/tiny"])

    for path in broken:  # the user puts the files back as they were
        branch.write_file(remote, path, fixture[path], tmp_path / f"fix-{path.replace('/', '-')}")
    result = step(github, remote, tmp_path, at(day_after(2)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Moved the data branch to layout 2 (period files): 2 repos." in commit_message(remote)
    tree = branch.files(remote)
    check_tree(tree, "after the fix", names=FOLDERS)
    check_kept(fixture, tree, folders=FOLDERS)


def test_whole_files_written_after_the_move_are_merged_in(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """An older version that writes whole files into a moved branch (say with state.json
    deleted, which it cannot read) loses nothing: the next run merges them in and removes them."""
    assert step(github, remote, tmp_path, at(day_after(1))).returncode == 0
    tree = branch.files(remote)
    views = branch.rows(tree, "octo-org/busy-lib", "views")
    views[-3] = {**views[-3], "count": views[-3]["count"] + 1000, "final": True}
    late = {"date": "2025-12-22", "stars": 99, "forks": 9, "watchers": 9, "open_issues": 9}
    late |= dict.fromkeys(("views_14d", "view_uniques_14d", "clones_14d", "clone_uniques_14d"), 1)
    written = {"octo-org/busy-lib/views.json": views, "octocat/tiny/stats.json": [late]}
    for path, rows in written.items():
        data = ("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n").encode()
        branch.write_file(remote, path, data, tmp_path / path.replace("/", "-"))

    result = step(github, remote, tmp_path, at(day_after(2)), repos="octo-org/*")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Moved the data branch to layout 2 (period files): 2 repos." in commit_message(remote)
    tree = branch.files(remote)
    check_tree(tree, "after the older writer", names=FOLDERS)
    now = {r["date"]: r for r in branch.rows(tree, "octo-org/busy-lib", "views")}
    assert now[views[-3]["date"]]["count"] == views[-3]["count"]
    assert late in branch.rows(tree, "octocat/tiny", "stats")


def test_a_run_killed_while_moving_leaves_the_old_tip(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """Killed at any point (every process of the step, git's server side too), the move leaves
    the old tip or the whole new one, never a half-moved branch; the next run finishes it."""
    old, old_tip = branch.files(remote), branch.tip(remote)
    control = tmp_path / "control"
    control.mkdir()
    hold_script(remote / "hooks" / "pre-receive", "pre-receive", control, then="cat >/dev/null")
    now = at(day_after(1))
    github.now = now

    def start() -> RunningStep:
        return start_step(inputs(remote), now=now, api_url=github.url, workspace=tmp_path / "ws")

    (control / "pre-receive.hold").touch()  # killed while the server holds the push
    running = start()
    deadline = time.monotonic() + 60
    while not (control / "pre-receive.held").exists():
        assert running.process.poll() is None, "the run ended before its push"
        assert time.monotonic() < deadline, "the run never pushed"
        time.sleep(0.01)
    kill_step(running)
    assert finish_step(running).returncode < 0
    (control / "pre-receive.go").touch()
    assert branch.tip(remote) == old_tip
    for leftover in control.iterdir():
        leftover.unlink()

    started = time.monotonic()  # a dry run takes about as long as the run, without its push
    dry = run_step(
        inputs(remote, **{"dry-run": "true"}),
        now=now,
        api_url=github.url,
        workspace=tmp_path / "ws-dry",
    )
    assert dry.returncode == 0
    took = time.monotonic() - started
    for share in (0.3, 0.6, 0.8, 0.9, 1.0):  # killed at moments spread over the run
        delay = took * share
        running = start()
        try:
            running.process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            wait_for_exit(kill_step(running))
        ended = finish_step(running)
        moved = branch.tip(remote) != old_tip
        print(f"killed after {delay:.2f} s: exit {ended.returncode}, branch moved: {moved}")
        tree = branch.files(remote)
        if moved:  # it got as far as the push: the move is whole
            check_tree(tree, f"killed after {delay} s", names=FOLDERS)
            check_kept(old, tree, folders=FOLDERS)
            break
        assert tree == old

    result = run_step(inputs(remote), now=now, api_url=github.url, workspace=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    tree = branch.files(remote)
    check_tree(tree, "the run after the kills", names=FOLDERS)
    check_kept(old, tree, folders=FOLDERS)
    log = branch.git("-C", str(remote), "log", "--format=%B", f"{old_tip}..traffic-data")
    assert log.decode().count(MOVED) == 1


def test_two_runs_racing_on_a_layout1_branch_lose_nothing(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """Two runs start on the layout-1 tip at once: the first push moves the branch, the other
    is rejected, fetches the moved branch, merges again and pushes; both runs' days are kept."""
    old, commits = branch.files(remote), branch.commit_count(remote)
    branch.install_hook(remote, "#!/bin/sh\nsleep 1\n")  # hold both pushes so they overlap
    now = at(day_after(1))
    github.now = now
    procs = []
    for index, repos in enumerate(["octo-org/busy-lib, octo-org/quiet", "octocat/tiny"]):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
        env.update({f"INPUT_{k.upper()}": v for k, v in inputs(remote, repos=repos).items()})
        env.update(faketime_env(now), GITHUB_ACTIONS="true", GITHUB_API_URL=github.url)
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
    assert branch.commit_count(remote) == commits + 2
    messages = [commit_message(remote, f"traffic-data~{n}") for n in (0, 1)]
    assert sum(MOVED in message for message in messages) == 1  # the first push moved it
    tree = branch.files(remote)
    check_tree(tree, "after the race", names=FOLDERS)
    check_kept(old, tree, folders=FOLDERS)
    for name in ("octo-org/busy-lib", "octo-org/quiet", "octocat/tiny"):
        assert branch.rows(tree, name, "stats")[-1]["date"] == now.date().isoformat()


def test_posthog_after_the_move_sends_only_what_it_had_not(
    github: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """The watermarks move with the branch: PostHog gets the newly settled days only, read
    from the period files, and its record keeps the new schema."""
    with FakePostHog(KEY) as posthog:
        result = step(
            github,
            remote,
            tmp_path,
            at(day_after(1)),
            **{"posthog-api-key": KEY, "posthog-host": posthog.url},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        sent = {event["properties"]["date"] for event in posthog.events}
    assert sent == {"2025-12-19"}  # sent through the 18th before; the 19th settled today
    tree = branch.files(remote)
    state = json.loads(tree[STATE])
    assert state["schema"] == 2
    assert state["repos"]["101"]["posthog_sent_through"]["views"] == "2025-12-19"
    assert "PostHog" in commit_message(remote)
    assert MOVED in commit_message(remote, "traffic-data~1")


# --- the plan, without git ----------------------------------------------------------------------


def layout1_folder(prefix: str, name: str, history: History) -> dict[str, bytes]:
    """A repo folder as layout 1 wrote it: both files of all five datasets, always."""
    files = {}
    for dataset in codec.DATASETS[:5]:  # layout 1 had no stars, forks or releases
        rows = codec.dataset_rows(history, dataset)
        files[f"{prefix}{name}/{dataset.name}.json"] = codec.encode_json(dataset, rows).encode()
        files[f"{prefix}{name}/{dataset.name}.csv"] = codec.encode_csv(dataset, rows).encode()
    return files


def test_plan_moves_folders_inside_data_path() -> None:
    """Under a data-path, folders of observed and other repos move, the whole files go, and a
    state.json of schema 1 says 2 after; rows are the same, split by period."""
    today = dt.date(2026, 1, 5)
    repo = RepoInfo("o/seen", 1, dt.date(2025, 1, 1), private=False)
    seen = Observation(repo, today - dt.timedelta(days=1), TrafficAnswer(0, 0), TrafficAnswer(0, 0))
    other = Observation(
        RepoInfo("o/other", 2, dt.date(2025, 1, 1), private=False),
        dt.date(2025, 12, 30),
        TrafficAnswer(0, 0),
        TrafficAnswer(0, 0),
    )
    histories = {
        "o/seen": apply_observation(History(), seen),
        "o/other": apply_observation(History(), other),
    }
    prefix = "stats/traffic/"
    current = {
        path: data
        for name, history in histories.items()
        for path, data in layout1_folder(prefix, name, history).items()
    }
    state = {"2": {"full_name": "o/other", "last_success": "2025-12-30", "files_sha256": "x"}}
    current[f"{prefix}{STATE}"] = json.dumps({"schema": 1, "repos": state}).encode()
    settings = parse_settings(
        {"token": "t", "repos": "o/*", "data-repository": "./d", "data-path": "stats/traffic"}, {}
    )
    observation = Observation(repo, today, TrafficAnswer(0, 0), TrafficAnswer(0, 0))
    plan = plan_files(current, [observation], today=today, target=store_options(settings).target)

    assert (plan.moved, plan.layout1_left) == (2, 0)
    assert set(plan.deletes) == {p for p in current if p.endswith((".json", ".csv"))} - {
        f"{prefix}{STATE}"
    }
    other_files = {
        p.removeprefix(f"{prefix}o/other/"): d
        for p, d in plan.files.items()
        if p.startswith(f"{prefix}o/other/") and not p.endswith("README.md")
    }
    assert other_files == {
        k: v.encode() for k, v in codec.encode_history(histories["o/other"]).items()
    }
    new_state = json.loads(plan.files[f"{prefix}{STATE}"])
    assert new_state["schema"] == 2
    assert new_state["repos"]["2"]["files_sha256"] != "x"
    assert "views/2025.json" in other_files
    message = messages.commit_message(today, plan.results, moved=plan.moved)
    assert (
        "\n\nMoved the data branch to layout 2 (period files): 2 repos.\n\n- o/seen: +" in message
    )


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ({"schema": 3, "repos": {}}, "newer version"),
        ({"schema": True, "repos": {}}, "cannot be read"),
        ({"schema": 0, "repos": {}}, "cannot be read"),
        ({"schema": 2, "repos": []}, "cannot be read"),
        ([], "cannot be read"),
    ],
)
def test_state_of_an_unknown_layout_stops_the_run(state: object, words: str) -> None:
    """A state.json of a later layout (or none) is never overwritten: nothing is planned."""
    settings = parse_settings({"token": "t", "repos": "o/r", "data-repository": "./d"}, {})
    current = {STATE: json.dumps(state).encode()}
    with pytest.raises(StoreError, match=words):
        plan_files(current, [], today=dt.date(2026, 1, 5), target=store_options(settings).target)


def test_plan_moves_a_renamed_repos_layout1_folder_into_the_new_one() -> None:
    """A repo renamed while its old folder is still in layout 1: the old whole files' rows go
    to the new name's period files, and the old folder goes, in the same plan."""
    today = dt.date(2026, 1, 5)
    old_name = RepoInfo("o/old", 7, dt.date(2025, 1, 1), private=False)
    earlier = Observation(old_name, dt.date(2025, 12, 28), TrafficAnswer(0, 0), TrafficAnswer(0, 0))
    history = apply_observation(History(), earlier)
    current = layout1_folder("", "o/old", history)
    current["o/old/README.md"] = b"# o/old\n"
    state = {"7": {"full_name": "o/old", "last_success": "2025-12-28", "files_sha256": "x"}}
    current[STATE] = json.dumps({"schema": 1, "repos": state}).encode()
    settings = parse_settings({"token": "t", "repos": "o/*", "data-repository": "./d"}, {})
    renamed = Observation(
        RepoInfo("o/new", 7, dt.date(2025, 1, 1), private=False),
        today,
        TrafficAnswer(0, 0),
        TrafficAnswer(0, 0),
    )
    plan = plan_files(current, [renamed], today=today, target=store_options(settings).target)
    assert (plan.moved, plan.layout1_left) == (1, 0)
    old_folder = {p for p in current if p.startswith("o/old/")}
    assert set(plan.deletes) == old_folder | {".traffic-sync/totals/o/old.json"}
    assert plan.results[0].renamed_from == "o/old"
    views = json.loads(plan.files["o/new/views/2025.json"])
    assert [row["date"] for row in views][:3] == ["2025-12-15", "2025-12-16", "2025-12-17"]
    assert json.loads(plan.files[STATE])["schema"] == 2
    assert [name for name, _ in plan.index] == ["o/new"]
