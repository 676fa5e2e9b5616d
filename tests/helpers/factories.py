"""Starters for the local fakes that a test fixture hands out: each starts a server on
127.0.0.1 and the fixture stops every one it started when the test ends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from tests.fake_posthog import FakePostHog
from traffic_sync.demo import SimulatedGitHub

# start_github(repos, now=..., token=..., ...) takes the simulator's own arguments
StartGitHub = Callable[..., SimulatedGitHub]
StartPostHog = Callable[[str], FakePostHog]


def github_starter(stack: ExitStack) -> StartGitHub:
    """Simulated GitHubs that stop when `stack` closes."""

    def start(*args: Any, **kwargs: Any) -> SimulatedGitHub:
        return stack.enter_context(SimulatedGitHub(*args, **kwargs))

    return start


def posthog_starter(stack: ExitStack) -> StartPostHog:
    """Fake PostHogs, each wanting its project key, that stop when `stack` closes."""

    def start(key: str) -> FakePostHog:
        return stack.enter_context(FakePostHog(key))

    return start
