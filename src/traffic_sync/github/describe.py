"""What a run needs to know of each repo besides its traffic, from GraphQL, many repos a query.

GitHub's traffic API has four endpoints a repo and no batch form, so four REST requests a repo
is the floor. Everything else (the canonical name, the id, the creation day, visibility, the
counters and the token's permission) comes from one GraphQL query per `BATCH` repos, with an
alias per repo. `repository(owner:, name:)` follows renames, so an old name costs no 301.
https://docs.github.com/graphql/reference/objects#repository
https://docs.github.com/graphql/reference/enums#repositorypermission

A repo GraphQL cannot resolve (NOT_FOUND, or FORBIDDEN under SAML single sign-on) fails alone:
GitHub nulls its alias and says so in an error whose `path` names it. A repo the token may read
but not push to cannot read traffic, so it is reported with the fix before any traffic request
is spent on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from traffic_sync.core.errors import AccessDeniedError, RepoError, RepoNotFoundError
from traffic_sync.core.growth import Series
from traffic_sync.core.models import RepoInfo
from traffic_sync.github import answers
from traffic_sync.github.graphql import TOP_FIELDS, GraphQLClient, GraphQLQueryError, Page, top_page

# Aliases a query: each costs GitHub little (no connection is paged), and a query of 50 stays
# far below GitHub's node and time limits; 1,000 repos are 20 queries, 20 points.
BATCH = 50
TRAFFIC_PERMISSIONS = frozenset({"WRITE", "MAINTAIN", "ADMIN"})
_FIELDS = """\
    nameWithOwner databaseId createdAt isPrivate isFork isArchived
    stargazerCount forkCount viewerPermission
    watchers { totalCount }
    issues(states: [OPEN]) { totalCount }
    pullRequests(states: [OPEN]) { totalCount }"""
PUSH_FIX = (
    "Traffic needs push access: give the token's account write access to the repo (a "
    "fine-grained token: 'Administration: read' on it; a GitHub App: administration read), or "
    "remove the repo from `repos`."
)


@dataclass(frozen=True, slots=True)
class Described:
    """One asked name: its facts, or why it cannot be synced."""

    name: str
    info: RepoInfo | None = None
    error: RepoError | None = None
    # the first page of the stars and forks lists, when the query asked for them
    tops: Mapping[Series, Page] = field(default_factory=dict)


def describe_query(names: Sequence[str], *, tops: bool = False) -> tuple[str, dict[str, str]]:
    """The query for `names` (at most `BATCH`): one aliased `repository` field a name, the
    owner and name passed as variables so no name is ever spliced into the query text; with
    `tops`, the first page of each repo's stars and forks too."""
    fields_asked = _FIELDS + ("\n" + TOP_FIELDS if tops else "")
    definitions, fields, variables = [], [], {}
    for index, name in enumerate(names):
        owner, _, repo = name.partition("/")
        variables[f"o{index}"], variables[f"n{index}"] = owner, repo
        definitions.append(f"$o{index}: String!, $n{index}: String!")
        fields.append(
            f"  r{index}: repository(owner: $o{index}, name: $n{index}) {{\n{fields_asked}\n  }}"
        )
    document = (
        f"query Describe({', '.join(definitions)}) {{\n"
        "  rateLimit { cost remaining resetAt }\n" + "\n".join(fields) + "\n}\n"
    )
    return document, variables


def describe(client: GraphQLClient, batch: Sequence[str], *, tops: bool = False) -> list[Described]:
    """Every name of `batch` (at most `BATCH`) described, in order, in one query (with `tops`,
    each repo's first page of stars and forks too). A failure of the whole query (points
    spent, a 401, retries run out) raises, as any GraphQL query does."""
    document, variables = describe_query(batch, tops=tops)
    what = f"{len(batch)} repos' facts" if len(batch) > 1 else batch[0]
    data, errors = client.query_each(document, variables, what=what)
    by_alias: dict[str, list[dict[str, Any]]] = {}
    for error in errors:
        by_alias.setdefault(str(error["path"][0]), []).append(error)
    described = [
        _one(name, data.get(f"r{index}"), by_alias.get(f"r{index}", []), client=client)
        for index, name in enumerate(batch)
    ]
    # a list GitHub refuses (a stargazers list shown only to collaborators) nulls the whole
    # repo, its facts included: those repos are asked again without the lists
    again = [
        index
        for index, one in enumerate(described)
        if tops
        and one.info is None
        and any(len(e["path"]) > 1 for e in by_alias.get(f"r{index}", []))
    ]
    if again:
        retried = describe(client, [batch[index] for index in again], tops=False)
        for index, one in zip(again, retried, strict=True):
            described[index] = one
    return described


def _one(
    name: str, data: Any, errors: Sequence[Mapping[str, Any]], *, client: GraphQLClient
) -> Described:
    if data is None:
        if errors:
            return Described(name, error=client.field_error(errors, name))
        return Described(name, error=_not_found(name))
    try:
        info, permission = answers.described_repo(data)
    except answers.BadAnswer as error:
        return Described(name, error=answers.malformed(name, "/graphql", str(error), method="POST"))
    tops = _tops(data, name)
    if permission is not None and permission not in TRAFFIC_PERMISSIONS:
        return Described(
            name,
            info,
            AccessDeniedError(
                f"{info.full_name}: the token may only {permission.lower()} this repo, and "
                "GitHub shows traffic only to those who can push to it. No traffic request was "
                "made for it.",
                fix=PUSH_FIX,
            ),
        )
    return Described(name, info, tops=tops)


def _tops(data: Mapping[str, Any], name: str) -> dict[Series, Page]:
    """The first pages the answer holds; one not shaped as asked is left out (the walk then
    asks for it, and reports what is wrong)."""
    pages: dict[Series, Page] = {}
    for series, key in ((Series.STARS, "stargazers"), (Series.FORKS, "forks")):
        if isinstance(data.get(key), dict):
            with contextlib.suppress(GraphQLQueryError):
                pages[series] = top_page(data, series, f"{name} {series}")
    return pages


def _not_found(name: str) -> RepoNotFoundError:
    return RepoNotFoundError(
        f"{name}: not found.",
        fix="Check the spelling. For a private repo the token must have access to it.",
    )
