"""Collection through PyGithub against the simulated GitHub: calls, expansion, failures, retries."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time

import pytest

from tests.helpers.factories import StartGitHub
from traffic_sync.core.config import RepoPattern
from traffic_sync.core.errors import (
    AccessDeniedError,
    AuthError,
    MalformedAnswerError,
    RateLimitedError,
    RepoNotFoundError,
    TransientError,
)
from traffic_sync.core.models import RepoRef
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.github.rest import Declined, GitHubSource, classify

TOKEN = "ghp_collectToken"
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
FAST = RetryPolicy(attempts=2, backoff=0.01, max_wait=5, secondary_wait=0.01, timeout=2, pause=0)
REPOS = [
    SimRepo("Octo-Org/Lib", 1, dt.date(2025, 1, 1), stars=50, forks=7, watchers=4, open_issues=3),
    SimRepo("Octo-Org/fork-of-x", 2, dt.date(2025, 1, 1), fork=True),
    SimRepo("Octo-Org/attic", 3, dt.date(2025, 1, 1), archived=True),
    SimRepo("octocat/mine", 4, dt.date(2025, 1, 1), private=True),
    SimRepo("someone/theirs", 5, dt.date(2025, 1, 1)),
    SimRepo("someone/hidden", 6, dt.date(2025, 1, 1), private=True),
]


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(REPOS, now=NOW, token=TOKEN, viewer="octocat", orgs=["Octo-Org"])


def source(sim: SimulatedGitHub, token: str = TOKEN, policy: RetryPolicy = FAST) -> GitHubSource:
    return GitHubSource(token=token, api_url=sim.url, policy=policy)


def paths(sim: SimulatedGitHub) -> list[str]:
    return [r.path for r in sim.requests if r.path != "/rate_limit"]


def names_of(refs: list[RepoRef]) -> list[str]:
    return [ref.full_name for ref in refs]


def test_observe_makes_exactly_five_requests(sim: SimulatedGitHub) -> None:
    """One repo costs GET /repos/{o}/{r} and the four traffic calls, nothing more."""
    obs = source(sim).observe("octo-org/lib", fetched_on=NOW.date())
    assert sorted(paths(sim)) == sorted(
        [
            "/repos/octo-org/lib",
            "/repos/Octo-Org/Lib/traffic/views",
            "/repos/Octo-Org/Lib/traffic/clones",
            "/repos/Octo-Org/Lib/traffic/popular/referrers",
            "/repos/Octo-Org/Lib/traffic/popular/paths",
        ]
    )
    assert obs.repo.full_name == "Octo-Org/Lib"
    assert (obs.repo.stars, obs.repo.forks, obs.repo.watchers, obs.repo.open_issues) == (
        50,
        7,
        4,
        3,
    )
    assert obs.views.buckets
    assert obs.views.count == sum(b.count for b in obs.views.buckets)
    assert len(obs.referrers) <= 10


def test_org_wildcard_skips_forks_and_archived(sim: SimulatedGitHub) -> None:
    """`org/*` lists the org's repos and leaves out forks and archived ones by default."""
    refs, failures = source(sim).expand(
        [RepoPattern("octo-org", "*")], include_forks=False, include_archived=False
    )
    assert refs == [RepoRef("Octo-Org/Lib", 1)]
    assert failures == []


def test_wildcard_can_include_forks_and_archived(sim: SimulatedGitHub) -> None:
    """include-forks and include-archived bring them back."""
    refs, _ = source(sim).expand(
        [RepoPattern("octo-org", "*")], include_forks=True, include_archived=True
    )
    assert sorted(names_of(refs)) == ["Octo-Org/Lib", "Octo-Org/attic", "Octo-Org/fork-of-x"]


def test_own_user_wildcard_lists_private_repos(sim: SimulatedGitHub) -> None:
    """The token's own login lists through /user/repos, private repos included."""
    refs, _ = source(sim).expand(
        [RepoPattern("octocat", "*")], include_forks=False, include_archived=False
    )
    assert refs == [RepoRef("octocat/mine", 4)]
    assert any(p == "/user/repos" for p in paths(sim))


def test_other_user_wildcard_lists_public_repos(sim: SimulatedGitHub) -> None:
    """Another user's repos come from /users/{u}/repos: public ones only."""
    refs, _ = source(sim).expand(
        [RepoPattern("someone", "*")], include_forks=False, include_archived=False
    )
    assert refs == [RepoRef("someone/theirs", 5)]


def test_exclusions_and_duplicates(sim: SimulatedGitHub) -> None:
    """`!owner/name` removes a repo; the same repo named twice is kept once."""
    patterns = [
        RepoPattern("octo-org", "*"),
        RepoPattern("Octo-Org", "Lib"),
        RepoPattern("someone", "theirs"),
        RepoPattern("SOMEONE", "theirs", exclude=True),
    ]
    refs, _ = source(sim).expand(patterns, include_forks=False, include_archived=False)
    assert refs == [RepoRef("Octo-Org/Lib", 1)]


