"""Benchmark: store() on a data branch of many repos and years of daily history.

    python benchmarks/store.py [--repos 1000] [--years 3 | --days 1095] [--checkout]
    python benchmarks/store.py --repos 10000 --years 10 --synced 1000 --runs new-day

The second line is the organisation case: 10,000 repos with 10 years each in the branch, 1,000
of them synced that day (the budget's share of one 5,000/h token).

The data branch is generated, not produced by running the tool for years of simulated days: one
`git fast-import` writes a single commit, the tip, holding what traffic-sync's own encoders and
renderers write (layout 2: `views/`, `clones/`, `stats/` a file a year, `referrers/`, `paths/` a
file a month in a folder a year, JSON and CSV; each repo's page; the index; `.traffic-
sync/state.json` with the schema, `last_success`, folder fingerprint and `seen` key a run
records). One commit is all a run sees: it fetches the tip alone (`--depth 1`). So that 10,000 x
10 years builds in minutes, the period files older than the 14-day window of the measured days
are drawn from a small pool of variants (`--pool`; git stores each once), while every file the
window reaches, and every page, is each repo's own, as with real repos; `--pool 0` gives every
repo its own files throughout (1,000 x 3 years then builds in about 2 minutes; `--keep DIR`
keeps a built branch for the next measurements). Each day has 3 referrers and 3 paths.

Each measurement is `store()`, the Action's own path, in a fresh process:
- *unchanged run*: the tip's day observed again (no commit expected: this also proves the
  generated tip is byte for byte what the tool writes);
- *one new day*: the next day, for the `--synced` repos (spread over the branch);
- *one new day under the collection*: the same day as a run stores it, each repo merged as it
  arrives (`StoreUnderway`; here they arrive at once); besides the wall time, the seconds after
  the last arrival: what a run spends once its last answer is in;
- *git alone* (small branches): fetch every file, rewrite each repo's current period files with
  one more line, commit and push: git's floor for a new day, without merging or rendering.

Reported per run: wall time; peak memory of the Python process (VmHWM, exact) and of the whole
process tree (Python plus its git commands, summed, sampled every 20 ms); bytes fetched, the
size of the packs the run received from the data repo (a partial repo keeps each fetch from its
promisor remote as one pack, as sent, marked `.promisor`); bytes pushed, what the data repo's
object store grew by. A run that reads a shared file fetches it once for all repos, so with a
pool the bytes fetched understate a real branch's (the build line says how much the files hold
in all and how much of it is distinct); `--pool 0` gives the real figure.
With `--profile DIR`, each run's `store()` is profiled and its time split between git, merging
and rendering. The worker's address space is capped (`--memory-limit`), so a run that would need
more than the machine has fails with MemoryError instead of exhausting it.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import hashlib
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from traffic_sync.branch.alltime import by_year, encode_all_time, encode_index, index_row
from traffic_sync.branch.codec import (
    CLONES,
    PATHS,
    REFERRERS,
    STATS,
    VIEWS,
    Dataset,
    dataset_rows,
    encode_csv,
    encode_json,
    parse_data_file,
    period_file,
)
from traffic_sync.branch.state import FINGERPRINT, SEEN, STATE_FILE, encode_state
from traffic_sync.branch.view import INDEX_FILE, TOTALS_FOLDER, seen_key
from traffic_sync.core.config import Settings
from traffic_sync.core.history import WINDOW_DAYS, apply_observation
from traffic_sync.core.models import (
    Bucket,
    DailyRow,
    History,
    IndexRow,
    Observation,
    PathRow,
    PopularPath,
    Referrer,
    ReferrerRow,
    RepoInfo,
    StatsRow,
    TrafficAnswer,
)
from traffic_sync.pages.render import render_index, render_repo_page
from traffic_sync.settings import parse_settings
from traffic_sync.sinks.gitremote import prepare_local, resolve_remote
from traffic_sync.sinks.gitstore import DataBranch
from traffic_sync.stages.store import StoreUnderway, store
from traffic_sync.sync import store_options

TODAY = dt.date(2026, 3, 2)
NEW_DAY = TODAY + dt.timedelta(days=1)
PAGE_DAYS = 90  # charts.DAYS: a page draws the referrers and paths of its last 90 days
RUNS = ("unchanged", "new-day", "new-day-under", "git-alone")
SAMPLE_EVERY = 0.02  # seconds between samples of the process tree's memory
PROFILED = {  # where a run's time goes: label -> functions (module suffix, name)
    "git: fetch tip": [("sinks/gitstore.py", "fetch")],
    "survey_branch (lists and reads the branch)": [("branch/view.py", "survey_branch")],
    "  git: list folders": [
        ("sinks/gitstore.py", "list_folders"),
        ("sinks/gitstore.py", "list_entries"),
    ],
    "  git: read files": [("sinks/gitstore.py", "read_paths")],
    "git: list tree for the commit": [("sinks/gitstore.py", "staging")],
    "git: commit (fast-import ends)": [("sinks/gitstore.py", "commit")],
    "git: push": [("sinks/gitstore.py", "push")],
    "plan_files (all below)": [("stages/plan.py", "plan_files")],
    "  merge_into (synced repos)": [("branch/folders.py", "merge_into")],
    "  render_repo_page (synced repos)": [("pages/render.py", "render_repo_page")],
    "  index rows (other repos)": [("stages/plan.py", "index_files")],
    "  render_index": [("pages/render.py", "render_index")],
    "  Staging.add (hash + queue)": [("sinks/gitstore.py", "add")],
}


# --- generated history ------------------------------------------------------------------------


def _k(seed: int, day: dt.date) -> int:
    """A small number that varies with the day and the seed (no period in the seed)."""
    return ((seed * 7919 + day.toordinal()) * 2654435761 >> 13) % 97


def day_rows(dataset: Dataset[Any], day: dt.date, seed: int) -> list[Any]:
    """The rows of one day of one dataset for the repo (or pool variant) `seed`."""
    k = _k(seed, day)
    if dataset is VIEWS:
        return [DailyRow(day, 12 + k, 4 + k // 3, final=True)]
    if dataset is CLONES:
        return [DailyRow(day, 2 + k % 5, 1, final=True)]
    if dataset is REFERRERS:
        return [ReferrerRow(day, f"site{i}.example", 5 + k, 2) for i in range(3)]
    if dataset is PATHS:
        return [PathRow(day, f"/o/r/p{i}", f"Page {i}", 5 + k, 2) for i in range(3)]
    return [StatsRow(day, 10 + seed % 5000 + k, 2, 3, 1, 100, 40, 14, 5)]


_ORDER = (VIEWS, CLONES, REFERRERS, PATHS, STATS)  # History's field order


def observation(repo: RepoInfo, day: dt.date) -> Observation:
    """What GitHub would answer for `repo` on `day`: 14 days of views and clones, 5 referrers
    and 5 paths."""
    buckets = tuple(
        Bucket(day - dt.timedelta(days=b), 10 + b + repo.id % 7, 3) for b in range(1, 15)
    )
    return Observation(
        repo=repo,
        fetched_on=day,
        views=TrafficAnswer(sum(b.count for b in buckets), 20, buckets),
        clones=TrafficAnswer(14, 5, tuple(Bucket(b.date, 1, 1) for b in buckets)),
        referrers=tuple(Referrer(f"site{i}.example", 10 - i, 2) for i in range(5)),
        paths=tuple(PopularPath(f"/o/r/p{i}", f"Page {i}", 10 - i, 2) for i in range(5)),
    )


def repo_list(count: int) -> list[RepoInfo]:
    return [RepoInfo(f"org/repo-{i:05}", i + 1, dt.date(2010, 1, 1), False) for i in range(count)]


def synced_repos(repos: Sequence[RepoInfo], synced: int) -> list[RepoInfo]:
    """`synced` repos spread evenly over the branch (all when `synced` is 0 or more)."""
    if synced <= 0 or synced >= len(repos):
        return list(repos)
    return [repos[i * len(repos) // synced] for i in range(synced)]


def _periods(dataset: Dataset[Any], first: dt.date, last: dt.date) -> list[str]:
    """The periods of `dataset` from `first` to `last`, oldest first."""
    found: list[str] = []
    day = first
    while day <= last:
        period = dataset.period(day)
        if not found or found[-1] != period:
            found.append(period)
        day += dt.timedelta(days=1)
    return found


@dataclass
class Layout:
    """Which period files of a branch are shared across repos and which are each repo's own."""

    start: dt.date  # the first day of history
    current: dict[str, list[str]]  # dataset -> periods the measured windows reach
    pooled: dict[str, list[str]]  # dataset -> older periods

    @classmethod
    def of(cls, days: int) -> Layout:
        start = TODAY - dt.timedelta(days=days)
        # the oldest day a run on TODAY or NEW_DAY rewrites
        reach = TODAY - dt.timedelta(days=WINDOW_DAYS + 1)
        current = {d.name: _periods(d, max(start, reach), TODAY) for d in _ORDER}
        pooled = {
            d.name: [p for p in _periods(d, start, TODAY) if p not in current[d.name]]
            for d in _ORDER
        }
        return cls(start, current, pooled)

    def first_current_day(self, dataset: Dataset[Any]) -> dt.date:
        period = self.current[dataset.name][0]
        year, _, month = period.partition("-")
        return max(self.start, dt.date(int(year), int(month or 1), 1))


