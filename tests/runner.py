"""Run `entrypoint.py` the way the Actions runner does, on a simulated day.

The runner passes inputs as `INPUT_<NAME>` env vars (upper-cased, hyphens kept), gives the step
`GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, and starts it in the workspace, not in the
action's folder. The day is faked with libfaketime (LD_PRELOAD), so the code under test reads
the real clock exactly as it does in production.

`start_step` and `kill_step` interrupt a step the way a cancelled job or a lost runner does:
every process of the step killed at once, git included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import libfaketime

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "entrypoint.py"


@dataclass(frozen=True)
class StepResult:
    """What a workflow step leaves behind."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def faketime_env(now: dt.datetime) -> dict[str, str]:
    """Env that makes a child process (and the git it starts) believe it is `now` (UTC)."""
    _, extra = libfaketime.get_reload_information()
    env = dict(extra)
    env["FAKETIME"] = "@" + now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    env["TZ"] = "UTC"
    return env


@dataclass(frozen=True)
class RunningStep:
    """A step started with `start_step`: its process and the runner's files."""

    process: subprocess.Popen[bytes]
    files: Path  # output, summary.md, stdout, stderr


def start_step(
    inputs: Mapping[str, str],
    *,
    now: dt.datetime,
    api_url: str,
    workspace: Path,
    extra_env: Mapping[str, str] | None = None,
) -> RunningStep:
    """Start the action's entrypoint, like a workflow step with `with: inputs`; see run_step."""
    workspace.mkdir(parents=True, exist_ok=True)
    files = workspace.parent / f"runner-files-{workspace.name}"
    files.mkdir(exist_ok=True)
    for name in ("output", "summary.md"):
        (files / name).write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_API_URL=api_url,
        GITHUB_SERVER_URL="https://github.example",
        GITHUB_REPOSITORY="octo-org/site",
        GITHUB_OUTPUT=str(files / "output"),
        GITHUB_STEP_SUMMARY=str(files / "summary.md"),
        RUNNER_TEMP=str(files),
    )
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    env.update(faketime_env(now))
    env.update(extra_env or {})
    # files, not pipes: a step that is killed or never read from cannot block on a full pipe
    with (files / "stdout").open("wb") as stdout, (files / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(ENTRYPOINT)], cwd=workspace, env=env, stdout=stdout, stderr=stderr
        )
    return RunningStep(process, files)


def finish_step(step: RunningStep, *, timeout: float = 120) -> StepResult:
    """Wait for the step to end and collect what it left behind (a killed step too)."""
    returncode = step.process.wait(timeout=timeout)
    output = (step.files / "output").read_text()
    outputs = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    return StepResult(
        returncode,
        (step.files / "stdout").read_text(errors="replace"),
        (step.files / "stderr").read_text(errors="replace"),
        outputs,
        (step.files / "summary.md").read_text(),
    )


def run_step(
    inputs: Mapping[str, str],
    *,
    now: dt.datetime,
    api_url: str,
    workspace: Path,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> StepResult:
    """Run the action's entrypoint once, like a workflow step with `with: inputs`."""
    step = start_step(inputs, now=now, api_url=api_url, workspace=workspace, extra_env=extra_env)
    try:
        return finish_step(step, timeout=timeout)
    finally:
        if step.process.poll() is None:
            kill_step(step)


def kill_step(step: RunningStep, *, spare: str | None = None) -> list[int]:
    """SIGKILL the step and every process it started, at once, as a cancelled job's container
    is killed; returns the pids spared.

    git runs in sessions of its own (gitstore starts it with a new session), so a process
    group kill would miss it: the whole tree is found through /proc and frozen with SIGSTOP
    until it stops growing, then killed. `spare` keeps the processes whose command line holds
    it, and their children: for a local remote, git's server side (`receive-pack`) runs as a
    child of `git push`, while on GitHub it would live on, on another machine.
    """
    frozen: list[int] = []
    spared: list[int] = []
    while True:
        found = [
            pid for pid in _tree(step.process.pid, spare=spare, spared=spared) if pid not in frozen
        ]
        if not found:
            break
        for pid in found:
            _signal(pid, signal.SIGSTOP)
        frozen += found
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    step.process.wait(timeout=30)
    return spared


def wait_for_exit(pids: Iterable[int], *, timeout: float = 30) -> None:
    """Wait until these processes (not our children) have ended."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while _alive(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {pid} is still running")
            time.sleep(0.01)


def _tree(root: int, *, spare: str | None, spared: list[int]) -> list[int]:
    """`root` and its descendants, leaving out (and noting in `spared`) the spared subtrees."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(int(stat[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if spare and pid != root and spare in _cmdline(pid):
            if pid not in spared:
                spared.append(pid)
            continue
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: state, ppid, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
