"""What a user types or a server sends can neither publish private traffic nor leak a token, and
text read back from the branch cannot forge a workflow command: each case through the action's
entrypoint, as the runner starts it, against the simulated GitHub and real git."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import branch
from tests.fake_posthog import FakePostHog
from tests.git_host import GitHost
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import REPOS as SYNC_REPOS
from tests.runner import StepResult, run_step
from traffic_sync.actions import Reporter, mask_forms, one_line
from traffic_sync.cli import crash_summary
from traffic_sync.core.errors import PostHogError
from traffic_sync.core.history import WINDOW_DAYS
from traffic_sync.core.models import Metric
from traffic_sync.demo import SimulatedGitHub
from traffic_sync.sinks.gitremote import repo_on_server
from traffic_sync.sinks.posthog import Event, PostHogSender, sends_in_clear

TOKEN = "ghp_trustTestToken0123456789"
PUSH_TOKEN = "ghs_trustPushToken0123456789"
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
# the sync tests' world without octo/beta and octo/private-data
REPOS = [repo for repo in SYNC_REPOS if repo.id in (1, 3, 4)]


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(REPOS, now=NOW, token=TOKEN, viewer="octo")


def step(sim: SimulatedGitHub, tmp_path: Path, inputs: dict[str, str], **env: str) -> StepResult:
    return run_step(
        {"token": TOKEN, "repos": "octo/alpha octo/gamma", **inputs},
        now=NOW,
        api_url=sim.url,
        workspace=tmp_path / "workspace",
        extra_env=env,
    )


def said(result: StepResult) -> str:
    """Everything a run left for people to read."""
    return "\n".join(
        (result.stdout, result.stderr, result.summary, json.dumps(result.outputs, sort_keys=True))
    )


# --- the privacy guard --------------------------------------------------------------------------


@pytest.mark.slow  # runs the entrypoint
@pytest.mark.parametrize(
    "form",
    [
        "{server}/octo/public-data.git",
        "{scheme}://x-access-token:" + PUSH_TOKEN + "@{host}/octo/public-data.git",
    ],
    ids=["url", "url-with-credentials"],
)
def test_private_traffic_stays_out_of_a_public_repo_named_by_its_url(
    github: SimulatedGitHub, tmp_path: Path, form: str
) -> None:
    """A URL of a public repository on this GitHub server is guarded as `owner/name` is."""
    with GitHost(tmp_path / "host", PUSH_TOKEN) as host:
        remote = host.create("octo/public-data")
        scheme, _, address = host.url.partition("://")
        url = form.format(server=host.url, scheme=scheme, host=address)
        result = step(
            github,
            tmp_path,
            {"data-repository": url, "push-token": PUSH_TOKEN},
            GITHUB_SERVER_URL=host.url,
        )
    assert result.returncode == 1, said(result)
    assert result.outputs["repos-synced"] == "1"
    assert result.outputs["repos-failed"] == "1"
    assert "::error title=Private repo in a public data repository%3A octo/gamma::" in (
        result.stdout
    )
    folders = branch.repo_folders(branch.files(remote))
    assert folders == {"octo/alpha"}
    assert PUSH_TOKEN not in said(result).replace(f"::add-mask::{PUSH_TOKEN}", "")


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("octo/data", "octo/data"),
        ("octo/data.git", "octo/data"),
        ("https://github.example/octo/data.git", "octo/data"),
        ("https://github.example/octo/data", "octo/data"),
        ("https://github.example/octo/data/", "octo/data"),
        ("HTTPS://GitHub.Example/Octo/Data.git", "Octo/Data"),
        ("https://x-access-token:secret@github.example/octo/data.git", "octo/data"),
        ("http://github.example:443/octo/data.git", "octo/data"),
        ("ssh://git@github.example/octo/data.git", "octo/data"),
        ("git@github.example:octo/data.git", "octo/data"),
        ("https://gitlab.example/octo/data.git", None),
        ("https://github.example.evil/octo/data.git", None),
        ("https://github.example/octo/data/tree/main", None),
        ("https://github.example/octo/..", None),
        ("./octo/data", None),
        ("/srv/octo/data", None),
        ("~/data", None),
    ],
)
def test_which_data_repositories_are_on_this_server(spec: str, name: str | None) -> None:
    """`owner/name`, or a URL of this server's host in any case and form, names a repo here."""
    assert repo_on_server(spec, server_url="https://github.example") == name


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.slow  # runs the entrypoint
@pytest.mark.parametrize("actions", [True, False], ids=["actions", "terminal"])
def test_a_token_pasted_with_spaces_is_masked_in_the_form_it_is_used(
    github: SimulatedGitHub, tmp_path: Path, actions: bool
) -> None:
    """The token is trimmed for use, so the trimmed form is masked too: a server that echoes
    it in an error message cannot get it printed."""
    github.fail(
        r"^/repos/octo/alpha/traffic/views$", 403, message=f"token {TOKEN} may not read this"
    )
    remote = branch.init_bare(tmp_path / "data.git")
    result = step(
        github,
        tmp_path,
        {"token": f"  {TOKEN} \n", "data-repository": str(remote)},
        GITHUB_ACTIONS="true" if actions else "false",
    )
    assert result.outputs["repos-failed"] == "1"
    assert "may not read this" in result.stdout
    shown = said(result).replace(f"::add-mask::{TOKEN}", "")
    assert TOKEN not in shown
    if actions:
        assert f"::add-mask::{TOKEN}\n" in result.stdout


