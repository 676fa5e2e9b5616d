"""What the data branch never loses or overwrites, through the real entrypoint: a branch that
is not a data branch is refused, two repo ids never share a folder, and a CSV twin edited or
left alone is reported or recovered from."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests import branch
from tests.runner import StepResult, run_step
from traffic_sync.branch.codec import VIEWS as VIEWS_DATASET
from traffic_sync.branch.codec import decode_csv, encode_csv, encode_history, encode_json
from traffic_sync.branch.folders import Folder, read_folder
from traffic_sync.branch.state import STATE_FILE, BranchState, encode_state
from traffic_sync.branch.view import set_aside
from traffic_sync.core.errors import (
    CsvEditedWarning,
    HistoryFormatError,
    JsonRecoveredWarning,
    NotADataBranchError,
)
from traffic_sync.core.models import (
    DailyRow,
    History,
    Metric,
    Observation,
    RepoInfo,
    TrafficAnswer,
)
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.settings import parse_settings
from traffic_sync.stages.plan import Plan, plan_files
from traffic_sync.sync import store_options

pytestmark = pytest.mark.slow  # runs the entrypoint

TOKEN = "ghp_branchRulesToken0123456789abc"
DAY = dt.date(2026, 3, 10)
WORLD = [
    SimRepo("octo-org/busy-lib", 101, dt.date(2024, 3, 1), daily_views=180, daily_clones=12),
]
# a code branch: its README, a folder two levels down that looks like a repo's, and one that
# has a README of its own
CODE = {
    "README.md": b"# The project\n",
    "docs/api/index.md": b"# API\n",
    "octo-org/busy-lib/README.md": b"# not traffic\n",
    "src/app.py": b"print('hi')\n",
}


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 30), tzinfo=dt.UTC)


def seed_branch(remote: Path, name: str, files: Mapping[str, bytes], tmp: Path) -> str:
    """Push a branch holding `files`, as a person's commit would; returns its tip."""
    work = tmp / f"seed-{name}"
    branch.git("init", "--quiet", "-b", name, str(work))
    for path, data in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    branch.git("add", "-A", cwd=work)
    branch.git("commit", "--quiet", "-m", "code", cwd=work)
    branch.git("push", "--quiet", str(remote), f"{name}:{name}", cwd=work)
    return branch.tip(remote, name)


def step(
    sim: SimulatedGitHub, remote: Path, tmp: Path, now: dt.datetime, **extra: str
) -> StepResult:
    sim.now = now
    inputs = {
        "token": TOKEN,
        "repos": "octo-org/*",
        "data-repository": str(remote),
        "push-token": "ghs_pushTokenNotUsedForLocalPaths",
        "fail-on-error": "true",
        **extra,
    }
    return run_step(inputs, now=now, api_url=sim.url, workspace=tmp / "workspace")


