"""Many repos: budgets (stalest first, gap warnings), renamed repos, and shards of a matrix."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests import branch
from tests.helpers.factories import StartGitHub
from tests.helpers.sync import REPOS, TOKEN, ListLog, settings_for, sync_once
from tests.runner import StepResult, finish_step, start_step
from traffic_sync.branch.codec import encode_history
from traffic_sync.core.models import (
    DailyRow,
    History,
    Observation,
    RepoInfo,
    RepoStatus,
    TrafficAnswer,
)
from traffic_sync.demo import SimRepo, SimulatedGitHub
from traffic_sync.github.pacer import Pacer
from traffic_sync.stages.plan import plan_files
from traffic_sync.sync import store_options

pytestmark = pytest.mark.slow  # hundreds of repos through whole runs

START = dt.date(2026, 3, 2)


@pytest.fixture
def sim(start_github: StartGitHub) -> SimulatedGitHub:
    return start_github(REPOS, now=dt.datetime(2026, 3, 2, 13, tzinfo=dt.UTC), token=TOKEN)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(13, 0), tzinfo=dt.UTC)


def final_days(tree: dict[str, bytes], full_name: str, metric: str) -> dict[str, tuple[int, int]]:
    rows = branch.rows(tree, full_name, metric)
    return {r["date"]: (r["count"], r["uniques"]) for r in rows if r["final"]}


def test_budget_covering_a_third_keeps_every_history_complete(tmp_path: Path) -> None:
    """300 repos, a token with 100 repos' worth of requests a day: daily runs miss no day."""
    repos = [
        SimRepo(f"octo/r{i:03}", 1000 + i, dt.date(2025, 1, 1), daily_views=5 + i % 7, seed=2 * i)
        for i in range(300)
    ]
    listing = 5  # GET /users/octo, GET /user, three pages of /user/repos
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, repos="octo/*", concurrency="16")
    days = 6  # each repo visited twice, three days apart
    with SimulatedGitHub(
        repos, now=at(START), token=TOKEN, viewer="octo", rate_limit=listing + 100 * 4
    ) as sim:
        for offset in range(days):
            sim.now = at(START + dt.timedelta(days=offset))
            sim.new_hour()
            log = ListLog()
            report = sync_once(sim, settings, tmp_path, log, Pacer(per_minute=100_000))
            statuses = [r.status for r in report.results]
            assert statuses.count(RepoStatus.SAVED) == 100, offset
            assert statuses.count(RepoStatus.SKIPPED) == 200
            assert report.repos_failed == 0
        tree = branch.files(remote)
        last_day = START + dt.timedelta(days=days - 1)
        for index, repo in enumerate(repos):
            state = json.loads(tree[".traffic-sync/state.json"])["repos"][str(repo.id)]
            last_visit = dt.date.fromisoformat(state["last_success"])
            assert (last_day - last_visit).days < 3  # every repo visited every third day
            views = final_days(tree, repo.full_name, "views")
            first_visit = START + dt.timedelta(days=index // 100)  # never-synced go first
            first = first_visit - dt.timedelta(days=13)
            expected = {
                (first + dt.timedelta(days=n)).isoformat(): sim.true_traffic(
                    repo.full_name, "views", first + dt.timedelta(days=n)
                )
                for n in range((last_visit - first).days - 1)
            }
            assert views == expected, repo.full_name


def test_stalest_first_and_gap_warning(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """With room for one repo, the one synced longest ago goes first; one 11 days stale is
    reported at risk of a gap while it waits."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_once(sim, settings_for(remote), tmp_path)  # alpha and beta synced today
    state = json.loads(branch.files(remote)[".traffic-sync/state.json"])
    eleven_days_ago = (sim.now.date() - dt.timedelta(days=11)).isoformat()
    state["repos"]["2"]["last_success"] = eleven_days_ago
    branch.write_file(remote, ".traffic-sync/state.json", json.dumps(state).encode(), tmp_path)
    state["repos"]["1"]["last_success"] = eleven_days_ago
    settings = settings_for(remote, **{"max-requests": "5"})
    log = ListLog()
    report = sync_once(sim, settings, tmp_path, log)
    by_name = {r.full_name: r for r in report.results}
    assert by_name["octo/beta"].status is RepoStatus.SAVED
    skipped = by_name["octo/alpha"]
    assert skipped.status is RepoStatus.SKIPPED
    assert "gap" not in skipped.error  # synced today: not at risk
    edit = tmp_path / "second-edit"
    branch.write_file(remote, ".traffic-sync/state.json", json.dumps(state).encode(), edit)
    report = sync_once(sim, settings_for(remote, **{"max-requests": "5"}), tmp_path, log)
    skipped = next(r for r in report.results if r.status is RepoStatus.SKIPPED)
    assert "within 1 day" in skipped.error
    assert any(where == skipped.full_name for _, where in log.warnings)


def test_renamed_repo_moves_its_history(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """A repo renamed between runs keeps one history, in the new folder, and the run says so."""
    remote = branch.init_bare(tmp_path / "data.git")
    settings = settings_for(remote, repos="octo/alpha octo/beta")
    sync_once(sim, settings, tmp_path)
    before = branch.rows(branch.files(remote), "octo/alpha", "views")
    sim.rename("octo/alpha", "octo-new/alpha-2")
    sim.now += dt.timedelta(days=1)
    log = ListLog()
    report = sync_once(sim, settings, tmp_path, log)  # still lists the old name: a 301
    tree = branch.files(remote)
    assert not any(p.startswith("octo/alpha/") for p in tree)
    after = branch.rows(tree, "octo-new/alpha-2", "views")
    assert {r["date"] for r in before} <= {r["date"] for r in after}
    stats = branch.rows(tree, "octo-new/alpha-2", "stats")
    assert len(stats) == 2  # both days' snapshots, in one folder
    state = json.loads(tree[".traffic-sync/state.json"])["repos"]["1"]
    assert state["full_name"] == "octo-new/alpha-2"
    (moved,) = [r for r in report.results if r.renamed_from]
    assert (moved.full_name, moved.renamed_from) == ("octo-new/alpha-2", "octo/alpha")
    assert any("octo/alpha is now octo-new/alpha-2" in line for line in log.lines)
    assert "octo/alpha" not in tree["README.md"].decode().replace("octo/alpha-", "")
    assert branch.commit_count(remote) == 2


def test_rename_merges_when_both_folders_exist() -> None:
    """If the new folder already holds rows (say a run of an older version), both merge."""
    repo = RepoInfo("o/new", 7, dt.date(2025, 1, 1), private=False)
    old = History(views=(DailyRow(dt.date(2026, 1, 1), 5, 2, final=True),))
    new = History(
        views=(
            DailyRow(dt.date(2026, 1, 1), 3, 3, final=False),
            DailyRow(dt.date(2026, 1, 2), 4, 1, final=True),
        )
    )
    current = {f"o/old/{k}": v.encode() for k, v in encode_history(old).items()}
    current |= {f"o/new/{k}": v.encode() for k, v in encode_history(new).items()}
    current[".traffic-sync/state.json"] = json.dumps(
        {"schema": 2, "repos": {"7": {"full_name": "o/old", "last_success": "2026-01-03"}}}
    ).encode()
    today = dt.date(2026, 1, 20)
    observation = Observation(repo, today, TrafficAnswer(0, 0), TrafficAnswer(0, 0))
    plan = plan_files(
        current, [observation], today=today, target=store_options(settings_for("./x")).target
    )
    views = json.loads(plan.files["o/new/views/2026.json"])
    assert views[:2] == [
        {"date": "2026-01-01", "count": 5, "uniques": 3, "final": True},
        {"date": "2026-01-02", "count": 4, "uniques": 1, "final": True},
    ]
    # the old folder goes, and its derived totals with it
    old_folder = {p for p in current if p.startswith("o/old/")}
    assert set(plan.deletes) == old_folder | {".traffic-sync/totals/o/old.json"}
    assert plan.results[0].renamed_from == "o/old"


def traffic_requests(sim: SimulatedGitHub) -> dict[str, int]:
    """Requests per repo, `GET /repos/{o}/{r}` and traffic calls alike: "o/r" -> count."""
    counts: dict[str, int] = {}
    for request in sim.requests:
        parts = request.path.split("/")
        if len(parts) >= 4 and parts[1] == "repos":
            name = f"{parts[2]}/{parts[3]}".lower()
            counts[name] = counts.get(name, 0) + 1
    return counts


def stored_ids(remote: Path) -> set[str]:
    return set(json.loads(branch.files(remote)[".traffic-sync/state.json"])["repos"])


def test_shards_of_a_listing_split_the_repos_by_id(sim: SimulatedGitHub, tmp_path: Path) -> None:
    """`owner/*` in 3 shards: every shard lists, each fetches only its ids, all are stored."""
    remote = branch.init_bare(tmp_path / "data.git")
    listed = [r for r in REPOS if not r.private]  # another user's listing: public repos
    for index in (1, 2, 3):
        sim.requests.clear()
        settings = settings_for(remote, repos="octo/*", shard=f"{index}/3")
        report = sync_once(sim, settings, tmp_path)
        mine = {r.full_name for r in listed if r.id % 3 == index - 1}
        assert {r.full_name for r in report.results} == mine
        assert traffic_requests(sim) == dict.fromkeys(mine, 4)  # the others cost nothing
        assert any(r.path == "/users/octo/repos" for r in sim.requests)
        assert report.shard == f"{index}/3"
    assert stored_ids(remote) == {str(r.id) for r in listed}
    index_page = branch.files(remote)["README.md"].decode()
    assert all(f"[{r.full_name}]" in index_page for r in listed)


def test_named_repos_cost_other_shards_no_rest_request(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """A named repo no run has synced costs the other shards no REST request: GraphQL's facts
    give its id, and only its own shard fetches its traffic; once state.json has its id, the
    shards choose it without asking."""
    remote = branch.init_bare(tmp_path / "data.git")
    named = "octo/alpha octo/beta octo/gamma"  # ids 1, 2, 3: shard 2/2, 1/2, 2/2
    sim.requests.clear()
    sync_once(sim, settings_for(remote, repos=named, shard="1/2"), tmp_path)
    assert traffic_requests(sim) == {"octo/beta": 4}
    sim.requests.clear()
    log = ListLog()
    sync_once(sim, settings_for(remote, repos=named, shard="2/2"), tmp_path, log)
    assert traffic_requests(sim) == {"octo/alpha": 4, "octo/gamma": 4}  # beta: known, id 2
    assert stored_ids(remote) == {"1", "2", "3"}
    assert any(line.startswith("Shard 2/2: 0 repos by id, 1 left") for line in log.lines)
    sim.now += dt.timedelta(days=1)
    for index, expected in ((1, {"octo/beta": 4}), (2, {"octo/alpha": 4, "octo/gamma": 4})):
        sim.requests.clear()
        sync_once(sim, settings_for(remote, repos=named, shard=f"{index}/2"), tmp_path)
        assert traffic_requests(sim) == expected


def test_a_named_repo_whose_name_was_taken_again_is_not_dropped(
    sim: SimulatedGitHub, tmp_path: Path
) -> None:
    """state.json says a name is id 1 (shard 2/2), but the name now leads to id 4 (shard 1/2):
    shard 2/2 still syncs it, and from then on shard 1/2 owns it."""
    remote = branch.init_bare(tmp_path / "data.git")
    sync_once(sim, settings_for(remote, repos="octo/alpha", shard="2/2"), tmp_path)
    sim.rename("octo/alpha", "octo/alpha-old")
    sim.rename("octo/public-data", "octo/alpha")  # id 4 takes the name
    sim.now += dt.timedelta(days=1)
    first = sync_once(sim, settings_for(remote, repos="octo/alpha", shard="1/2"), tmp_path)
    assert first.results == ()  # by state.json the name is id 1: not this shard's
    second = sync_once(sim, settings_for(remote, repos="octo/alpha", shard="2/2"), tmp_path)
    assert [r.status for r in second.results] == [RepoStatus.SAVED]
    assert "4" in stored_ids(remote)
    sim.now += dt.timedelta(days=1)
    sim.requests.clear()
    assert (
        sync_once(sim, settings_for(remote, repos="octo/alpha", shard="2/2"), tmp_path).results
        == ()
    )
    assert traffic_requests(sim) == {}
    owner = sync_once(sim, settings_for(remote, repos="octo/alpha", shard="1/2"), tmp_path)
    assert [r.status for r in owner.results] == [RepoStatus.SAVED]


# Each push waits at the server until four have arrived (30 s at most), so the four shards'
# first pushes meet: one lands, three must fetch, re-merge and push again.
MEET_FOUR_PUSHES = """#!/bin/sh
echo x >> "$GIT_DIR/arrivals"
i=0
while [ "$(wc -l < "$GIT_DIR/arrivals")" -lt 4 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
"""
SHARD_TOKENS = [f"ghp_shard{k}Token0123456789" for k in range(1, 5)]
ORG_REPOS = [
    SimRepo(f"octo-org/r{n:02}", 200 + n, dt.date(2025, 1, 1), daily_views=3 + n, seed=2 * n)
    for n in range(1, 25)
]
NAMED_REPOS = [
    SimRepo(f"octocat/tool-{n}", 300 + n, dt.date(2025, 6, 1), daily_views=9, seed=4 * n)
    for n in range(1, 4)
]


def run_shards(
    sim: SimulatedGitHub, remote: Path, tmp_path: Path, day: dt.date
) -> list[StepResult]:
    """The four jobs of a matrix, each with its own token, started together on `day`."""
    sim.now = at(day)
    (remote / "arrivals").unlink(missing_ok=True)
    steps = [
        start_step(
            {
                "token": token,
                "repos": "octo-org/* octocat/tool-1 octocat/tool-2, octocat/tool-3",
                "data-repository": str(remote),
                "shard": f"{index}/4",
            },
            now=at(day),
            api_url=sim.url,
            workspace=tmp_path / f"{day}-shard-{index}",
        )
        for index, token in enumerate(SHARD_TOKENS, start=1)
    ]
    return [finish_step(step, timeout=240) for step in steps]


def test_four_shards_at_once_save_every_repo_exactly_once(tmp_path: Path) -> None:
    """Four entrypoints, one per shard, each with its own token, pushing to one branch at the
    same moment: each repo is fetched by one shard only and saved once, the index page and
    state.json list every repo, and the next day named repos cost the other shards nothing."""
    repos = ORG_REPOS + NAMED_REPOS
    remote = branch.init_bare(tmp_path / "data.git")
    branch.install_hook(remote, MEET_FOUR_PUSHES)
    with SimulatedGitHub(repos, now=at(START), token=SHARD_TOKENS[0], orgs=["octo-org"]) as sim:
        for token in SHARD_TOKENS[1:]:
            sim.grant(token, "pat")
        for day in (START, START + dt.timedelta(days=1)):
            sim.requests.clear()
            results = run_shards(sim, remote, tmp_path, day)
            for index, result in enumerate(results, start=1):
                assert result.returncode == 0, result.stdout + result.stderr
                mine = [r for r in repos if r.id % 4 == index - 1]
                assert result.outputs["repos-synced"] == str(len(mine))
                assert len(result.outputs["commit-sha"]) == 40
                assert result.summary.startswith(f"## traffic-sync {day} (shard {index}/4)\n")
                assert all(r.full_name in result.summary for r in mine)
            fetched = traffic_requests(sim)
            # one shard made a repo's four requests; the other shards learnt a named repo's id
            # from GraphQL, at no REST request, on the first day, and from state.json after
            assert fetched == {r.full_name.lower(): 4 for r in [*ORG_REPOS, *NAMED_REPOS]}
            pushes = (remote / "arrivals").read_text().count("x")
            assert pushes >= 7  # three shards lost the race at least once and re-merged
            bodies = branch.git("-C", str(remote), "log", "-4", "--format=%b", "traffic-data")
            saved = [line.split(":")[0][2:] for line in bodies.decode().splitlines() if line]
            assert sorted(saved) == sorted(r.full_name for r in repos)  # each repo once
            tree = branch.files(remote)
            state = json.loads(tree[".traffic-sync/state.json"])["repos"]
            assert set(state) == {str(r.id) for r in repos}
            assert {entry["last_success"] for entry in state.values()} == {day.isoformat()}
            index_page = tree["README.md"].decode()
            for repo in repos:
                assert f"[{repo.full_name}]({repo.full_name}/README.md)" in index_page
                assert f"{repo.full_name}/README.md" in tree
        assert branch.commit_count(remote) == 8  # one commit per shard and day, none lost
