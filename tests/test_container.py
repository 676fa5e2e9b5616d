"""The action as GitHub runs it: the project's Dockerfile built, then `docker run` with the flags,
variables, mounts and user that the Actions runner gives a Docker container action.

The runner passes its own host paths in `RUNNER_TEMP`, `RUNNER_WORKSPACE` and `RUNNER_TOOL_CACHE`
(none of them mounted), mounts four folders under `/github`, starts the container as root in a
workspace owned by its own user (uid 1001), and reads the outputs and the step summary from the
files it named. https://github.com/actions/runner/blob/main/src/Runner.Worker/Handlers/ContainerActionHandler.cs

The container reaches the simulated GitHub, the git host and the fake PostHog on the host's
127.0.0.1 (`--network host`). It runs on the real clock, so the simulated GitHub's clock is set
to the real time. It needs a Docker engine: `.ci/run` starts one; with CI=true a missing engine
fails the test instead of skipping it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests import branch
from tests.fake_posthog import FakePostHog
from tests.git_host import GitHost
from traffic_sync.demo import SimRepo, SimulatedGitHub

pytestmark = pytest.mark.slow  # builds and runs the real image

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "traffic-sync:container-test"
RUNNER_UID = 1001  # the hosted runner's user, who owns the workspace
TOKEN = "ghp_containerTrafficToken0123456789abcd"  # the `token` input: a PAT that reads traffic
GITHUB_TOKEN = "ghs_containerWorkflowToken0123456789ab"  # ${{ github.token }}: pushes the data
POSTHOG_KEY = "phc_containerProjectKey0123456789abcdef"
SECRETS = (TOKEN, GITHUB_TOKEN, POSTHOG_KEY)
REPOSITORY = "octo-org/site"  # the workflow's repository, and so the default data repository
WORLD = [
    SimRepo(REPOSITORY, 301, dt.date(2024, 5, 1), daily_views=60, daily_clones=5, seed=2),
    SimRepo("octo-org/lib", 302, dt.date(2023, 1, 9), daily_views=140, daily_clones=20, seed=3),
    SimRepo("octo-org/tool", 303, dt.date(2025, 2, 1), daily_views=8, daily_clones=1, seed=4),
]
TRACKED = [repo.full_name for repo in WORLD]
# the runner's own paths on the host, passed on but not mounted: they do not exist in the container
HOST_TEMP = "/home/runner/work/_temp"
HOST_WORKSPACE = "/home/runner/work/site"
HOST_TOOL_CACHE = "/opt/hostedtoolcache"
# a run may take this much longer than starting the image and running `true` in it
MAX_SECONDS_BEYOND_START = 10.0


@dataclass(frozen=True)
class ContainerStep:
    """What a container action's step leaves behind."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    seconds: float


def engine_problem() -> str:
    """Why no Docker engine can be used here, or "" when one answers."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    try:
        info = subprocess.run(
            ["docker", "info"], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 60 s"
    return "" if info.returncode == 0 else info.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from the project's Dockerfile, as the runner builds it."""
    problem = engine_problem()
    if problem:
        message = f"no Docker engine ({problem}); .ci/run installs and starts one"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # --network host: the engine .ci/run starts has no bridge network
    build = ["docker", "build", "--network", "host", "--tag", IMAGE, str(ROOT)]
    result = subprocess.run(build, capture_output=True, text=True, timeout=1800, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return IMAGE


@pytest.fixture(scope="module")
def github() -> Iterator[SimulatedGitHub]:
    with SimulatedGitHub(WORLD, now=dt.datetime.now(dt.UTC), token=TOKEN, orgs=["octo-org"]) as sim:
        sim.grant(GITHUB_TOKEN, "github-token", actions_write=True)
        sim.add_workflow(REPOSITORY, "traffic.yml")
        yield sim


@pytest.fixture(scope="module")
def git_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHost]:
    with GitHost(tmp_path_factory.mktemp("git-host"), GITHUB_TOKEN) as host:
        yield host


