"""Inputs -> one frozen Settings, validated completely before the first request.

The action and the command line both arrive here as a mapping of input name -> raw text
(`INPUT_DATA-REPOSITORY` and `--data-repository` are the same input), so both share one parser
and report every problem at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import yaml

from traffic_sync.core.config import RepoPattern, Settings
from traffic_sync.core.errors import ConfigError
from traffic_sync.core.shard import WHOLE, Shard

ACTION_FILE = "action.yml"
# What stands for an input's default outside Actions, where no runner fills it in: each of these
# inputs is empty by default on the command line and falls back to the value named here
# (parse_settings for the expressions, cli.collect_inputs for the token).
LOCAL_FALLBACKS = {
    "token": "$GITHUB_TOKEN",
    "repos": "$GITHUB_REPOSITORY",
    "data-repository": "$GITHUB_REPOSITORY",
    "push-token": "the token",
    "workflow-token": "push-token, else the token",
}
_BOOLEAN = ("true", "false")


@dataclass(frozen=True, slots=True)
class ActionInput:
    """One input as action.yml declares it: its name, description and default."""

    name: str
    description: str  # whitespace folded to single spaces
    default: str  # action.yml's, empty for a required input
    required: bool

    @property
    def local_default(self) -> str:
        """The default outside Actions: action.yml's, or empty for a runner expression."""
        return "" if self.is_expression else self.default

    @property
    def is_expression(self) -> bool:
        """A default only the runner evaluates, such as `${{ github.token }}`."""
        return "${{" in self.default

    @property
    def is_flag(self) -> bool:
        """A `true`/`false` input, a `--name`/`--no-name` pair on the command line."""
        return self.default in _BOOLEAN


def action_file() -> Traversable:
    """action.yml: shipped inside the package (a wheel, copied there by setup.py), else at the
    root of the source tree this package runs from (a clone, an editable install, the image's
    /app)."""
    packaged = resources.files("traffic_sync") / ACTION_FILE
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / ACTION_FILE


def parse_action_inputs(text: str) -> tuple[ActionInput, ...]:
    """action.yml's inputs in their order; a default that is not a string is refused, as
    GitHub passes every input as text."""
    inputs: dict[str, dict[str, object]] = yaml.safe_load(text)["inputs"]
    found = []
    for name, spec in inputs.items():
        default = spec.get("default", "")
        if not isinstance(default, str):
            raise TypeError(f"action.yml: input {name!r} has a default that is not a string")
        found.append(
            ActionInput(
                name=name,
                description=" ".join(str(spec.get("description", "")).split()),
                default=default,
                required=spec.get("required") is True,
            )
        )
    return tuple(found)


@functools.cache
def action_inputs() -> tuple[ActionInput, ...]:
    """The action's inputs, read once from action.yml: the one list of input names, defaults
    and descriptions, for the action and the command line alike."""
    return parse_action_inputs(action_file().read_text(encoding="utf-8"))


INPUT_DEFAULTS: dict[str, str] = {i.name: i.local_default for i in action_inputs()}
SECRET_INPUTS = ("token", "push-token", "workflow-token", "posthog-api-key")
SINKS = ("branch", "posthog")

# GitHub logins are alphanumerics with single inner hyphens (39 at most); repo names are
# alphanumerics, "-", "_" and "." (100 at most)
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_NAME = r"[A-Za-z0-9._-]{1,100}"
_REPO_RE = re.compile(rf"^(?P<exclude>!?)(?P<owner>{_OWNER})/(?P<name>{_NAME}|\*)$")
_SPLIT_RE = re.compile(r"[\s,]+")
_WHOLE_RE = re.compile(r"^[0-9]{1,12}$")
_SHARD_RE = re.compile(r"^([0-9]{1,6})\s*/\s*([0-9]{1,6})$")
_TRUE, _FALSE = "true", "false"
MAX_CONCURRENCY = 100  # GitHub's secondary limit on concurrent requests
MAX_REQUEST_TIMEOUT = 600  # seconds; a request slower than 10 minutes is not worth waiting for


