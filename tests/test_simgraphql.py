"""The simulated GitHub's GraphQL endpoint: GitHub's schema, cursors, pageInfo, points, errors."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.graphql_schema import (
    GitHubValidator,
    missing_schema,
    require_schema,
    schema_validator,
)
from tests.helpers.factories import StartGitHub
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.demo.simgraphql import QuerySyntaxError, decode_cursor, encode_cursor, read_query
from traffic_sync.demo.traffic import growth_timeline
from traffic_sync.github.graphql import (
    FORKS_QUERY,
    STARGAZERS_QUERY,
    GraphQLClient,
    GraphQLQueryError,
)

TOKEN = "ghp_simGraphqlToken"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
LIB = SimRepo("Octo-Org/lib", 1, dt.date(2025, 6, 1), stars=240, forks=12, seed=4)
SECRET = SimRepo("octocat/secret", 2, dt.date(2025, 6, 1), private=True, stars=5)
PAGE = """
query Page($first: Int, $cursor: String, $direction: OrderDirection = DESC) {
  repository(owner: "Octo-Org", name: "lib") {
    stargazers(first: $first, after: $cursor, orderBy: {field: STARRED_AT, direction: $direction}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor starredAt }
    }
  }
}
"""


@pytest.fixture
def sim(validator: GitHubValidator | None, start_github: StartGitHub) -> SimulatedGitHub:
    return start_github([LIB, SECRET], now=NOW, token=TOKEN, graphql_validator=validator)


def post(
    sim: SimulatedGitHub,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str = TOKEN,
    path: str = "/graphql",
) -> requests.Response:
    return requests.post(
        f"{sim.url}{path}",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"bearer {token}"},
        timeout=10,
    )


def stars_page(sim: SimulatedGitHub, **variables: Any) -> dict[str, Any]:
    answer = post(sim, PAGE, {"first": 100, **variables})
    assert answer.status_code == 200, answer.text
    connection: dict[str, Any] = answer.json()["data"]["repository"]["stargazers"]
    return connection


def stamps(sim: SimulatedGitHub, name: str = "Octo-Org/lib") -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in sim.timeline(name, "stars")]


# --- GitHub's schema -----------------------------------------------------------------------------


def test_without_the_schema_ci_fails_and_elsewhere_skips(tmp_path: Path) -> None:
    """A missing schema skips the schema tests on a laptop and fails them under CI=true."""
    reason = missing_schema(tmp_path / "schema.graphql")
    assert "npm ci --prefix tests/graphql-schema" in reason
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_schema(reason, {"CI": "true"})
    with pytest.raises(pytest.skip.Exception, match="schema check skipped"):
        require_schema(reason, {})
    require_schema("", {"CI": "true"})  # the schema is there: nothing to say


def test_the_tools_queries_are_valid_in_githubs_schema() -> None:
    """Both queries the tool sends pass GitHub's published schema, with their variables."""
    check = schema_validator()
    variables = {"owner": "o", "name": "n", "first": 100, "cursor": None}
    assert check(STARGAZERS_QUERY, variables) == []
    assert check(FORKS_QUERY, {**variables, "cursor": "Y3Vyc29yOnYyOpK5"}) == []