def test_unknown_owner_is_reported(sim: SimulatedGitHub) -> None:
    """A wildcard for an owner that does not exist fails that entry with a 404 error."""
    refs, failures = source(sim).expand(
        [RepoPattern("nobody-here", "*"), RepoPattern("octo-org", "lib")],
        include_forks=False,
        include_archived=False,
    )
    assert refs == [RepoRef("octo-org/lib")]  # named: no id until its own request
    assert [(p, type(e)) for p, e in failures] == [("nobody-here/*", RepoNotFoundError)]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'[{"full_name": "Octo-Org/../x", "id": 1, "fork": false, "archived": false}]', {}),
        (b'{"message": "not a list"}', {}),
        (b"[]", {"Link": '<https://elsewhere.example/orgs/octo-org/repos?page=2>; rel="next"'}),
    ],
    ids=["bad-full-name", "not-a-list", "next-page-on-another-host"],
)
def test_a_malformed_listing_fails_its_pattern_only(
    sim: SimulatedGitHub, body: bytes, headers: dict[str, str]
) -> None:
    """A listing page in a shape GitHub never sends fails that `owner/*` entry, naming the
    endpoint; the other entries are kept."""
    sim.fail("^/orgs/Octo-Org/repos$", 200, body=body, headers=headers)
    refs, failures = source(sim).expand(
        [RepoPattern("octo-org", "*"), RepoPattern("someone", "*")],
        include_forks=False,
        include_archived=False,
    )
    assert refs == [RepoRef("someone/theirs", 5)]
    [(pattern, error)] = failures
    assert pattern == "octo-org/*"
    assert isinstance(error, MalformedAnswerError)
    assert "/orgs/Octo-Org/repos" in error.message


def test_named_repo_learns_its_id_from_a_listing(sim: SimulatedGitHub) -> None:
    """A repo both named and listed keeps its place and spelling, with the listing's id."""
    patterns = [RepoPattern("octo-org", "lib"), RepoPattern("someone", "*")]
    patterns.append(RepoPattern("octo-org", "*"))
    refs, _ = source(sim).expand(patterns, include_forks=False, include_archived=False)
    assert refs == [RepoRef("octo-org/lib", 1), RepoRef("someone/theirs", 5)]


def test_declined_repo_costs_only_its_repo_request(sim: SimulatedGitHub) -> None:
    """A repo whose id `accept` refuses stops after GET /repos: no traffic request."""
    with pytest.raises(Declined) as caught:
        source(sim).observe("octo-org/lib", fetched_on=NOW.date(), accept=lambda i: i != 1)
    assert (caught.value.full_name, caught.value.repo_id) == ("Octo-Org/Lib", 1)
    assert paths(sim) == ["/repos/octo-org/lib"]
    sim.requests.clear()
    obs = source(sim).observe("octo-org/lib", fetched_on=NOW.date(), accept=lambda i: i == 1)
    assert obs.repo.id == 1
    assert len(paths(sim)) == 5


def test_missing_repo_is_not_found(sim: SimulatedGitHub) -> None:
    """404 says to check the spelling and the token's access."""
    with pytest.raises(RepoNotFoundError) as caught:
        source(sim).observe("octo-org/nope", fetched_on=NOW.date())
    assert "token must have access" in caught.value.fix


def test_bad_token_is_an_auth_error(sim: SimulatedGitHub) -> None:
    """401 Bad credentials stops with a hint to renew the token; the token is never echoed."""
    with pytest.raises(AuthError) as caught:
        source(sim, token="ghp_wrong_token_value").observe("octo-org/lib", fetched_on=NOW.date())
    assert "ghp_wrong_token_value" not in str(caught.value)


def test_github_token_cannot_read_traffic(sim: SimulatedGitHub) -> None:
    """The workflow's GITHUB_TOKEN gets 403 on traffic: the error names the tokens that work."""
    sim.grant("ghs_workflowToken", "github-token")
    with pytest.raises(AccessDeniedError) as caught:
        source(sim, token="ghs_workflowToken").observe("octo-org/lib", fetched_on=NOW.date())
    assert "GITHUB_TOKEN" in str(caught.value)
    assert "Administration: read" in caught.value.fix


def test_token_without_push_access(sim: SimulatedGitHub) -> None:
    """A PAT whose user cannot push gets a 403 that says so."""
    sim.grant("ghp_readOnly", "no-push")
    with pytest.raises(AccessDeniedError) as caught:
        source(sim, token="ghp_readOnly").observe("octo-org/lib", fetched_on=NOW.date())
    assert "no push access" in caught.value.message


def test_server_errors_are_retried(sim: SimulatedGitHub) -> None:
    """A 502 followed by success is invisible to the caller."""
    sim.fail(r"/traffic/views$", 502, times=1)
    obs = source(sim).observe("octo-org/lib", fetched_on=NOW.date())
    assert obs.views.buckets
    assert paths(sim).count("/repos/Octo-Org/Lib/traffic/views") == 2


