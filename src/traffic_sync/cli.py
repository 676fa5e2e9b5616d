"""main(): inputs (action env or flags) -> settings -> run -> report -> exit code.

The action runs `entrypoint.py` with no arguments and its inputs in `INPUT_<NAME>` env vars;
the command line passes flags of the same names. Flags win over env; both meet in one parser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from traffic_sync import __version__
from traffic_sync.actions import Reporter
from traffic_sync.errors import ConfigError, TrafficSyncError
from traffic_sync.github import GitHubSource, RetryPolicy
from traffic_sync.models import RunReport
from traffic_sync.pacer import Pacer
from traffic_sync.render import render_summary
from traffic_sync.settings import INPUT_DEFAULTS, SECRET_INPUTS, Settings, parse_settings
from traffic_sync.sync import run

BOOLEAN_INPUTS = (
    "include-forks",
    "include-archived",
    "allow-private-in-public",
    "dry-run",
    "fail-on-error",
)
HELP = {
    "token": "token that reads traffic (default: $GITHUB_TOKEN)",
    "repos": "repos to track: owner/name, owner/*, !owner/name (newlines, commas or spaces)",
    "sink": "auto, or a comma list of: branch, posthog (auto: branch, plus posthog with a key)",
    "data-repository": "where the data branch lives: owner/name, a git URL, or a local folder",
    "data-branch": "branch for the data (created as an orphan on the first run)",
    "data-path": "folder inside the branch (default: its root)",
    "push-token": "token used only to push to data-repository (default: the token)",
    "posthog-api-key": "PostHog project API key (phc_...): sends the settled days to PostHog",
    "posthog-host": "PostHog ingestion host (EU Cloud: https://eu.i.posthog.com, or self-hosted)",
    "include-forks": "include forks when expanding owner/*",
    "include-archived": "include archived repos when expanding owner/*",
    "allow-private-in-public": "allow private repos' traffic in a public data repository",
    "dry-run": "collect, merge and report; push nothing, send nothing",
    "fail-on-error": "exit 1 when any repo failed (after saving the others)",
    "concurrency": "repos fetched at once (1-100, default 8)",
    "requests-per-minute": "API requests per minute for the whole run (default 900)",
    "max-requests": "API requests this run may make, 0 = no cap (stalest repos first)",
    "request-timeout": "seconds one API request may take before it is retried (default 30)",
    "shard": "K/N: take only the repos whose id falls in shard K of N (default 1/1: all)",
}


def build_parser() -> argparse.ArgumentParser:
    """The sync command's flags: one per action input, with the input's name."""
    parser = argparse.ArgumentParser(
        prog="traffic-sync",
        description="Keep GitHub traffic history (views, clones, referrers, paths) forever. "
        "Try it without a token: traffic-sync demo",
    )
    parser.add_argument("--version", action="version", version=f"traffic-sync {__version__}")
    for name in INPUT_DEFAULTS:
        if name in BOOLEAN_INPUTS:
            parser.add_argument(
                f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=HELP[name]
            )
        else:
            parser.add_argument(f"--{name}", metavar="VALUE", default=None, help=HELP[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script, `python -m traffic_sync` and the action."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        from traffic_sync.demo import main as demo_main  # noqa: PLC0415 - only the demo needs it

        return demo_main(args[1:])
    flags = vars(build_parser().parse_args(args))
    env = dict(os.environ)
    raw = collect_inputs(flags, env)
    reporter = Reporter(env=env, secrets=[raw[s] for s in SECRET_INPUTS if raw.get(s)])
    reporter.mask_secrets()
    try:
        settings = parse_settings(raw, env)
    except ConfigError as error:
        reporter.error(error)
        reporter.write_summary(_config_summary(error))
        return 1
    try:
        report = sync(settings, reporter=reporter, env=env)
    except Exception as error:  # a bug: report it redacted instead of a raw traceback
        reporter.error(TrafficSyncError(f"Unexpected error: {error!r}"))
        reporter.progress(reporter.redact(traceback.format_exc()).replace("\n", " | "))
        return 1
    # Charts only where GitHub draws them: in the step summary, not in a terminal.
    reporter.write_summary(render_summary(report, with_charts=bool(env.get("GITHUB_STEP_SUMMARY"))))
    reporter.write_outputs(report, events_sent=report.events_sent)
    return exit_code(report, settings)


def collect_inputs(flags: Mapping[str, object], env: Mapping[str, str]) -> dict[str, str]:
    """Input name -> raw text: the flag if given, else `INPUT_<NAME>`, else the env token."""
    raw: dict[str, str] = {}
    for name in INPUT_DEFAULTS:
        flag = flags.get(name.replace("-", "_"))
        if isinstance(flag, bool):
            raw[name] = "true" if flag else "false"
        elif flag is not None:
            raw[name] = str(flag)
        else:
            raw[name] = env.get(f"INPUT_{name.upper()}", "")
    if not raw["token"] and env.get("GITHUB_ACTIONS") != "true":
        raw["token"] = env.get("GITHUB_TOKEN", "")
    return raw


def sync(settings: Settings, *, reporter: Reporter, env: Mapping[str, str]) -> RunReport:
    """One real run: today's UTC date, the GitHub API, a temporary git dir."""
    today = dt.datetime.now(dt.UTC).date()
    pacer = Pacer(per_minute=settings.requests_per_minute, budget=settings.max_requests or None)
    policy = RetryPolicy(timeout=settings.request_timeout)
    source = GitHubSource(
        token=settings.token, api_url=settings.api_url, policy=policy, pacer=pacer
    )
    temp_root = env.get("RUNNER_TEMP") or None
    with tempfile.TemporaryDirectory(prefix="traffic-sync-", dir=temp_root) as workdir:
        return run(
            settings,
            today=today,
            source=source,
            log=reporter,
            workdir=Path(workdir),
            cwd=Path.cwd(),
        )


def exit_code(report: RunReport, settings: Settings) -> int:
    """1 when the data could not be written or sent, or a repo failed and fail-on-error is on."""
    if report.store_failed or (report.repos_failed and settings.fail_on_error):
        return 1
    if report.posthog is not None and report.posthog.failed:
        return 1
    return 0


def _config_summary(error: ConfigError) -> str:
    problems = "\n".join(f"- {p}" for p in error.problems)
    return (
        "## traffic-sync: invalid configuration\n\n"
        "Nothing was fetched or written. Fix these inputs and run again:\n\n"
        f"{problems}\n"
    )