def test_wrong_field_name_gets_githubs_error_and_costs_nothing() -> None:
    """A field the schema lacks: HTTP 200, GitHub's error shape and words, no point spent."""
    check = schema_validator()
    with SimulatedGitHub([LIB], now=NOW, token=TOKEN, graphql_validator=check) as sim:
        wrong = STARGAZERS_QUERY.replace("edges { starredAt }", "edges { starredAtt }")
        answer = post(sim, wrong, {"owner": "Octo-Org", "name": "lib", "first": 100})
        assert answer.status_code == 200
        (error,) = answer.json()["errors"]
        assert "data" not in answer.json()
        assert error["message"] == "Field 'starredAtt' doesn't exist on type 'StargazerEdge'"
        assert error["extensions"] == {
            "code": "undefinedField",
            "typeName": "StargazerEdge",
            "fieldName": "starredAtt",
        }
        assert error["locations"] == [{"line": 7, "column": 15}]
        assert answer.headers["x-ratelimit-used"] == "0"

        client = GraphQLClient(token=TOKEN, url=f"{sim.url}/graphql")
        variables = {"owner": "Octo-Org", "name": "lib", "first": 100}
        with pytest.raises(GraphQLQueryError, match="doesn't exist on type 'StargazerEdge'"):
            client.query(wrong, variables, what="Octo-Org/lib stars")


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            STARGAZERS_QUERY.replace("STARRED_AT", "CREATED_AT"),
            {"owner": "o", "name": "n", "first": 1},
            "Value 'CREATED_AT' does not exist in 'StarOrderField' enum",
        ),
        (
            STARGAZERS_QUERY.replace("after: $cursor", "since: $cursor"),
            {"owner": "o", "name": "n", "first": 1},
            "Field 'stargazers' doesn't accept argument 'since'",
        ),
        (STARGAZERS_QUERY, {"owner": "o", "first": 1}, "Variable $name of type String!"),
        (STARGAZERS_QUERY, {"owner": "o", "name": "n", "first": "1"}, "Variable $first"),
        ("query { repository(owner: 1 {", {}, "Parse error on"),
    ],
    ids=["enum", "argument", "missing-variable", "variable-type", "syntax"],
)
def test_schema_errors_in_githubs_shape(
    query: str, variables: dict[str, Any], message: str
) -> None:
    """Wrong enums, arguments, variables and syntax are refused as GitHub refuses them."""
    check = schema_validator()
    errors = check(query, variables)
    assert errors
    assert message in errors[0]["message"]


# --- connections, cursors, pageInfo --------------------------------------------------------------


def test_pages_walk_newest_first_with_cursors(sim: SimulatedGitHub) -> None:
    """first/after pages newest first; each page starts after the previous page's endCursor;
    the last page says there is no next one."""
    expected = stamps(sim)[::-1]
    seen: list[str] = []
    cursor = None
    for number in range(3):
        page = stars_page(sim, cursor=cursor)
        assert page["totalCount"] == 240
        seen += [edge["starredAt"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["pageInfo"]["hasNextPage"] is (number < 2)
        cursor = page["pageInfo"]["endCursor"]
    assert seen == expected
    past_the_end = stars_page(sim, cursor=cursor)
    assert past_the_end["edges"] == []
    assert past_the_end["pageInfo"] == {"hasNextPage": False, "endCursor": None}


def test_ascending_order_pages_from_the_first_star(sim: SimulatedGitHub) -> None:
    """orderBy direction ASC walks the same stars oldest first."""
    page = stars_page(sim, first=5, direction="ASC")
    assert [edge["starredAt"] for edge in page["edges"]] == stamps(sim)[:5]


def test_new_stars_do_not_move_a_cursor(sim: SimulatedGitHub) -> None:
    """Cursors point at a star, not an offset: stars given meanwhile shift nothing."""
    first = stars_page(sim, first=10)
    sim.star("Octo-Org/lib", NOW, count=7)
    after = stars_page(sim, first=10, cursor=first["pageInfo"]["endCursor"])
    assert [edge["starredAt"] for edge in after["edges"]] == stamps(sim)[::-1][17:27]
    assert after["totalCount"] == 247


def test_cursor_round_trip_and_garbage() -> None:
    """A cursor decodes to the star it was made from; anything else decodes to None."""
    item = (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), 42)
    assert encode_cursor(item).startswith("Y3Vyc29yOnYyO")  # "cursor:v2:", as GitHub's
    assert decode_cursor(encode_cursor(item)) == item
    for garbage in ["", "!!", "bm90LWEtY3Vyc29y", "Y3Vyc29yOnYyOnt9"]:
        assert decode_cursor(garbage) is None


@pytest.mark.parametrize(
    ("arguments", "kind", "message"),
    [
        ("", "MISSING_PAGINATION_BOUNDARIES", "You must provide a `first` or `last` value"),
        ("first: 101", "EXCESSIVE_PAGINATION", "Requesting 101 records on the `stargazers`"),
        ('first: 1, after: "nope"', "INVALID_CURSOR_ARGUMENTS", "`nope` does not appear"),
        ("last: 1", "UNSERVED", "pages forward only"),
    ],
)
def test_pagination_errors_in_githubs_shape(
    sim: SimulatedGitHub, arguments: str, kind: str, message: str
) -> None:
    """Connection arguments GitHub refuses get GitHub's error types, with path and location."""
    connection = f"stargazers({arguments})" if arguments else "stargazers"
    query = f'{{ repository(owner: "Octo-Org", name: "lib") {{ {connection} {{ totalCount }} }} }}'

    body = post(sim, query).json()
    assert body["data"] == {"repository": {"stargazers": None}}
    (error,) = body["errors"]
    assert (error["type"], error["path"]) == (kind, ["repository", "stargazers"])
    assert message in error["message"]
    assert error["locations"] == [{"line": 1, "column": 48}]


def test_only_the_fields_asked_for_come_back(sim: SimulatedGitHub) -> None:
    """`data` has exactly the fields selected, under their aliases; forks have nodes."""
    query = """
    { repo: repository(owner: "octo-org", name: "LIB") {
        nameWithOwner
        forks(first: 2, orderBy: {field: CREATED_AT, direction: DESC}) {
          count: totalCount
          nodes { createdAt }
        }
    } }"""
    body = post(sim, query).json()
    forks = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in sim.timeline("Octo-Org/lib", "forks")]
    assert body == {
        "data": {
            "repo": {
                "nameWithOwner": "Octo-Org/lib",
                "forks": {"count": 12, "nodes": [{"createdAt": t} for t in forks[::-1][:2]]},
            }
        }
    }