class Job:
    """One job on a runner host: the folders the runner mounts into an action's container."""

    def __init__(self, host: Path) -> None:
        self.temp = host / "_temp"  # the host folder behind HOST_TEMP
        self.workspace = host / "workspace"
        for folder in ("_github_home", "_github_workflow", "_runner_file_commands"):
            (self.temp / folder).mkdir(parents=True)
        self.workspace.mkdir()
        for path in (self.temp, *self.temp.iterdir(), self.workspace):
            os.chown(path, RUNNER_UID, RUNNER_UID)

    def mounts(self) -> list[str]:
        return [
            "-v",
            f"{self.temp}/_github_home:/github/home",
            "-v",
            f"{self.temp}/_github_workflow:/github/workflow",
            "-v",
            f"{self.temp}/_runner_file_commands:/github/file_commands",
            "-v",
            f"{self.workspace}:/github/workspace",
        ]

    def file_commands(self) -> dict[str, str]:
        """A step's command files, made empty by the runner before the step, named by uuid."""
        step = uuid.uuid4()
        names = {
            "GITHUB_OUTPUT": f"set_output_{step}",
            "GITHUB_STEP_SUMMARY": f"step_summary_{step}",
            "GITHUB_ENV": f"set_env_{step}",
            "GITHUB_PATH": f"add_path_{step}",
            "GITHUB_STATE": f"save_state_{step}",
        }
        for name in names.values():
            path = self.temp / "_runner_file_commands" / name
            path.write_text("")
            os.chown(path, RUNNER_UID, RUNNER_UID)
        return {key: f"/github/file_commands/{name}" for key, name in names.items()}

    def host_file(self, container_path: str) -> Path:
        return self.temp / "_runner_file_commands" / Path(container_path).name

    def all_files(self) -> Iterator[Path]:
        for top in (self.temp, self.workspace):
            yield from (path for path in top.rglob("*") if path.is_file())


def action_inputs(given: Mapping[str, str]) -> dict[str, str]:
    """`INPUT_<NAME>` for every input that action.yml declares, as the runner sends them: the
    workflow's `with:` value, else the default with its expression evaluated."""
    declared = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    expressions = {"${{ github.repository }}": REPOSITORY, "${{ github.token }}": GITHUB_TOKEN}
    unknown = set(given) - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values = {}
    for name, spec in declared.items():
        default = str(spec.get("default", ""))
        values[f"INPUT_{name.upper()}"] = given.get(name, expressions.get(default, default))
    return values


def run_action(
    job: Job,
    with_: Mapping[str, str],
    *,
    github: SimulatedGitHub,
    git_host: GitHost,
    event: str = "workflow_dispatch",
    entrypoint: str | None = None,
) -> ContainerStep:
    """One step `uses: owner/traffic-sync@v1` with `with_`, run as the runner runs it."""
    (job.temp / "_github_workflow" / "event.json").write_text(json.dumps({"inputs": {}}))
    files = job.file_commands()
    env = {
        "HOME": "/github/home",
        "GITHUB_JOB": "traffic",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": "2f6c4d1b0e9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_REPOSITORY_OWNER": "octo-org",
        "GITHUB_RUN_ID": "9100000001",
        "GITHUB_RUN_NUMBER": "7",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_WORKFLOW": "traffic",
        "GITHUB_WORKFLOW_REF": f"{REPOSITORY}/.github/workflows/traffic.yml@refs/heads/main",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_SERVER_URL": git_host.url,
        "GITHUB_API_URL": github.url,
        "GITHUB_GRAPHQL_URL": f"{github.url}/graphql",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_ACTION": "__owner_traffic-sync",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        **files,
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_NAME": "GitHub Actions 2",
        "RUNNER_TOOL_CACHE": HOST_TOOL_CACHE,
        "RUNNER_TEMP": HOST_TEMP,
        "RUNNER_WORKSPACE": HOST_WORKSPACE,
        **action_inputs(with_),
    }
    name = f"traffic_sync_{uuid.uuid4().hex}"
    argv = ["docker", "run", "--name", name, "--label", name, "--workdir", "/github/workspace"]
    argv += ["--rm", "--network", "host"]
    for key in env:  # `-e NAME` takes the value from the docker client's environment
        argv += ["-e", key]
    argv += ["-e", "GITHUB_ACTIONS=true", "-e", "CI=true", *job.mounts()]
    if entrypoint:
        argv += ["--entrypoint", entrypoint]
    argv.append(IMAGE)
    started = time.monotonic()
    result = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False
    )
    seconds = time.monotonic() - started
    output = job.host_file(files["GITHUB_OUTPUT"]).read_text()
    return ContainerStep(
        result.returncode,
        result.stdout,
        result.stderr,
        dict(line.split("=", 1) for line in output.splitlines() if "=" in line),
        job.host_file(files["GITHUB_STEP_SUMMARY"]).read_text(),
        seconds,
    )