def test_every_form_of_a_secret_is_masked() -> None:
    """A secret counts as given, trimmed and line by line; the longest form is redacted first."""
    assert mask_forms(["  abc123 \n", "", "one\ntwo"]) == (
        "  abc123 \n",
        "one\ntwo",
        "abc123",
        "one",
        "two",
    )
    lines: list[str] = []
    reporter = Reporter(env={"GITHUB_ACTIONS": "true"}, out=_Lines(lines), secrets=["one\ntwo"])
    reporter.mask_secrets()
    assert lines == ["::add-mask::one\n", "::add-mask::two\n"]


class _Lines:
    """A text stream that keeps what is written to it."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, text: str) -> int:
        if text.strip("\n"):
            self.lines.append(text + "\n")
        return len(text)

    def flush(self) -> None:
        pass


# --- text read back ----------------------------------------------------------------------------


@pytest.mark.slow  # runs the entrypoint
def test_a_stored_name_cannot_forge_a_workflow_command(
    github: SimulatedGitHub, tmp_path: Path
) -> None:
    """A name read back from state.json starts the rename line: it is printed so that the
    runner does not take the line for a command."""
    remote = branch.init_bare(tmp_path / "data.git")
    assert step(github, tmp_path, {"data-repository": str(remote)}).returncode == 0
    forged = "::warning title=Forged::owned"

    def rename(work: Path) -> None:
        (work / forged).mkdir()
        (work / "octo" / "alpha").rename(work / forged / "alpha")
        state_file = work / ".traffic-sync" / "state.json"
        state = json.loads(state_file.read_text())
        state["repos"]["1"]["full_name"] = f"{forged}/alpha"
        state_file.write_text(json.dumps(state, indent=2) + "\n")

    edit(remote, tmp_path, rename)
    result = step(github, tmp_path, {"data-repository": str(remote)})
    assert result.returncode == 0, said(result)
    assert f"{forged}/alpha is now octo/alpha" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith(forged)]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("::error::x", "> ::error::x"),
        ("  ::set-output name=a::b", ">   ::set-output name=a::b"),
        ("a\n::error::x", "a ::error::x"),
        ("[1/2] octo/a: views 3", "[1/2] octo/a: views 3"),
    ],
)
def test_a_progress_line_is_never_a_workflow_command(line: str, shown: str) -> None:
    """The runner reads a line as a command when it starts with `::` after white space."""
    assert one_line(line) == shown


def test_the_crash_summary_shows_the_error_as_text() -> None:
    """An unexpected error's text may quote a server: the summary escapes it, no code span."""
    summary = crash_summary("ValueError('`x` [link](https://evil.example)')", None)
    assert "`x`" not in summary
    assert "](https://evil.example)" not in summary


