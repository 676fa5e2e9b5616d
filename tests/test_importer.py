"""`traffic-sync import` against real git: one commit per import, none when the branch holds it
all already, nothing written for a folder that cannot be read, and the round trip with a
normal run on the simulated GitHub."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
from pathlib import Path

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.helpers.readme import doc_section
from tests.runner import run_step
from traffic_sync import cli
from traffic_sync.branch.folders import fingerprint
from traffic_sync.demo import SimRepo, SimulatedGitHub

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
REPO = "octo-org/busy-lib"
TOKEN = "ghp_importRoundTripToken0123456789"
PUSH_TOKEN = "ghs_importPushTokenNeverPrinted42"


def run_import(remote: Path, tool: str, folder: Path, *extra: str, repo: str = REPO) -> int:
    """`traffic-sync import` in this process, as a user types it; its exit code."""
    argv = ["import", "--from", tool, str(folder), "--repo", repo]
    argv += ["--data-repository", str(remote), *extra]
    return cli.main(argv)


def imported(
    remote: Path, tool: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str]:
    """Import the fixture folder of `tool`: the exit code and what it printed."""
    code = run_import(remote, tool, FIXTURES / tool, *extra)
    return code, capsys.readouterr().out


def test_ghrs_import_is_one_commit_and_again_is_none(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first import writes every dataset's period files, the repo's page and the index
    in one commit that says what came from where; the same folder again makes no commit."""
    code, out = imported(remote, "ghrs", capsys)
    assert code == 0, out
    assert branch.commit_count(remote) == 1
    message = branch.git("-C", str(remote), "log", "-1", "--format=%B", "traffic-data").decode()
    assert message.startswith(f"traffic-sync: import {REPO} from github-repo-stats\n")
    assert "views_clones_aggregate.csv" in message
    assert "- stars: 6 rows" in message
    tree = branch.files(remote)
    for path in (
        f"{REPO}/views/2025.json",
        f"{REPO}/views/2026.csv",
        f"{REPO}/stars/2024.json",
        f"{REPO}/stars/2026.json",
        f"{REPO}/forks/2025.json",
        f"{REPO}/referrers/2026/01.json",
        f"{REPO}/paths/2026/01.csv",
        f"{REPO}/README.md",
        "README.md",
    ):
        assert path in tree, path
    assert not any("/stats/" in p or "/releases/" in p for p in tree)
    stars_2026 = branch.rows(tree, REPO, "stars")
    assert [(r["date"], r["new"], r["total"]) for r in stars_2026][-2:] == [
        ("2026-01-02", 1, 12),
        ("2026-01-04", 2, 14),
    ]
    assert REPO in tree["README.md"].decode()
    assert "views: 9 rows read, 9 new or raised in the branch" in out
    assert "skipped stats: GHRS keeps no daily watchers" in out

    before = branch.tip(remote)
    code, out = imported(remote, "ghrs", capsys)
    assert code == 0, out
    assert branch.tip(remote) == before
    assert "Nothing changed" in out
    assert "views: 9 rows read, 0 new or raised in the branch" in out


