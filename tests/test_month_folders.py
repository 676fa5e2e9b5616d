"""Month files in year folders: `referrers/2026/01.json`, and the move of a branch that layout
2's first, flat form wrote (`referrers/2026-01.json`) in one commit, every row kept.

Runs in process against the simulated GitHub and a real bare repo. The flat branch is made the
way that version made it: the same files under their flat names, state.json's fingerprints
taken over those names.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import NOW, REPOS, TOKEN, settings_for, sync_once
from tests.helpers.trees import check_tree
from traffic_sync.branch.alltime import decode_index, encode_index
from traffic_sync.branch.codec import REFERRERS, DataFile, parse_data_file, period_file
from traffic_sync.branch.folders import Folder, fingerprint, repo_folders, trusted
from traffic_sync.branch.state import STATE_FILE, read_state
from traffic_sync.branch.view import INDEX_FILE
from traffic_sync.demo import SimulatedGitHub

NAMES = ["octo/alpha", "octo/beta"]
YEAR_FOLDER = re.compile(r"[^/]+/[^/]+/(referrers|paths|releases)/[0-9]{4}/[0-9]{2}\.(json|csv)")
FLAT = re.compile(r"[^/]+/[^/]+/(referrers|paths|releases)/[0-9]{4}-[0-9]{2}\.(json|csv)")


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(REPOS, now=NOW - dt.timedelta(days=45), token=TOKEN, viewer="octo")


def test_month_files_are_named_in_a_folder_per_year() -> None:
    """A month's file is `<dataset>/<YYYY>/<MM>`; the flat `<YYYY-MM>` name is still read, as
    a file that moves."""
    assert period_file(REFERRERS, "2026-01", "csv") == "referrers/2026/01.csv"
    assert parse_data_file("referrers/2026/01.csv") == DataFile(REFERRERS, "2026-01", "csv")
    flat = parse_data_file("referrers/2026-01.json")
    assert flat == DataFile(REFERRERS, "2026-01", "json", flat=True)
    for other in ("referrers/2026/13.json", "referrers/26/01.json", "referrers/2026/01/x.json"):
        assert parse_data_file(other) is None, other


def test_a_folder_with_flat_month_files_is_never_trusted() -> None:
    """A folder in the flat form is read whole and moved, whatever state.json's fingerprint."""
    files = {"referrers/2026-01.json": b"[]\n", "views/2026.json": b"[]\n"}
    folder = Folder.of("o/r", files)
    assert folder.flat
    assert folder.outdated
    assert not trusted(folder, known=fingerprint(files))


def _flatten(remote: Path, tmp: Path) -> None:
    """Rewrite the branch as layout 2's first form wrote it, in one commit: each month file
    under its flat name, contents as they are, state.json's fingerprints over those names and
    the stored index rows made from those folders (so a run reads no folder it does not
    sync)."""
    work = tmp / "flatten"
    branch.git("clone", "--quiet", "--branch", "traffic-data", str(remote), str(work))
    tree = branch.files(remote)
    for path in sorted(p for p in tree if YEAR_FOLDER.fullmatch(p)):
        head, year, month = path.rsplit("/", 2)
        branch.git("mv", path, f"{head}/{year}-{month}", cwd=work)
    flat = {str(p.relative_to(work)): p.read_bytes() for p in work.rglob("*") if p.is_file()}
    flat = {p: d for p, d in flat.items() if not p.startswith(".git/")}
    state = json.loads(flat[STATE_FILE])
    for name, folder in repo_folders(flat, "").items():
        for entry in state["repos"].values():
            if entry["full_name"] == name:
                entry["files_sha256"] = fingerprint(folder.files)
    (work / STATE_FILE).write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    branch.git("commit", "--quiet", "-am", "written by layout 2's first form", cwd=work)
    index = decode_index(flat[INDEX_FILE])
    trees = {
        name: branch.git("rev-parse", f"HEAD:{name}", cwd=work).decode().strip() for name in index
    }
    (work / INDEX_FILE).write_bytes(
        encode_index({name: (trees[name].strip(), row) for name, (_, row) in index.items()})
    )
    branch.git("commit", "--quiet", "--amend", "-am", "written by layout 2's first form", cwd=work)
    branch.git("push", "--quiet", "origin", "traffic-data", cwd=work)


def _rows(tree: dict[str, bytes]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every row of every period JSON file, by (repo folder, dataset), whatever its name."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for path, data in tree.items():
        owner, name, rel = [*path.split("/", 2), "", ""][:3]
        data_file = parse_data_file(rel) if not owner.startswith(".") else None
        if data_file is not None and data_file.period and data_file.ext == "json":
            rows.setdefault((f"{owner}/{name}", data_file.dataset.name), []).extend(
                json.loads(data)
            )
    return rows


def _changed(remote: Path) -> list[str]:
    """The paths the branch's last commit wrote or removed."""
    out = branch.git("-C", str(remote), "diff-tree", "-r", "--name-only", "traffic-data")
    return [line for line in out.decode().splitlines()[1:] if line]


def _sync_days(sim: SimulatedGitHub, remote: Path, tmp_path: Path, days: int) -> None:
    for _ in range(days):
        assert sync_once(sim, settings_for(remote), tmp_path).commit_sha
        sim.now += dt.timedelta(days=9)


def test_a_flat_branch_moves_in_one_commit_and_keeps_every_row(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path
) -> None:
    """Every folder's month files go into year folders in the first run's one commit (that of
    a repo the run does not sync too), every row kept; the next runs read and write year
    folders only."""
    _sync_days(sim, remote, tmp_path, 5)  # 45 days: month files of two months and more
    _flatten(remote, tmp_path)
    flat = branch.files(remote)
    assert sum(1 for p in flat if FLAT.fullmatch(p)) >= 8
    commits = branch.commit_count(remote)

    report = sync_once(sim, settings_for(remote, repos="octo/alpha"), tmp_path)
    assert report.commit_sha
    assert branch.commit_count(remote) == commits + 1
    message = branch.git("-C", str(remote), "log", "-1", "--format=%B", "traffic-data").decode()
    assert "Moved the month files into year folders: 2 repos." in message
    moved = branch.files(remote)
    check_tree(moved, "after the move", names=NAMES)
    assert not any(FLAT.fullmatch(p) for p in moved)
    assert sum(1 for p in moved if YEAR_FOLDER.fullmatch(p)) >= 8
    after = _rows(moved)
    for key, rows in _rows(flat).items():
        for row in rows:  # a day's numbers may only grow (a later fetch merged in)
            text = {k: v for k, v in row.items() if not isinstance(v, int | bool)}
            found = [r for r in after[key] if all(r.get(k) == v for k, v in text.items())]
            assert found, f"{key}: {row} was dropped"
            assert all(found[0][k] >= v for k, v in row.items() if isinstance(v, int)), key
    assert read_state(moved, "").schema == 2

    sim.now += dt.timedelta(days=1)
    again = sync_once(sim, settings_for(remote), tmp_path)
    assert again.commit_sha
    message = branch.git("-C", str(remote), "log", "-1", "--format=%B", "traffic-data").decode()
    assert "Moved" not in message
    written = [p for p in _changed(remote) if "/referrers/" in p or "/paths/" in p]
    assert written
    assert all(YEAR_FOLDER.fullmatch(p) for p in written), written
    check_tree(branch.files(remote), "the day after", names=NAMES)