def test_a_branch_with_other_files_and_no_state_is_refused_untouched(tmp_path: Path) -> None:
    """`data-branch: main` holding code: nothing is written to it, the run fails saying why."""
    remote = branch.init_bare(tmp_path / "data.git")
    before = seed_branch(remote, "main", CODE, tmp_path)
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        result = step(sim, remote, tmp_path, at(DAY), **{"data-branch": "main"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert branch.tip(remote, "main") == before
    assert branch.files(remote, "main") == CODE
    assert result.outputs["repos-synced"] == "0"
    assert result.outputs["commit-sha"] == ""
    error = next(line for line in result.stdout.splitlines() if line.startswith("::error"))
    assert "Not a data branch" in error
    assert "`main`" in error
    assert "data-branch" in error
    assert "traffic-sync import" in error


def test_a_data_path_inside_a_code_branch_writes_only_there(tmp_path: Path) -> None:
    """With a `data-path`, the folder decides: an unused one in `main` is written, nothing else."""
    remote = branch.init_bare(tmp_path / "data.git")
    seed_branch(remote, "main", CODE, tmp_path)
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        extra = {"data-branch": "main", "data-path": "traffic"}
        result = step(sim, remote, tmp_path, at(DAY), **extra)
        assert result.returncode == 0, result.stdout + result.stderr
        after = branch.files(remote, "main")
        assert {p: after[p] for p in CODE} == CODE
        assert all(p in CODE or p.startswith("traffic/") for p in after)
        assert "traffic/octo-org/busy-lib/views/2026.json" in after
        assert "traffic/.traffic-sync/state.json" in after
        # the next day finds its state.json there and goes on
        result = step(sim, remote, tmp_path, at(DAY + dt.timedelta(days=1)), **extra)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_data_path_folder_holding_other_files_is_refused(tmp_path: Path) -> None:
    """A `data-path` folder that holds other files and no state.json is not written either."""
    remote = branch.init_bare(tmp_path / "data.git")
    before = seed_branch(remote, "main", CODE, tmp_path)
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        extra = {"data-branch": "main", "data-path": "docs"}
        result = step(sim, remote, tmp_path, at(DAY), **extra)
    assert result.returncode == 1, result.stdout + result.stderr
    assert branch.tip(remote, "main") == before
    assert "`docs/` in the branch `main`" in result.stdout


def _plan(files: Mapping[str, bytes], data_path: str = "") -> Plan:
    settings = parse_settings(
        {"token": "t", "repos": "octo-org/*", "data-repository": "./d", "data-path": data_path},
        {},
    )
    return plan_files(files, [], today=DAY, target=store_options(settings).target)


def test_only_an_empty_branch_or_one_with_state_json_is_planned() -> None:
    """The data-branch rule, pure: empty or state.json passes; other files raise, naming some."""
    assert _plan({}).files
    assert _plan({**CODE, STATE_FILE: encode_state({})}).files
    assert _plan({**CODE, f"traffic/{STATE_FILE}": encode_state({})}, "traffic").files
    assert _plan(CODE, "traffic").files  # an unused folder of a code branch
    with pytest.raises(NotADataBranchError, match=r"README\.md, docs/api/index\.md"):
        _plan(CODE)
    with pytest.raises(NotADataBranchError, match="`docs/` in the branch"):
        _plan(CODE, "docs")


def edit_branch(
    remote: Path, tmp: Path, *, write: Mapping[str, bytes], remove: tuple[str, ...] = ()
) -> None:
    """Change the data branch as a person would: clone, edit or remove files, push."""
    work = tmp / "editor"
    branch.git("clone", "--quiet", "--branch", "traffic-data", str(remote), str(work))
    for path, data in write.items():
        (work / path).write_bytes(data)
    for path in remove:
        branch.git("rm", "--quiet", path, cwd=work)
    branch.git("add", "-A", cwd=work)
    branch.git("commit", "--quiet", "-m", "by hand", cwd=work)
    branch.git("push", "--quiet", "origin", "traffic-data", cwd=work)
    shutil.rmtree(work)


VIEWS = "octo-org/busy-lib/views/2026"


def warnings_of(result: StepResult) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("::warning")]


def test_a_csv_edited_by_hand_is_reported_by_name_then_rebuilt(tmp_path: Path) -> None:
    """A hand-edited CSV twin: the run warns naming it, then rebuilds it from its JSON."""
    remote = branch.init_bare(tmp_path / "data.git")
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        assert step(sim, remote, tmp_path, at(DAY)).returncode == 0
        written = branch.files(remote)[f"{VIEWS}.csv"]
        edited = written.replace(b",false\n", b",false\n2026-01-01,999999,1,true\n", 1)
        assert edited != written
        edit_branch(remote, tmp_path, write={f"{VIEWS}.csv": edited})
        result = step(sim, remote, tmp_path, at(DAY + dt.timedelta(days=1)))
    assert result.returncode == 0, result.stdout + result.stderr
    (warning,) = warnings_of(result)
    assert "CSV edited by hand" in warning
    assert f"{VIEWS}.csv differs from {VIEWS}.json" in warning
    after = branch.files(remote)
    assert b"999999" not in after[f"{VIEWS}.csv"]
    assert len(json.loads(after[f"{VIEWS}.json"])) == after[f"{VIEWS}.csv"].count(b"\n") - 1
    message = branch.git("-C", str(remote), "log", "-1", "--format=%B", "traffic-data").decode()
    assert f"{VIEWS}.csv differs" in message


def test_a_json_deleted_while_its_csv_remains_is_recovered_from_the_csv(tmp_path: Path) -> None:
    """A period JSON deleted, its CSV kept: its days come back from the CSV, with a warning."""
    remote = branch.init_bare(tmp_path / "data.git")
    later = DAY + dt.timedelta(days=20)  # GitHub's window no longer reaches the first run's days
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        assert step(sim, remote, tmp_path, at(DAY)).returncode == 0
        first = json.loads(branch.files(remote)[f"{VIEWS}.json"])
        edit_branch(remote, tmp_path, write={}, remove=(f"{VIEWS}.json",))
        result = step(sim, remote, tmp_path, at(later))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["date"]: row for row in json.loads(branch.files(remote)[f"{VIEWS}.json"])}
    assert min(rows) == first[0]["date"]
    for row in first:  # every day the first run stored is still there, never lowered
        assert rows[row["date"]]["count"] >= row["count"], row
    assert any(f"{VIEWS}.json was missing" in line for line in warnings_of(result))


