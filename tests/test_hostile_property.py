"""Whatever one repo's answers are, the run keeps every stored day and every secret.

Hypothesis gives one repo of three an arbitrary answer for one of its endpoints: any status
(but 401, which by design stops collection for all), any headers (but GitHub's rate-limit
ones, which by design hold the run back), any body (arbitrary JSON, GitHub's real answer with
one value replaced or cut short, raw bytes), sometimes cut off mid-body, for a few tries in a
row. The run goes through `traffic_sync.cli.main` as the action's does, in process so that
each example takes about a second: only the fetch day is fixed and the retry policy short.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import branch
from traffic_sync import cli
from traffic_sync.actions import Reporter
from traffic_sync.core.config import Settings
from traffic_sync.core.models import RunReport
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import RetryPolicy
from traffic_sync.github.rest import GitHubSource
from traffic_sync.sync import run

pytestmark = pytest.mark.slow  # property runs of the entrypoint

TOKEN = "ghp_propertyToken0123456789abcdef"
DAY0 = dt.datetime(2026, 5, 4, 12, 30, tzinfo=dt.UTC)
DAY1 = DAY0 + dt.timedelta(days=1)
BAD = "octo-org/target"
GOOD = ("octo-org/steady", "octo-org/small")
WORLD = [
    SimRepo(BAD, 401, dt.date(2025, 1, 1), daily_views=40, daily_clones=4, seed=3),
    SimRepo(GOOD[0], 402, dt.date(2025, 1, 1), daily_views=25, daily_clones=3, seed=4),
    SimRepo(GOOD[1], 403, dt.date(2025, 1, 1), daily_views=10, daily_clones=1, seed=6),
]
DATA_PATH = "traffic"
ENDPOINTS = ("", "/traffic/views", "/traffic/clones", "/traffic/popular/referrers")
ENDPOINTS += ("/traffic/popular/paths",)
POLICY = RetryPolicy(attempts=1, backoff=0.01, max_wait=2, secondary_wait=0.01, timeout=1)
# `TRAFFIC_SYNC_HOSTILE_EXAMPLES=500` explores more (with random draws): a soak run
SOAK = int(os.environ.get("TRAFFIC_SYNC_HOSTILE_EXAMPLES", "0"))
BOUND = 30.0  # seconds: 2 tries of 1 s for each of a repo's 5 requests, and the rest


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    return st.recursive(
        scalars | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=12,
    )


def header_values() -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Content-Type",
            "Content-Length",
            "Content-Encoding",
            "Transfer-Encoding",
            "Location",
            "Link",
            "Connection",
            "X-Anything",
        ]
    ),
    st.one_of(
        header_values(),
        st.sampled_from(["chunked", "gzip", "close", "text/html", "0", "99999", "-1"]),
    ),
    max_size=3,
)
STATUSES = st.one_of(
    st.sampled_from([200, 200, 200, 204, 301, 304, 403, 404, 422, 500, 503]),
    st.integers(100, 599).filter(lambda status: status != 401),
)


def replaced(answer: Any, path: list[Any], value: Any) -> Any:
    """`answer` with the value at `path` (indices into lists and objects) replaced."""
    if not path or not isinstance(answer, list | dict) or not answer:
        return value
    keys = list(range(len(answer))) if isinstance(answer, list) else list(answer)
    key = keys[path[0] % len(keys)]
    copy = list(answer) if isinstance(answer, list) else dict(answer)
    copy[key] = replaced(answer[key], path[1:], value)
    return copy


@st.composite
def bodies(draw: st.DrawFn, real: Any) -> bytes:
    """Bytes a server could send instead of `real` (GitHub's own answer)."""
    text = json.dumps(real).encode()
    kind = draw(st.sampled_from(["json", "one-value", "cut", "bytes", "real"]))
    if kind == "json":
        return json.dumps(draw(json_values())).encode()
    if kind == "one-value":
        path = draw(st.lists(st.integers(0, 50), min_size=1, max_size=4))
        return json.dumps(replaced(real, path, draw(json_values()))).encode()
    if kind == "cut":
        return text[: draw(st.integers(0, len(text) - 1))]
    if kind == "bytes":
        return draw(st.binary(max_size=80))
    return text


@pytest.fixture(scope="module")
def github() -> Iterator[SimulatedGitHub]:
    with SimulatedGitHub(WORLD, now=DAY0, token=TOKEN, orgs=["octo-org"]) as sim:
        yield sim


@pytest.fixture(scope="module")
def real_answers(github: SimulatedGitHub) -> dict[str, Any]:
    """GitHub's true answer to each endpoint of the bad repo on DAY1: what bodies vary."""
    github.now = DAY1
    return {endpoint: real_answer(github, f"/repos/{BAD}{endpoint}") for endpoint in ENDPOINTS}


@pytest.fixture(scope="module")
def history(github: SimulatedGitHub, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data branch after one good run on DAY0 (copied by each example)."""
    base = tmp_path_factory.mktemp("property")
    remote = branch.init_bare(base / "data.git")
    github.now = DAY0
    code, out = run_main(github, remote, base / "run", DAY0)
    assert code == 0, out
    return remote


def run_main(sim: SimulatedGitHub, remote: Path, folder: Path, now: dt.datetime) -> tuple[int, str]:
    """`cli.main` as the action runs it, on day `now`, with the short retry policy."""

    def sync(settings: Settings, *, reporter: Reporter, env: Any) -> RunReport:
        source = GitHubSource(token=settings.token, api_url=settings.api_url, policy=POLICY)
        work = folder / "work"
        work.mkdir(parents=True, exist_ok=True)
        return run(
            settings,
            today=now.date(),
            source=source,
            log=reporter,
            workdir=work,
            cwd=folder,
            sleep=lambda _s: None,
        )

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("output", "summary.md"):
        (folder / name).write_text("")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": sim.url,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "octo-org/site",
        "GITHUB_OUTPUT": str(folder / "output"),
        "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
        "INPUT_TOKEN": TOKEN,
        "INPUT_REPOS": "octo-org/*",
        "INPUT_SINK": "branch",
        "INPUT_DATA-REPOSITORY": str(remote),
        "INPUT_DATA-PATH": DATA_PATH,
        "INPUT_FAIL-ON-ERROR": "false",
        "INPUT_CONCURRENCY": "3",
    }
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith(("INPUT_", "GITHUB_"))]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(cli, "sync", sync)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([])
    return code, out.getvalue() + err.getvalue()


def real_answer(sim: SimulatedGitHub, path: str) -> Any:
    answer = requests.get(
        f"{sim.url}{path}", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    )
    return answer.json()


def rows_kept(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """No stored row of any repo is dropped or lowered, no final day made not final."""
    branch.assert_rows_kept(before, after, data_path=DATA_PATH)


@settings(
    max_examples=SOAK or 25,
    derandomize=not SOAK,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_one_repo_answered_anything_costs_no_stored_day(
    data: st.DataObject, github: SimulatedGitHub, history: Path, real_answers: dict[str, Any]
) -> None:
    """Any answer to one repo: the run ends in time, the other repos' new day is committed,
    no stored row is dropped or lowered, nothing is written outside data-path, and the token
    appears nowhere (output, summary, outputs, files, commit messages)."""
    github.clear_failures()
    github.new_hour()  # each example as the first of its hour: GitHub's rate limit is not hit
    github.now = DAY1
    endpoint = data.draw(st.sampled_from(ENDPOINTS), label="endpoint")
    path = f"/repos/{BAD}{endpoint}"
    body = data.draw(bodies(real_answers[endpoint]), label="body")
    github.fail(
        f"^{path}$",
        data.draw(STATUSES, label="status"),
        times=data.draw(st.integers(1, 4), label="times"),
        headers=data.draw(HEADERS, label="headers"),
        body=body,
        cut=data.draw(st.none() | st.integers(0, max(0, len(body) - 1)), label="cut"),
    )
    with tempfile.TemporaryDirectory() as folder:
        remote = Path(folder) / "data.git"
        shutil.copytree(history, remote)
        before = branch.files(remote)
        started = time.monotonic()
        _, output = run_main(github, remote, Path(folder) / "run", DAY1)
        took = time.monotonic() - started
        after = branch.files(remote)
        messages = branch.git("-C", str(remote), "log", "--format=%B", "traffic-data").decode()
        runner_files = [(Path(folder) / "run" / n).read_text() for n in ("output", "summary.md")]

    assert took < BOUND, output
    assert "Unexpected error" not in output, output
    for name in GOOD:
        stats = branch.rows(after, f"{DATA_PATH}/{name}", "stats")
        assert stats[-1]["date"] == DAY1.date().isoformat(), output
    rows_kept(before, after)
    changed = {p for p in after if before.get(p) != after[p]} | (set(before) - set(after))
    assert all(p.startswith(f"{DATA_PATH}/") for p in changed), changed
    shown = "\n".join(line for line in output.splitlines() if not line.startswith("::add-mask::"))
    everything = [
        shown,
        messages,
        *runner_files,
        *(b.decode("utf-8", "replace") for b in after.values()),
    ]
    assert not any(TOKEN in text for text in everything)
