"""One request pacer shared by every worker: GitHub's secondary limits are per token, not per
thread.

GitHub asks for no more than about 900 REST requests a minute and 100 concurrent ones, and for a
pause of at least a minute after a secondary-limit answer:
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
Concurrency is bounded by the worker count (each worker has one request in flight); the rate and
the pauses are this module's job. It also counts requests, and can refuse to go past a budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from traffic_sync.core.errors import RateLimitedError

MIN_PER_MINUTE = 30.0  # slowing down never goes below this


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long collection may wait: bounded, so a rate limit never parks a run for an hour."""

    attempts: int = 4  # retries after the first try, for 5xx, 429, timeouts and rate limits
    backoff: float = 2.0  # seconds, doubled per retry, with jitter
    max_wait: float = 300.0  # a rate-limit wait longer than this stops collection instead
    secondary_wait: float = 60.0  # GitHub asks for at least a minute after a secondary limit
    timeout: float = 30.0  # seconds per request
    # extra spacing per client; the shared Pacer keeps the whole run under GitHub's secondary
    # limits, so no per-client pause is needed (PyGithub's default of 250 ms would make a
    # 1,000-repo run take 20 minutes of sleeping)
    pause: float = 0.0


class BudgetSpentError(RateLimitedError):
    """The run's request budget (`max-requests`) is used up."""

    title = "Request budget used up"


class Pacer:
    """A token bucket (GCRA) with a short burst, a shared hold, and a request counter."""

    def __init__(
        self,
        *,
        per_minute: float = 900.0,
        budget: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 60.0 / per_minute
        self._tolerance = 1.0  # at most about a second's worth of requests at once
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = 0.0  # the theoretical arrival time of the next request
        self._held_until = 0.0
        self.requests = 0  # requests let through, retries included
        self.slowdowns = 0

    @property
    def per_minute(self) -> float:
        return 60.0 / self._interval

    def acquire(self, *, free: bool = False) -> None:
        """Wait for this request's turn; raise BudgetSpentError once the budget is used.

        A `free` request (`GET /rate_limit`, which GitHub does not count against the hourly
        limit) still waits its turn, but is neither counted nor refused by the budget.
        """
        with self._lock:
            if not free:
                self._count()
            now = self._clock()
            start = max(now, self._held_until)
            tat = max(self._tat, start)
            at = max(start, tat - self._tolerance)
            self._tat = tat + self._interval
        if at > now:
            self._sleep(at - now)

    def _count(self) -> None:
        """One more request against the budget (the lock is held)."""
        if self._budget is not None and self.requests >= self._budget:
            raise BudgetSpentError(
                f"The request budget of {self._budget:,} (max-requests) is used up.",
                fix="The repos not reached are reported as skipped; the next run "
                "visits them first (stalest first).",
            )
        self.requests += 1

    def slow_down(self, seconds: float, *, halve_rate: bool = True) -> None:
        """A rate-limit answer: every worker waits `seconds`; after a secondary limit the rate
        is halved for the rest of the run."""
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)
            if halve_rate:
                self._interval = min(self._interval * 2, 60.0 / MIN_PER_MINUTE)
            self.slowdowns += 1
