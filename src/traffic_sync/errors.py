"""One error hierarchy: every failure carries a short title and the text that says how to fix it.

`actions.py` is the only place that renders these (annotations, step summary, terminal).
"""

from __future__ import annotations

from collections.abc import Sequence


class TrafficSyncError(Exception):
    """Base of every failure the tool reports on purpose."""

    title = "traffic-sync failed"

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()


class ConfigError(TrafficSyncError):
    """The inputs are wrong: nothing was fetched or written. Lists every problem at once."""

    title = "Invalid configuration"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class RepoError(TrafficSyncError):
    """One repo could not be synced; the other repos go on."""

    title = "Repo failed"


class AccessDeniedError(RepoError):
    title = "No access to traffic"


class ReleasesUnreadError(RepoError):
    """A repo's releases could not be read; its traffic is saved all the same."""

    title = "Release downloads not read"


class RepoNotFoundError(RepoError):
    title = "Repo not found"


class HistoryFormatError(RepoError):
    """A stored history file cannot be read; it is left exactly as it is."""

    title = "Unreadable history file"


class PrivacyError(RepoError):
    title = "Private repo in a public data repository"


class MalformedAnswerError(RepoError):
    """GitHub's answer is not in the shape it documents (a count that is not a count, a day
    outside the window, a body that is not its JSON, redirects without end): nothing of the
    repo is stored from it."""

    title = "Answer GitHub never sends"


class TransientError(RepoError):
    """5xx, timeouts or rate limits that outlasted the bounded retries."""

    title = "GitHub did not answer"


class RateLimitedError(TransientError):
    """The next wait would be longer than we allow: stop collecting, save what we have."""

    title = "Rate limit reached"

    def __init__(self, message: str, *, fix: str = "", wait_seconds: float = 0.0) -> None:
        super().__init__(message, fix=fix)
        self.wait_seconds = wait_seconds


class AuthError(RepoError):
    """The token is rejected outright (401): no further repo can be read."""

    title = "Bad credentials"


class StoreError(TrafficSyncError):
    """The data branch could not be fetched or pushed."""

    title = "Data branch failed"


class PushRejectedError(StoreError):
    """The branch moved while we worked: fetch, re-merge and try again."""

    title = "Data branch moved"


class PostHogError(TrafficSyncError):
    """PostHog did not take (all) the events; the data branch is not affected."""

    title = "PostHog failed"


class PostHogRejectedError(PostHogError):
    """PostHog refused the request itself (400/401): retrying cannot help, inputs must change."""

    title = "PostHog refused the events"


class KeepaliveError(TrafficSyncError):
    """The workflow could not be re-enabled: a warning only, the run's data and result stand."""

    title = "Workflow keepalive failed"
