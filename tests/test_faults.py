"""A month of daily runs under faults drawn from a seeded plan: nothing lost, lowered or doubled.

Each day the real entrypoint runs as the Actions runner runs it (see tests/runner.py) against the
simulated GitHub, writing to a bare git remote. A `random.Random(seed)` draws the month: days
without a run, server errors, answers slower than `request-timeout`, primary rate limits (403 or
429 with `x-ratelimit-remaining: 0`, a short reset or one an hour away), secondary limits
(`retry-after`), retries that run out, another writer whose commit lands between a run's
fetch and its push or during its push, and runs killed (SIGKILL, every process of the step)
while collecting, while pushing (the server finishing the push, or dying too), after the push
landed, or at a random moment.

After every run, killed or not, the branch is the previous tip or a descendant of it whose tree
is complete: every repo folder has its period files (layout 2), each JSON parses, CSV and JSON
hold the same rows, each row is in the file of its date's period, state.json parses; and no value
is lower than in any earlier tip. At the end, every day that a saved fetch made final is there,
final, and equal to the true traffic.

The seed is in the test id. `TRAFFIC_SYNC_FAULT_SEEDS=1,2,3` runs other seeds (a soak run).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.helpers.gitrepo import hold_script
from tests.helpers.trees import SNAPSHOT_KEYS, check_tree, folders
from tests.runner import (
    RunningStep,
    StepResult,
    finish_step,
    kill_step,
    run_step,
    start_step,
    wait_for_exit,
)
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.demo.traffic import Metric

pytestmark = pytest.mark.slow  # a month of entrypoint runs under faults

SEED = 20260301
SEEDS = [int(s) for s in os.environ.get("TRAFFIC_SYNC_FAULT_SEEDS", "").split(",") if s.strip()]
TOKEN = "ghp_faultsSimulatedToken0123456789"
START = dt.date(2026, 3, 1)
DAYS = 30
WORLD = [
    SimRepo("octo-org/busy", 201, dt.date(2024, 5, 1), daily_views=150, daily_clones=11, seed=2),
    SimRepo(
        "octo-org/weekdays",
        202,
        dt.date(2025, 2, 1),
        daily_views=20,
        daily_clones=2,
        zero_weekdays=frozenset({5, 6}),
        seed=4,
    ),
    SimRepo("octo-org/newborn", 203, START + dt.timedelta(days=6), daily_views=30, seed=6),
    # an odd seed: a page title with markup, a newline and a workflow command in its paths
    SimRepo("octocat/tiny", 204, dt.date(2025, 8, 1), daily_views=3, daily_clones=1, seed=9),
]
NAMES = [repo.full_name for repo in WORLD]
ENDPOINTS = ("", "/traffic/views", "/traffic/clones", "/traffic/popular/referrers")
ENDPOINTS += ("/traffic/popular/paths",)
REQUEST_TIMEOUT = 1  # seconds: the `request-timeout` input
SLOW = 1.5  # an answer this late trips the timeout
HELD = 5.0  # a pending answer the test kills the run during
# The contract's columns (DESIGN.md, "Data branch layout"), in CSV order.
# How often each fault and event happens in the month; where and to which repo is drawn.
FAULTS = {"5xx": 7, "timeout": 3, "primary": 2, "secondary": 2, "primary-long": 1, "exhausted": 1}
EVENTS = {
    "race-after-fetch": 1,
    "race-during-push": 1,
    "kill-collecting": 2,
    "kill-pushing": 1,
    "kill-pushing-server-dies": 1,
    "kill-after-push": 1,
    "kill-anywhere": 3,
}
# The hook that holds the run's fetch or push on days with these events.
HOOKS = {
    "race-after-fetch": "pack-objects",
    "race-during-push": "pre-receive",
    "kill-pushing": "pre-receive",
    "kill-pushing-server-dies": "pre-receive",
    "kill-after-push": "post-receive",
}
# Whether the branch moves when the run is killed at that point: a push the server took is done.
KILLS_MOVE_BRANCH = {
    "kill-collecting": False,
    "kill-pushing": True,  # the client dies, the server goes on
    "kill-pushing-server-dies": False,
    "kill-after-push": True,
}
SKIPPED_DAYS = 3
STOPPING = {"exhausted", "primary-long"}  # the repo is failed, or skipped until a later run


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One injected answer: `times` requests matching `path` get it."""

    kind: str
    repo: str
    endpoint: str
    status: int
    times: int = 1
    headers: tuple[tuple[str, str], ...] = ()
    message: str = ""
    delay: float = 0.0

    @property
    def path(self) -> str:
        """The regex of the request path it answers."""
        return f"^/repos/{re.escape(self.repo)}{re.escape(self.endpoint)}$"

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.repo}{self.endpoint}"


