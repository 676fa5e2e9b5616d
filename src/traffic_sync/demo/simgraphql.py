"""The simulated GitHub's GraphQL side: a small query reader and executor, paged connections,
and `GraphQLApi`, the `POST /graphql` endpoint over the simulated world.

Enough of GraphQL for the queries this tool makes (fields, aliases, arguments, variables, nested
selections), executed over plain dicts whose callables take the field's arguments, and answered
in GitHub's shapes: `data` holds exactly the fields asked for, `errors` carry GitHub's `type`,
`path` and `locations`. `GraphQLApi` serves a repo's `stargazers` and `forks` from the world's
timelines of when each came, with GitHub's cursors, `pageInfo`, errors, and `rateLimit` points
per token. Whether a query is valid is GitHub's published schema's to say: the endpoint calls
an injected validator for that (the test suite passes one built with graphql-core from
`@octokit/graphql-schema`), so this module, like the simulator, needs nothing beyond the
standard library.
https://docs.github.com/graphql/guides/forming-calls-with-graphql
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from traffic_sync.demo.rest import Answer, error, json_or_none, stamp
from traffic_sync.demo.traffic import Growth, Json, SimRepo
from traffic_sync.demo.world import Item, SimWorld, TokenKind

GRAPHQL_PATHS = ("/graphql", "/api/graphql")  # github.com; GitHub Enterprise Server
GRAPHQL_DOCS = "https://docs.github.com/graphql"
# (query text, variables) -> GitHub-shaped errors, [] when the query is valid
Validator = Callable[[str, Mapping[str, Json]], Sequence[Mapping[str, Json]]]
Resolver = Callable[[dict[str, Json]], Json]  # a field's arguments -> its value

MAX_PAGE = 100  # GitHub's cap on `first` and `last`
_CURSOR_PREFIX = "cursor:v2:"  # GitHub's cursors are base64 of this and the item's sort key


class FieldError(Exception):
    """A field that cannot be resolved: it becomes null, with an error of GitHub's `type`."""

    def __init__(self, kind: str, message: str, *, non_null: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        # a field the schema declares non-null: GraphQL nulls its parent instead (and so on
        # up to the nearest nullable field; one level is all the simulator's answers need)
        self.non_null = non_null


class _NullParent(Exception):
    """A non-null field failed: the field holding it becomes null."""


class QuerySyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Variable:
    name: str


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a selection set, where it is in the query text, and what it selects."""

    name: str
    alias: str
    arguments: dict[str, Json]
    selections: tuple[Field, ...]
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Operation:
    selections: tuple[Field, ...]
    defaults: dict[str, Json] = field(default_factory=dict)  # variables' default values


# --- reading a query ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
      |(?P<punct>\.\.\.|[!$():=@\[\]{}|&])
      |(?P<string>"(?:[^"\\\n\r]|\\.)*")
      |(?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      |(?P<name>[_A-Za-z][_0-9A-Za-z]*)""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # punct, string, number, name, end
    text: str
    line: int
    column: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            line, column = _where(text, at)
            raise QuerySyntaxError(
                f"Parse error on {text[at]!r} at [{line}, {column}]", line, column
            )
        kind = match.lastgroup or "skip"
        if kind != "skip":
            tokens.append(_Token(kind, match.group(), *_where(text, at)))
        at = match.end()
    tokens.append(_Token("end", "", *_where(text, len(text))))
    return tokens


def _where(text: str, at: int) -> tuple[int, int]:
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


class _Reader:
    """A recursive-descent reader of one query operation (no fragments, no directives)."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._at = 0

    def operation(self) -> Operation:
        defaults: dict[str, Json] = {}
        first = self._peek()
        if first.kind == "name" and first.text in ("mutation", "subscription", "fragment"):
            self._fail(f"the simulated GitHub serves queries only, not a {first.text}", first)
        if first.kind == "name" and first.text == "query":
            self._next()
            if self._peek().kind == "name":
                self._next()  # the operation's name
            if self._peek().text == "(":
                defaults = self._variable_definitions()
        selections = self._selection_set()
        if self._peek().kind != "end":
            self._fail("the simulated GitHub serves one operation per query", self._peek())
        return Operation(selections, defaults)

    def _variable_definitions(self) -> dict[str, Json]:
        defaults: dict[str, Json] = {}
        self._expect("(")
        while self._peek().text != ")":
            self._expect("$")
            name = self._name()
            self._expect(":")
            self._type()
            if self._peek().text == "=":
                self._next()
                defaults[name] = self._value(constant=True)
        self._expect(")")
        return defaults

    def _type(self) -> None:
        if self._peek().text == "[":
            self._next()
            self._type()
            self._expect("]")
        else:
            self._name()
        if self._peek().text == "!":
            self._next()

    def _selection_set(self) -> tuple[Field, ...]:
        self._expect("{")
        fields: list[Field] = []
        while self._peek().text != "}":
            fields.append(self._field())
        self._expect("}")
        if not fields:
            self._fail("a selection set selects at least one field", self._peek())
        return tuple(fields)

    def _field(self) -> Field:
        token = self._peek()
        if token.text in ("...", "@"):
            self._fail("the simulated GitHub serves no fragments or directives", token)
        alias = name = self._name()
        if self._peek().text == ":":
            self._next()
            name = self._name()
        arguments: dict[str, Json] = {}
        if self._peek().text == "(":
            self._next()
            while self._peek().text != ")":
                key = self._name()
                self._expect(":")
                arguments[key] = self._value(constant=False)
            self._expect(")")
        if self._peek().text == "@":
            self._fail("the simulated GitHub serves no directives", self._peek())
        selections = self._selection_set() if self._peek().text == "{" else ()
        return Field(name, alias, arguments, selections, token.line, token.column)

    def _value(self, *, constant: bool) -> Json:
        token = self._next()
        if token.text == "$" and not constant:
            return Variable(self._name())
        if token.kind in ("string", "number"):
            return json.loads(token.text)
        if token.kind == "name":
            return {"true": True, "false": False, "null": None}.get(token.text, token.text)
        if token.text == "[":
            items = []
            while self._peek().text != "]":
                items.append(self._value(constant=constant))
            self._next()
            return items
        if token.text == "{":
            fields: dict[str, Json] = {}
            while self._peek().text != "}":
                key = self._name()
                self._expect(":")
                fields[key] = self._value(constant=constant)
            self._next()
            return fields
        return self._fail(f"unexpected {token.text or 'end of query'!r}", token)

    def _name(self) -> str:
        token = self._next()
        if token.kind != "name":
            self._fail(f"expected a name, found {token.text or 'the end'!r}", token)
        return token.text

    def _expect(self, text: str) -> None:
        token = self._next()
        if token.text != text:
            self._fail(f"expected {text!r}, found {token.text or 'the end'!r}", token)

    def _peek(self) -> _Token:
        return self._tokens[self._at]

    def _next(self) -> _Token:
        token = self._tokens[self._at]
        if token.kind != "end":
            self._at += 1
        return token

    def _fail(self, why: str, token: _Token) -> Json:
        raise QuerySyntaxError(
            f"Parse error on {token.text or 'end of query'!r} at [{token.line}, {token.column}]: "
            f"{why}",
            token.line,
            token.column,
        )


def read_query(text: str) -> Operation:
    """The query's operation; QuerySyntaxError when it is not one this module can read."""
    return _Reader(text).operation()


# --- answering it -------------------------------------------------------------------------------


def execute(
    operation: Operation, variables: Mapping[str, Json], root: Mapping[str, Json]
) -> tuple[dict[str, Json], list[dict[str, Json]]]:
    """(data, errors): the fields asked for, from `root`, a dict of values or resolvers."""
    values = {**operation.defaults, **variables}
    errors: list[dict[str, Json]] = []
    data = _select(root, operation.selections, values, [], errors)
    return data, errors


def _select(
    source: Mapping[str, Json],
    selections: Sequence[Field],
    variables: Mapping[str, Json],
    path: list[str | int],
    errors: list[dict[str, Json]],
) -> dict[str, Json]:
    out: dict[str, Json] = {}
    for selected in selections:
        where = [*path, selected.alias]
        try:
            value = _resolve(source, selected, variables)
        except FieldError as error:
            errors.append(
                {
                    "type": error.kind,
                    "path": where,
                    "locations": [{"line": selected.line, "column": selected.column}],
                    "message": error.message,
                }
            )
            if error.non_null:
                raise _NullParent from None
            value = None
        try:
            out[selected.alias] = _shape(value, selected, variables, where, errors)
        except _NullParent:
            out[selected.alias] = None
    return out


def _resolve(source: Mapping[str, Json], selected: Field, variables: Mapping[str, Json]) -> Json:
    if selected.name not in source:
        kind = source.get("__typename", "this type")
        raise FieldError("UNSERVED", f"The simulated GitHub does not serve {kind}.{selected.name}")
    value = source[selected.name]
    if callable(value):
        return value(_bind(selected.arguments, variables))
    return value


def _shape(
    value: Json,
    selected: Field,
    variables: Mapping[str, Json],
    path: list[str | int],
    errors: list[dict[str, Json]],
) -> Json:
    # a scalar where an object was asked for: only an injected answer (`answer_repository`)
    # holds one, and it goes out as it is, as a hostile server would send it
    if value is None or not selected.selections or not isinstance(value, dict | list):
        return value
    if isinstance(value, list):
        return [
            _shape(item, selected, variables, [*path, index], errors)
            for index, item in enumerate(value)
        ]
    return _select(value, selected.selections, variables, path, errors)


def _bind(value: Json, variables: Mapping[str, Json]) -> Json:
    """Arguments with their variables replaced by the values sent."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, dict):
        return {key: _bind(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_bind(item, variables) for item in value]
    return value


# --- connections --------------------------------------------------------------------------------


def encode_cursor(item: Item) -> str:
    when, serial = item
    text = _CURSOR_PREFIX + json.dumps([when.isoformat(), serial])
    return base64.b64encode(text.encode()).decode()


def decode_cursor(cursor: str) -> Item | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        if not text.startswith(_CURSOR_PREFIX):
            return None
        when, serial = json.loads(text.removeprefix(_CURSOR_PREFIX))
        return dt.datetime.fromisoformat(when), int(serial)
    except (ValueError, TypeError):
        return None


def connection_page(
    items: Sequence[Item],
    arguments: Mapping[str, Json],
    *,
    name: str,
    typename: str,
    order_field: str,
    edge: Callable[[Item], dict[str, Json]],
) -> dict[str, Json]:
    """One page of a connection over `items` (sorted oldest first), as GitHub pages it.

    `first` (1 to 100) and `after` page forward, in `orderBy: {field, direction}` order (ASC
    without it); the cursor is the item's sort key, so items added meanwhile never shift a page.
    `edge(item)` is the item's edge; the page's `nodes` are the edges' `node`s.
    """
    first = arguments.get("first")
    if arguments.get("last") is not None or arguments.get("before") is not None:
        raise FieldError("UNSERVED", "The simulated GitHub pages forward only (`first`, `after`)")
    if first is None:
        raise FieldError(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection.",
        )
    if isinstance(first, bool) or not isinstance(first, int) or not 0 <= first <= MAX_PAGE:
        raise FieldError(
            "EXCESSIVE_PAGINATION",
            f"Requesting {first} records on the `{name}` connection exceeds the `first` limit of "
            f"{MAX_PAGE} records.",
        )
    order = arguments.get("orderBy") or {"field": order_field, "direction": "ASC"}
    after = arguments.get("after")
    key = None if after is None else decode_cursor(str(after))
    if after is not None and key is None:
        raise FieldError(
            "INVALID_CURSOR_ARGUMENTS", f"`{after}` does not appear to be a valid cursor."
        )
    if order.get("direction") == "DESC":
        end = len(items) if key is None else bisect.bisect_left(items, key)
        page = list(reversed(items[max(0, end - first) : end]))  # the items before the cursor
        more = end - first > 0
    else:
        start = 0 if key is None else bisect.bisect_right(items, key)
        page = list(items[start : start + first])
        more = start + first < len(items)
    edges = [edge(item) for item in page]
    cursors = [encode_cursor(item) for item in page]
    return {
        "__typename": typename,
        "totalCount": len(items),
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": more,
            "hasPreviousPage": False,  # GitHub says false when paging forward with `after`
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
        "edges": [{**e, "cursor": c} for e, c in zip(edges, cursors, strict=True)],
        "nodes": [e.get("node") for e in edges],
    }


def iso(when: dt.datetime) -> str:
    """GitHub's DateTime: UTC, seconds, `Z`."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- GitHub's GraphQL API over the simulated world ----------------------------------------------


@dataclass(slots=True)
class _Failure:
    """An injected GraphQL error: HTTP 200 with one error of GitHub's `type`."""

    kind: str  # GitHub's error `type`, "" for none
    message: str
    times: int
    after: int  # queries still answered as usual first


class GraphQLApi:
    """`POST /graphql` over one world: a repository's stargazers and forks, points a token
    spends, and the errors a test injects (`inject`)."""

    def __init__(self, world: SimWorld) -> None:
        self.world = world
        self.failures: list[_Failure] = []  # guarded by the world's lock
        # lower full name -> `repository` fields answered instead (server.answer_repository)
        self.overrides: dict[str, dict[str, Json]] = {}

    def inject(self, kind: str, message: str, *, times: int, after: int) -> None:
        """After `after` more queries answered as usual, the next `times` get this error."""
        with self.world.lock:
            self.failures.append(_Failure(kind, message, times, after))

    def points_headers(self, token: str) -> dict[str, str]:
        """GitHub's `x-ratelimit-*` headers of a GraphQL answer: the token's points."""
        with self.world.lock:
            reset, used = self.world.points_window(token)
        return {
            "x-ratelimit-limit": str(self.world.graphql_points),
            "x-ratelimit-remaining": str(max(0, self.world.graphql_points - used)),
            "x-ratelimit-reset": str(int(reset)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "graphql",
        }

    def answer(
        self, body: bytes, token: str, kind: TokenKind, validator: Validator | None
    ) -> Answer:
        """`POST /graphql`: validate (when a validator is given), charge a point, execute.

        Like GitHub: errors in the query are HTTP 200 with `errors` and cost nothing; a spent
        hour is HTTP 200 with a RATE_LIMITED error; each query of `first: 100` costs one point.
        """
        request = _read_graphql(body)
        if isinstance(request, Answer):
            return request
        text, variables = request
        if validator is not None:
            errors = [dict(e) for e in validator(text, variables)]
            if errors:
                return Answer(200, {"errors": errors})
        try:
            operation = read_query(text)
        except QuerySyntaxError as syntax:
            return _graphql_errors(syntax.message, line=syntax.line, column=syntax.column)
        with self.world.lock:
            injected = self._take_failure()
            if injected is not None:
                return _graphql_errors(injected.message, kind=injected.kind)
            reset, used = self.world.points_window(token)
            if used + 1 > self.world.graphql_points:
                return _graphql_errors(
                    "API rate limit already exceeded for user ID 1.", kind="RATE_LIMITED"
                )
            self.world.points[token] = (reset, used + 1)
        rate = {
            "__typename": "RateLimit",
            "cost": 1,
            "limit": self.world.graphql_points,
            "used": used + 1,
            "remaining": self.world.graphql_points - used - 1,
            "resetAt": iso(dt.datetime.fromtimestamp(reset, dt.UTC)),
        }
        root = {
            "__typename": "Query",
            "rateLimit": rate,
            "repository": functools.partial(self._repository, kind=kind),
        }
        data, errors = execute(operation, variables, root)
        return Answer(200, {"data": data, "errors": errors} if errors else {"data": data})

    def _repository(self, arguments: dict[str, Json], *, kind: TokenKind) -> Json:
        """`repository(owner:, name:)`: renamed repos are followed, as `followRenames` says."""
        owner, name = str(arguments.get("owner")), str(arguments.get("name"))
        repo = self.world.repos.get(f"{owner}/{name}".lower())
        moved = self.world.moved.get(f"{owner}/{name}".lower())
        if repo is None and moved is not None and arguments.get("followRenames", True):
            repo = next((r for r in self.world.repos.values() if r.id == moved), None)
        if repo is None or (repo.private and kind == "github-token"):
            raise FieldError(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        stars = functools.partial(self._connection, repo, "stars")
        forks = functools.partial(self._connection, repo, "forks")
        return {
            "__typename": "Repository",
            "nameWithOwner": repo.full_name,
            "databaseId": repo.id,
            "createdAt": stamp(repo.created),
            "isPrivate": repo.private,
            "isFork": repo.fork,
            "isArchived": repo.archived,
            "stargazerCount": self.world.growth_count(repo, "stars"),
            "forkCount": self.world.growth_count(repo, "forks"),
            "watchers": {"__typename": "UserConnection", "totalCount": repo.watchers},
            # REST's open_issues_count is both; the simulator keeps its open items as issues
            "issues": lambda _arguments: {
                "__typename": "IssueConnection",
                "totalCount": repo.open_issues,
            },
            "pullRequests": lambda _arguments: {
                "__typename": "PullRequestConnection",
                "totalCount": 0,
            },
            # a "no-push" token may read; a workflow's GITHUB_TOKEN may push to its repo, yet
            # GitHub refuses it traffic all the same (the traffic answers' 403 says so)
            "viewerPermission": {"pat": "ADMIN", "github-token": "WRITE"}.get(kind, "READ")
            if repo.push
            else "READ",
            "stargazers": stars,
            "forks": forks,
            **self.overrides.get(repo.full_name.lower(), {}),
        }

    def _connection(self, repo: SimRepo, series: Growth, arguments: dict[str, Json]) -> Json:
        with self.world.lock:
            items = tuple(self.world.timeline_of(repo, series))
        if series == "stars" and repo.stargazers_listed == "forbidden":
            raise FieldError(
                "FORBIDDEN",
                "Stargazers are visible only to the repository's collaborators.",
                non_null=True,  # Repository.stargazers is StargazerConnection!
            )
        if series == "stars" and repo.stargazers_listed == "empty":
            items = ()
        if series == "stars":
            return connection_page(
                items,
                arguments,
                name="stargazers",
                typename="StargazerConnection",
                order_field="STARRED_AT",
                edge=lambda item: {
                    "__typename": "StargazerEdge",
                    "starredAt": iso(item[0]),
                    "node": {"__typename": "User", "login": f"stargazer-{item[1]}"},
                },
            )
        return connection_page(
            items,
            arguments,
            name="forks",
            typename="RepositoryConnection",
            order_field="CREATED_AT",
            edge=lambda item: {
                "__typename": "RepositoryEdge",
                "node": {
                    "__typename": "Repository",
                    "createdAt": iso(item[0]),
                    "nameWithOwner": f"forker-{item[1]}/{repo.name}",
                },
            },
        )

    def _take_failure(self) -> _Failure | None:
        """The injected GraphQL error this query gets, if any (the lock is held)."""
        failure = next((f for f in self.failures if f.times > 0), None)
        if failure is None:
            return None
        if failure.after > 0:
            failure.after -= 1
            return None
        failure.times -= 1
        return failure


def _graphql_errors(message: str, *, kind: str = "", line: int = 0, column: int = 0) -> Answer:
    """A GraphQL error answer: HTTP 200, `errors` only."""
    found: dict[str, Json] = {"message": message}
    if kind:
        found["type"] = kind
    if line:
        found["locations"] = [{"line": line, "column": column}]
    return Answer(200, {"errors": [found]})


def _read_graphql(body: bytes) -> tuple[str, dict[str, Json]] | Answer:
    """A GraphQL request's query and variables, or GitHub's answer to a malformed one."""
    request = json_or_none(body)
    if request is None and body.strip() not in (b"", b"null"):
        return error(400, "Problems parsing JSON", GRAPHQL_DOCS)
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return _graphql_errors("A query attribute must be specified and must be a string.")
    variables = request.get("variables") or {}
    if not isinstance(variables, dict):
        return _graphql_errors("Variables are invalid JSON.")
    return request["query"], variables