def _views_folder(files: Mapping[str, bytes]) -> Folder:
    return Folder.of("o/r", files)


ROWS = (
    DailyRow(dt.date(2026, 1, 1), 5, 2, final=True),
    DailyRow(dt.date(2026, 1, 2), 0, 0, final=False),
)


def test_decode_csv_reads_what_encode_csv_wrote_and_refuses_anything_else() -> None:
    """The strict CSV reader: a written CSV round-trips; a bad header, cell or line is named."""
    text = encode_csv(VIEWS_DATASET, ROWS)
    assert decode_csv(VIEWS_DATASET, text, path="v.csv") == ROWS
    for bad in (
        text.replace("uniques", "unique"),
        text.replace(",5,", ",-5,"),
        text.replace(",5,", ",five,"),
        text.replace("true", "yes"),
        text.replace(",0,0,", ",0,"),
        text.replace("2026-01-02", "2026-02-30"),
        "",
    ):
        with pytest.raises(HistoryFormatError, match=r"v\.csv"):
            decode_csv(VIEWS_DATASET, bad, path="v.csv")


def test_reading_a_folder_notes_edited_csvs_and_recovers_missing_jsons() -> None:
    """read_folder: an edited CSV is noted; a CSV without its JSON gives the rows, noted."""
    json_text = encode_json(VIEWS_DATASET, ROWS).encode()
    csv_text = encode_csv(VIEWS_DATASET, ROWS).encode()
    history, notes = read_folder(
        _views_folder({"views/2026.json": json_text, "views/2026.csv": csv_text})
    )
    assert history.views == ROWS
    assert notes == ()
    _, notes = read_folder(
        _views_folder({"views/2026.json": json_text, "views/2026.csv": csv_text + b"x\n"})
    )
    assert [type(n) for n in notes] == [CsvEditedWarning]
    assert "o/r/views/2026.csv differs from o/r/views/2026.json" in notes[0].message
    history, notes = read_folder(_views_folder({"views/2026.csv": csv_text}))
    assert history.views == ROWS
    assert [type(n) for n in notes] == [JsonRecoveredWarning]
    assert "o/r/views/2026.json was missing" in notes[0].message


BUSY = "octo-org/busy-lib"
NEWCOMER = SimRepo(BUSY, 201, dt.date(2025, 6, 1), daily_views=3, daily_clones=1, seed=5)


def final_views(tree: Mapping[str, bytes], folder: str) -> dict[str, int]:
    """date -> count of a folder's final views rows."""
    return {r["date"]: r["count"] for r in branch.rows(dict(tree), folder, "views") if r["final"]}