def test_imports_merge_by_the_max_and_never_lower_a_day(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second tool's history for the same repo raises what it saw higher, lowers nothing,
    and adds the days only it has; a day final in either is final."""
    assert imported(remote, "ghrs", capsys)[0] == 0
    assert imported(remote, "sangonzal", capsys)[0] == 0
    assert branch.commit_count(remote) == 2
    views = {r["date"]: r for r in branch.rows(branch.files(remote), REPO, "views")}
    assert views["2025-12-30"] == {"date": "2025-12-30", "count": 12, "uniques": 5, "final": True}
    assert (views["2026-01-02"]["count"], views["2026-01-02"]["uniques"]) == (75, 14)
    assert views["2025-12-27"]["count"] == 59  # only GHRS had it
    assert views["2026-01-03"]["final"] is True  # final in GHRS's, not in sangonzal's
    stars = branch.rows(branch.files(remote), REPO, "stars")
    assert stars[-1]["total"] == 14  # the second import brought no stars and kept them


def test_a_folder_that_cannot_be_read_writes_nothing(
    remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad line in one file refuses the whole folder with the file and line named; the
    branch stays as it was (here: not created)."""
    folder = tmp_path / "ghrs"
    shutil.copytree(FIXTURES / "ghrs", folder)
    forks = folder / "ghrs-data" / "forks.csv"
    forks.write_text(forks.read_text() + "2026-01-09 00:00:00+00:00,four\n")
    code = run_import(remote, "ghrs", folder)
    out = capsys.readouterr().out
    assert code == 1
    assert "forks.csv, line 5: 'four' is not a count" in out
    assert branch.tip(remote) == ""


def test_a_stored_file_that_cannot_be_read_is_left_as_it_is(
    remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repo folder whose history cannot be trusted is not overwritten: the import fails
    naming the file, and makes no commit."""
    assert imported(remote, "ghrs", capsys)[0] == 0
    branch.write_file(remote, f"{REPO}/views/2025.json", b"{broken", tmp_path)
    before = branch.tip(remote)
    code, out = imported(remote, "sangonzal", capsys)
    assert code == 1
    assert f"{REPO}/views/2025.json cannot be read" in out
    assert branch.tip(remote) == before


def test_import_under_a_data_path(remote: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--data-path` puts the repo folder and the index inside that folder, as a sync does."""
    code, out = imported(
        remote, "sangonzal", capsys, "--data-path", "traffic", "--data-branch", "d"
    )
    assert code == 0, out
    tree = branch.files(remote, "d")
    assert f"traffic/{REPO}/views/2025.json" in tree
    assert "traffic/README.md" in tree
    assert not any(p.startswith("octo-org/") for p in tree)


def test_a_github_data_repository_needs_a_push_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`owner/name` is a repository on GitHub: without a token the import stops before any
    git command, saying which flag to pass."""
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    code = cli.main(
        [
            *("import", "--from", "ghrs", str(FIXTURES / "ghrs"), "--repo", REPO),
            *("--data-repository", "octo-org/stats"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "--push-token" in out


def test_bad_repo_name_is_refused(remote: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--repo` must be owner/name."""
    code = run_import(remote, "ghrs", FIXTURES / "ghrs", repo="busy-lib")
    assert code == 1
    assert "`--repo` 'busy-lib' is not `owner/name`" in capsys.readouterr().out
    assert branch.tip(remote) == ""


# --- the round trip with a normal run ---------------------------------------------------------

RUN_DAY = dt.date(2026, 1, 12)


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    world = [SimRepo(REPO, 101, dt.date(2024, 3, 1), daily_views=180, daily_clones=12, seed=2)]
    now = dt.datetime.combine(RUN_DAY, dt.time(12, 30), tzinfo=dt.UTC)
    return start_github(world, now=now, token=TOKEN, orgs=["octo-org"])


@pytest.mark.slow  # runs the entrypoint
def test_import_then_a_run_then_the_same_import_again_makes_no_commit(
    github: SimulatedGitHub,
    remote: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Import, a normal run on the simulated GitHub (which keeps every imported row and
    raises the days it sees), then the same import again: no second import commit."""
    code, out = imported(remote, "ghrs", capsys, "--token", PUSH_TOKEN)
    assert code == 0, out
    assert PUSH_TOKEN not in out
    imported_tree = branch.files(remote)

    result = run_step(
        {
            "token": TOKEN,
            "repos": REPO,
            "data-repository": str(remote),
            "data-branch": "traffic-data",
            "fail-on-error": "true",
        },
        now=dt.datetime.combine(RUN_DAY, dt.time(12, 30), tzinfo=dt.UTC),
        api_url=github.url,
        workspace=tmp_path / "workspace",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["repos-synced"] == "1"
    assert branch.commit_count(remote) == 2
    synced = branch.files(remote)
    for dataset in ("stars", "forks"):  # the run's own fetch of them lowers no imported day
        now = {r["date"]: r["new"] for r in branch.rows(synced, REPO, dataset)}
        for row in branch.rows(imported_tree, REPO, dataset):
            assert now[row["date"]] >= row["new"], (dataset, row)
    views = {r["date"]: r for r in branch.rows(synced, REPO, "views")}
    assert views["2025-12-27"]["count"] == 59  # imported, before the run's window
    assert views["2026-01-03"]["count"] >= 40  # the run saw it too: never lowered
    referrer_days = {r["date"] for r in branch.rows(synced, REPO, "referrers")}
    assert {"2025-12-20", "2026-01-04", "2026-01-05", "2026-01-12"} <= referrer_days

    code, out = imported(remote, "ghrs", capsys)
    assert code == 0, out
    assert "Nothing changed" in out
    assert branch.commit_count(remote) == 2
    assert branch.files(remote) == synced


@pytest.mark.slow  # runs the entrypoint
def test_an_import_after_a_run_keeps_its_fingerprint_current(
    github: SimulatedGitHub,
    remote: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A repo a run already saved keeps a fingerprint that matches its files after an import,
    so the next run still updates it the fast way."""
    result = run_step(
        {"token": TOKEN, "repos": REPO, "data-repository": str(remote)},
        now=dt.datetime.combine(RUN_DAY, dt.time(12, 30), tzinfo=dt.UTC),
        api_url=github.url,
        workspace=tmp_path / "workspace",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert imported(remote, "ghrs", capsys)[0] == 0
    assert branch.commit_count(remote) == 2
    tree = branch.files(remote)
    state = json.loads(tree[".traffic-sync/state.json"])
    data = {
        path.removeprefix(f"{REPO}/"): blob
        for path, blob in tree.items()
        if path.startswith(f"{REPO}/") and not path.endswith("README.md")
    }
    assert state["repos"]["101"]["files_sha256"] == fingerprint(data)
    assert state["repos"]["101"]["last_success"] == RUN_DAY.isoformat()  # an import is no run


@pytest.mark.parametrize(
    ("heading", "tool"),
    [
        ("From github-repo-stats", "ghrs"),
        ("From repository-traffic-action", "sangonzal"),
    ],
)
def test_readme_gives_an_import_command_the_tool_takes(heading: str, tool: str) -> None:
    """Each section of docs/switching.md has exactly one `traffic-sync import` command, and
    it is one the command line takes, for that tool."""
    section = doc_section("docs/switching.md", heading).replace("\\\n", " ")
    commands = [line.strip() for line in section.splitlines() if "traffic-sync import " in line]
    assert len(commands) == 1, commands
    args = cli.build_import_parser().parse_args(shlex.split(commands[0])[2:])
    assert args.tool == tool
    assert "/" in args.repo


def test_the_folder_a_run_made_is_used_whatever_the_case_typed(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub's names ignore case: `--repo Octo-Org/Busy-Lib` goes into the existing
    `octo-org/busy-lib` folder, not a second one."""
    assert imported(remote, "sangonzal", capsys)[0] == 0
    code = run_import(remote, "ghrs", FIXTURES / "ghrs", repo="Octo-Org/Busy-Lib")
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"to {remote}@traffic-data" in out
    assert branch.repo_folders(branch.files(remote)) == {REPO}
    message = branch.git("-C", str(remote), "log", "-1", "--format=%s", "traffic-data").decode()
    assert message.strip() == f"traffic-sync: import {REPO} from github-repo-stats"


def test_every_bad_flag_is_listed_at_once(remote: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad repo, branch and data path are reported together, before anything is read."""
    code = run_import(
        remote, "ghrs", FIXTURES / "ghrs", "--data-branch", "a..b", "--data-path", "../x", repo="x"
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "`--repo` 'x'" in out
    assert "`data-branch` 'a..b'" in out
    assert "`data-path` '../x'" in out
    assert branch.tip(remote) == ""