@pytest.mark.slow  # waits seconds of real time
def test_retry_after_is_honoured(sim: SimulatedGitHub) -> None:
    """429 with Retry-After waits that long, then succeeds."""
    sim.fail(r"/traffic/clones$", 429, times=1, headers={"retry-after": "1"})
    started = time.monotonic()
    source(sim).observe("octo-org/lib", fetched_on=NOW.date())
    assert time.monotonic() - started >= 0.9


def test_persistent_errors_give_up(sim: SimulatedGitHub) -> None:
    """Retries are bounded: a repo that keeps failing ends as a transient error."""
    sim.fail(r"/traffic/views$", 503, times=10)
    with pytest.raises(TransientError):
        source(sim).observe("octo-org/lib", fetched_on=NOW.date())


@pytest.mark.slow  # waits seconds of real time
@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_waits_for_the_reset(sim: SimulatedGitHub, status: int) -> None:
    """A primary limit (403 or 429, x-ratelimit-remaining 0) is retried after its reset only."""
    reset = str(int(time.time()) + 2)
    sim.fail(
        r"/traffic/clones$",
        status,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        message="API rate limit exceeded for user ID 1.",
    )
    started = time.monotonic()
    source(sim).observe("octo-org/lib", fetched_on=NOW.date())
    assert time.monotonic() - started >= 1.5
    assert paths(sim).count("/repos/Octo-Org/Lib/traffic/clones") == 2


@pytest.mark.parametrize("status", [403, 429])
def test_long_rate_limit_stops_instead_of_sleeping(sim: SimulatedGitHub, status: int) -> None:
    """A primary rate limit resetting in an hour raises at once instead of waiting."""
    reset = str(int(time.time()) + 3600)
    sim.fail(
        r"/repos/[^/]+/[^/]+$",
        status,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        message="API rate limit exceeded for user ID 1.",
    )
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        source(sim).observe("octo-org/lib", fetched_on=NOW.date())
    assert time.monotonic() - started < 5
    assert caught.value.wait_seconds > 3000


def test_long_retry_after_stops_instead_of_sleeping(sim: SimulatedGitHub) -> None:
    """A Retry-After beyond the allowed wait raises at once too."""
    sim.fail(r"/traffic/views$", 429, headers={"retry-after": "900"})
    with pytest.raises(RateLimitedError):
        source(sim).observe("octo-org/lib", fetched_on=NOW.date())


@pytest.mark.slow  # waits seconds of real time
def test_timeouts_are_bounded(sim: SimulatedGitHub) -> None:
    """An answer slower than the timeout fails the repo instead of hanging the run."""
    sim.fail(r"/traffic/popular/paths$", 200, times=5, delay=3)
    policy = RetryPolicy(
        attempts=0, backoff=0.01, max_wait=5, secondary_wait=0.01, timeout=1, pause=0
    )
    with pytest.raises(TransientError):
        source(sim, policy=policy).observe("octo-org/lib", fetched_on=NOW.date())


def test_data_repository_visibility(sim: SimulatedGitHub) -> None:
    """is_private reads the data repository's visibility; unknown repos give None."""
    src = source(sim)
    assert src.is_private("octocat/mine") is True
    assert src.is_private("someone/theirs") is False
    assert src.is_private("someone/missing") is None


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (403, "API rate limit exceeded", TransientError),
        (429, "secondary rate limit", TransientError),
        (500, "boom", TransientError),
        (403, "Forbidden", AccessDeniedError),
    ],
)
def test_classify_by_status_then_message(status: int, message: str, kind: type) -> None:
    """Failures are classified by status first, then by GitHub's message."""
    assert type(classify(status, message, "o/r")) is kind


def test_proxy_variables_apply_as_requests_reads_them(
    sim: SimulatedGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY sends the requests to the proxy, and NO_PROXY exempts the host."""
    for variable in ("ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)
    seen: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as proxy:
        proxy.settimeout(5)  # a client that bypasses the proxy fails the test, not hangs it

        def answer_once() -> None:
            with contextlib.suppress(TimeoutError):
                connection, _ = proxy.accept()
                with connection:
                    seen.append(connection.recv(65536).split(b"\r\n")[0])

        thread = threading.Thread(target=answer_once)
        thread.start()
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
        once = RetryPolicy(attempts=0, timeout=5)
        try:
            with pytest.raises(TransientError):  # the proxy hangs up
                source(sim, policy=once).observe("octo-org/lib", fetched_on=NOW.date())
        finally:
            thread.join()
    assert seen == [f"GET {sim.url}/repos/octo-org/lib HTTP/1.1".encode()]
    assert paths(sim) == []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    source(sim).observe("octo-org/lib", fetched_on=NOW.date())
    assert len(paths(sim)) == 5
