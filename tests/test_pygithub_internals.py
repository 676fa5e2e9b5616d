"""The PyGithub and urllib3 internals that pacing relies on are there, with the shape it expects.

Pacing (github/rest.py, github/deadline.py) writes private attributes of PyGithub's Requester,
subclasses its connection classes and GithubRetry, and rebuilds urllib3's responses. None of
that is public API, so a release of either may change it without notice; pyproject.toml pins
PyGithub to the minor versions these tests pass on. Each assertion names the internal that
changed, so a failure after an upgrade says what to look at.
"""

from __future__ import annotations

import functools
import inspect
import io
import re
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import github
import pytest
import requests
import urllib3
from github import Auth, Github, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.Requester import (
    HTTPRequestsConnectionClass,
    HTTPSRequestsConnectionClass,
    Requester,
    WithRequester,
)
from packaging.requirements import Requirement
from packaging.version import Version
from urllib3 import HTTPConnectionPool, HTTPResponse, PoolManager
from urllib3.connection import HTTPConnection

from traffic_sync.github import rest
from traffic_sync.github.pacer import Pacer, RetryPolicy

ROOT = Path(__file__).resolve().parent.parent
PYGITHUB = f"PyGithub {version('PyGithub')}"
URLLIB3 = f"urllib3 {urllib3.__version__}"
CONNECTION_ATTRIBUTES = (
    "_Requester__httpConnectionClass",
    "_Requester__httpsConnectionClass",
    "_Requester__connectionClass",
)


def parameters(function: Callable[..., Any]) -> set[str]:
    """The names a callable takes, `**kwargs` as `**`."""
    return {
        "**" if p.kind is inspect.Parameter.VAR_KEYWORD else name
        for name, p in inspect.signature(function).parameters.items()
    }


def takes(function: Callable[..., Any], names: set[str], what: str) -> None:
    """Fail, naming `what` and the version, when `function` no longer takes every one of
    `names`."""
    missing = names - parameters(function)
    assert not missing, f"{what} no longer takes {sorted(missing)}: pacing passes them"


def client(base_url: str) -> Github:
    """A paced client as collection builds it; nothing is sent."""
    return rest.new_client(
        token="ghp_internals", api_url=base_url, policy=RetryPolicy(), pacer=Pacer()
    )


def test_requester_keeps_its_connection_classes_in_the_private_attributes() -> None:
    """The Requester's three connection-class attributes, set by `_PacedToken`, still exist."""
    requester = Github(base_url="http://127.0.0.1:9", auth=Auth.Token("t")).requester
    for attribute in CONNECTION_ATTRIBUTES:
        assert hasattr(requester, attribute), (
            f"{PYGITHUB}: Requester has no `{attribute}` any more; rest._PacedToken sets it to "
            "send every request through the pacer"
        )
    assert requester._Requester__httpConnectionClass is HTTPRequestsConnectionClass, PYGITHUB
    assert requester._Requester__httpsConnectionClass is HTTPSRequestsConnectionClass, PYGITHUB
    assert requester.scheme == "http", f"{PYGITHUB}: Requester.scheme is gone or changed"


@pytest.mark.parametrize(
    ("base_url", "paced"),
    [
        ("http://127.0.0.1:9", rest._PacedHTTPConnection),
        ("https://ghe.test", rest._PacedHTTPSConnection),
    ],
    ids=["http", "https"],
)
def test_requester_hands_itself_to_the_auth_after_choosing_its_connection(
    base_url: str, paced: type
) -> None:
    """Requester calls `auth.withRequester` after choosing its connection class, so the paced
    class set there is the one it keeps."""
    requester = client(base_url).requester
    connection_class = requester._Requester__connectionClass
    assert isinstance(connection_class, functools.partial), (
        f"{PYGITHUB}: Requester chose its connection class after calling auth.withRequester; "
        "the paced class set there was overwritten"
    )
    assert connection_class.func is paced


def test_requester_builds_the_paced_connection_with_the_arguments_it_reads() -> None:
    """The Requester's own connection call builds a paced connection: its arguments and the
    attributes PyGithub's connection classes set (`retry`, `pool_size`, `session`, ...) fit."""
    requester = client("http://127.0.0.1:9").requester
    create = getattr(requester, "_Requester__createConnection", None)
    assert create is not None, f"{PYGITHUB}: Requester.__createConnection is gone"
    connection = create()
    assert isinstance(connection, rest._PacedHTTPConnection), PYGITHUB
    assert connection.session.get_adapter("http://127.0.0.1:9/") is connection.adapter, (
        f"{PYGITHUB}: the connection's requests Session no longer sends through the paced adapter"
    )
    assert isinstance(connection.adapter.max_retries, rest._BoundedRetry), (
        f"{PYGITHUB}: the connection's `retry` is not the client's GithubRetry any more"
    )
    for cls in (HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass):
        takes(cls.__init__, {"host", "port", "retry", "pool_size", "timeout", "**"}, cls.__name__)
        made = cls("127.0.0.1", 9, retry=None, pool_size=2, timeout=5, verify=True)
        for attribute in ("protocol", "host", "port", "verify", "retry", "pool_size", "session"):
            assert hasattr(made, attribute), (
                f"{PYGITHUB}: {cls.__name__} sets no `{attribute}`; rest._PacedConnection reads it"
            )
        assert isinstance(made.session, requests.Session), PYGITHUB


