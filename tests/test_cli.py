"""The command line around a run: where temporary files go, and what a crashed run leaves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from traffic_sync import cli
from traffic_sync.core.models import RepoResult, RepoStatus, RunReport

TOKEN = "ghp_cliSecretToken0123456789"


def test_temp_root_is_runner_temp_where_it_exists(tmp_path: Path) -> None:
    """On a runner's host, RUNNER_TEMP is a real folder and is used."""
    assert cli.temp_root({"RUNNER_TEMP": str(tmp_path)}) == str(tmp_path)


def test_temp_root_falls_back_when_runner_temp_is_a_host_path() -> None:
    """In a container action RUNNER_TEMP names a host folder that is not mounted: use /tmp."""
    assert cli.temp_root({"RUNNER_TEMP": "/home/runner/work/_temp"}) is None
    assert cli.temp_root({}) is None


def test_temp_root_skips_a_file_and_a_read_only_folder(tmp_path: Path) -> None:
    """RUNNER_TEMP that is a file, or a folder this user cannot write, is not used."""
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert cli.temp_root({"RUNNER_TEMP": str(a_file)}) is None
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o500)
    expected = None if _access_is_checked(read_only) else str(read_only)
    assert cli.temp_root({"RUNNER_TEMP": str(read_only)}) == expected


def _access_is_checked(folder: Path) -> bool:
    """root may write anywhere; the test then checks only that nothing breaks."""
    try:
        (folder / "probe").write_text("")
    except PermissionError:
        return True
    (folder / "probe").unlink()
    return False


def action_env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    """The runner's variables for one step, with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files."""
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_REPOSITORY": "octo-org/site",
        "RUNNER_TEMP": "/home/runner/work/_temp",
        "INPUT_TOKEN": TOKEN,
        "INPUT_REPOS": "octo-org/a, octo-org/b, octo-org/*, !octo-org/c",
        "INPUT_DATA-REPOSITORY": str(tmp_path / "data.git"),
    }
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    return env


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_crash_still_writes_outputs_and_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug mid-run exits 1 with the outputs a workflow checks and a summary saying so."""
    for key, value in action_env(tmp_path).items():
        monkeypatch.setenv(key, value)

    def crash(*_: Any, **__: Any) -> RunReport:
        raise RuntimeError(f"boom near {TOKEN}")

    monkeypatch.setattr(cli, "sync", crash)
    assert cli.main([]) == 1
    assert outputs(tmp_path) == {
        "repos-synced": "0",
        "repos-failed": "2",  # the two named repos; the wildcard's are not known
        "days-added": "0",
        "commit-sha": "",
        "events-sent": "0",
    }
    summary = (tmp_path / "summary.md").read_text()
    assert "## traffic-sync: unexpected error" in summary
    assert "RuntimeError" in summary
    assert "Nothing is counted as saved" in summary
    out = capsys.readouterr().out
    assert "::error title=traffic-sync failed::Unexpected error: RuntimeError" in out
    assert out.startswith(f"::add-mask::{TOKEN}\n")  # the runner's own masking needs it
    assert TOKEN not in out.removeprefix(f"::add-mask::{TOKEN}\n") + summary


def test_crash_with_only_a_wildcard_still_counts_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no named repo, repos-failed is still 1, so `!= '0'` checks see the failure."""
    for key, value in action_env(tmp_path, repos="octo-org/*").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli, "sync", lambda *_, **__: 1 / 0)
    assert cli.main([]) == 1
    assert outputs(tmp_path)["repos-failed"] == "1"


def test_crash_after_the_run_keeps_its_true_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When only the summary fails, the outputs are the run's own and the summary says so."""
    for key, value in action_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    report = RunReport(
        fetched_on=dt.date(2026, 1, 5),
        results=(RepoResult("octo-org/a", RepoStatus.SAVED, 10, 4, 2, 1, days_added=3),),
        commit_sha="abc123",
    )
    monkeypatch.setattr(cli, "sync", lambda *_, **__: report)

    def broken_render(*_: Any, **__: Any) -> str:
        raise ValueError("render bug")

    monkeypatch.setattr(cli, "render_summary", broken_render)
    assert cli.main([]) == 1
    assert outputs(tmp_path) == {
        "repos-synced": "1",
        "repos-failed": "0",
        "days-added": "3",
        "commit-sha": "abc123",
        "events-sent": "0",
    }
    summary = (tmp_path / "summary.md").read_text()
    assert "1 repos saved, 0 failed, commit `abc123`" in summary
