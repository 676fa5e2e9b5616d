"""Fixtures several test modules share. A module's own fixture of the same name wins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests import branch
from tests.graphql_schema import GitHubValidator, optional_validator
from tests.helpers.factories import StartGitHub, StartPostHog, github_starter, posthog_starter


@pytest.fixture(scope="session")
def validator() -> GitHubValidator | None:
    """GitHub's GraphQL schema when installed (always under CI=true)."""
    return optional_validator(os.environ)


@pytest.fixture
def start_github() -> Iterator[StartGitHub]:
    """Start a simulated GitHub on a repo list; each one started stops after the test."""
    with ExitStack() as stack:
        yield github_starter(stack)


@pytest.fixture
def start_posthog() -> Iterator[StartPostHog]:
    """Start a fake PostHog for a project key; each one started stops after the test."""
    with ExitStack() as stack:
        yield posthog_starter(stack)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """An empty bare repo standing in for the data repository."""
    return branch.init_bare(tmp_path / "data.git")