@dataclass(frozen=True)
class Day:
    """What happens on one simulated day."""

    day: dt.date
    hour: int
    run: bool = True
    faults: tuple[Fault, ...] = ()
    event: str = ""
    kill_after: float = 0.0  # kill-anywhere: seconds after the run's first request
    racer: tuple[str, ...] = ()  # race: the repos of the other writer

    @property
    def now(self) -> dt.datetime:
        return at(self.day, self.hour)

    def __str__(self) -> str:
        if not self.run:
            return f"{self.day} no run"
        parts = [f"{self.day} {self.hour:02d}:30", *map(str, self.faults)]
        if self.event:
            parts.append(f"{self.event}" + (f" {self.kill_after:.2f}s" if self.kill_after else ""))
        return ", ".join(parts)


def draw_month(seed: int) -> list[Day]:
    """The month's plan: every kind of fault and event, on days and repos the seed picks."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    indexes = list(range(DAYS))
    skipped = set(rng.sample(indexes[1:], SKIPPED_DAYS))
    run_days = [i for i in indexes if i not in skipped]
    events: dict[int, str] = {}
    pool = [event for event, count in EVENTS.items() for _ in range(count)]
    # not on the first run: a race needs a branch to fetch
    for index, event in zip(rng.sample(run_days[1:], len(pool)), pool, strict=True):
        events[index] = event
    hours = {i: rng.randrange(24) for i in indexes}
    faults: dict[int, list[Fault]] = {i: [] for i in indexes}
    # faults that fail or skip a repo stay off event days: a kill would hide what they do, and
    # a run stopped early may never reach the moment it is to be killed at
    quiet_days = [i for i in run_days if i not in events]
    for kind, count in FAULTS.items():
        first = rng.randrange(2)
        for number in range(count):
            index = rng.choice(quiet_days if kind in STOPPING else run_days)
            status = (403, 429)[(first + number) % 2]  # a rate limit's 403 and 429 both, if two
            now = at(START + dt.timedelta(days=index), hours[index])
            fault = draw_fault(rng, kind, status=status, now=now)
            faults[index].append(fault)
    for index, event in events.items():
        if event == "kill-collecting":  # a slow answer the run is killed while waiting for
            target = (rng.choice(NAMES), rng.choice(ENDPOINTS))
            faults[index].append(Fault("held", *target, 200, delay=HELD))
    month = []
    for index in indexes:
        event = events.get(index, "")
        month.append(
            Day(
                START + dt.timedelta(days=index),
                hours[index],
                run=index not in skipped,
                faults=tuple(faults[index]),
                event=event,
                kill_after=round(rng.uniform(0.1, 0.8), 2) if event == "kill-anywhere" else 0.0,
                racer=tuple(sorted(rng.sample(NAMES, 2))) if event.startswith("race") else (),
            )
        )
    return month


def draw_fault(rng: random.Random, kind: str, *, status: int, now: dt.datetime) -> Fault:
    """One fault of `kind` for a drawn repo and endpoint, with GitHub's headers; `status` is
    the rate limits' 403 or 429."""
    target = (rng.choice(NAMES), rng.choice(ENDPOINTS))
    if kind == "5xx":
        return Fault(kind, *target, rng.choice([500, 502, 503, 504]))
    if kind == "timeout":
        return Fault(kind, *target, 200, delay=SLOW)
    if kind in ("primary", "primary-long"):
        reset = int(now.timestamp()) + (1 if kind == "primary" else 3600)
        headers = (("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", str(reset)))
        message = "API rate limit exceeded for user ID 1."
        return Fault(kind, *target, status, headers=headers, message=message)
    if kind == "secondary":
        message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        return Fault(kind, *target, status, headers=(("retry-after", "1"),), message=message)
    # a server that stays down past every retry (its retry-after keeps the test quick)
    return Fault(kind, *target, 503, times=5, headers=(("retry-after", "1"),))


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 30), tzinfo=dt.UTC)