Tree = dict[str, "Tree | str"]  # a folder: name -> sub-folder, or a file's blob id


class BranchWriter:
    """Writes the tip into a repo: blobs through `git fast-import` (one pack), each repo's
    folders as loose tree objects as soon as the repo is done, and at the end the top folders
    and the commit. (fast-import alone would look each path up by a linear scan of its folder,
    quadratic in the repos of an owner.)"""

    def __init__(self, git_dir: Path) -> None:
        self._git_dir = git_dir
        command = ["git", "--git-dir", str(git_dir), "fast-import", "--quiet", "--done"]
        command.append("--big-file-threshold=1k")  # no delta search, as the tool's commits
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE)
        assert self._process.stdin is not None  # noqa: S101 - opened with stdin=PIPE
        self._out = self._process.stdin
        self.root: Tree = {}
        self.files = 0
        self.logical_bytes = 0  # every file's size, shared or not
        self.stored_bytes = 0  # each distinct file once

    def blob(self, data: bytes) -> str:
        self._out.write(b"blob\ndata %d\n%s\n" % (len(data), data))
        self.stored_bytes += len(data)
        return _blob_id(data)

    def put(self, folder: Tree, name: str, blob: str, size: int) -> None:
        """File `name` (a path inside `folder`) holds the blob `blob` of `size` bytes."""
        *parents, leaf = name.split("/")
        for part in parents:
            folder = folder.setdefault(part, {})  # type: ignore[assignment]
        folder[leaf] = blob
        self.files += 1
        self.logical_bytes += size

    def close_folder(self, path: str, folder: Tree) -> str:
        """Write `folder` (all its files put) as trees; it sits at `path` from the top. Its
        tree id."""
        *parents, leaf = path.split("/")
        node = self.root
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        sha = self._tree(folder)
        node[leaf] = "tree:" + sha
        return sha

    def commit(self, ref: str, message: str) -> None:
        self._out.write(b"done\n")
        self._out.close()
        if self._process.wait() != 0:
            raise SystemExit("git fast-import failed")
        tree = self._tree(self.root)
        stamp = int(dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC).timestamp())
        who = f"bench <bench@example.com> {stamp} +0000"
        body = f"tree {tree}\nauthor {who}\ncommitter {who}\n\n{message}".encode()
        sha = self._write(b"commit", body)
        update = ["git", "--git-dir", str(self._git_dir), "update-ref", ref, sha]
        subprocess.run(update, check=True)

    def _tree(self, folder: Tree) -> str:
        entries = []
        for name, child in folder.items():
            if isinstance(child, dict):
                entries.append((f"{name}/", b"40000", self._tree(child)))
            elif child.startswith("tree:"):
                entries.append((f"{name}/", b"40000", child[5:]))
            else:
                entries.append((name, b"100644", child))
        body = b"".join(
            b"%s %s\0%s" % (mode, key.rstrip("/").encode(), bytes.fromhex(sha))
            for key, mode, sha in sorted(entries)  # git's order: a folder's name ends in "/"
        )
        return self._write(b"tree", body)

    def _write(self, kind: bytes, body: bytes) -> str:
        """A loose object, as git writes one."""
        raw = b"%s %d\0%s" % (kind, len(body), body)
        sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        path = self._git_dir / "objects" / sha[:2] / sha[2:]
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(zlib.compress(raw, 1))
        return sha


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def build_branch(
    git_dir: Path, repos: Sequence[RepoInfo], *, days: int, pool: int, settings: Settings
) -> dict[str, int]:
    """Write the data branch's tip into `git_dir`; the sizes."""
    layout = Layout.of(days)
    out = BranchWriter(git_dir)
    prefix = f"{settings.data_path}/" if settings.data_path else ""
    top = out.root
    for part in prefix.strip("/").split("/") if prefix else ():
        top = top.setdefault(part, {})  # type: ignore[assignment]
    # pool variant -> dataset -> period -> (rows, {name: (blob id, size)})
    Files = dict[str, tuple[str, int]]
    shared: list[dict[str, dict[str, tuple[tuple[Any, ...], Files]]]] = []
    for variant in range(pool):
        by_dataset: dict[str, dict[str, tuple[tuple[Any, ...], Files]]] = {}
        for dataset in _ORDER:
            by_dataset[dataset.name] = {}
            for period in layout.pooled[dataset.name]:
                rows = _period_rows(dataset, period, variant, layout.start)
                by_dataset[dataset.name][period] = (rows, _write_pair(out, dataset, period, rows))
        shared.append(by_dataset)
    state: dict[str, dict[str, object]] = {}
    shown: dict[str, tuple[str, IndexRow]] = {}  # the index rows, with their folders' trees
    page_from = TODAY - dt.timedelta(days=PAGE_DAYS)
    started = time.perf_counter()
    for n, repo in enumerate(repos, 1):
        old = shared[repo.id % pool]
        current = History(
            *(
                _rows_between(ds, layout.first_current_day(ds), TODAY, 100_000 + repo.id)
                for ds in _ORDER
            )
        )
        seen = observation(repo, TODAY)
        current = apply_observation(current, seen)
        folder: Tree = {}
        ids: dict[str, str] = {}
        whole: dict[str, tuple[Any, ...]] = {}
        for dataset in _ORDER:
            rows = dataset_rows(current, dataset)
            older: list[Any] = []
            files: Files = {}
            for period in layout.pooled[dataset.name]:
                period_rows, pooled = old[dataset.name][period]
                older.extend(period_rows)
                files.update(pooled)
            for period in layout.current[dataset.name]:
                in_period = tuple(r for r in rows if dataset.period(r.date) == period)
                files.update(_write_pair(out, dataset, period, in_period))
            for name, (blob, size) in files.items():
                out.put(folder, name, blob, size)
                ids[name] = blob
            whole[dataset.name] = (*older, *rows)
        history = History(
            views=whole["views"],
            clones=whole["clones"],
            referrers=tuple(r for r in whole["referrers"] if r.date >= page_from),
            paths=tuple(r for r in whole["paths"] if r.date >= page_from),
            stats=whole["stats"],
        )
        page = render_repo_page(
            repo.full_name, history, today=TODAY, server_url=settings.server_url
        ).encode()
        out.put(folder, "README.md", out.blob(page), len(page))
        tree = out.close_folder(f"{prefix}{repo.full_name}", folder)
        fingerprint = _fingerprint(ids)
        totals = encode_all_time(by_year(history), source=fingerprint)
        totals_id = out.blob(totals)
        out.put(top, f"{TOTALS_FOLDER}/{repo.full_name}.json", totals_id, len(totals))
        key = seen_key(
            seen, today=TODAY, server_url=settings.server_url, tree=tree, totals=totals_id
        )
        state[str(repo.id)] = {
            FINGERPRINT: fingerprint,
            SEEN: key,
            "full_name": repo.full_name,
            "last_success": TODAY.isoformat(),
        }
        shown[repo.full_name] = (tree, index_row(history))
        if n % 1000 == 0:
            print(f"  {n:,} repos written, {time.perf_counter() - started:.0f} s", flush=True)
    _write_top(out, top, shown, state)
    out.commit(f"refs/heads/{settings.data_branch}", f"traffic-sync: {TODAY.isoformat()}\n")
    return {
        "files": out.files,
        "logical_bytes": out.logical_bytes,
        "stored_bytes": out.stored_bytes,
    }


