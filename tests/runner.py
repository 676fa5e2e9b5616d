"""Run `entrypoint.py` the way the Actions runner does, on a simulated day.

The runner passes inputs as `INPUT_<NAME>` env vars (upper-cased, hyphens kept), gives the step
`GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, and starts it in the workspace, not in the
action's folder. The day is faked with libfaketime (LD_PRELOAD), so the code under test reads
the real clock exactly as it does in production.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Mapping
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
    workspace.mkdir(parents=True, exist_ok=True)
    files = workspace.parent / f"runner-files-{workspace.name}"
    files.mkdir(exist_ok=True)
    output, summary = files / "output", files / "summary.md"
    output.write_text("")
    summary.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_API_URL=api_url,
        GITHUB_SERVER_URL="https://github.example",
        GITHUB_REPOSITORY="octo-org/site",
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        RUNNER_TEMP=str(files),
    )
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    env.update(faketime_env(now))
    env.update(extra_env or {})
    done = subprocess.run(
        [sys.executable, str(ENTRYPOINT)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return StepResult(done.returncode, done.stdout, done.stderr, outputs, summary.read_text())
