"""GitHub's published GraphQL schema as a validator for the simulated GitHub.

The schema is `@octokit/graphql-schema` (the SDL GitHub publishes, pinned in
tests/graphql-schema, installed with `npm ci --prefix tests/graphql-schema`), read with
graphql-core. A query it rejects gets GitHub's answer: HTTP 200 and `errors` in graphql-ruby's
words ("Field 'x' doesn't exist on type 'Y'"), which is what GitHub runs. Without the schema the
tests that need it skip, except under CI=true, where they fail: CI must never skip them silently.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    build_schema,
    get_operation_ast,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import get_variable_values

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tests" / "graphql-schema" / "node_modules" / "@octokit" / "graphql-schema"
SCHEMA = PACKAGE / "schema.graphql"

# graphql-core's wording -> graphql-ruby's (GitHub's), with GitHub's `extensions`
_UNDEFINED_FIELD = re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\.")
_UNKNOWN_ARGUMENT = re.compile(
    r"Unknown argument '(?P<arg>\w+)' on field '(?P<type>\w+)\.(?P<field>\w+)'\."
)
_UNDEFINED_VARIABLE = re.compile(r"Variable '\$(?P<name>\w+)' is not defined")


def missing_schema(schema: Path = SCHEMA) -> str:
    """Why the schema cannot be read here, or "" when it can."""
    if not schema.exists():
        return f"{schema} is missing (npm ci --prefix tests/graphql-schema)"
    return ""


def require_schema(reason: str, env: Mapping[str, str]) -> None:
    """Skip without the schema, but fail under CI=true: CI must never skip the check."""
    if reason and env.get("CI") == "true":
        pytest.fail(f"CI=true but GitHub's GraphQL schema is not there: {reason}")
    if reason:
        pytest.skip(f"GraphQL schema check skipped: {reason}")


@functools.cache
def github_schema() -> GraphQLSchema:
    """The published schema, read once per test run (half a second).

    Taken as valid as published: it breaks two rules graphql-core checks and GitHub's server
    does not (a field defined twice on a type, deprecated fields implementing interface fields
    that are not), and what GitHub serves is the reference here. Queries are validated in full.
    """
    return build_schema(
        SCHEMA.read_text(encoding="utf-8"), assume_valid=True, assume_valid_sdl=True
    )


def schema_validator() -> GitHubValidator:
    """The validator, or a skip (a failure under CI=true) when the schema is not installed."""
    require_schema(missing_schema(), os.environ)
    return GitHubValidator(github_schema())


def optional_validator(env: Mapping[str, str]) -> GitHubValidator | None:
    """The validator where the schema is installed; None elsewhere, so tests of other things
    still run on a laptop without npm; a failure under CI=true."""
    reason = missing_schema()
    if reason and env.get("CI") == "true":
        pytest.fail(f"CI=true but GitHub's GraphQL schema is not there: {reason}")
    return None if reason else GitHubValidator(github_schema())


class GitHubValidator:
    """(query, variables) -> GitHub's errors for them, [] when GitHub would run the query."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.checked = 0  # queries validated: proof the simulator asked

    def __call__(self, query: str, variables: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.checked += 1
        document, errors = self._check(query)
        if errors or document is None:
            return errors
        operation = get_operation_ast(document)
        if operation is None:
            return [{"message": "An operation name is required"}]
        coerced = get_variable_values(
            self.schema, operation.variable_definitions or (), dict(variables)
        )
        if isinstance(coerced, list):
            return [variable_error(error) for error in coerced]
        return []

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one validator per test run
    def _check(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
        """The query read and validated (the same text always gets the same answer)."""
        try:
            document = parse(query)
        except GraphQLSyntaxError as error:
            (location,) = error.locations or [None]
            line, column = (location.line, location.column) if location else (0, 0)
            detail = error.message.removeprefix("Syntax Error: ")
            return None, [
                {
                    "message": f"Parse error on {detail} at [{line}, {column}]",
                    "locations": [{"line": line, "column": column}],
                }
            ]
        return document, [github_error(error) for error in validate(self.schema, document)]


def github_error(error: GraphQLError) -> dict[str, Any]:
    """A validation error as GitHub words and shapes it."""
    shaped: dict[str, Any] = {"message": error.message, "locations": _locations(error)}
    if match := _UNDEFINED_FIELD.match(error.message):
        shaped["message"] = f"Field '{match['field']}' doesn't exist on type '{match['type']}'"
        shaped["extensions"] = {
            "code": "undefinedField",
            "typeName": match["type"],
            "fieldName": match["field"],
        }
    elif match := _UNKNOWN_ARGUMENT.match(error.message):
        shaped["message"] = f"Field '{match['field']}' doesn't accept argument '{match['arg']}'"
        shaped["extensions"] = {
            "code": "argumentNotAccepted",
            "name": match["field"],
            "typeName": "Field",
            "argumentName": match["arg"],
        }
    elif match := _UNDEFINED_VARIABLE.match(error.message):
        shaped["message"] = f"Variable ${match['name']} is used but not declared"
        shaped["extensions"] = {"code": "variableNotDefined", "variableName": match["name"]}
    return shaped


def variable_error(error: GraphQLError) -> dict[str, Any]:
    """A variable whose value does not fit its type, as GitHub says it."""
    node = (error.nodes or [None])[0]
    name = getattr(getattr(getattr(node, "variable", None), "name", None), "value", "?")
    kind = print_ast(node.type) if node is not None and hasattr(node, "type") else "?"
    return {
        "message": f"Variable ${name} of type {kind} was provided invalid value",
        "locations": _locations(error),
        "extensions": {"problems": [{"explanation": error.message}]},
    }


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []]
