"""`traffic-sync check` and the action's `check: true`: what a sync needs, in a handful of
requests, each problem with its fix, nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.graphql_schema import GitHubValidator
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import NOW, TOKEN
from traffic_sync import cli
from traffic_sync.demo import SimRepo, SimulatedGitHub

PUSH_TOKEN = "ghp_checkPushToken0123456789"
WORLD = [
    SimRepo("octo/alpha", 1, dt.date(2025, 1, 1)),
    SimRepo("octo/beta", 2, dt.date(2025, 1, 1)),
    SimRepo("octo/readonly", 3, dt.date(2025, 1, 1), push=False),
    SimRepo("octo/data", 4, dt.date(2025, 1, 1), push=False),
]


@pytest.fixture
def sim(validator: GitHubValidator | None, start_github: StartGitHub) -> SimulatedGitHub:
    github = start_github(WORLD, now=NOW, token=TOKEN, viewer="octo", graphql_validator=validator)
    github.grant(PUSH_TOKEN, "pat")
    return github


def check(
    sim: SimulatedGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    action: bool = False,
) -> tuple[int, str]:
    """(exit code, the step summary) of a check, from the command line or, with
    `action`, as the action's step with `check: true`."""
    summary = tmp_path / "summary.md"
    env = {"GITHUB_API_URL": sim.url, "GITHUB_STEP_SUMMARY": str(summary)}
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if action:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        inputs = dict(zip(args[::2], args[1::2], strict=True))
        for name, value in {"token": TOKEN, "check": "true", **inputs}.items():
            monkeypatch.setenv(f"INPUT_{name.upper()}", value)
        code = cli.main([])
    else:
        code = cli.main(["check", "--token", TOKEN, *args])
    return code, summary.read_text() if summary.exists() else ""


def traffic_requests(sim: SimulatedGitHub) -> list[str]:
    return [r.path for r in sim.requests if "/traffic/" in r.path]


def test_a_token_that_may_sync_everything_passes(
    sim: SimulatedGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every repo readable, a local data repository: exit 0, a table that says so, no
    traffic request, and nothing created where the data would go."""
    data = tmp_path / "data.git"
    code, summary = check(
        sim,
        tmp_path,
        monkeypatch,
        "--repos",
        "octo/alpha octo/beta",
        "--data-repository",
        str(data),
    )
    out = capsys.readouterr().out
    assert code == 0, out + summary
    assert "no problem found" in summary
    assert "2 repos named, 2 whose traffic the token may read" in summary
    assert "| ok | `token` | a classic personal access token, of user" in summary
    assert "| not known | `keepalive` |" in summary
    assert "REST budget" in summary
    assert "GraphQL budget" in summary
    assert traffic_requests(sim) == []
    assert not data.exists()
    assert TOKEN not in out + summary


def test_a_token_without_push_on_some_repos_and_on_the_data_repository_fails_with_the_fixes(
    sim: SimulatedGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A repo the token may only read, a name that is no repo, and a push token that cannot
    push to the data repository: each is a problem row with its fix, exit 1, and not one
    traffic request or write."""
    code, summary = check(
        sim,
        tmp_path,
        monkeypatch,
        "repos",
        "octo/* !octo/data octo/missing",
        "data-repository",
        "octo/data",
        "push-token",
        PUSH_TOKEN,
        action=True,
    )
    out = capsys.readouterr().out
    assert code == 1, out + summary
    assert "3 problems to fix before a sync" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| problem")]
    assert len(rows) == 3, summary
    readonly = next(row for row in rows if "octo/readonly" in row)
    assert "push access" in readonly
    assert any("octo/missing" in row and "not found" in row for row in rows)
    data = next(row for row in rows if "`data-repository`" in row)
    assert "may not push" in data
    assert "contents: write" in data
    annotations = [line for line in out.splitlines() if line.startswith("::error title=Check")]
    assert len(annotations) == 3
    assert any("data-repository" in line and "contents: write" in line for line in annotations)
    assert traffic_requests(sim) == []
    assert not any(r.method != "GET" and r.path != "/graphql" for r in sim.requests)
    shown = "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))
    assert TOKEN not in shown + summary
    assert PUSH_TOKEN not in shown + summary


def test_a_budget_too_small_for_the_repos_is_a_problem(
    validator: GitHubValidator | None,
    start_github: StartGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """10 repos at 4 requests each against 30 requests an hour: the check says how many a run
    syncs, and points at shards."""
    repos = [SimRepo(f"octo/r{i}", 10 + i, dt.date(2025, 1, 1)) for i in range(10)]
    sim = start_github(
        repos, now=NOW, token=TOKEN, viewer="octo", rate_limit=30, graphql_validator=validator
    )
    code, summary = check(
        sim, tmp_path, monkeypatch, "--repos", "octo/*", "--data-repository", str(tmp_path / "d")
    )
    assert code == 1, summary
    budget = next(line for line in summary.splitlines() if "REST budget" in line)
    assert "a run syncs up to 7 repos (4 requests each)" in budget
    assert "shard" in budget


def test_a_rejected_token_stops_the_check_at_once(
    sim: SimulatedGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token GitHub rejects (401): one problem row with the fix, and no further request."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_API_URL", sim.url)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    code = cli.main(
        [
            "check",
            "--token",
            "ghp_revokedToken0123456789",
            "--repos",
            "octo/alpha",
            "--data-repository",
            str(tmp_path / "d"),
        ]
    )
    text = summary.read_text()
    assert code == 1
    assert "rejected by GitHub" in text
    assert "make a new one" in text
    assert [r.path for r in sim.requests] == ["/user"]