def test_a_repo_taking_a_deleted_repos_name_never_gets_its_history(tmp_path: Path) -> None:
    """Another id under a stored name: the old history moves to `<name>~<old id>/`, is kept,
    listed and reported; the newcomer's folder holds its own days only."""
    remote = branch.init_bare(tmp_path / "data.git")
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        assert step(sim, remote, tmp_path, at(DAY)).returncode == 0
    first = branch.files(remote)
    next_day = DAY + dt.timedelta(days=1)
    # busy-lib (id 101) is deleted; another repo (id 201) is renamed into its name
    with SimulatedGitHub([NEWCOMER], now=at(next_day), token=TOKEN, orgs=["octo-org"]) as sim:
        result = step(sim, remote, tmp_path, at(next_day))
        fresh = branch.init_bare(tmp_path / "fresh.git")  # the newcomer alone, on a new branch
        alone = step(sim, fresh, tmp_path, at(next_day), **{"data-repository": str(fresh)})
        assert alone.returncode == 0, alone.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    after = branch.files(remote)
    kept = f"{BUSY}~101"
    for path, data in first.items():  # the old history, every file of it, is kept whole
        if path.startswith(f"{BUSY}/") and path.endswith((".json", ".csv")):
            assert after[f"{kept}/{path.removeprefix(BUSY + '/')}"] == data, path
    assert final_views(after, BUSY) == final_views(branch.files(fresh), BUSY)
    assert final_views(after, BUSY) != final_views(first, BUSY)
    index = after["README.md"].decode()
    assert f"]({kept}/README.md)" in index
    assert "repo id 101, once named octo-org/busy-lib" in after[f"{kept}/README.md"].decode()
    state = json.loads(after[".traffic-sync/state.json"])["repos"]
    assert state["101"]["full_name"] == kept
    assert state["201"]["full_name"] == BUSY
    (warning,) = warnings_of(result)
    assert "History moved aside" in warning
    assert f"{kept}/" in warning
    message = branch.git("-C", str(remote), "log", "-1", "--format=%B", "traffic-data").decode()
    assert f"{kept}/" in message


