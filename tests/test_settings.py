"""Inputs are validated completely before anything is fetched; every problem is listed at once."""

from __future__ import annotations

import pytest

from traffic_sync.core.config import RepoPattern
from traffic_sync.core.errors import ConfigError
from traffic_sync.settings import parse_settings

ENV = {"GITHUB_REPOSITORY": "octo/site"}


def parse(**inputs: str) -> object:
    raw = {"token": "ghp_x", **{k.replace("_", "-"): v for k, v in inputs.items()}}
    return parse_settings(raw, ENV)


def problems(**inputs: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        parse(**inputs)
    return caught.value.problems


def test_defaults_follow_the_action() -> None:
    """With only a token, repos and data repository are the workflow's own repo."""
    settings = parse_settings({"token": "ghp_x"}, ENV)
    assert settings.repos == (RepoPattern("octo", "site"),)
    assert settings.data_repository == "octo/site"
    assert settings.data_branch == "traffic-data"
    assert settings.sinks == frozenset({"branch"})
    assert settings.fail_on_error is True
    assert settings.dry_run is False
    assert settings.push_token == "ghp_x"
    assert settings.api_url == "https://api.github.com"


def test_repos_split_on_newlines_commas_and_spaces() -> None:
    """`repos` accepts newlines, commas and spaces, wildcards and exclusions."""
    settings = parse_settings({"token": "t", "repos": "octo/a, octo/*\n  !octo/b other/c.js"}, ENV)
    assert [str(p) for p in settings.repos] == ["octo/a", "octo/*", "!octo/b", "other/c.js"]


def test_pattern_matching_ignores_case() -> None:
    """GitHub names are case-insensitive, so are patterns."""
    assert RepoPattern("Octo", "*").matches("octo/Thing")
    assert RepoPattern("octo", "Thing").matches("OCTO/thing")
    assert not RepoPattern("octo", "thing").matches("octo/thing2")


def test_every_problem_is_reported_at_once() -> None:
    """Several bad inputs give one error listing each of them."""
    found = problems(
        token="",
        repos="octo/a, not-a-repo, a/b/c",
        sink="branch,s3",
        dry_run="maybe",
        data_branch="bad branch",
        data_path="../escape",
    )
    text = "\n".join(found)
    assert len(found) == 7
    for needle in (
        "`token` is empty",
        "'not-a-repo'",
        "'a/b/c'",
        "s3",
        "`dry-run`",
        "`data-branch`",
        "`data-path`",
    ):
        assert needle in text


@pytest.mark.parametrize("path", ["/abs", "a/../../b", "..", "C:/x", "\\\\server\\share"])
def test_data_path_must_stay_inside_the_branch(path: str) -> None:
    """An absolute or escaping data-path is refused."""
    assert any("`data-path`" in p for p in problems(data_path=path))


def test_data_path_is_normalised() -> None:
    """Redundant slashes and dots are dropped from data-path."""
    assert parse_settings({"token": "t", "data-path": "./stats//traffic/"}, ENV).data_path == (
        "stats/traffic"
    )


def test_only_exclusions_is_an_error() -> None:
    """A repos list that only excludes would track nothing."""
    assert any("only excludes" in p for p in problems(repos="!octo/a"))


def test_auto_adds_posthog_when_a_key_is_set() -> None:
    """`sink: auto` is the branch, plus PostHog once `posthog-api-key` is given."""
    assert parse_settings({"token": "t"}, ENV).sinks == frozenset({"branch"})
    settings = parse_settings({"token": "t", "posthog-api-key": "phc_k"}, ENV)
    assert settings.sinks == frozenset({"branch", "posthog"})
    assert settings.posthog_host == "https://us.i.posthog.com"


def test_posthog_alone_is_a_sink_list() -> None:
    """`sink: posthog` sends to PostHog without writing a data branch."""
    settings = parse_settings({"token": "t", "sink": "posthog", "posthog-api-key": "phc_k"}, ENV)
    assert settings.sinks == frozenset({"posthog"})


def test_posthog_sink_without_key_is_a_config_error() -> None:
    """Asking for PostHog without a key says which input is missing."""
    found = problems(sink="branch,posthog")
    assert len(found) == 1
    assert "`posthog-api-key` is empty" in found[0]


def test_personal_posthog_key_is_refused() -> None:
    """A personal API key (phx_) cannot capture events: say which key is needed."""
    assert any("`phc_" in p for p in problems(posthog_api_key="phx_personal"))


@pytest.mark.parametrize("host", ["us.i.posthog.com", "ftp://x", "https://", "https://a b"])
def test_posthog_host_must_be_a_url(host: str) -> None:
    """The host is an http(s) URL; the error names both cloud regions."""
    found = problems(posthog_host=host)
    assert any("`posthog-host`" in p and "eu.i.posthog.com" in p for p in found)


def test_posthog_host_loses_its_trailing_slash() -> None:
    """`https://eu.i.posthog.com/` and a self-hosted path work as given."""
    for given, expected in [
        ("https://eu.i.posthog.com/", "https://eu.i.posthog.com"),
        ("http://posthog.internal:8000/ingest/", "http://posthog.internal:8000/ingest"),
    ]:
        assert parse_settings({"token": "t", "posthog-host": given}, ENV).posthog_host == expected


def test_empty_repos_without_a_workflow_repo() -> None:
    """Run locally without --repos and outside Actions, the error says what to give."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({"token": "t"}, {})
    assert any("`repos` is empty" in p for p in caught.value.problems)
    assert any("`data-repository` is empty" in p for p in caught.value.problems)


def test_booleans_accept_any_case() -> None:
    """true/false in any case, as the runner's own boolean inputs."""
    settings = parse_settings({"token": "t", "dry-run": "TRUE", "fail-on-error": "False"}, ENV)
    assert settings.dry_run is True
    assert settings.fail_on_error is False


def test_secrets_lists_both_tokens_and_the_posthog_key() -> None:
    """Both tokens and the PostHog key are known as secrets, for masking and redaction."""
    settings = parse_settings({"token": "a", "push-token": "b"}, ENV)
    assert settings.secrets == ("a", "b")
    settings = parse_settings({"token": "a", "push-token": "b", "posthog-api-key": "phc_c"}, ENV)
    assert settings.secrets == ("a", "b", "phc_c")


def test_enterprise_urls_come_from_the_runner_env() -> None:
    """GITHUB_API_URL and GITHUB_SERVER_URL point it at a GitHub Enterprise Server."""
    settings = parse_settings(
        {"token": "t"},
        {
            **ENV,
            "GITHUB_API_URL": "https://ghe.example/api/v3/",
            "GITHUB_SERVER_URL": "https://ghe.example",
        },
    )
    assert settings.api_url == "https://ghe.example/api/v3"
    assert settings.server_url == "https://ghe.example"


def test_request_timeout_is_whole_seconds_in_range() -> None:
    """`request-timeout` defaults to 30 s and takes 1 to 600 whole seconds."""
    assert parse_settings({"token": "t"}, ENV).request_timeout == 30
    assert parse_settings({"token": "t", "request-timeout": "2"}, ENV).request_timeout == 2
    for bad in ("0", "601", "1.5", "soon"):
        (found,) = problems(request_timeout=bad)
        assert "`request-timeout`" in found


def test_keepalive_is_on_unless_turned_off() -> None:
    """`keepalive` defaults to true, `false` turns it off, anything else is a problem."""
    assert parse_settings({"token": "t"}, ENV).keepalive is True
    assert parse_settings({"token": "t", "keepalive": "false"}, ENV).keepalive is False
    (found,) = problems(keepalive="sometimes")
    assert "`keepalive`" in found


def test_shard_defaults_to_the_whole_set() -> None:
    """Without `shard` a run takes every repo (`1/1`)."""
    settings = parse_settings({"token": "t"}, ENV)
    assert (settings.shard.index, settings.shard.count) == (1, 1)
    assert str(settings.shard) == "1/1"


@pytest.mark.parametrize(
    ("text", "expected"), [("2/4", (2, 4)), ("4/4", (4, 4)), (" 1 / 3 ", (1, 3))]
)
def test_shard_reads_k_of_n(text: str, expected: tuple[int, int]) -> None:
    """`shard: K/N` names shard K of N, spaces around the slash allowed."""
    shard = parse_settings({"token": "t", "shard": text}, ENV).shard
    assert (shard.index, shard.count) == expected


@pytest.mark.parametrize("bad", ["0/4", "5/4", "2", "2/0", "a/b", "-1/4", "2/4/8", "1.5/4", "²/4"])
def test_bad_shard_says_what_it_must_be(bad: str) -> None:
    """A shard that is not K/N with 1 <= K <= N is a configuration error naming the form."""
    (found,) = problems(shard=bad)
    assert found.startswith("`shard` must be K/N with 1 <= K <= N, e.g. 2/4")
    assert repr(bad) in found


@pytest.mark.parametrize("bad", ["²", "٣", "1" * 5000])
def test_numbers_are_ascii_digits_or_a_config_error(bad: str) -> None:
    """`²` (which int() refuses), other scripts' digits and a number thousands of digits long
    are reported with the other problems instead of crashing the run."""
    (found,) = problems(concurrency=bad)
    assert found.startswith("`concurrency` must be a whole number")
