"""Keepalive: a scheduled run re-enables its own workflow, so GitHub keeps running it.

In a public repository GitHub disables a scheduled workflow after 60 days without repository
activity, and the commits a run pushes to the data branch do not reliably count as activity, so
the history would silently stop after two months. Enabling the workflow through the API on
every scheduled run keeps it enabled without a commit, as liskin/gh-workflow-keepalive does:
https://docs.github.com/actions/managing-workflow-runs-and-deployments/managing-workflow-runs/disabling-and-enabling-a-workflow
https://docs.github.com/rest/actions/workflows#enable-a-workflow

`decide` is pure (the runner's env in; the workflow, or why not, out), `enable_workflow` is the
one request, and `keep_alive` ties them together. Nothing here fails the step: a failure is a
warning that says how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import requests
from github import Github, GithubException

from traffic_sync.core.config import Settings
from traffic_sync.core.errors import KeepaliveError
from traffic_sync.core.log import Log
from traffic_sync.github.pacer import Pacer, RetryPolicy
from traffic_sync.github.rest import new_client

# GITHUB_WORKFLOW_REF is `owner/repo/.github/workflows/file.yml@ref`. GitHub runs only the
# .yml/.yaml files directly in .github/workflows (no subfolders), so a file name has no "/".
_WORKFLOW_REF_RE = re.compile(
    r"(?P<repository>[A-Za-z0-9][A-Za-z0-9_-]*/(?!\.\.?/)[A-Za-z0-9._-]+)"
    r"/\.github/workflows/(?P<file>[^/@]+\.ya?ml)@.+"
)
PERMISSIONS_FIX = """Add `actions: write` to the workflow's permissions, next to `contents: write`:

permissions:
  contents: write
  actions: write

If `workflow-token` is a personal access token, a classic one needs the `repo` scope and a \
fine-grained one "Actions: Read and write" on {repository}. Without it GitHub disables this \
scheduled workflow after 60 days without activity in a public repository. To stop trying, set \
the input `keepalive: false`."""
RETRY_FIX = (
    "This run's data is saved either way, and the next scheduled run tries again; GitHub "
    "disables a workflow only after 60 days without activity."
)


@dataclass(frozen=True, slots=True)
class Workflow:
    """The workflow file that is running, and the repository it is in."""

    repository: str  # owner/name
    file: str  # e.g. traffic.yml: the API takes the file name as the workflow's id


@dataclass(frozen=True, slots=True)
class Decision:
    """The workflow to re-enable, or None and the reason why not."""

    workflow: Workflow | None
    reason: str = ""


def parse_workflow_ref(ref: str) -> Workflow | None:
    """`octo-org/site/.github/workflows/traffic.yml@refs/heads/main` -> its repo and file."""
    match = _WORKFLOW_REF_RE.fullmatch(ref.strip())
    if match is None:
        return None
    return Workflow(match["repository"], match["file"])


def decide(*, enabled: bool, dry_run: bool, env: Mapping[str, str]) -> Decision:
    """Re-enable only on a scheduled Actions run that may write: the one kind GitHub disables."""
    event = env.get("GITHUB_EVENT_NAME", "")
    ref = env.get("GITHUB_WORKFLOW_REF", "")
    workflow = parse_workflow_ref(ref)
    skips = (
        (not enabled, "turned off (keepalive: false)"),
        (dry_run, "dry-run"),
        (env.get("GITHUB_ACTIONS") != "true", "not a GitHub Actions run"),
        (event != "schedule", f"the run's event is `{event or 'unknown'}`, not `schedule`"),
        (not ref, "GITHUB_WORKFLOW_REF is not set"),
        (workflow is None, f"GITHUB_WORKFLOW_REF {ref!r} names no file in .github/workflows"),
    )
    reason = next((why for skip, why in skips if skip), "")
    return Decision(None if reason else workflow, reason)


def enable_workflow(workflow: Workflow, *, client: Github) -> None:
    """`PUT /repos/{o}/{r}/actions/workflows/{file}/enable`; KeepaliveError when it fails."""
    path = f"/repos/{workflow.repository}/actions/workflows/{quote(workflow.file, safe='')}/enable"
    try:
        client.requester.requestJsonAndCheck("PUT", path)
    except GithubException as exc:
        message = str(exc.data.get("message", "")) if isinstance(exc.data, dict) else ""
        raise classify(exc.status, message, workflow) from None
    except (requests.RequestException, OSError) as exc:
        raise KeepaliveError(
            f"{_what(workflow)}: GitHub did not answer after retries ({type(exc).__name__}).",
            fix=RETRY_FIX,
        ) from None


def classify(status: int, message: str, workflow: Workflow) -> KeepaliveError:
    """A failed answer as a warning that says what to fix (status first)."""
    what = _what(workflow)
    if status == 403 and "rate limit" not in message.lower():
        return KeepaliveError(
            f"{what}: {message or 'forbidden'} (403): `push-token` may not manage the workflows "
            f"of {workflow.repository}.",
            fix=PERMISSIONS_FIX.format(repository=workflow.repository),
        )
    if status == 404:
        return KeepaliveError(
            f"{what}: not found (404).",
            fix=f"`push-token` must be able to see {workflow.repository}: the workflow's own "
            "token (the default) can, a personal access token needs access to that repo. To stop "
            "trying, set the input `keepalive: false`.",
        )
    if status == 401:
        return KeepaliveError(
            f"{what}: GitHub rejected `push-token` (401 {message or 'Bad credentials'}).",
            fix="Make a new token and update the secret, or set the input `keepalive: false`.",
        )
    return KeepaliveError(
        f"{what}: GitHub answered {status} {message}".strip() + ".", fix=RETRY_FIX
    )


def keep_alive(
    settings: Settings, *, env: Mapping[str, str], log: Log, policy: RetryPolicy | None = None
) -> bool:
    """Re-enable the running workflow when `decide` says so; True when GitHub took it."""
    decision = decide(enabled=settings.keepalive, dry_run=settings.dry_run, env=env)
    workflow = decision.workflow
    if workflow is None:
        log.progress(f"keepalive: skipped, {decision.reason}")
        return False
    # a pacer of its own: another token than the traffic one, and one request that a spent
    # `max-requests` budget must not refuse
    client = new_client(
        token=settings.workflow_token,
        api_url=settings.api_url,
        policy=policy or RetryPolicy(timeout=settings.request_timeout),
        pacer=Pacer(per_minute=settings.requests_per_minute),
    )
    try:
        enable_workflow(workflow, client=client)
    except KeepaliveError as error:
        log.warning(error)
        return False
    finally:
        client.close()
    log.progress(
        f"keepalive: workflow {workflow.file} of {workflow.repository} enabled, "
        "so GitHub keeps its schedule"
    )
    return True


def _what(workflow: Workflow) -> str:
    return f"Could not re-enable the workflow {workflow.file} of {workflow.repository}"