def test_a_repo_renamed_into_a_name_another_renamed_away_from_gets_only_its_own(
    tmp_path: Path,
) -> None:
    """Two renames in one run, one into the other's old name: each history follows its repo."""
    remote = branch.init_bare(tmp_path / "data.git")
    other = SimRepo("octo-org/aardvark", 102, dt.date(2025, 6, 1), daily_views=3, seed=5)
    with SimulatedGitHub([*WORLD, other], now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        assert step(sim, remote, tmp_path, at(DAY)).returncode == 0
        first = branch.files(remote)
        sim.rename(BUSY, "octo-org/zebra")
        sim.rename("octo-org/aardvark", BUSY)
        result = step(sim, remote, tmp_path, at(DAY + dt.timedelta(days=1)))
        truth = {
            name: {
                day: sim.true_traffic(name, Metric.VIEWS, dt.date.fromisoformat(day))[0]
                for day in final_views(first, was)
            }
            for name, was in ((BUSY, "octo-org/aardvark"), ("octo-org/zebra", BUSY))
        }
    assert result.returncode == 0, result.stdout + result.stderr
    after = branch.files(remote)
    assert branch.repo_folders(after) == {BUSY, "octo-org/zebra"}
    for name, was in ((BUSY, "octo-org/aardvark"), ("octo-org/zebra", BUSY)):
        now, before = final_views(after, name), final_views(first, was)
        # each day is its own repo's, merged by the max with what GitHub says now
        assert {day: now[day] for day in before} == {
            day: max(count, truth[name][day]) for day, count in before.items()
        }, name


def test_a_history_set_aside_is_kept_then_joins_its_repo_when_it_reappears(
    tmp_path: Path,
) -> None:
    """A kept `~<id>` folder is listed but synced by no repo; when its repo shows up under a
    new name (it was renamed, not deleted), the history joins it there."""
    remote = branch.init_bare(tmp_path / "data.git")
    with SimulatedGitHub(WORLD, now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        assert step(sim, remote, tmp_path, at(DAY)).returncode == 0
    first = branch.files(remote)
    kept = f"{BUSY}~101"
    with SimulatedGitHub([NEWCOMER], now=at(DAY), token=TOKEN, orgs=["octo-org"]) as sim:
        for days in (1, 2):
            result = step(sim, remote, tmp_path, at(DAY + dt.timedelta(days=days)))
            assert result.returncode == 0, result.stdout + result.stderr
    second = branch.files(remote)
    assert {p: d for p, d in second.items() if p.startswith(f"{kept}/")} == {
        p.replace(f"{BUSY}/", f"{kept}/", 1): d
        for p, d in first.items()
        if p.startswith(f"{BUSY}/") and p.endswith((".json", ".csv"))
    } | {f"{kept}/README.md": second[f"{kept}/README.md"]}
    classic = SimRepo("octo-org/busy-lib-classic", 101, dt.date(2024, 3, 1), daily_views=180)
    world = [NEWCOMER, classic]
    later = DAY + dt.timedelta(days=3)
    with SimulatedGitHub(world, now=at(later), token=TOKEN, orgs=["octo-org"]) as sim:
        result = step(sim, remote, tmp_path, at(later))
    assert result.returncode == 0, result.stdout + result.stderr
    after = branch.files(remote)
    assert branch.repo_folders(after) == {BUSY, "octo-org/busy-lib-classic"}
    before = final_views(first, BUSY)
    now = final_views(after, "octo-org/busy-lib-classic")
    assert all(now[day] >= count for day, count in before.items())
    assert f"{kept} is now octo-org/busy-lib-classic" in result.stdout


def _seen(name: str, repo_id: int) -> Observation:
    repo = RepoInfo(name, repo_id, dt.date(2025, 1, 1), private=False)
    return Observation(repo, DAY, TrafficAnswer(0, 0), TrafficAnswer(0, 0))


def test_set_aside_names_folders_another_unseen_id_claims() -> None:
    """Only a folder another id claims, whose repo is not this run's under another name."""
    state = BranchState.from_json({"1": {"full_name": "o/a"}, "2": {"full_name": "o/b"}})
    trees = {"o/a": "t1", "o/b": "t2"}
    assert set_aside([_seen("o/a", 1)], state, trees) == {}  # its own
    assert set_aside([_seen("o/a", 9)], state, trees) == {"o/a": ("1", "o/a~1")}
    assert set_aside([_seen("o/a", 9)], state, {}) == {}  # no folder to move
    # id 1 is this run's as o/z: renamed away, its rename takes the folder
    assert set_aside([_seen("o/a", 9), _seen("o/z", 1)], state, trees) == {}
    assert set_aside([_seen("o/b", 1)], state, trees) == {"o/b": ("2", "o/b~2")}


def _stored(count: int) -> dict[str, bytes]:
    """A folder's files holding one final views day of `count`."""
    history = History(views=(DailyRow(DAY - dt.timedelta(days=30), count, 1, final=True),))
    return {name: text.encode() for name, text in encode_history(history).items()}


def test_a_chain_of_renames_in_one_run_keeps_each_history_with_its_repo() -> None:
    """a -> b, b -> c and a new repo in a, in one plan: no history mixes, none is lost."""
    state = {"1": {"full_name": "o/a"}, "2": {"full_name": "o/b"}}
    files = {f"o/{n}/{p}": d for n, c in (("a", 11), ("b", 22)) for p, d in _stored(c).items()}
    files[STATE_FILE] = json.dumps({"schema": 2, "repos": state}).encode()
    seen = [_seen("o/a", 3), _seen("o/b", 1), _seen("o/c", 2)]
    settings = parse_settings({"token": "t", "repos": "o/*", "data-repository": "./d"}, {})
    plan = plan_files(files, seen, today=DAY, target=store_options(settings).target)
    assert not plan.errors
    old_day = (DAY - dt.timedelta(days=30)).isoformat()
    views = {
        name: [
            r["count"]
            for r in json.loads(plan.files[f"o/{name}/views/2026.json"])
            if r["date"] == old_day
        ]
        for name in ("a", "b", "c")
    }
    assert views == {"a": [], "b": [11], "c": [22]}
