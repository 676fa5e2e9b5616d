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
from traffic_sync import store
from traffic_sync.branchview import STATE_FILE, encode_state
from traffic_sync.codec import VIEWS as VIEWS_DATASET
from traffic_sync.codec import decode_csv, encode_csv, encode_json
from traffic_sync.errors import (
    CsvEditedWarning,
    HistoryFormatError,
    JsonRecoveredWarning,
    NotADataBranchError,
)
from traffic_sync.folders import Folder, read_folder
from traffic_sync.models import DailyRow
from traffic_sync.settings import parse_settings
from traffic_sync.simulator import SimRepo, SimulatedGitHub

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


def _plan(files: Mapping[str, bytes], data_path: str = "") -> store.Plan:
    settings = parse_settings(
        {"token": "t", "repos": "octo-org/*", "data-repository": "./d", "data-path": data_path},
        {},
    )
    return store.plan_files(files, [], today=DAY, settings=settings)


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
