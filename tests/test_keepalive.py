"""Keepalive: which runs re-enable their workflow, the request, and the warnings it can end in."""

from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import Callable, Mapping

import pytest

from tests.helpers.factories import StartGitHub
from traffic_sync.actions import Reporter
from traffic_sync.core.config import Settings
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.keepalive import Decision, Workflow, decide, keep_alive, parse_workflow_ref
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.settings import parse_settings

TOKEN = "ghp_keepaliveTrafficToken"
PUSH_TOKEN = "ghs_keepaliveWorkflowToken"
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
REF = "octo-org/site/.github/workflows/traffic.yml@refs/heads/main"
ENABLE = "/repos/octo-org/site/actions/workflows/traffic.yml/enable"
SCHEDULED = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule", "GITHUB_WORKFLOW_REF": REF}
FAST = RetryPolicy(attempts=1, backoff=0.01, max_wait=1, secondary_wait=0.01, timeout=1)
SITE = Workflow("octo-org/site", "traffic.yml")


# --- the workflow ref ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "workflow"),
    [
        (REF, SITE),
        (
            "Octo_Corp/web.site/.github/workflows/Traffic Sync.yaml@refs/tags/v1.2",
            Workflow("Octo_Corp/web.site", "Traffic Sync.yaml"),
        ),
        (
            "octo-org/site/.github/workflows/traffic.yml@refs/pull/7/merge",
            SITE,
        ),
        (f"  {REF}\n", SITE),
    ],
    ids=["branch", "tag, dots, underscore, space, .yaml", "pull request merge ref", "padded"],
)
def test_workflow_ref_names_repo_and_file(ref: str, workflow: Workflow) -> None:
    """The repo is what comes before /.github/workflows/, the workflow id is the file name."""
    assert parse_workflow_ref(ref) == workflow


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "octo-org/site/.github/workflows/traffic.yml",
        "octo-org/site/.github/workflows/traffic.yml@",
        "octo-org/site/.github/workflows/nightly/traffic.yml@refs/heads/main",
        "octo-org/site/.github/workflows/traffic.json@refs/heads/main",
        "octo-org/site/ci/traffic.yml@refs/heads/main",
        "octo-org/.github/workflows/traffic.yml@refs/heads/main",
        "octo-org/site/extra/.github/workflows/traffic.yml@refs/heads/main",
        "octo-org/../.github/workflows/traffic.yml@refs/heads/main",
        "traffic",
    ],
    ids=[
        "empty",
        "no ref",
        "empty ref",
        "subfolder",
        "not yaml",
        "not in .github/workflows",
        "no repo name",
        "extra path",
        "dot-dot repo",
        "a workflow name",
    ],
)
def test_odd_workflow_refs_name_no_workflow(ref: str) -> None:
    """Anything but owner/repo/.github/workflows/<file>.y(a)ml@<ref> is refused: GitHub runs no
    workflow from a subfolder, so such a ref cannot be the running workflow."""
    assert parse_workflow_ref(ref) is None


# --- the decision -------------------------------------------------------------------------------


def test_scheduled_run_keeps_its_workflow_alive() -> None:
    """A scheduled Actions run re-enables the workflow its GITHUB_WORKFLOW_REF names."""
    assert decide(enabled=True, dry_run=False, env=SCHEDULED) == Decision(SITE)


@pytest.mark.parametrize("event", ["push", "workflow_dispatch", "pull_request", ""])
def test_other_events_are_skipped(event: str) -> None:
    """Only `schedule` runs can be disabled for inactivity: other events do nothing, and say so."""
    decision = decide(enabled=True, dry_run=False, env={**SCHEDULED, "GITHUB_EVENT_NAME": event})
    assert decision.workflow is None
    assert f"`{event or 'unknown'}`" in decision.reason


@pytest.mark.parametrize(
    ("enabled", "dry_run", "env", "reason"),
    [
        (False, False, SCHEDULED, "keepalive: false"),
        (True, True, SCHEDULED, "dry-run"),
        (True, False, {**SCHEDULED, "GITHUB_ACTIONS": ""}, "not a GitHub Actions run"),
        (True, False, {**SCHEDULED, "GITHUB_WORKFLOW_REF": ""}, "not set"),
        (True, False, {**SCHEDULED, "GITHUB_WORKFLOW_REF": "x/y/z.yml@main"}, "'x/y/z.yml@main'"),
    ],
    ids=["input false", "dry-run", "not in Actions", "no ref", "odd ref"],
)
def test_skips_say_why(enabled: bool, dry_run: bool, env: Mapping[str, str], reason: str) -> None:
    """The input turned off, a dry run, a local run and a missing or odd ref skip, with a reason."""
    decision = decide(enabled=enabled, dry_run=dry_run, env=env)
    assert decision.workflow is None
    assert reason in decision.reason


# --- the request, against the simulated GitHub --------------------------------------------------


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    site = SimRepo("octo-org/site", 1, dt.date(2025, 1, 1))
    server = start_github([site], now=NOW, token=TOKEN, orgs=["octo-org"])
    server.add_workflow("octo-org/site", "traffic.yml", state="disabled_inactivity")
    server.grant(PUSH_TOKEN, "github-token", actions_write=True)
    return server


