"""The orchestrator in-process: guards, partial failures, push races, the command line."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import NOW, REPOS, TOKEN, ListLog, settings_for, source_for, sync_once
from traffic_sync import cli
from traffic_sync.branch.codec import encode_history
from traffic_sync.branch.folders import fingerprint, repo_folders
from traffic_sync.branch.state import FINGERPRINT, SEEN, STATE_FILE, encode_state
from traffic_sync.core.errors import PrivacyError
from traffic_sync.core.history import apply_observation
from traffic_sync.core.models import (
    Bucket,
    History,
    Observation,
    Referrer,
    RepoInfo,
    RepoStatus,
    TrafficAnswer,
)
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import Pacer
from traffic_sync.settings import parse_settings
from traffic_sync.sinks.gitremote import resolve_remote
from traffic_sync.stages.collect import collect
from traffic_sync.stages.plan import plan_files
from traffic_sync.stages.store import push_token_for
from traffic_sync.sync import collect_options, index_url, run, store_options


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(REPOS, now=NOW, token=TOKEN, viewer="octo")


def test_private_repo_never_lands_in_a_public_data_repo(sim: SimulatedGitHub) -> None:
    """A private repo fails with the privacy error when the data repository is public."""
    log = ListLog()
    settings = settings_for("octo/public-data", repos="octo/alpha octo/gamma")
    collected = collect(
        collect_options(settings),
        today=sim.now.date(),
        source=source_for(sim),
        log=log,
    )
    assert [o.repo.full_name for o in collected.observations] == ["octo/alpha"]
    (result,) = collected.results
    assert (result.full_name, result.status) == ("octo/gamma", RepoStatus.FAILED)
    assert isinstance(log.errors[0][0], PrivacyError)
    assert "allow-private-in-public" in log.errors[0][0].fix


@pytest.mark.parametrize(
    ("data_repository", "extra"),
    [
        ("octo/private-data", {}),
        ("octo/public-data", {"allow-private-in-public": "true"}),
        ("./local", {}),
    ],
)
def test_private_repo_allowed_where_safe(
    sim: SimulatedGitHub, data_repository: str, extra: dict[str, str]
) -> None:
    """A private data repo, an explicit opt-in, or a local folder lets private traffic in."""
    settings = settings_for(data_repository, repos="octo/gamma", **extra)
    collected = collect(
        collect_options(settings),
        today=sim.now.date(),
        source=source_for(sim),
        log=ListLog(),
    )
    assert [o.repo.full_name for o in collected.observations] == ["octo/gamma"]


def test_unknown_data_repo_visibility_counts_as_public(sim: SimulatedGitHub) -> None:
    """If the data repository cannot be read, private traffic is held back."""
    settings = settings_for("octo/not-visible", repos="octo/gamma")
    collected = collect(
        collect_options(settings),
        today=sim.now.date(),
        source=source_for(sim),
        log=ListLog(),
    )
    assert collected.observations == []


def test_rate_limit_saves_what_was_collected(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """A long rate-limit wait stops collection: earlier repos are saved, the rest skipped.

    Serial here, so "the rest" is exact; with workers, repos already in flight are kept too.
    """
    remote = branch.init_bare(tmp_path / "data.git")
    reset = str(int(sim.now.timestamp()) + 3600)
    sim.fail(
        r"^/repos/octo/beta/traffic/views$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        message="API rate limit exceeded for user ID 1.",
    )
    log = ListLog()
    report = sync_once(
        sim,
        settings_for(remote, repos="octo/alpha octo/beta octo/gamma", concurrency="1"),
        tmp_path,
        log,
    )
    statuses = {r.full_name: r.status for r in report.results}
    assert statuses == {
        "octo/alpha": RepoStatus.SAVED,
        "octo/beta": RepoStatus.SKIPPED,
        "octo/gamma": RepoStatus.SKIPPED,
    }
    assert report.repos_failed == 0
    assert "2 repos skipped" in log.warnings[0][1]
    tree = branch.files(remote)
    assert branch.rows(tree, "octo/alpha", "views")
    assert not any(p.startswith("octo/beta/") for p in tree)


def test_bad_token_fails_every_repo_and_writes_nothing(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """401 stops collection at once: all repos fail, no branch is created."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote)
    report = run(
        settings,
        today=sim.now.date(),
        source=source_for(sim, token="ghp_revoked"),
        log=ListLog(),
        workdir=tmp_path,
        cwd=tmp_path,
    )
    assert [r.status for r in report.results] == [RepoStatus.FAILED, RepoStatus.FAILED]
    assert branch.tip(remote) == ""
    # each worker stops at its first 401: at most one request per repo already started
    assert len([r for r in sim.requests if r.path != "/rate_limit"]) <= 2