# --- what the branch looks like -----------------------------------------------------------------

Series = dict[str, tuple[int, int, bool]]  # date -> (count, uniques, final)


@dataclass
class Ledger:
    """What the branch has held so far, to check each new tip against."""

    remote: Path
    tip: str = ""
    tree: dict[str, bytes] = field(default_factory=dict)
    series: dict[tuple[str, str], Series] = field(default_factory=dict)  # (repo, metric)
    snapshot_dates: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def check_tip(self, what: str) -> bool:
        """The branch is the previous tip, or a new commit on top of it with a whole tree whose
        values are none lower than before; True when it moved."""
        tip = branch.tip(self.remote)
        if tip == self.tip:
            return False
        if self.tip:
            base = branch.git("-C", str(self.remote), "merge-base", self.tip, tip).decode()
            assert base.strip() == self.tip, f"{what}: the branch was rewritten"
        tree = branch.files(self.remote, tip)
        check_tree(tree, what, names=NAMES)
        self.check_growth(tree, what)
        self.tip, self.tree = tip, tree
        return True

    def check_growth(self, tree: dict[str, bytes], what: str) -> None:
        """No folder or row dropped, no value lowered, no final day made not final again."""
        gone = {name for name, _ in self.series} - folders(tree)
        assert not gone, f"{what}: the folders of {sorted(gone)} went away"
        for name in folders(tree):
            for metric in ("views", "clones"):
                rows = branch.rows(tree, name, metric)
                now = {r["date"]: (r["count"], r["uniques"], r["final"]) for r in rows}
                for date, (count, uniques, final) in self.series.get((name, metric), {}).items():
                    where = f"{what}: {name} {metric} {date}"
                    assert date in now, f"{where} was dropped"
                    assert now[date][0] >= count, f"{where}: count {count} -> {now[date][0]}"
                    assert now[date][1] >= uniques, f"{where}: uniques {uniques} -> {now[date][1]}"
                    assert now[date][2] or not final, f"{where} is not final any more"
                self.series[(name, metric)] = now
            for dataset in SNAPSHOT_KEYS:
                dates = {r["date"] for r in branch.rows(tree, name, dataset)}
                before = self.snapshot_dates.get((name, dataset), set())
                assert before <= dates, f"{what}: {name} {dataset} lost {sorted(before - dates)}"
                self.snapshot_dates[(name, dataset)] = dates

    def fetch_days(self, name: str) -> set[dt.date]:
        """The days whose fetch of `name` was saved: its stats have a row for each."""
        return {dt.date.fromisoformat(r["date"]) for r in branch.rows(self.tree, name, "stats")}


# --- running the month --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one run ended: killed (a negative exit code) or not, and whether the tip moved."""

    who: str  # "a": the day's run, "b": the other writer of a race
    day: Day
    repos: tuple[str, ...]
    result: StepResult
    moved: bool
    seconds: float

    @property
    def killed(self) -> bool:
        return self.result.returncode < 0

    def __str__(self) -> str:
        end = "killed" if self.killed else f"exit {self.result.returncode}"
        moved = "moved" if self.moved else "kept"
        return f"  run {self.who}: {end}, branch {moved} ({self.seconds:.1f} s)"