def settings(api_url: str, **inputs: str) -> Settings:
    raw = {"token": TOKEN, "push-token": PUSH_TOKEN, **inputs}
    return parse_settings(raw, {"GITHUB_REPOSITORY": "octo-org/site", "GITHUB_API_URL": api_url})


def keep(
    run: Settings, env: Mapping[str, str] = SCHEDULED, policy: RetryPolicy = FAST
) -> tuple[bool, str]:
    """keep_alive with a Reporter as in Actions; (its answer, what it printed)."""
    out = io.StringIO()
    reporter = Reporter(env=env, out=out, secrets=run.secrets)
    return keep_alive(run, env=env, log=reporter, policy=policy), out.getvalue()


def puts(sim: SimulatedGitHub) -> list[str]:
    return [r.path for r in sim.requests if r.method == "PUT"]


def test_scheduled_run_enables_the_workflow(sim: SimulatedGitHub) -> None:
    """One PUT with the push token; 204 makes the workflow active and prints a progress line."""
    enabled, printed = keep(settings(sim.url))
    assert enabled is True
    assert puts(sim) == [ENABLE]
    assert sim.workflow_state("octo-org/site", "traffic.yml") == "active"
    assert printed == (
        "keepalive: workflow traffic.yml of octo-org/site enabled, so GitHub keeps its schedule\n"
    )


def test_server_error_is_retried(sim: SimulatedGitHub) -> None:
    """A 502 is retried like every request; the second try enables the workflow."""
    sim.fail("/enable$", 502)
    enabled, _ = keep(settings(sim.url))
    assert enabled is True
    assert puts(sim) == [ENABLE, ENABLE]


def test_token_without_actions_write_is_a_warning_with_the_yaml_fix(sim: SimulatedGitHub) -> None:
    """403: a warning annotation naming the permissions lines to add and how to turn it off."""
    sim.grant(PUSH_TOKEN, "github-token")
    enabled, printed = keep(settings(sim.url))
    assert enabled is False
    assert printed.startswith("::warning title=Workflow keepalive failed::")
    assert "Resource not accessible by integration (403)" in printed
    assert "permissions:%0A  contents: write%0A  actions: write%0A" in printed
    assert "`keepalive: false`" in printed
    assert sim.workflow_state("octo-org/site", "traffic.yml") == "disabled_inactivity"


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda sim: sim.fail("/enable$", 500, times=5), "GitHub did not answer after retries"),
        (lambda sim: sim.fail("/enable$", 422, message="Unprocessable"), "422 Unprocessable"),
        (lambda sim: sim.grant(PUSH_TOKEN, "bad"), "rejected `push-token` (401"),
        (lambda sim: sim.fail("/enable$", 200, delay=1.6), "did not answer after retries"),
    ],
    ids=["5xx after retries", "other status", "bad token", "timeout"],
)
def test_other_failures_are_warnings(
    sim: SimulatedGitHub, prepare: Callable[[SimulatedGitHub], None], expected: str
) -> None:
    """Server errors after the retries, another status, a revoked token, a timeout: warnings."""
    prepare(sim)
    enabled, printed = keep(settings(sim.url), policy=RetryPolicy(attempts=0, timeout=1))
    assert enabled is False
    assert printed.startswith("::warning title=Workflow keepalive failed::")
    assert expected in printed


def test_unknown_workflow_is_a_warning(sim: SimulatedGitHub) -> None:
    """404 (a workflow the token cannot see): a warning that names the repo to check."""
    env = {**SCHEDULED, "GITHUB_WORKFLOW_REF": REF.replace("traffic.yml", "other.yml")}
    enabled, printed = keep(settings(sim.url), env=env)
    assert enabled is False
    assert "not found (404)" in printed
    assert "octo-org/site" in printed


def test_no_server_is_a_warning() -> None:
    """Nothing listening at the API URL: a warning, not an exception."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    enabled, printed = keep(settings(f"http://127.0.0.1:{port}"))
    assert enabled is False
    assert "GitHub did not answer after retries (ConnectionError)" in printed


def test_enterprise_server_path_is_kept(sim: SimulatedGitHub) -> None:
    """On GitHub Enterprise Server the request goes under GITHUB_API_URL's /api/v3."""
    keep(settings(f"{sim.url}/api/v3"))
    assert puts(sim) == [f"/api/v3{ENABLE}"]


def test_skipped_run_sends_nothing(sim: SimulatedGitHub) -> None:
    """A push run prints why it skipped and makes no request."""
    enabled, printed = keep(settings(sim.url), env={**SCHEDULED, "GITHUB_EVENT_NAME": "push"})
    assert enabled is False
    assert printed == "keepalive: skipped, the run's event is `push`, not `schedule`\n"
    assert sim.requests == []


def test_tokens_never_printed(sim: SimulatedGitHub) -> None:
    """Even when GitHub's message quotes it, the push token is redacted."""
    sim.fail("/enable$", 403, message=f"token {PUSH_TOKEN} may not")
    _, printed = keep(settings(sim.url))
    assert PUSH_TOKEN not in printed
    assert "token *** may not" in printed