def clear_of_midnight(margin: dt.timedelta = dt.timedelta(minutes=3)) -> None:
    """Wait out the last minutes of a UTC day: the container runs on the real clock."""
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    if midnight - now < margin:
        time.sleep((midnight - now).total_seconds() + 1)


def assert_no_secret_leaks(step: ContainerStep, job: Job, remote: Path | None) -> None:
    """No token in the log (but the runner's own mask commands), the runner's files, the
    workspace or anything in the data repository."""
    masks = [f"::add-mask::{secret}" for secret in SECRETS]
    log = "\n".join(line for line in step.stdout.splitlines() if line not in masks)
    texts = [log, step.stderr, *(path.read_bytes().decode("latin-1") for path in job.all_files())]
    if remote is not None:
        objects = branch.git("-C", str(remote), "cat-file", "--batch-all-objects", "--batch")
        texts.append(objects.decode("latin-1"))
        texts += [path.read_text("latin-1") for path in remote.rglob("*") if path.is_file()]
    for secret in SECRETS:
        for text in texts:
            assert secret not in text


def test_first_run_creates_the_branch_and_a_second_commits_nothing(
    image: str, github: SimulatedGitHub, git_host: GitHost, tmp_path: Path
) -> None:
    """Run as the runner runs it: a first run writes the branch, outputs and summary; a second
    run at the same time commits nothing and takes a few seconds beyond the image's start."""
    remote = git_host.create(REPOSITORY)
    job = Job(tmp_path)
    clear_of_midnight()  # both runs on one UTC day, as "the same time" means
    github.now = dt.datetime.now(dt.UTC)
    first = run_action(
        job, {"token": TOKEN, "repos": "octo-org/*"}, github=github, git_host=git_host
    )
    assert first.returncode == 0, first.stdout + first.stderr

    tip = branch.tip(remote)
    assert tip
    assert first.outputs["commit-sha"] == tip
    assert first.outputs["repos-synced"] == "3"
    assert first.outputs["repos-failed"] == "0"
    assert int(first.outputs["days-added"]) > 0
    assert first.outputs["events-sent"] == "0"
    files = branch.files(remote)
    assert "README.md" in files
    assert ".traffic-sync/state.json" in files
    state = json.loads(files[".traffic-sync/state.json"])
    assert {entry["full_name"] for entry in state["repos"].values()} == set(TRACKED)
    for name in TRACKED:
        assert f"{name}/README.md" in files, name
        assert any(path.startswith(f"{name}/views") for path in files), name
        assert name in first.summary
    assert "```mermaid" in first.summary
    assert list(job.workspace.iterdir()) == []  # nothing written into the user's checkout

    started = run_action(job, {}, github=github, git_host=git_host, entrypoint="true")
    assert started.returncode == 0
    second = run_action(
        job, {"token": TOKEN, "repos": "octo-org/*"}, github=github, git_host=git_host
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.outputs["commit-sha"] == ""
    assert second.outputs["repos-synced"] == "3"
    assert second.outputs["days-added"] == "0"
    assert branch.tip(remote) == tip
    assert second.seconds - started.seconds <= MAX_SECONDS_BEYOND_START, (
        second.seconds,
        started.seconds,
    )
    for step in (first, second):
        assert_no_secret_leaks(step, job, remote)


def test_posthog_run_sends_the_settled_days(
    image: str, github: SimulatedGitHub, git_host: GitHost, tmp_path: Path
) -> None:
    """With a PostHog key the run sends events to the host it is given and counts them.

    Without the branch sink it sends the window's settled days at once; with it, a first run
    holds them until the window's truncated left edge settles (tests/test_posthog_e2e.py)."""
    job = Job(tmp_path)
    github.now = dt.datetime.now(dt.UTC)
    with FakePostHog(POSTHOG_KEY) as posthog:
        step = run_action(
            job,
            {
                "token": TOKEN,
                "repos": "octo-org/lib",
                "sink": "posthog",
                "posthog-api-key": POSTHOG_KEY,
                "posthog-host": posthog.url,
            },
            github=github,
            git_host=git_host,
        )
    assert step.returncode == 0, step.stdout + step.stderr
    assert posthog.events, step.stdout
    assert step.outputs["events-sent"] == str(len(posthog.events))
    assert {event["properties"]["repo"] for event in posthog.events} == {"octo-org/lib"}
    assert_no_secret_leaks(step, job, None)


def test_bad_input_is_a_clear_error_and_writes_nothing(
    image: str, github: SimulatedGitHub, git_host: GitHost, tmp_path: Path
) -> None:
    """Wrong inputs: every problem named, no request made, no data written, exit 1."""
    job = Job(tmp_path)
    remote = git_host.create("octo-org/untouched")
    requests_before = len(github.requests)
    git_requests_before = len(git_host.requests)
    step = run_action(
        job,
        {
            "token": TOKEN,
            "repos": "octo-org/site, just-a-name",
            "data-repository": "octo-org/untouched",
            "concurrency": "0",
        },
        github=github,
        git_host=git_host,
    )
    assert step.returncode == 1
    assert "::error title=Invalid configuration::" in step.stdout
    assert "just-a-name" in step.summary
    assert "concurrency" in step.summary
    assert "Nothing was fetched or written" in step.summary
    assert len(github.requests) == requests_before
    assert len(git_host.requests) == git_requests_before
    assert branch.tip(remote) == ""
    assert_no_secret_leaks(step, job, remote)


def test_local_data_repository_in_the_runners_workspace(
    image: str, github: SimulatedGitHub, git_host: GitHost, tmp_path: Path
) -> None:
    """A local-path data repository in the workspace (owned by the runner's user, written by the
    container's root) works: git's ownership check does not stop it, and what the run wrote
    there stays the runner user's, so the job's later steps can change it."""
    job = Job(tmp_path)
    remote = branch.init_bare(job.workspace / "traffic-data.git")
    for path in (remote, *remote.rglob("*")):
        os.chown(path, RUNNER_UID, RUNNER_UID)
    github.now = dt.datetime.now(dt.UTC)
    step = run_action(
        job,
        {"token": TOKEN, "repos": "octo-org/tool", "data-repository": "traffic-data.git"},
        github=github,
        git_host=git_host,
    )
    assert step.returncode == 0, step.stdout + step.stderr
    assert branch.tip(remote) == step.outputs["commit-sha"] != ""
    assert "octo-org/tool/README.md" in branch.files(remote)
    owners = {(p.lstat().st_uid, p.lstat().st_gid) for p in (remote, *remote.rglob("*"))}
    assert owners == {(RUNNER_UID, RUNNER_UID)}
    assert_no_secret_leaks(step, job, remote)


def test_scheduled_run_keeps_its_workflow_enabled(
    image: str, github: SimulatedGitHub, git_host: GitHost, tmp_path: Path
) -> None:
    """On a schedule, the run re-enables its own workflow with the workflow's token."""
    job = Job(tmp_path)
    remote = git_host.create("octo-org/scheduled")
    github.now = dt.datetime.now(dt.UTC)
    before = len(github.requests)
    step = run_action(
        job,
        {"token": TOKEN, "repos": "octo-org/tool", "data-repository": "octo-org/scheduled"},
        github=github,
        git_host=git_host,
        event="schedule",
    )
    assert step.returncode == 0, step.stdout + step.stderr
    enables = [r.path for r in github.requests[before:] if r.method == "PUT"]
    assert enables == [f"/repos/{REPOSITORY}/actions/workflows/traffic.yml/enable"]
    assert "::warning" not in step.stdout
    assert_no_secret_leaks(step, job, remote)


def test_image_carries_the_version_it_reports(image: str) -> None:
    """The image's version label is the version its `--version` prints."""
    inspect = ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image]
    labels = json.loads(subprocess.run(inspect, capture_output=True, check=True).stdout)
    version = subprocess.run(
        ["docker", "run", "--rm", image, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == f"traffic-sync {labels['org.opencontainers.image.version']}"