def parse_settings(raw: Mapping[str, str], env: Mapping[str, str]) -> Settings:
    """Validate every input; raise one ConfigError that lists all problems."""
    values = {k: (raw.get(k) or "").strip() or default for k, default in INPUT_DEFAULTS.items()}
    problems: list[str] = []
    repository = env.get("GITHUB_REPOSITORY", "")
    repos = _parse_repos(values["repos"] or repository, problems)
    flags = {
        i.name: _parse_bool(i.name, values[i.name], problems) for i in action_inputs() if i.is_flag
    }
    settings = Settings(
        token=_check_token(values["token"], problems),
        repos=repos,
        sinks=_parse_sinks(
            values["sink"], posthog_key=values["posthog-api-key"], problems=problems
        ),
        data_repository=_check_data_repository(values["data-repository"] or repository, problems),
        data_branch=_check_branch(values["data-branch"], problems),
        data_path=_check_data_path(values["data-path"], problems),
        push_token=values["push-token"] or values["token"],
        workflow_token=values["workflow-token"] or values["push-token"] or values["token"],
        posthog_api_key=_check_posthog_key(values["posthog-api-key"], problems),
        posthog_host=_check_posthog_host(values["posthog-host"], problems),
        include_forks=flags["include-forks"],
        include_archived=flags["include-archived"],
        allow_private_in_public=flags["allow-private-in-public"],
        dry_run=flags["dry-run"],
        fail_on_error=flags["fail-on-error"],
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
        graphql_url=(env.get("GITHUB_GRAPHQL_URL") or "").strip(),
        concurrency=_parse_int("concurrency", values["concurrency"], 1, MAX_CONCURRENCY, problems),
        requests_per_minute=_parse_int(
            "requests-per-minute", values["requests-per-minute"], 1, 100_000, problems
        ),
        max_requests=_parse_int("max-requests", values["max-requests"], 0, 10**9, problems),
        request_timeout=_parse_int(
            "request-timeout", values["request-timeout"], 1, MAX_REQUEST_TIMEOUT, problems
        ),
        keepalive=flags["keepalive"],
        shard=_parse_shard(values["shard"], problems),
        release_downloads=flags["release-downloads"],
        check=flags["check"],
    )
    if problems:
        raise ConfigError(problems)
    return settings


def _check_token(token: str, problems: list[str]) -> str:
    if not token:
        problems.append(
            "`token` is empty. Pass a token that can read traffic: "
            "`token: ${{ secrets.TRAFFIC_TOKEN }}` in the workflow (a classic PAT with `repo` "
            "scope, a fine-grained PAT with "
            "'Administration: read', or a GitHub App token), or --token / GITHUB_TOKEN locally. "
            "If the secret is set, check its name: a missing secret reads as empty."
        )
    return token


def _parse_repos(text: str, problems: list[str]) -> tuple[RepoPattern, ...]:
    entries = [e for e in _SPLIT_RE.split(text) if e]
    if not entries:
        problems.append(
            "`repos` is empty. List repos as `owner/name` or `owner/*`, separated by newlines, "
            "commas or spaces (`!owner/name` excludes one)."
        )
        return ()
    patterns: list[RepoPattern] = []
    for entry in entries:
        match = _REPO_RE.match(entry)
        if match is None:
            problems.append(
                f"`repos` entry {entry!r} is not `owner/name`, `owner/*` or `!owner/name`. "
                "Use the repo's path as in github.com/<owner>/<name>."
            )
            continue
        patterns.append(RepoPattern(match["owner"], match["name"], bool(match["exclude"])))
    if patterns and all(p.exclude for p in patterns):
        problems.append("`repos` only excludes repos: add the repos to track, e.g. `owner/*`.")
    return tuple(patterns)


def _parse_sinks(text: str, *, posthog_key: str, problems: list[str]) -> frozenset[str]:
    names = {s for s in _SPLIT_RE.split(text.lower()) if s}
    if names == {"auto"}:
        return frozenset({"branch", "posthog"} if posthog_key else {"branch"})
    if "auto" in names:
        problems.append(
            f"`sink` {text!r}: `auto` stands alone (it means `branch`, plus `posthog` when "
            f"`posthog-api-key` is set); to choose, list the sinks instead: {', '.join(SINKS)}."
        )
        names.discard("auto")
    unknown = sorted(names - set(SINKS))
    if unknown:
        problems.append(
            f"`sink` has unknown value(s) {', '.join(unknown)}: use `auto` or a comma list of "
            f"{', '.join(SINKS)}."
        )
    if "posthog" in names and not posthog_key:
        problems.append(
            "`sink` includes `posthog` but `posthog-api-key` is empty. Pass the project API key: "
            "`posthog-api-key: ${{ secrets.POSTHOG_API_KEY }}` (it starts with `phc_`); if the "
            "secret is set, check its name: a missing secret reads as empty."
        )
    return frozenset(names & set(SINKS))


def _check_posthog_key(key: str, problems: list[str]) -> str:
    if key.startswith("phx_"):
        problems.append(
            "`posthog-api-key` is a personal API key (`phx_...`); sending events needs the "
            "project API key (`phc_...`, in PostHog under Project settings → Project API key)."
        )
    return key