MOVE_BRANCH_ONCE = """#!/bin/sh
# Another writer lands a commit while this push is in flight (once).
[ -f "$GIT_DIR/moved" ] && exit 0
touch "$GIT_DIR/moved"
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
tip=$(git rev-parse --verify -q refs/heads/traffic-data) || exit 0
blob=$(echo "written by another run" | git hash-object -w --stdin)
tree=$( (git ls-tree "$tip"; printf '100644 blob %s\\tother-writer.txt\\n' "$blob") | git mktree)
export GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@x GIT_COMMITTER_NAME=o GIT_COMMITTER_EMAIL=o@x
commit=$(echo other | git commit-tree "$tree" -p "$tip")
git update-ref refs/heads/traffic-data "$commit" "$tip"
"""


def test_push_race_re_merges_onto_the_new_tip(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """When the branch moves during the push, the run fetches, re-merges and pushes again."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote)
    first = sync_once(sim, settings, tmp_path)
    assert first.commit_sha
    branch.install_hook(remote, MOVE_BRANCH_ONCE)
    sim.now += dt.timedelta(days=1)
    report = sync_once(sim, settings, tmp_path)
    assert report.repos_synced == 2
    tree = branch.files(remote)
    assert tree["other-writer.txt"] == b"written by another run\n"
    stats = branch.rows(tree, "octo/alpha", "stats")
    assert stats[-1]["date"] == sim.now.date().isoformat()
    assert branch.commit_count(remote) == 3
    assert branch.tip(remote) == report.commit_sha


# Other writers land a commit while each of the first six pushes is in flight.
MOVE_BRANCH_SIX_TIMES = MOVE_BRANCH_ONCE.replace(
    '[ -f "$GIT_DIR/moved" ] && exit 0\ntouch "$GIT_DIR/moved"\n',
    'echo x >> "$GIT_DIR/moves"\n[ "$(wc -l < "$GIT_DIR/moves")" -gt 6 ] && exit 0\n',
)


@pytest.mark.parametrize(("shard", "saved"), [("1/1", False), ("2/2", True)])
def test_push_attempts_grow_with_the_shards(
    sim: SimulatedGitHub, tmp_path: Path, shard: str, saved: bool
) -> None:
    """Five attempts for one run; each other shard may push twice first, so 2/2 gets seven."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_once(sim, settings_for(remote, repos="octo/alpha octo/beta"), tmp_path)
    branch.install_hook(remote, MOVE_BRANCH_SIX_TIMES)
    sim.now += dt.timedelta(days=1)
    report = sync_once(sim, settings_for(remote, repos="octo/alpha", shard=shard), tmp_path)
    assert report.store_failed is not saved
    assert (branch.tip(remote) == report.commit_sha) is saved


ALWAYS_REJECT = "#!/bin/sh\necho 'failed to update ref' >&2\nexit 1\n"


def test_push_failure_is_reported_not_lost(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """A push the remote keeps refusing fails the run loudly; the branch is left as it was."""
    remote = branch.init_bare(tmp_path / "data.git")
    branch.install_hook(remote, ALWAYS_REJECT)
    log = ListLog()
    report = sync_once(sim, settings_for(remote), tmp_path, log)
    assert report.store_failed
    assert report.repos_failed == 2
    assert branch.tip(remote) == ""
    assert log.errors
    assert cli.exit_code(report, settings_for(remote, **{"fail-on-error": "false"})) == 1


@pytest.mark.parametrize(
    ("data_repository", "sent"),
    [
        ("octo/data", True),
        ("https://github.example/octo/data.git", True),
        ("https://gitlab.example/octo/data.git", False),
        ("https://github.example.evil/octo/data.git", False),
        ("git@github.example:octo/data.git", False),
        ("./folder", False),
    ],
)
def test_push_token_only_goes_to_the_github_server(data_repository: str, sent: bool) -> None:
    """The push token is sent to the configured GitHub server only, never to another host."""
    settings = parse_settings(
        {"token": "t", "repos": "o/r", "data-repository": data_repository, "push-token": "p"},
        {"GITHUB_SERVER_URL": "https://github.example"},
    )
    remote = resolve_remote(data_repository, server_url=settings.server_url, cwd=Path("/tmp"))
    given = push_token_for(remote, token=settings.push_token, server_url=settings.server_url)
    assert given == ("p" if sent else None)


@pytest.mark.parametrize(
    ("data_repository", "inputs", "url"),
    [
        ("octo/data", {}, "https://github.example/octo/data/blob/traffic-data/README.md"),
        (
            "octo/data",
            {"data-branch": "stats/daily", "data-path": "traffic data"},
            "https://github.example/octo/data/blob/stats/daily/traffic%20data/README.md",
        ),
        ("https://gitlab.example/octo/data.git", {}, ""),
        ("./folder", {}, ""),
        (
            "https://x-access-token:secret@GitHub.example/octo/data.git",
            {},
            "https://github.example/octo/data/blob/traffic-data/README.md",
        ),
    ],
)
def test_index_page_url_for_a_data_repository_on_github(
    data_repository: str, inputs: dict[str, str], url: str
) -> None:
    """The summary links the index page when the data repository is on this server."""
    settings = parse_settings(
        {"token": "t", "repos": "o/r", "data-repository": data_repository, **inputs},
        {"GITHUB_SERVER_URL": "https://github.example"},
    )
    assert index_url(settings) == url


def test_data_path_and_state(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """With data-path everything lives in that folder, state.json included."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_once(sim, settings_for(remote, **{"data-path": "stats/traffic"}), tmp_path)
    tree = branch.files(remote)
    assert all(p.startswith("stats/traffic/") for p in tree)
    assert "stats/traffic/README.md" in tree
    state = json.loads(tree["stats/traffic/.traffic-sync/state.json"])
    today = sim.now.date().isoformat()
    folders = repo_folders(tree, "stats/traffic/")
    for entry in state["repos"].values():  # what the write was made of (branchview.seen_key)
        assert re.fullmatch("[0-9a-f]{64}", entry.pop(SEEN))
    assert state == {
        "schema": 2,
        "repos": {
            str(number): {
                "full_name": name,
                "last_success": today,
                FINGERPRINT: fingerprint(folders[name].files),
                "growth": {
                    series: {
                        "count": len(sim.timeline(name, series)),
                        "through": sim.timeline(name, series)[-1].date().isoformat(),
                        "pending": [],
                        "queries": 0,
                    }
                    for series in ("forks", "stars")
                },
            }
            for number, name in ((1, "octo/alpha"), (2, "octo/beta"))
        },
    }


def test_state_keeps_keys_it_does_not_own(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """A later run updates its own fields in a state entry and keeps the others."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_once(sim, settings_for(remote), tmp_path)
    state = json.loads(branch.files(remote)[".traffic-sync/state.json"])
    state["repos"]["1"]["posthog"] = {"views": "2026-01-01"}
    branch.write_file(remote, ".traffic-sync/state.json", json.dumps(state).encode(), tmp_path)
    sim.now += dt.timedelta(days=1)
    sync_once(sim, settings_for(remote), tmp_path)
    entry = json.loads(branch.files(remote)[".traffic-sync/state.json"])["repos"]["1"]
    assert entry["posthog"] == {"views": "2026-01-01"}
    assert entry["last_success"] == sim.now.date().isoformat()


def test_unreadable_state_stops_without_writing(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """A broken state.json is never overwritten: the run fails and the branch stays."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_once(sim, settings_for(remote), tmp_path)
    branch.write_file(remote, ".traffic-sync/state.json", b"{oops", tmp_path)
    before = branch.tip(remote)
    sim.now += dt.timedelta(days=1)
    report = sync_once(sim, settings_for(remote), tmp_path)
    assert report.store_failed
    assert branch.tip(remote) == before


def test_local_folder_is_created_and_browsable(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """A local data-repository folder is created as a git repo whose files you can open."""
    report = sync_once(sim, settings_for("./traffic-here"), tmp_path)
    folder = tmp_path / "traffic-here"
    assert report.commit_sha
    assert (folder / "README.md").is_file()
    newest = sorted((folder / "octo" / "alpha" / "views").glob("*.csv"))[-1]
    assert newest.read_text().startswith("date,count,uniques,final\n")


def test_cli_runs_the_same_path(
    sim: SimulatedGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`traffic-sync --repos o/r --data-repository ./dir` with GITHUB_TOKEN syncs and reports."""
    monkeypatch.setattr(cli, "utc_now", lambda: sim.now)  # the simulator's clock, one for both
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", sim.url)
    code = cli.main(["--repos", "octo/alpha", "--data-repository", "./out"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[1/1] octo/alpha" in out
    assert "octo/alpha" in out
    assert TOKEN not in out
    assert (tmp_path / "out" / "octo" / "alpha" / "stats" / f"{sim.now.year}.json").is_file()


def test_cli_reports_all_config_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad inputs exit 1 before any request, with every problem and a summary section."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("INPUT_TOKEN", "")
    monkeypatch.setenv("INPUT_REPOS", "not a repo/")
    monkeypatch.setenv("INPUT_DATA-REPOSITORY", "octo/data")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert cli.main([]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error title=Invalid configuration::")
    assert "`token` is empty" in out
    assert "'not'" in out
    assert "Nothing was fetched or written" in summary.read_text()


def test_flags_override_action_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flag wins over INPUT_*, and GITHUB_TOKEN is used only outside Actions."""
    monkeypatch.setenv("INPUT_DATA-BRANCH", "from-env")
    raw = cli.collect_inputs(
        {"data_branch": "from-flag", "dry_run": True}, {"INPUT_REPOS": "a/b", "GITHUB_TOKEN": "t"}
    )
    assert (raw["data-branch"], raw["repos"], raw["dry-run"], raw["token"]) == (
        "from-flag",
        "a/b",
        "true",
        "t",
    )
    in_actions = cli.collect_inputs({}, {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "t"})
    assert in_actions["token"] == ""


@pytest.mark.slow  # the demo end to end
def test_demo_runs_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`traffic-sync demo` writes a browsable data branch from the built-in simulator."""
    out = tmp_path / "demo"
    assert cli.main(["demo", "--days", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Done." in printed
    assert (out / "README.md").is_file()
    assert branch.commit_count(out) == 3
    rocket = out / "acme-labs" / "rocket-sdk"
    assert sorted(p.name for p in (rocket / "stars").glob("*.json"))  # since its creation
    assert "## Release downloads" in (rocket / "README.md").read_text()


def test_workers_fetch_in_parallel_and_report_in_order(tmp_path: Path) -> None:
    """Eight workers over a slow GitHub: far faster than one at a time, same rows, same order.

    Without stars or forks, so the run is the five REST requests per repo this measures."""
    repos = [
        SimRepo(f"octo/r{i:02}", 100 + i, dt.date(2025, 1, 1), seed=2 * i, stars=0, forks=0)
        for i in range(16)
    ]
    now = dt.datetime(2026, 2, 2, 13, tzinfo=dt.UTC)
    with SimulatedGitHub(repos, now=now, token=TOKEN, viewer="octo", latency=0.05) as slow:
        remote = branch.init_bare(tmp_path / "data.git")
        log = ListLog()
        started = time.monotonic()
        settings = settings_for(remote, repos="octo/*", concurrency="8")
        report = sync_once(slow, settings, tmp_path, log, Pacer(per_minute=60_000))
        elapsed = time.monotonic() - started
    assert elapsed < 16 * 5 * 0.05 / 2  # serial would take 4 s of latency alone
    assert [r.full_name for r in report.results] == [r.full_name for r in repos]
    assert [line.split(":")[0] for line in log.lines] == [
        f"[{i + 1}/16] octo/r{i:02}" for i in range(16)
    ]


def test_a_repo_that_fails_stays_in_the_index() -> None:
    """A repo whose referrers cannot be read fails, but the index still lists it from the
    views, clones and stats it shows."""
    day = dt.date(2026, 1, 20)
    repo = RepoInfo("o/r", 1, dt.date(2025, 1, 1), private=False)
    bucket = (Bucket(day - dt.timedelta(days=3), 5, 2),)
    observation = Observation(
        repo, day, TrafficAnswer(5, 2, bucket), TrafficAnswer(0, 0), (Referrer("x.example", 3, 1),)
    )
    files = encode_history(apply_observation(History(), observation))
    current = {f"o/r/{name}": text.encode() for name, text in files.items()}
    current["o/r/referrers/2026/01.json"] = b"[oops"
    current[STATE_FILE] = encode_state({})
    settings = parse_settings({"token": "t", "repos": "o/r", "data-repository": "./d"}, {})
    later = replace(observation, fetched_on=day + dt.timedelta(days=1))
    plan = plan_files(
        current, [later], today=later.fetched_on, target=store_options(settings).target
    )
    assert plan.results[0].status is RepoStatus.FAILED
    assert "o/r/referrers/2026/01.json" in plan.results[0].error
    assert not any(path.startswith("o/r/") for path in plan.files)
    assert "o/r" in plan.files["README.md"].decode()
