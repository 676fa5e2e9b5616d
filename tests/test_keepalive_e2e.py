"""Keepalive end to end: the real entrypoint on a scheduled run, against the simulated GitHub.

The step runs as the runner runs it (`tests/runner.py`), with the env a scheduled run has:
`GITHUB_EVENT_NAME=schedule` and `GITHUB_WORKFLOW_REF` naming the workflow file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.runner import StepResult, run_step
from traffic_sync.demo import SimRepo, SimulatedGitHub

pytestmark = pytest.mark.slow  # runs the entrypoint

TOKEN = "ghp_keepaliveE2eTrafficToken0123"
PUSH_TOKEN = "ghs_keepaliveE2eWorkflowToken456"
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
WORKFLOW_REF = "octo-org/site/.github/workflows/traffic.yml@refs/heads/main"
ENABLE = "/repos/octo-org/site/actions/workflows/traffic.yml/enable"
WORLD = [
    SimRepo("octo-org/site", 201, dt.date(2024, 5, 1), daily_views=30, seed=2),
    SimRepo("octo-org/lib", 202, dt.date(2025, 2, 1), daily_views=12, seed=4),
]


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    sim = start_github(WORLD, now=NOW, token=TOKEN, orgs=["octo-org"])
    sim.add_workflow("octo-org/site", "traffic.yml", state="disabled_inactivity")
    return sim


def step(
    sim: SimulatedGitHub, tmp_path: Path, event: str, *, data: str = "data", **inputs: str
) -> StepResult:
    """One run of the action on `event`, its data branch in the bare repo `<data>.git`."""
    remote = branch.init_bare(tmp_path / f"{data}.git")
    return run_step(
        {
            "token": TOKEN,
            "repos": "octo-org/*",
            "data-repository": str(remote),
            "push-token": PUSH_TOKEN,
            **inputs,
        },
        now=NOW,
        api_url=sim.url,
        workspace=tmp_path / "workspace",
        extra_env={"GITHUB_EVENT_NAME": event, "GITHUB_WORKFLOW_REF": WORKFLOW_REF},
    )


def enables(sim: SimulatedGitHub) -> list[str]:
    return [r.path for r in sim.requests if r.method == "PUT"]


def shown(result: StepResult) -> str:
    """What a reader of the log and summary sees (the runner hides ::add-mask:: lines)."""
    lines = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
    return "\n".join(lines) + result.stderr + result.summary


def test_scheduled_run_enables_its_workflow(github: SimulatedGitHub, tmp_path: Path) -> None:
    """A scheduled run saves the data, then enables traffic.yml once with the push token."""
    github.grant(PUSH_TOKEN, "github-token", actions_write=True)
    result = step(github, tmp_path, "schedule")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["repos-synced"] == "2"
    assert enables(github) == [ENABLE]
    assert github.workflow_state("octo-org/site", "traffic.yml") == "active"
    assert "keepalive: workflow traffic.yml of octo-org/site enabled" in result.stdout
    assert "::warning" not in result.stdout


def test_token_without_actions_write_warns_and_changes_nothing_else(
    github: SimulatedGitHub, tmp_path: Path
) -> None:
    """403: a warning with the permissions fix; exit code, outputs and the data are as without."""
    github.grant(PUSH_TOKEN, "github-token")  # contents: write only
    denied = step(github, tmp_path, "schedule", data="denied")
    off = step(github, tmp_path, "schedule", data="off", keepalive="false")

    assert denied.returncode == off.returncode == 0, denied.stdout + denied.stderr
    assert enables(github) == [ENABLE]  # the run with `keepalive: false` sent none
    warnings = [line for line in denied.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert warnings[0].startswith("::warning title=Workflow keepalive failed::")
    assert "Resource not accessible by integration" in warnings[0]
    assert "permissions:%0A  contents: write%0A  actions: write" in warnings[0]
    assert "`keepalive: false`" in warnings[0]
    assert "keepalive: skipped, turned off (keepalive: false)" in off.stdout

    same = {k: v for k, v in denied.outputs.items() if k != "commit-sha"}
    assert same == {k: v for k, v in off.outputs.items() if k != "commit-sha"}
    assert same["repos-synced"] == "2"
    remote = tmp_path / "denied.git"
    assert denied.outputs["commit-sha"] == branch.tip(remote)
    assert any(path.startswith("octo-org/lib/") for path in branch.files(remote))


def test_keepalive_uses_its_own_token_when_the_push_token_may_not(
    github: SimulatedGitHub, tmp_path: Path
) -> None:
    """A push token that may only push (a token for another repository) leaves keepalive to
    `workflow-token`, the workflow's own token with actions write: no warning, enabled."""
    workflow_token = "ghs_keepaliveE2eOwnWorkflowToken789"
    github.grant(PUSH_TOKEN, "github-token")  # contents: write only
    github.grant(workflow_token, "github-token", actions_write=True)
    result = step(github, tmp_path, "schedule", **{"workflow-token": workflow_token})
    assert result.returncode == 0, result.stdout + result.stderr
    assert enables(github) == [ENABLE]
    assert "keepalive: workflow traffic.yml of octo-org/site enabled" in result.stdout
    assert "::warning" not in result.stdout
    assert workflow_token not in shown(result)


@pytest.mark.parametrize("event", ["push", "workflow_dispatch"])
def test_other_events_send_no_keepalive(
    github: SimulatedGitHub, tmp_path: Path, event: str
) -> None:
    """A run started by anything but its schedule makes no enable request, and says why."""
    github.grant(PUSH_TOKEN, "github-token", actions_write=True)
    result = step(github, tmp_path, event)
    assert result.returncode == 0, result.stdout + result.stderr
    assert enables(github) == []
    assert f"keepalive: skipped, the run's event is `{event}`, not `schedule`" in result.stdout


def test_tokens_never_shown(github: SimulatedGitHub, tmp_path: Path) -> None:
    """Neither token is in stdout, stderr or the summary, whether GitHub takes the call or not."""
    github.grant(PUSH_TOKEN, "github-token", actions_write=True)
    taken = step(github, tmp_path, "schedule", data="taken")
    github.fail("/enable$", 403, message=f"token {PUSH_TOKEN} is not allowed")
    refused = step(github, tmp_path, "schedule", data="refused")
    assert enables(github) == [ENABLE, ENABLE]
    assert "::warning title=Workflow keepalive failed::" in refused.stdout
    for result in (taken, refused):
        assert result.returncode == 0
        for token in (TOKEN, PUSH_TOKEN):
            assert token not in shown(result)