_HOST_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def _check_posthog_host(text: str, problems: list[str]) -> str:
    if not _HOST_RE.match(text):
        problems.append(
            f"`posthog-host` {text!r} is not an http(s) URL: use `https://us.i.posthog.com` (US "
            "Cloud), `https://eu.i.posthog.com` (EU Cloud) or your self-hosted PostHog's URL."
        )
    return text.rstrip("/")


def _parse_bool(name: str, text: str, problems: list[str]) -> bool:
    # like @actions/core getBooleanInput: true/false in any case, nothing else
    if text.lower() in (_TRUE, _FALSE):
        return text.lower() == _TRUE
    problems.append(f"`{name}` must be `true` or `false`, not {text!r}.")
    return False


def _parse_int(name: str, text: str, low: int, high: int, problems: list[str]) -> int:
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses
    if _WHOLE_RE.match(text) and low <= int(text) <= high:
        return int(text)
    problems.append(f"`{name}` must be a whole number from {low:,} to {high:,}, not {text!r}.")
    return low


def _parse_shard(text: str, problems: list[str]) -> Shard:
    match = _SHARD_RE.match(text)
    if match and 1 <= int(match[1]) <= int(match[2]):
        return Shard(int(match[1]), int(match[2]))
    problems.append(
        f"`shard` must be K/N with 1 <= K <= N, e.g. 2/4 (the second of four jobs), not {text!r}. "
        "Give each job of a matrix its own K and the same N; the default 1/1 takes every repo."
    )
    return WHOLE


def _check_data_repository(text: str, problems: list[str]) -> str:
    if not text:
        problems.append(
            "`data-repository` is empty. Give `owner/name`, a git URL, or a local folder "
            "(e.g. --data-repository ./traffic-data)."
        )
    return text


_BAD_REF = re.compile(
    r"(^[-/.])|(\.\.)|([\s~^:?*\[\\\x00-\x1f\x7f])|(@\{)|(/\.)|(//)|([./]$)|(\.lock$)"
)


def _check_branch(branch: str, problems: list[str]) -> str:
    # the rules of `git check-ref-format --branch`, checked here so no git call is needed;
    # a plain name only: `HEAD` and `refs/...` name other things than a branch to git
    if _BAD_REF.search(branch) or branch == "@":
        problems.append(
            f"`data-branch` {branch!r} is not a valid git branch name (no spaces, `..`, "
            "`~^:?*[\\`, or leading `-`). The default is `traffic-data`."
        )
    elif branch == "HEAD" or branch.startswith("refs/"):
        problems.append(
            f"`data-branch` {branch!r} is not a plain branch name: give the name alone, as in "
            "`traffic-data` (not `HEAD`, not `refs/heads/...`)."
        )
    return branch


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_data_path(text: str, problems: list[str]) -> str:
    path = PurePosixPath(text.replace("\\", "/"))
    if (
        text.startswith(("/", "\\"))
        or path.is_absolute()
        or ".." in path.parts
        or ":" in text
        or _CONTROL.search(text)
        # git refuses a `.git` entry in a tree, in any case
        or any(part.lower() == ".git" for part in path.parts)
    ):
        problems.append(
            f"`data-path` {text!r} must be a relative folder inside the branch (no `..`, no "
            "`.git`, no line breaks or control characters, not absolute), e.g. `traffic`; "
            "leave it empty for the branch root."
        )
        return ""
    return "/".join(p for p in path.parts if p not in ("", "."))


def parse_branch_settings(raw: Mapping[str, str], env: Mapping[str, str]) -> Settings:
    """Settings for a command that only writes the data branch (`traffic-sync import`): the
    `data-repository`, `data-branch`, `data-path` and `push-token` inputs, checked like a
    sync's; nothing is fetched from GitHub's API, so no reading token is asked for. Raises one
    ConfigError listing every problem."""
    values = {k: (raw.get(k) or "").strip() or default for k, default in INPUT_DEFAULTS.items()}
    problems: list[str] = []
    settings = Settings(
        token=values["token"],
        repos=(),
        sinks=frozenset({"branch"}),
        data_repository=_check_data_repository(
            values["data-repository"] or env.get("GITHUB_REPOSITORY", ""), problems
        ),
        data_branch=_check_branch(values["data-branch"], problems),
        data_path=_check_data_path(values["data-path"], problems),
        push_token=values["push-token"] or values["token"],
        posthog_api_key="",
        posthog_host=INPUT_DEFAULTS["posthog-host"],
        include_forks=False,
        include_archived=False,
        allow_private_in_public=False,
        dry_run=False,
        fail_on_error=True,
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
    )
    if problems:
        raise ConfigError(problems)
    return settings
