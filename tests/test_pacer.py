"""The shared request pacer: rate, bursts, a hold for everyone, and the request budget."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import MIN_PER_MINUTE, BudgetSpentError, Pacer, RetryPolicy
from traffic_sync.github.rest import GitHubSource


class FakeClock:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_is_kept_after_a_short_burst() -> None:
    """600 a minute lets about a second's worth through at once, then one every 100 ms."""
    clock = FakeClock()
    pacer = Pacer(per_minute=600, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        pacer.acquire()
    assert clock.now == pytest.approx(1000.0)
    for _ in range(50):
        pacer.acquire()
    assert clock.now == pytest.approx(1005.0)
    assert pacer.requests == 61


def test_slow_down_holds_everyone_and_halves_the_rate() -> None:
    """After a secondary limit the next request waits the hold, and the rate is halved."""
    clock = FakeClock()
    pacer = Pacer(per_minute=120, clock=clock, sleep=clock.sleep)
    pacer.slow_down(60)
    pacer.acquire()
    assert clock.now == pytest.approx(1060.0)
    assert pacer.per_minute == pytest.approx(60)
    for _ in range(20):
        pacer.slow_down(0)
    assert pacer.per_minute == pytest.approx(MIN_PER_MINUTE)
    pacer.slow_down(5, halve_rate=False)
    assert pacer.per_minute == pytest.approx(MIN_PER_MINUTE)


def test_budget_is_a_hard_cap() -> None:
    """Past `max-requests` no request goes out."""
    pacer = Pacer(budget=2)
    pacer.acquire()
    pacer.acquire()
    with pytest.raises(BudgetSpentError):
        pacer.acquire()
    assert pacer.requests == 2


@pytest.mark.slow  # waits seconds of real time
def test_threads_share_the_rate() -> None:
    """Eight threads together stay at the pacer's rate, not eight times it."""
    pacer = Pacer(per_minute=6000)  # 100 a second, burst of about 100
    threads = [
        threading.Thread(target=lambda: [pacer.acquire() for _ in range(40)]) for _ in range(8)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 2.0  # 320 requests: 100 at once, 220 at 100 a second


NOW = dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)
FAST = RetryPolicy(attempts=2, backoff=0.01, max_wait=5, secondary_wait=0.5, timeout=5)


def test_secondary_limit_slows_every_worker() -> None:
    """A secondary-limit answer to one worker pauses the others and halves the shared rate."""
    repos = [SimRepo(f"octo/r{i}", i, dt.date(2025, 1, 1)) for i in range(8)]
    with SimulatedGitHub(repos, now=NOW, token="ghp_t", viewer="octo") as sim:
        sim.fail(
            r"^/repos/octo/r0/traffic/views$",
            403,
            message="You have exceeded a secondary rate limit.",
        )
        pacer = Pacer(per_minute=60_000)
        source = GitHubSource(token="ghp_t", api_url=sim.url, policy=FAST, pacer=pacer)
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=source.observe, args=(r.full_name,), kwargs={"fetched_on": NOW.date()}
            )
            for r in repos
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert time.monotonic() - started >= 0.5
        assert pacer.slowdowns == 1
        assert pacer.per_minute == pytest.approx(30_000)
        assert pacer.requests == 8 * 5 + 1  # the retry went through the pacer too
        assert source.remaining_requests() == 5000 - len(
            [r for r in sim.requests if r.path != "/rate_limit"]
        )


def test_a_followed_redirect_is_paced_and_counted() -> None:
    """A renamed repo's old name answers 301 and PyGithub follows it: that request waits its
    turn and counts like any other, so the budget refuses the one request too many."""
    repos = [SimRepo("octo/old-name", 7, dt.date(2025, 1, 1))]
    with SimulatedGitHub(repos, now=NOW, token="ghp_t", viewer="octo") as sim:
        sim.rename("octo/old-name", "octo/new-name")
        clock = FakeClock()
        pacer = Pacer(per_minute=60, clock=clock, sleep=clock.sleep)  # a turn a second
        source = GitHubSource(token="ghp_t", api_url=sim.url, policy=FAST, pacer=pacer)
        observation = source.observe("octo/old-name", fetched_on=NOW.date())
        assert observation.repo.full_name == "octo/new-name"
        served = [r.path for r in sim.requests if r.path != "/rate_limit"]
        assert served[:2] == ["/repos/octo/old-name", "/repositories/7"]
        assert pacer.requests == len(served) == 6
        assert clock.now == pytest.approx(1000.0 + 6 - 2)  # two in the burst, then one a second

        budget = Pacer(per_minute=60_000, budget=5)
        limited = GitHubSource(token="ghp_t", api_url=sim.url, policy=FAST, pacer=budget)
        before = len(sim.requests)
        with pytest.raises(BudgetSpentError):
            limited.observe("octo/old-name", fetched_on=NOW.date())
        assert len(sim.requests) - before == budget.requests == 5


def test_rate_limit_lookup_waits_its_turn_but_is_free() -> None:
    """`GET /rate_limit` takes a turn from the pacer but is not counted or refused by the
    budget: GitHub does not count it against the hourly limit."""
    with SimulatedGitHub([], now=NOW, token="ghp_t", viewer="octo") as sim:
        clock = FakeClock()
        pacer = Pacer(per_minute=60, budget=1, clock=clock, sleep=clock.sleep)
        source = GitHubSource(token="ghp_t", api_url=sim.url, policy=FAST, pacer=pacer)
        for _ in range(4):
            assert source.remaining_requests() == 5000
        assert pacer.requests == 0
        assert clock.now == pytest.approx(1000.0 + 4 - 2)