def test_a_field_the_simulator_does_not_serve_says_so(sim: SimulatedGitHub) -> None:
    """A field GitHub has but the simulator does not serve is an error, never a silent null."""
    body = post(sim, '{ repository(owner: "Octo-Org", name: "lib") { description } }').json()
    (error,) = body["errors"]
    assert error["message"] == "The simulated GitHub does not serve Repository.description"


# --- points, tokens and errors --------------------------------------------------------------------


def test_each_query_costs_a_point_of_its_tokens_hour(sim: SimulatedGitHub) -> None:
    """rateLimit and the x-ratelimit headers count points per token, apart from REST."""
    query = "{ rateLimit { cost limit used remaining resetAt } }"
    first = post(sim, query)
    second = post(sim, query)
    assert second.json()["data"]["rateLimit"] == {
        "cost": 1,
        "limit": 5000,
        "used": 2,
        "remaining": 4998,
        "resetAt": "2026-03-10T13:00:00Z",
    }
    assert first.headers["x-ratelimit-resource"] == "graphql"
    assert (second.headers["x-ratelimit-used"], second.headers["x-ratelimit-remaining"]) == (
        "2",
        "4998",
    )
    sim.grant("ghp_other", "pat")
    assert post(sim, query, token="ghp_other").json()["data"]["rateLimit"]["used"] == 1
    rest = requests.get(
        f"{sim.url}/rate_limit", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    )
    assert rest.json()["resources"]["core"]["used"] == 0


def test_a_spent_hour_is_rate_limited_until_the_reset() -> None:
    """Past the hour's points: HTTP 200, RATE_LIMITED, remaining 0; the next hour answers."""
    with SimulatedGitHub([LIB], now=NOW, token=TOKEN, graphql_points=2) as sim:
        query = "{ rateLimit { remaining } }"
        assert [post(sim, query).json()["data"]["rateLimit"]["remaining"] for _ in "ab"] == [1, 0]
        spent = post(sim, query)
        assert spent.status_code == 200
        assert spent.json() == {
            "errors": [
                {
                    "type": "RATE_LIMITED",
                    "message": "API rate limit already exceeded for user ID 1.",
                }
            ]
        }
        assert spent.headers["x-ratelimit-remaining"] == "0"
        assert int(spent.headers["x-ratelimit-reset"]) == int(NOW.timestamp()) + 3600
        sim.now = NOW + dt.timedelta(hours=1)
        assert post(sim, query).json()["data"]["rateLimit"]["remaining"] == 1