class Month:
    """The simulated GitHub, the data remote with its hooks, and the runs so far."""

    def __init__(self, sim: SimulatedGitHub, tmp_path: Path) -> None:
        self.sim = sim
        self.tmp_path = tmp_path
        self.remote = branch.init_bare(tmp_path / "data.git")
        self.control = tmp_path / "control"
        self.control.mkdir()
        for hook in ("pre-receive", "post-receive"):
            hold_script(self.remote / "hooks" / hook, hook, self.control, then="cat >/dev/null")
        # git reads uploadpack.packObjectsHook from the global config only: a HOME of our own
        self.home = tmp_path / "home"
        fetch_hook = hold_script(tmp_path / "pack-objects", "pack-objects", self.control)
        self.home.mkdir()
        (self.home / ".gitconfig").write_text(f"[uploadpack]\n\tpackObjectsHook = {fetch_hook}\n")
        self.ledger = Ledger(self.remote)
        self.outcomes: list[Outcome] = []

    def run(self, day: Day) -> None:
        """One day: inject the faults, run, and do what the day's event says."""
        self.sim.clear_failures()
        for fault in day.faults:
            self.sim.fail(
                fault.path,
                fault.status,
                times=fault.times,
                headers=dict(fault.headers),
                message=fault.message,
                delay=fault.delay,
            )
        first_request, started = len(self.sim.requests), time.monotonic()
        hook = HOOKS.get(day.event, "")
        if hook:
            (self.control / f"{hook}.hold").touch()
        self.sim.now = day.now
        step = start_step(
            self.inputs(tuple(NAMES)),
            now=day.now,
            api_url=self.sim.url,
            workspace=self.tmp_path / "ws-a",
            extra_env={"HOME": str(self.home)},
        )
        if day.event.startswith("race"):
            if self.wait(step, (self.control / f"{hook}.held").exists):
                self.race(day)
            (self.control / f"{hook}.go").touch()
        elif day.event:
            if hook:
                ready = (self.control / f"{hook}.held").exists
            elif day.event == "kill-collecting":
                held = next(f for f in day.faults if f.kind == "held")
                ready = self.requested(held.path, since=first_request)
            else:
                ready = self.after(day.kill_after, since=first_request)
            if self.wait(step, ready):
                server = None if day.event == "kill-pushing-server-dies" else "receive-pack"
                spared = kill_step(step, spare=server)
                if hook:
                    (self.control / f"{hook}.go").touch()
                wait_for_exit(spared)
        result = finish_step(step)
        for leftover in self.control.iterdir():
            leftover.unlink()
        self.record("a", day, tuple(NAMES), result, started)

    def race(self, day: Day) -> None:
        """Another writer (a run for two of the repos, later that day) pushes first."""
        self.sim.clear_failures()
        started = time.monotonic()
        now = day.now.replace(hour=min(23, day.hour + 4))
        self.sim.now = now
        result = run_step(
            self.inputs(day.racer),
            now=now,
            api_url=self.sim.url,
            workspace=self.tmp_path / "ws-b",
            extra_env={"HOME": str(self.home)},
        )
        self.record("b", day, day.racer, result, started)

    def inputs(self, repos: tuple[str, ...]) -> dict[str, str]:
        return {
            "token": TOKEN,
            "repos": ", ".join(repos),
            "data-repository": str(self.remote),
            "data-branch": "traffic-data",
            "fail-on-error": "true",
            "concurrency": "2",
            "requests-per-minute": "6000",
            "request-timeout": str(REQUEST_TIMEOUT),
        }

    def record(
        self, who: str, day: Day, repos: tuple[str, ...], result: StepResult, started: float
    ) -> None:
        moved = self.ledger.check_tip(f"{day.day} run {who} (exit {result.returncode})")
        outcome = Outcome(who, day, repos, result, moved, time.monotonic() - started)
        print(outcome)
        self.outcomes.append(outcome)
        if not outcome.killed:
            check_reported(outcome, self.ledger)

    def wait(self, step: RunningStep, ready: Callable[[], bool], timeout: float = 60) -> bool:
        """Wait until `ready()`; False when the run ended first."""
        deadline = time.monotonic() + timeout
        while not ready():
            if step.process.poll() is not None:
                return False
            assert time.monotonic() < deadline, "the run never reached the point to kill it at"
            time.sleep(0.005)
        return True

    def requested(self, pattern: str, *, since: int) -> Callable[[], bool]:
        """Ready once a request matching `pattern` arrived: its answer is pending."""
        compiled = re.compile(pattern)
        return lambda: any(compiled.search(r.path) for r in self.sim.requests[since:])

    def after(self, seconds: float, *, since: int) -> Callable[[], bool]:
        """Ready `seconds` after the run's first request."""
        started: list[float] = []

        def ready() -> bool:
            if not started and len(self.sim.requests) > since:
                started.append(time.monotonic())
            return bool(started) and time.monotonic() - started[0] >= seconds

        return ready


