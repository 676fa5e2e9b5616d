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


class ClearTextKeyWarning(TrafficSyncError):
    """`posthog-host` is plain http on another machine: the project key crosses the network
    unencrypted. A warning, since a self-hosted PostHog may be reached that way on purpose."""

    title = "PostHog key sent in clear"


class NotADataBranchError(StoreError):
    """The data branch holds other files and no state.json: it is not written on top of."""

    title = "Not a data branch"

    def __init__(self, branch: str, data_path: str, held: Sequence[str]) -> None:
        where = f"The branch `{branch}`"
        if data_path:
            where = f"`{data_path}/` in the branch `{branch}`"
        shown = ", ".join(held[:3]) + (f" and {len(held) - 3:,} more" if len(held) > 3 else "")
        super().__init__(
            f"{where} holds other files ({shown}) and no .traffic-sync/state.json, so it is "
            "not a traffic-sync data branch; nothing was written to it.",
            fix="Set `data-branch` to a branch of its own (a new name is created on the first "
            "run), or `data-path` to a folder nothing else uses. To bring another tool's "
            "traffic data over, use `traffic-sync import`. If this is a traffic-sync branch "
            "whose state.json was deleted, restore it from the branch's history.",
        )


class TwinWarning(TrafficSyncError):
    """A period file's CSV twin and its JSON disagree; the run goes on (see the subclasses)."""

    title = "CSV and JSON disagree"


class CsvEditedWarning(TwinWarning):
    """A CSV differs from its JSON (edited by hand): it is rebuilt from the JSON."""

    title = "CSV edited by hand"

    def __init__(self, csv_path: str, json_path: str) -> None:
        super().__init__(
            f"{csv_path} differs from {json_path} and was rebuilt from it: the JSON file is "
            "the source of truth.",
            fix=f"To keep an edit, make it in {json_path}; the branch's history has "
            f"{csv_path} as it was.",
        )


class JsonRecoveredWarning(TwinWarning):
    """A JSON file is missing while its CSV is there: its rows are read from the CSV."""

    title = "JSON recovered from its CSV"

    def __init__(self, json_path: str, csv_path: str) -> None:
        super().__init__(
            f"{json_path} was missing; its rows were recovered from {csv_path} and the JSON "
            "file written again.",
            fix=f"Nothing to do, unless {json_path} was removed on purpose: the branch's "
            "history has it as it was.",
        )


class HistorySetAsideWarning(TrafficSyncError):
    """A repo took the name of another repo id's folder: that history moved to a kept folder."""

    title = "History moved aside"

    def __init__(self, name: str, kept: str, old_id: str) -> None:
        super().__init__(
            f"{name} is now another repo than the one (id {old_id}) whose history its folder "
            f"held: that history moved to {kept}/, kept apart and listed in the index; {name}/ "
            "starts the new repo's own history.",
            fix=f"Nothing is lost. If repo {old_id} was renamed or transferred rather than "
            "deleted, add its new name to `repos` and its history joins it there.",
        )


class FolderTakenError(RepoError):
    """A repo's folder still holds the history of the repo renamed away from its name."""

    title = "Folder still held by another repo"

    def __init__(self, name: str, old_id: str) -> None:
        super().__init__(
            f"{name}/ still holds the history of repo id {old_id}, renamed away from this name, "
            "which could not be moved this run (see its error); this repo was not saved, so "
            "neither history mixes with the other.",
            fix=f"Mend the error of repo id {old_id}; the next run moves its history and then "
            "saves this repo.",
        )