def test_github_takes_the_arguments_a_client_is_built_with() -> None:
    """Github(), the Auth hook and the request call collection and keepalive use keep their
    parameters."""
    takes(
        Github.__init__,
        {"base_url", "auth", "retry", "timeout", "per_page", "seconds_between_requests"},
        f"{PYGITHUB}: Github()",
    )
    takes(Requester.requestJsonAndCheck, {"verb", "url", "parameters"}, PYGITHUB)
    assert issubclass(Auth.Token, Auth.Auth), PYGITHUB
    assert callable(getattr(WithRequester, "withRequester", None)), (
        f"{PYGITHUB}: WithRequester.withRequester is gone; rest._PacedToken overrides it"
    )


def test_github_retry_is_a_urllib3_retry_with_its_rate_limit_settings() -> None:
    """GithubRetry subclasses urllib3's Retry, takes the rate-limit waits, and keeps them (and
    the pacer) in every copy urllib3 makes with `new()`."""
    assert issubclass(GithubRetry, urllib3.util.Retry), PYGITHUB
    takes(GithubRetry.__init__, {"secondary_rate_wait", "max_rate_limit_wait", "**"}, PYGITHUB)
    takes(urllib3.util.Retry.__init__, {"backoff_jitter", "status_forcelist"}, URLLIB3)
    retry = client("http://127.0.0.1:9").requester._Requester__retry
    copy = retry.new(total=1)
    assert isinstance(copy, rest._BoundedRetry), f"{PYGITHUB}: GithubRetry.new() lost the subclass"
    assert copy.pacer is retry.pacer, PYGITHUB
    assert (copy.secondary_rate_wait, copy.max_rate_limit_wait) == (60.0, 300.0), (
        f"{PYGITHUB}: GithubRetry.new() no longer keeps secondary_rate_wait and max_rate_limit_wait"
    )


def test_retry_waits_where_pacing_takes_its_turn() -> None:
    """urllib3 waits between tries in `Retry.sleep(response)`, the method `_BoundedRetry`
    overrides to take a turn from the pacer; its helpers keep their signatures."""
    takes(urllib3.util.Retry.sleep, {"response"}, f"{URLLIB3}: Retry.sleep")
    takes(urllib3.util.Retry.get_retry_after, {"response"}, f"{URLLIB3}: Retry.get_retry_after")
    assert parameters(urllib3.util.Retry.get_backoff_time) == {"self"}, URLLIB3
    source = inspect.getsource(HTTPConnectionPool.urlopen)
    for call in ("retries.sleep(response)", "retries.sleep()"):
        assert call in source, (
            f"{URLLIB3}: HTTPConnectionPool.urlopen no longer calls `{call}` between tries; "
            "retries would skip the pacer"
        )


def test_rate_limit_error_takes_the_wait() -> None:
    """RateLimitExceededExceedsMaxWait, raised by `_BoundedRetry` past `max_wait`, takes
    (status, data, headers, wait=)."""
    error = RateLimitExceededExceedsMaxWait(429, None, {"x": "1"}, wait=900.0)
    assert isinstance(error, github.RateLimitExceededException), PYGITHUB
    assert error.status == 429, PYGITHUB


def test_urllib3_response_can_be_rebuilt_from_a_whole_body() -> None:
    """deadline.py rebuilds each answer from its body: HTTPResponse takes those arguments and
    has the private `_original_response` it passes on; pools take their connection class."""
    takes(
        HTTPResponse.__init__,
        {
            "body",
            "headers",
            "status",
            "version",
            "version_string",
            "reason",
            "preload_content",
            "decode_content",
            "original_response",
            "request_url",
        },
        f"{URLLIB3}: HTTPResponse()",
    )
    response = HTTPResponse(body=io.BytesIO(b"{}"), status=200, preload_content=False)
    for attribute in ("_original_response", "url", "version_string", "decode_content"):
        assert hasattr(response, attribute), f"{URLLIB3}: HTTPResponse has no `{attribute}`"
    assert set(PoolManager().pool_classes_by_scheme) == {"http", "https"}, (
        f"{URLLIB3}: PoolManager.pool_classes_by_scheme changed; deadline.py replaces it"
    )
    assert HTTPConnectionPool.ConnectionCls is HTTPConnection, URLLIB3
    for method in ("request", "getresponse"):
        assert callable(getattr(HTTPConnection, method, None)), URLLIB3


def pygithub_requirement() -> Requirement:
    """pyproject.toml's PyGithub requirement."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = [Requirement(d) for d in pyproject["project"]["dependencies"]]
    return next(r for r in found if r.name == "PyGithub")


def test_pygithub_range_is_the_tested_minor_version() -> None:
    """pyproject.toml allows one minor version of PyGithub, the one installed here and pinned
    for the image in requirements.txt, so no install picks an untested one."""
    specifier = pygithub_requirement().specifier
    pinned = re.search(r"^PyGithub==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned, "requirements.txt pins no PyGithub"
    tested = Version(pinned[1])  # inside the range: test_quality checks every pin against it
    assert Version(version("PyGithub")) in specifier, f"{PYGITHUB} is outside {specifier}"
    next_minor = Version(f"{tested.major}.{tested.minor + 1}")
    assert next_minor not in specifier, f"{specifier} allows {next_minor}, which no test ran on"
    assert Version(f"{tested.major}.{tested.minor}") in specifier