def _write_top(
    out: BranchWriter,
    top: Tree,
    shown: dict[str, tuple[str, IndexRow]],
    state: dict[str, dict[str, object]],
) -> None:
    """The index page, the stored index rows and state.json, as a run writes them."""
    index = render_index({n: row for n, (_, row) in shown.items()}, today=TODAY).encode()
    out.put(top, "README.md", out.blob(index), len(index))
    stored = encode_index(shown)
    out.put(top, INDEX_FILE, out.blob(stored), len(stored))
    state_bytes = encode_state(state)
    out.put(top, STATE_FILE, out.blob(state_bytes), len(state_bytes))


def _fingerprint(ids: dict[str, str]) -> str:
    """folders.fingerprint from blob ids: the same digest, without the bytes at hand."""
    digest = hashlib.sha256()
    for name in sorted(ids):
        digest.update(f"{name}\0{ids[name]}\n".encode())
    return digest.hexdigest()


def _period_rows(dataset: Dataset[Any], period: str, seed: int, start: dt.date) -> tuple[Any, ...]:
    year, _, month = period.partition("-")
    first = max(start, dt.date(int(year), int(month or 1), 1))
    if month:
        last = dt.date(int(year) + int(month) // 12, int(month) % 12 + 1, 1)
    else:
        last = dt.date(int(year) + 1, 1, 1)
    return _rows_between(dataset, first, last - dt.timedelta(days=1), seed)


def _rows_between(
    dataset: Dataset[Any], first: dt.date, last: dt.date, seed: int
) -> tuple[Any, ...]:
    """Rows from `first` to `last` (both included) but not from TODAY on (the observation's)."""
    rows: list[Any] = []
    day = first
    while day <= last and day < TODAY:
        rows.extend(day_rows(dataset, day, seed))
        day += dt.timedelta(days=1)
    return tuple(rows)


def _write_pair(
    out: BranchWriter, dataset: Dataset[Any], period: str, rows: Sequence[Any]
) -> dict[str, tuple[str, int]]:
    """A period's JSON and CSV as blobs: name inside the folder -> (blob id, size)."""
    files = {}
    for ext, text in (("json", encode_json(dataset, rows)), ("csv", encode_csv(dataset, rows))):
        data = text.encode()
        files[period_file(dataset, period, ext)] = (out.blob(data), len(data))
    return files


# --- measuring ------------------------------------------------------------------------------


def bench_settings(data: Path) -> Settings:
    return parse_settings({"token": "t", "repos": "org/*", "data-repository": str(data)}, {})


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """One measured run in this fresh process; what it measured."""
    limit = int(job["memory_limit"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    root = Path(job["root"])
    settings = bench_settings(root / "data")
    remote = resolve_remote(settings.data_repository, server_url="", cwd=root)
    work = Path(job["work"])
    repos = synced_repos(repo_list(job["repos"]), job["synced"])
    day = dt.date.fromisoformat(job["day"])
    result: dict[str, Any] = {}
    profile = cProfile.Profile() if job.get("profile") else None
    started = time.perf_counter()
    try:
        if job["run"] == "git-alone":
            sha = git_alone(settings, remote, work, [r.full_name for r in repos])
        elif job["run"] == "new-day-under":
            sha, result["tail"] = under_collection(settings, remote, work, repos, day)
        else:
            obs = [observation(r, day) for r in repos]
            if profile:
                profile.enable()
            sha, _ = store(
                store_options(settings),
                obs,
                today=day,
                remote=remote,
                workdir=work,
                sleep=time.sleep,
            )
            if profile:
                profile.disable()
        result["sha"] = sha
    except MemoryError as error:
        frames = traceback.extract_tb(error.__traceback__)
        where = " > ".join(f.name for f in frames if "traffic_sync" in f.filename)
        result["error"] = (
            f"MemoryError (address space capped at {limit / 2**30:.0f} GiB) in {where}"
        )
    result["wall"] = time.perf_counter() - started
    result["python_peak"] = _vmhwm()
    if profile:
        profile.dump_stats(job["profile"])
    return result


def under_collection(
    settings: Settings, remote: Any, work: Path, repos: Sequence[RepoInfo], day: dt.date
) -> tuple[str, float]:
    """The new day through the store under the collection, as a run makes it: the branch read
    and each repo merged as it arrives, then the store's end. (commit, seconds of the end:
    what a run spends once its last answer is in)."""
    options = store_options(settings)
    observations = [observation(r, day) for r in repos]
    with StoreUnderway(options, remote=remote, workdir=work, today=day) as early:
        early.expect(repos)
        for one in observations:
            early.add(one)
        if early.merged != len(observations):
            raise RuntimeError(f"merged {early.merged} of {len(observations)} under the collection")
        last = time.perf_counter()
        sha, _ = store(
            options,
            observations,
            today=day,
            remote=remote,
            workdir=work,
            sleep=time.sleep,
            first=partial(early.attempt, observations),
        )
    return sha, time.perf_counter() - last


def git_alone(settings: Settings, remote: Any, work: Path, names: Sequence[str]) -> str:
    """Fetch the tip, read each synced repo's current period files, write them with one more
    line (as a new day does), commit and push: git's share of a new day, with no merging or
    rendering."""
    branch = DataBranch(remote=remote, branch=settings.data_branch, workdir=work)
    branch.fetch()
    start = f"{settings.data_path}/" if settings.data_path else ""
    folders = [start + name for name in sorted(names)]
    listed = branch.list_files(folders)
    wanted = [
        path
        for path in listed
        if (parsed := parse_data_file(path.split("/", 2)[-1])) is not None
        and parsed.period == parsed.dataset.period(NEW_DAY)
    ]
    current = branch.read_paths(wanted)
    with branch.staging(folders) as staging:
        for path, data in current.items():
            staging.add({path: data + b"\n"})
        sha = staging.commit({}, "git alone") or ""
    branch.push(sha)
    return sha


def _vmhwm() -> float:
    """This process's own peak memory in bytes (ru_maxrss would carry the parent's over exec)."""
    status = Path("/proc/self/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) * 1024


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants now (found through each thread's
    `children` file, so sampling costs what the tree holds, not a walk of every process)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            for task in os.scandir(f"/proc/{current}/task"):
                todo.extend(int(c) for c in Path(task.path, "children").read_text().split())
        except OSError:
            continue  # it ended meanwhile
        total += int(stat.rpartition(")")[2].split()[21]) * page
    return total


def measure(job: dict[str, Any]) -> dict[str, Any]:
    """Run `job` in a fresh Python, sampling its process tree's memory; add bytes moved."""
    data = Path(job["root"]) / "data"
    objects = data / "objects" if (data / "objects").is_dir() else data / ".git" / "objects"
    before = _object_bytes(objects)
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", json.dumps(job)], stdout=subprocess.PIPE
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        return {"error": f"worker exited with {process.returncode}", "wall": 0.0}
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    result["tree_peak"] = peak
    result["fetched"] = _fetched_bytes(Path(job["work"]))
    result["pushed"] = _object_bytes(objects) - before
    return result


def _object_bytes(objects: Path) -> int:
    """Bytes of packs and loose objects in an object store (indexes left out)."""
    total = 0
    for folder, _, files in os.walk(objects):
        for name in files:
            if name.endswith(".pack") or (len(name) == 38 and "pack" not in folder):
                total += os.path.getsize(os.path.join(folder, name))
    return total


def _fetched_bytes(work: Path) -> int:
    """Bytes of the packs a work repo received from its promisor remote (the data repo)."""
    packs = work / "objects" / "pack"
    if not packs.is_dir():
        return 0
    return sum(
        p.stat().st_size for p in packs.glob("*.pack") if p.with_suffix(".promisor").exists()
    )


def profile_breakdown(path: str) -> list[tuple[str, float]]:
    """Cumulative seconds of the functions in PROFILED, from a cProfile dump."""
    stats = pstats.Stats(path).stats  # type: ignore[attr-defined]
    found: list[tuple[str, float]] = []
    for label, wanted in PROFILED.items():
        seconds = sum(
            ct
            for (file, _, name), (_, _, _, ct, _) in stats.items()
            for suffix, fn in wanted
            if file.endswith(suffix) and name == fn
        )
        found.append((label, seconds))
    return found


def _profile_path(folder: str | None, run: str) -> str:
    """Where a run's profile goes ("": not profiled; git alone never is)."""
    if not folder or run == "git-alone":
        return ""
    Path(folder).mkdir(parents=True, exist_ok=True)
    return str(Path(folder) / f"{run}.prof")


def _mib(count: float) -> str:
    return f"{count / 2**20:,.1f} MiB"


def build(
    root: Path, repos: Sequence[RepoInfo], *, days: int, pool: int, checkout: bool
) -> dict[str, str]:
    """Generate the data branch in `root/data`: its tip, and the line that says what was built."""
    data = root / "data"
    settings = bench_settings(data)
    remote = resolve_remote(settings.data_repository, server_url="", cwd=root)
    if not checkout:
        subprocess.run(["git", "init", "--bare", "--quiet", str(data)], check=True)
    prepare_local(remote, branch=settings.data_branch)
    git_dir = data if not checkout else data / ".git"
    started = time.perf_counter()
    pool = pool if 0 < pool < len(repos) else len(repos)
    sizes = build_branch(git_dir, repos, days=days, pool=pool, settings=settings)
    if checkout:
        subprocess.run(["git", "-C", str(data), "reset", "--hard", "--quiet"], check=True)
    pack = _object_bytes(git_dir / "objects")
    line = (
        f"built {len(repos):,} repos x {days:,} days ({days / 365:.1f} years) in "
        f"{time.perf_counter() - started:.1f} s: {sizes['files']:,} files, "
        f"{_mib(sizes['logical_bytes'])} of files ({_mib(sizes['stored_bytes'])} distinct, "
        f"pool of {pool}), data repo {_mib(pack)}"
    )
    return {"line": line, "tip": _git(git_dir, "rev-parse", f"refs/heads/{settings.data_branch}")}


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--days", type=int, default=1095, help="days of history in the branch")
    parser.add_argument("--years", type=int, help="years of history (365 days each)")
    parser.add_argument("--synced", type=int, default=0, help="repos a new day syncs (0: all)")
    parser.add_argument(
        "--pool", type=int, default=8, help="variants of the older files (0: every repo its own)"
    )
    parser.add_argument("--runs", default=",".join(RUNS), help=f"of {', '.join(RUNS)}")
    parser.add_argument("--checkout", action="store_true", help="a data folder with a work tree")
    parser.add_argument("--profile", metavar="DIR", help="profile each store() into DIR")
    parser.add_argument("--memory-limit", type=float, default=8, help="GiB a worker may map")
    parser.add_argument(
        "--keep", metavar="DIR", help="build the branch in DIR once; later runs reuse it"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    days = args.years * 365 if args.years else args.days
    runs = [r for r in args.runs.split(",") if r]
    unknown = set(runs) - set(RUNS)
    if unknown:
        parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
    with contextlib.ExitStack() as stack:
        if args.keep:
            root = Path(args.keep)
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="store-bench-")))
        built = root / "built.json"  # a kept branch: what it was built from, its tip, its line
        wanted = [args.repos, days, args.pool, args.checkout]
        kept: dict[str, Any] = json.loads(built.read_text()) if built.exists() else {}
        kept.setdefault("args", wanted)
        if kept["args"] != wanted:
            parser.error(f"{root} holds another branch: {kept['line']}")
        if "tip" not in kept:
            kept.update(
                build(
                    root, repo_list(args.repos), days=days, pool=args.pool, checkout=args.checkout
                )
            )
            built.write_text(json.dumps(kept))
        print(kept["line"])
        measure_runs(root, runs, args, tip=kept["tip"])


def measure_runs(root: Path, runs: Sequence[str], args: argparse.Namespace, *, tip: str) -> None:
    """Measure each run on the built branch (reset to its `tip` before each) and print it."""
    data = root / "data"
    git_dir = data if not args.checkout else data / ".git"
    synced = len(synced_repos(repo_list(args.repos), args.synced))
    print(
        f"measured: {synced:,} repos synced; memory: Python's peak (exact) / whole process "
        f"tree's (Python + git, sampled every {SAMPLE_EVERY * 1000:.0f} ms); fetched: packs "
        "received from the data repo; pushed: growth of its object store"
    )
    for n, run in enumerate(runs):
        _git(git_dir, "update-ref", f"refs/heads/{bench_settings(data).data_branch}", tip)
        if args.checkout:
            subprocess.run(["git", "-C", str(data), "reset", "--hard", "--quiet"], check=True)
        work = root / f"w{n}"
        shutil.rmtree(work, ignore_errors=True)
        job = {
            "run": run,
            "root": str(root),
            "work": str(work),
            "repos": args.repos,
            "synced": args.synced,
            "day": (TODAY if run == "unchanged" else NEW_DAY).isoformat(),
            "memory_limit": args.memory_limit * 2**30,
            "profile": _profile_path(args.profile, run),
        }
        result = measure(job)
        if "error" in result:
            print(f"{run:10} {result['wall']:7.2f} s  FAILED: {result['error']}")
            if "tree_peak" not in result:
                continue
            result["sha"] = "(failed)"
        tail = f" (after the last arrival {result['tail']:.2f} s)" if "tail" in result else ""
        print(
            f"{run:10} {result['wall']:7.2f} s{tail}  commit {result['sha'][:7] or 'none'}  "
            f"peak {_mib(result['python_peak'])} / {_mib(result['tree_peak'])}  "
            f"fetched {_mib(result['fetched'])}  pushed {_mib(result['pushed'])}"
        )
        if job["profile"]:
            for label, seconds in profile_breakdown(job["profile"]):
                print(f"    {label:36} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