def check_reported(outcome: Outcome, ledger: Ledger) -> None:
    """A run that ended by itself says what it saved, and what it says it saved is there; a repo
    whose retries ran out or that met an hour-long rate limit is not saved, the others are."""
    result, fetched = outcome.result, outcome.day.day
    log = result.stdout + result.stderr
    saved = {name for name in outcome.repos if fetched in ledger.fetch_days(name)}
    synced, failed = int(result.outputs["repos-synced"]), int(result.outputs["repos-failed"])
    assert synced <= len(saved), log
    assert synced + failed <= len(outcome.repos), log
    assert result.returncode == (1 if failed else 0), log
    faults = outcome.day.faults if outcome.who == "a" else ()
    assert failed >= sum(f.kind == "exhausted" for f in faults), log
    stopped = {f.repo for f in faults if f.kind in STOPPING}
    assert not saved & stopped, log
    if not stopped:
        assert result.returncode == 0, log
        assert saved == set(outcome.repos), log
        assert synced == len(outcome.repos), log


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture
def github(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(WORLD, now=at(START, 12), token=TOKEN, orgs=["octo-org"])


@pytest.mark.parametrize("seed", SEEDS or [SEED], ids=lambda seed: f"seed={seed}")
def test_a_faulty_month_loses_lowers_and_doubles_nothing(
    seed: int, github: SimulatedGitHub, tmp_path: Path
) -> None:
    """Faults, races and kills over a month: every tip whole and never lower, and at the end
    every day a saved fetch made final is there, final and true."""
    plan = draw_month(seed)
    assert {f.kind for day in plan for f in day.faults} >= set(FAULTS), "a fault is never drawn"
    month = Month(github, tmp_path)
    for day in plan:
        print(day)
        if day.run:
            month.run(day)

    by_event = {o.day.event: o for o in month.outcomes if o.who == "a" and o.day.event}
    for event, moves in KILLS_MOVE_BRANCH.items():
        assert by_event[event].killed, f"{event}: the run ended before the kill"
        assert by_event[event].moved == moves, (
            f"{event}: the branch {'did not move' if moves else 'moved'}"
        )
    for event in ("race-after-fetch", "race-during-push"):
        racing = [o for o in month.outcomes if o.day.event == event]
        assert [o.who for o in racing] == ["b", "a"], f"{event}: the other writer did not go first"
        assert all(o.moved for o in racing), f"{event}: a writer's commit did not land"

    tree = month.ledger.tree
    assert folders(tree) == set(NAMES)
    for repo in WORLD:
        finalable = {
            day
            for fetched in month.ledger.fetch_days(repo.full_name)
            for back in range(2, 14)  # a fetch on day F makes F-13 .. F-2 final
            if (day := fetched - dt.timedelta(days=back)) >= repo.created
        }
        for metric in ("views", "clones"):
            check_metric(github, tree, repo.full_name, metric, finalable)


def check_metric(
    sim: SimulatedGitHub, tree: dict[str, bytes], name: str, metric: Metric, finalable: set[dt.date]
) -> None:
    """Every final-able day is final and true, no other day is final, none is above the truth."""
    rows = {dt.date.fromisoformat(r["date"]): r for r in branch.rows(tree, name, metric)}
    final = {day for day, row in rows.items() if row["final"]}
    assert sorted(finalable - final) == [], f"{name} {metric}: final days lost"
    assert sorted(final - finalable) == [], f"{name} {metric}: days final too early"
    for day, row in rows.items():
        count, uniques = sim.true_traffic(name, metric, day)
        if row["final"]:
            assert (row["count"], row["uniques"]) == (count, uniques), f"{name} {metric} {day}"
        else:
            assert row["count"] <= count, f"{name} {metric} {day}"
            assert row["uniques"] <= uniques, f"{name} {metric} {day}"
