"""The preflight (`traffic-sync check`, the action's `check: true`): whether a sync would work,
in a handful of requests, with nothing written.

It asks what a sync asks before its first traffic request: who the token is, which repos the
patterns name and whether the token may push to each (GraphQL's `viewerPermission`, 50 repos a
query, as a sync does), whether the push token may push to the data repository, and the REST
and GraphQL budgets this hour. Every finding is a row; a problem carries its fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from traffic_sync.core.errors import AccessDeniedError, AuthError, RepoError, TrafficSyncError
from traffic_sync.github.describe import BATCH
from traffic_sync.github.rest import GitHubSource
from traffic_sync.stages.collect import CollectOptions

# A token's kind, by the prefix GitHub gives it (the token itself is never shown)
# https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
TOKEN_KINDS = {
    "ghp_": "a classic personal access token",
    "github_pat_": "a fine-grained personal access token",
    "ghs_": "a GitHub App installation token (or a workflow's GITHUB_TOKEN)",
    "gho_": "an OAuth token",
    "ghu_": "a GitHub App user token",
}
UNKNOWN_KIND = "a token of an unknown kind"
INTEGRATION_FIX = (
    "The workflow's GITHUB_TOKEN cannot read traffic: give `token` a personal access token "
    "(classic with `repo`, or fine-grained with 'Administration: read') or a GitHub App "
    "installation token with administration read."
)


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What the preflight takes of a run's settings (the orchestrator builds it from them)."""

    sync: CollectOptions  # what the sync's collection would take: repos, budget, data repository
    keepalive: bool = True
    kind: str = UNKNOWN_KIND  # the token's kind, see `token_kind`


def token_kind(token: str) -> str:
    """What kind of token this is, by the prefix GitHub gives each kind."""
    return next(
        (text for prefix, text in TOKEN_KINDS.items() if token.startswith(prefix)),
        UNKNOWN_KIND,
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One row of the check: what was checked, what was found, and the fix for a problem."""

    subject: str
    result: str
    fix: str = ""
    known: bool = True  # False: what cannot be asked in advance, only said

    @property
    def problem(self) -> bool:
        return bool(self.fix)


def check(
    options: CheckOptions, *, source: GitHubSource, pusher: GitHubSource | None
) -> list[Finding]:
    """Every finding, in the order a sync meets them; `pusher` is the push token's client
    (None: the data repository is not on this server, so its access cannot be asked)."""
    findings = [_who(source, options.kind)]
    if findings[0].problem and "rejected" in findings[0].result:
        return findings  # a 401: nothing more can be asked
    names, repo_findings = _repos(options, source)
    findings += repo_findings
    findings += _data_repository(options, pusher)
    findings += _keepalive(options)
    findings += _budgets(options, source, repos=len(names))
    return findings


def _who(source: GitHubSource, kind: str) -> Finding:
    try:
        return Finding("`token`", f"{kind}, of user `{source.viewer()}`")
    except AuthError as error:
        return Finding("`token`", f"rejected by GitHub: {error.message}", error.fix)
    except AccessDeniedError:
        # no user behind it: an App installation token reads traffic, GITHUB_TOKEN does not,
        # and the repos' rows below say which it is
        return Finding("`token`", f"{kind}, without a user of its own")
    except RepoError as error:
        return Finding("`token`", f"could not be checked: {error.message}", error.fix)


def _repos(options: CheckOptions, source: GitHubSource) -> tuple[list[str], list[Finding]]:
    """The repos the patterns name, and a row for each that a sync could not read."""
    findings: list[Finding] = []
    refs, failures = source.expand(
        options.sync.repos,
        include_forks=options.sync.include_forks,
        include_archived=options.sync.include_archived,
    )
    findings += [_problem(pattern, error) for pattern, error in failures]
    names = [ref.full_name for ref in refs]
    try:
        described, reason = source.describe(names)
    except TrafficSyncError as error:
        return names, [*findings, _problem("repos", error)]
    readable = 0
    for one in described:
        if one.error is not None:
            findings.append(_problem(one.name, one.error))
        else:
            readable += 1
    result = f"{len(names):,} repos named, {readable:,} whose traffic the token may read"
    if reason is not None:
        result += f" (GraphQL could not tell for some: {reason.message})"
    findings.insert(0, Finding("`repos`", result, "" if names else _NO_REPOS))
    return names, findings


_NO_REPOS = "Name at least one repo in `repos`: `owner/name` or `owner/*`."


def _data_repository(options: CheckOptions, pusher: GitHubSource | None) -> list[Finding]:
    subject = "`data-repository`"
    guarded = options.sync.guarded
    if guarded is None or pusher is None:
        where = options.sync.data_repository or "no data branch"
        return [Finding(subject, f"{where}: not on this GitHub server, not checked")]
    try:
        push = pusher.can_push(guarded)
    except RepoError as error:
        return [_problem(subject, error, f"{guarded}: ")]
    if push:
        return [Finding(subject, f"{guarded}: the push token may push to it")]
    return [
        Finding(
            subject,
            f"{guarded}: the push token may not push to it",
            "Give the workflow `permissions: contents: write`, or set `push-token` to a token "
            "with write access to that repository.",
        )
    ]


def _keepalive(options: CheckOptions) -> list[Finding]:
    if not options.keepalive:
        return []
    return [
        Finding(
            "`keepalive`",
            "re-enabling the workflow needs `actions: write` for `workflow-token`; a "
            "workflow's GITHUB_TOKEN shows its permissions to no API, so the first scheduled "
            "run says whether it has them",
            known=False,
        )
    ]


def _budgets(options: CheckOptions, source: GitHubSource, *, repos: int) -> list[Finding]:
    """The budgets this hour against what a sync of `repos` repos needs."""
    budgets = source.budgets()
    core, graphql = budgets.get("core"), budgets.get("graphql")
    findings: list[Finding] = []
    if core is None:
        findings.append(Finding("REST budget", "unknown (`GET /rate_limit` did not answer)"))
    else:
        remaining, limit = core
        cost = options.sync.cost
        per_run = min(limit, options.sync.max_requests or limit) // cost
        result = (
            f"{remaining:,} of {limit:,} requests left this hour; a run syncs up to "
            f"{per_run:,} repos ({cost} requests each)"
        )
        fix = ""
        if repos > per_run:
            fix = (
                f"{repos:,} repos need {repos * cost:,} requests a run: runs sync the "
                "stalest first and each repo waits its turn; to sync every repo every day, "
                "split them among tokens with `shard` (docs/scaling.md)."
            )
        findings.append(Finding("REST budget", result, fix))
    if graphql is not None:
        remaining, limit = graphql
        needed = -(-repos // BATCH)
        findings.append(
            Finding(
                "GraphQL budget",
                f"{remaining:,} of {limit:,} points left this hour; a run's repo facts take "
                f"{needed:,}, and stars and forks only what grew",
            )
        )
    return findings


def _problem(subject: str, error: TrafficSyncError, prefix: str = "") -> Finding:
    fix = error.fix or "See the message."
    if isinstance(error, AccessDeniedError) and "integration" in error.message:
        fix = INTEGRATION_FIX
    return Finding(f"`{subject}`" if "`" not in subject else subject, prefix + error.message, fix)


def problems(findings: Sequence[Finding]) -> int:
    return sum(finding.problem for finding in findings)