def edit(remote: Path, tmp_path: Path, change: Callable[[Path], None]) -> None:
    """Change the branch by hand, as a person (or another tool) with push access would."""
    work = tmp_path / "editor"
    branch.git("clone", "--quiet", "--branch", "traffic-data", str(remote), str(work))
    change(work)
    branch.git("add", "-A", ".", cwd=work)
    branch.git("commit", "--quiet", "-m", "edit by hand", cwd=work)
    branch.git("push", "--quiet", "origin", "traffic-data", cwd=work)


# --- PostHog ------------------------------------------------------------------------------------


@pytest.mark.slow  # runs the entrypoint
def test_a_plain_http_posthog_host_is_warned_of(github: SimulatedGitHub, tmp_path: Path) -> None:
    """The project key would cross the network in clear: the run says so, and how to fix it."""
    remote = branch.init_bare(tmp_path / "data.git")
    result = step(
        github,
        tmp_path,
        {
            "data-repository": str(remote),
            "posthog-api-key": "phc_trustTestKey0123456789",
            "posthog-host": "http://posthog.example",
            "dry-run": "true",
        },
    )
    assert result.returncode == 0, said(result)
    assert "::warning title=PostHog key sent in clear::" in result.stdout
    assert "https://us.i.posthog.com" in result.stdout


@pytest.mark.parametrize(
    ("host", "clear"),
    [
        ("https://us.i.posthog.com", False),
        ("http://posthog.example", True),
        ("http://10.0.0.5:8000", True),
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
        ("http://[::1]:8000", False),
    ],
)
def test_which_posthog_hosts_send_the_key_in_clear(host: str, clear: bool) -> None:
    """Plain http counts as clear text, except to this machine."""
    assert sends_in_clear(host) is clear


def test_a_redirect_never_takes_the_key_elsewhere() -> None:
    """A PostHog host that redirects gets a clear error, and the body (with the key) is not
    sent on to the address it names."""
    key = "phc_trustTestKey0123456789"
    with FakePostHog(key) as posthog, FakePostHog(key) as elsewhere:
        posthog.answer(307, headers={"Location": f"{elsewhere.url}/batch/"})
        sender = PostHogSender(api_key=key, host=posthog.url, sleep=lambda _s: None)
        day = NOW.date() - dt.timedelta(days=WINDOW_DAYS)
        delivery = sender.send([_event(day)])
    assert elsewhere.requests == []
    assert isinstance(delivery.error, PostHogError)
    assert "redirect" in delivery.error.message
    assert elsewhere.url in delivery.error.message
    assert delivery.acknowledged == 0


def _event(day: dt.date) -> Event:
    return Event("octo/alpha", Metric.VIEWS, day, 3, 2)


# --- inputs -------------------------------------------------------------------------------------


@pytest.mark.slow  # runs the entrypoint
@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"data-path": ".git"}, "`data-path` '.git' must be a relative folder"),
        ({"data-path": "stats/.GIT/x"}, "no `.git`"),
        ({"data-path": "traffic\nhooks"}, "no line breaks or control characters"),
        ({"data-branch": "HEAD"}, "`data-branch` 'HEAD' is not a plain branch name"),
        ({"data-branch": "refs/heads/x"}, "not `refs/heads/...`"),
        ({"sink": "auto,branch"}, "`auto` stands alone"),
    ],
    ids=["data-path-git", "data-path-git-any-case", "data-path-newline", "head", "ref", "auto"],
)
def test_an_input_that_names_the_wrong_place_is_refused_before_anything_is_done(
    github: SimulatedGitHub, tmp_path: Path, inputs: dict[str, str], problem: str
) -> None:
    """A configuration problem lists its fix; nothing is fetched and nothing written."""
    remote = branch.init_bare(tmp_path / "data.git")
    result = step(github, tmp_path, {"data-repository": str(remote), **inputs})
    assert result.returncode == 1
    assert "::error title=Invalid configuration::" in result.stdout
    assert problem in result.stdout.replace("%0A", "\n")
    assert "unknown value" not in result.stdout
    assert github.requests == []
    assert branch.tip(remote) == ""