def test_missing_or_hidden_repo_is_not_found(sim: SimulatedGitHub) -> None:
    """NOT_FOUND as GitHub gives it; a GITHUB_TOKEN cannot see another private repo."""
    query = '{ repository(owner: "octocat", name: "secret") { nameWithOwner } }'
    assert post(sim, query).json() == {"data": {"repository": {"nameWithOwner": "octocat/secret"}}}
    sim.grant("ghs_workflow", "github-token")
    body = post(sim, query, token="ghs_workflow").json()
    assert body == {
        "data": {"repository": None},
        "errors": [
            {
                "type": "NOT_FOUND",
                "path": ["repository"],
                "locations": [{"line": 1, "column": 3}],
                "message": "Could not resolve to a Repository with the name 'octocat/secret'.",
            }
        ],
    }


def test_renamed_repo_is_followed(sim: SimulatedGitHub) -> None:
    """The old name still resolves, as GitHub's `followRenames` does by default."""
    sim.rename("Octo-Org/lib", "Octo-Org/library")
    query = '{ repository(owner: "Octo-Org", name: "lib") { nameWithOwner stargazerCount } }'
    body = post(sim, query).json()
    assert body["data"]["repository"] == {
        "nameWithOwner": "Octo-Org/library",
        "stargazerCount": 240,
    }


