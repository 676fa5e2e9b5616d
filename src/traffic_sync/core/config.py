"""The run's settings as one frozen record, and a `repos` entry.

`settings.py`, at the top, parses the action's inputs and the command line into a `Settings`;
the layers below take the record as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from traffic_sync.core.shard import WHOLE, Shard


@dataclass(frozen=True, slots=True)
class RepoPattern:
    """One `repos` entry: `owner/name`, `owner/*`, or an exclusion `!owner/name`."""

    owner: str
    name: str  # "*" for every repo of the owner
    exclude: bool = False

    @property
    def is_wildcard(self) -> bool:
        return self.name == "*"

    def matches(self, full_name: str) -> bool:
        """Case-insensitive, as GitHub treats names."""
        owner, _, name = full_name.lower().partition("/")
        return owner == self.owner.lower() and (self.is_wildcard or name == self.name.lower())

    def __str__(self) -> str:
        return f"{'!' if self.exclude else ''}{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs to know, parsed and checked."""

    token: str
    repos: tuple[RepoPattern, ...]
    sinks: frozenset[str]
    data_repository: str
    data_branch: str
    data_path: str  # "" or a clean relative folder without trailing "/"
    push_token: str
    posthog_api_key: str
    posthog_host: str  # without a trailing "/"
    include_forks: bool
    include_archived: bool
    allow_private_in_public: bool
    dry_run: bool
    fail_on_error: bool
    api_url: str
    server_url: str
    graphql_url: str = ""  # GITHUB_GRAPHQL_URL as the runner sets it; see graphql.graphql_url
    concurrency: int = 8  # workers, each with one request in flight
    requests_per_minute: int = 900
    max_requests: int = 0  # 0 = no cap beyond what the token has left
    request_timeout: int = 30  # seconds one API request may take before it is retried
    keepalive: bool = True  # re-enable the calling workflow on a scheduled run
    shard: Shard = WHOLE  # the part of the repos this run takes, split by repo id
    release_downloads: bool = False  # a daily snapshot of every release asset's downloads
    # keepalive's token: its own input, so a push-token for another repository does not take
    # keepalive's permission away ("" outside the action: then the push token)
    workflow_token: str = ""
    check: bool = False  # check what a sync needs instead of syncing (`traffic-sync check`)

    @property
    def secrets(self) -> tuple[str, ...]:
        tokens = (self.token, self.push_token, self.workflow_token, self.posthog_api_key)
        return tuple(dict.fromkeys(s for s in tokens if s))