@pytest.mark.parametrize(
    ("send", "status", "body"),
    [
        ({"data": b"{not json"}, 400, {"message": "Problems parsing JSON"}),
        (
            {"json": {"variables": {}}},
            200,
            {"errors": [{"message": "A query attribute must be specified and must be a string."}]},
        ),
        (
            {"json": {"query": "{ rateLimit { cost } }", "variables": [1]}},
            200,
            {"errors": [{"message": "Variables are invalid JSON."}]},
        ),
    ],
    ids=["bad-json", "no-query", "bad-variables"],
)
def test_malformed_requests(
    sim: SimulatedGitHub, send: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    """Requests that are not a GraphQL query get GitHub's answers."""
    answer = requests.post(
        f"{sim.url}/graphql", headers={"Authorization": f"bearer {TOKEN}"}, timeout=10, **send
    )
    assert answer.status_code == status
    assert body.items() <= answer.json().items()


def test_bad_token_and_wrong_method(sim: SimulatedGitHub) -> None:
    """A revoked token is 401 before anything else; GET /graphql is not an endpoint."""
    assert post(sim, "{ rateLimit { cost } }", token="ghp_nope").status_code == 401
    got = requests.get(
        f"{sim.url}/graphql", headers={"Authorization": f"bearer {TOKEN}"}, timeout=10
    )
    assert got.status_code == 404


def test_enterprise_server_path(sim: SimulatedGitHub) -> None:
    """GitHub Enterprise Server's GraphQL path, /api/graphql, is served too."""
    answer = post(sim, "{ rateLimit { cost } }", path="/api/graphql")
    assert answer.json() == {"data": {"rateLimit": {"cost": 1}}}


# --- the stars and forks behind it ---------------------------------------------------------------


def test_timeline_is_deterministic_and_adds_up() -> None:
    """Stars are spread from creation to the day before they were counted, oldest first, the
    same in every process, and as many as `stars` says."""
    until = dt.date(2026, 3, 10)
    stars = growth_timeline(LIB, "stars", until)
    assert len(stars) == 240
    assert list(stars) == sorted(stars)
    assert stars[0].date() >= LIB.created
    assert stars[-1].date() < until
    assert growth_timeline(LIB, "stars", until) is stars  # computed once
    other = SimRepo("Octo-Org/lib", 1, LIB.created, stars=240, seed=5)
    assert growth_timeline(other, "stars", until) != stars


def test_a_repo_with_more_than_40000_stars_is_cheap() -> None:
    """45,000 stars cost a fraction of a second, and a small repo has days without any."""
    big = SimRepo("Octo-Org/big", 9, dt.date(2024, 1, 1), stars=45_000, seed=11)
    started = time.monotonic()
    stars = growth_timeline(big, "stars", dt.date(2026, 3, 10))
    assert time.monotonic() - started < 2
    assert len(stars) == 45_000
    small = growth_timeline(LIB, "stars", dt.date(2026, 3, 10))
    assert len({t.date() for t in small}) < (dt.date(2026, 3, 10) - LIB.created).days


def test_rest_counts_follow_the_timeline(sim: SimulatedGitHub) -> None:
    """stargazers_count and forks_count are the timeline's length as stars come and go."""

    def counts() -> tuple[int, int]:
        repo = requests.get(
            f"{sim.url}/repos/Octo-Org/lib", headers={"Authorization": f"token {TOKEN}"}, timeout=10
        ).json()
        return repo["stargazers_count"], repo["forks_count"]

    assert counts() == (240, 12)
    sim.star("Octo-Org/lib", NOW, count=3)
    sim.fork("Octo-Org/lib", NOW)
    assert counts() == (243, 13)
    sim.unstar("Octo-Org/lib", count=2)
    assert counts() == (241, 13)
    assert sim.timeline("Octo-Org/lib", "stars").count(NOW) == 1  # the newest two went


def test_counted_on_sets_where_the_timeline_ends() -> None:
    """`counted_on` pins the stars' last day whatever day the simulator starts."""
    pinned = SimRepo(
        "Octo-Org/pinned", 3, dt.date(2025, 1, 1), stars=50, counted_on=dt.date(2025, 2, 1)
    )
    with SimulatedGitHub([pinned], now=NOW, token=TOKEN) as sim:
        assert sim.timeline("Octo-Org/pinned", "stars")[-1].date() < dt.date(2025, 2, 1)


# --- reading queries without the schema ---------------------------------------------------------


def test_reader_takes_literals_variables_and_comments() -> None:
    """Strings with escapes, numbers, enums, lists, objects, defaults and comments."""
    operation = read_query(
        """# a comment
        query Q($n: Int = 3, $tags: [String!]!) {
          a: x(s: "q\\"uote", i: -2, f: 1.5e2, e: DESC, l: [1, $n], o: {k: null, b: true}) { y }
        }"""
    )
    (field,) = operation.selections
    assert (field.alias, field.name, field.line, field.column) == ("a", "x", 3, 11)
    assert field.arguments["s"] == 'q"uote'
    assert (field.arguments["i"], field.arguments["f"], field.arguments["e"]) == (-2, 150.0, "DESC")
    assert field.arguments["o"] == {"k": None, "b": True}
    assert operation.defaults == {"n": 3}


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("mutation { x }", "queries only"),
        ("{ ...F }", "no fragments"),
        ("{ x @include(if: true) }", "no directives"),
        ("{ x } { y }", "one operation"),
        ("{ }", "at least one field"),
        ("{ x(a: ) }", "unexpected ')'"),
        ("{ x", "expected a name"),
        ("{ x(a 1) }", "expected ':'"),
        ("{ x ^ }", "Parse error on '^'"),
    ],
)
def test_reader_refuses_what_it_does_not_serve(query: str, why: str) -> None:
    """What the reader cannot take is a parse error that says why, with its place."""
    with pytest.raises(QuerySyntaxError, match="Parse error") as caught:
        read_query(query)
    assert why in caught.value.message
    assert caught.value.line == 1


def test_without_a_validator_syntax_errors_still_answer(sim: SimulatedGitHub) -> None:
    """The demo's simulator (no schema) answers a broken query with a located parse error."""
    sim.graphql_validator = None
    (error,) = post(sim, "{ rateLimit { cost }").json()["errors"]
    assert error["message"].startswith("Parse error on")
    assert error["locations"] == [{"line": 1, "column": 21}]
