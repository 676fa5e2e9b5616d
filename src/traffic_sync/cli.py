"""main(): inputs (action env or flags) -> settings -> run -> report -> exit code.

The action runs `entrypoint.py` with no arguments and its inputs in `INPUT_<NAME>` env vars;
the command line passes flags of the same names. Flags win over env; both meet in one parser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from traffic_sync import __version__
from traffic_sync.actions import Reporter, crash_outputs, run_outputs
from traffic_sync.cli_check import run_check
from traffic_sync.core.config import Settings
from traffic_sync.core.errors import ConfigError, TrafficSyncError
from traffic_sync.core.models import RunReport
from traffic_sync.github.keepalive import keep_alive
from traffic_sync.imports.formats import Tool
from traffic_sync.imports.importer import import_folder
from traffic_sync.pages.markdown import escape_text
from traffic_sync.pages.summary import render_summary
from traffic_sync.settings import (
    INPUT_DEFAULTS,
    LOCAL_FALLBACKS,
    SECRET_INPUTS,
    ActionInput,
    action_inputs,
    parse_branch_settings,
    parse_settings,
)
from traffic_sync.sinks.gitremote import resolve_remote
from traffic_sync.sync import github_source, run, store_options

_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}")
# The import command's flags that are action inputs, with the same meaning (its --token differs).
IMPORT_INPUTS = ("data-repository", "data-branch", "data-path", "push-token")
# The sync command's flags that are no action input.
CLI_ONLY_FLAGS = ("help", "version")


def input_help(spec: ActionInput) -> str:
    """A flag's help: the input's description in action.yml, and its default on the command
    line (argparse's `%` escaped)."""
    default = LOCAL_FALLBACKS.get(spec.name) or spec.local_default
    note = f" (default: {default})" if default else ""
    return f"{spec.description}{note}".replace("%", "%%")


def add_input(parser: argparse.ArgumentParser, spec: ActionInput) -> None:
    """The flag of one action input: its name, description and default, from action.yml."""
    if spec.is_flag:
        parser.add_argument(
            f"--{spec.name}",
            action=argparse.BooleanOptionalAction,
            default=spec.local_default == "true",
            help=input_help(spec),
        )
    else:
        parser.add_argument(
            f"--{spec.name}", metavar="VALUE", default=spec.local_default, help=input_help(spec)
        )


def build_parser() -> argparse.ArgumentParser:
    """The sync command's flags: one per action input, with its name, description and default
    from action.yml, and --version."""
    parser = argparse.ArgumentParser(
        prog="traffic-sync",
        description="Keep GitHub traffic history (views, clones, referrers, paths) forever. "
        "Try it without a token: traffic-sync demo. Check a token and repos before a first "
        "sync: traffic-sync check (the same flags). Bring another tool's history over: "
        "traffic-sync import --help",
    )
    parser.add_argument("--version", action="version", version=f"traffic-sync {__version__}")
    for spec in action_inputs():
        add_input(parser, spec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script, `python -m traffic_sync` and the action."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        from traffic_sync.cli_demo import main as demo_main  # noqa: PLC0415 - only the demo needs it

        return demo_main(args[1:])
    if args[:1] == ["import"]:
        return import_main(args[1:], env=dict(os.environ))
    if args[:1] == ["check"]:  # the same as the action's `check: true`
        args = ["--check", *args[1:]]
    # every flag starts unset, not at its default, so an INPUT_<NAME> variable can win over it
    unset = argparse.Namespace(**{name.replace("-", "_"): None for name in INPUT_DEFAULTS})
    flags = vars(build_parser().parse_args(args, namespace=unset))
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
    if settings.check:
        return run_check(settings, reporter=reporter, clock=lambda: utc_now().timestamp())
    report: RunReport | None = None
    try:
        report = sync(settings, reporter=reporter, env=env)
        keep_alive(settings, env=env, log=reporter)  # a warning at worst, never the exit code
        # Charts only where GitHub draws them: in the step summary, not in a terminal.
        summary = render_summary(report, with_charts=bool(env.get("GITHUB_STEP_SUMMARY")))
    except Exception as error:  # a bug: report it redacted, with outputs, not a raw traceback
        report_crash(error, reporter=reporter, settings=settings, report=report)
        return 1
    reporter.write_summary(summary)
    reporter.write_outputs(run_outputs(report))
    return exit_code(report, settings)


def build_import_parser() -> argparse.ArgumentParser:
    """`traffic-sync import`'s flags: the tool and folder, the repo, and the data branch's
    inputs as a sync takes them."""
    parser = argparse.ArgumentParser(
        prog="traffic-sync import",
        description="Merge the history another tool kept for one repo into the data branch, "
        "in one commit (none when the branch holds it all already).",
    )
    parser.add_argument(
        "--from",
        dest="tool",
        required=True,
        choices=[tool.value for tool in Tool],
        help="ghrs: a github-repo-stats data folder (ghrs-data); sangonzal: a "
        "repository-traffic-action folder (traffic)",
    )
    parser.add_argument("path", metavar="PATH", help="the tool's folder for this repo")
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repo it is of")
    for spec in action_inputs():
        if spec.name in IMPORT_INPUTS:
            add_input(parser, spec)
    parser.add_argument(
        "--token",
        metavar="VALUE",
        default=None,
        help="pushes when --push-token is not given (default: $GITHUB_TOKEN); only a data "
        "repository on GitHub needs one",
    )
    return parser


def import_main(argv: Sequence[str], *, env: Mapping[str, str]) -> int:
    """`traffic-sync import --from ghrs|sangonzal PATH --repo owner/name`: exit 0 when the
    folder was imported (or held nothing new), 1 when nothing could be written."""
    flags = vars(build_import_parser().parse_args(argv))
    raw = {
        name: str(flags.get(name.replace("-", "_")) or "")
        for name in ("data-repository", "data-branch", "data-path", "push-token", "token")
    }
    if not raw["push-token"] and not raw["token"]:
        raw["token"] = env.get("GITHUB_TOKEN", "")
    reporter = Reporter(env=env, secrets=[raw["push-token"], raw["token"]])
    reporter.mask_secrets()
    repo = str(flags["repo"])
    problems = [] if _REPO.fullmatch(repo) else [f"`--repo` {repo!r} is not `owner/name`."]
    try:
        settings = parse_branch_settings(raw, env)
    except ConfigError as error:
        problems += error.problems
        settings = None
    if settings is not None and needs_push_token(settings) and not settings.push_token:
        problems.append(
            f"`{settings.data_repository}` is a repository on {settings.server_url}: pass a "
            "token that can push to it (--push-token, --token or GITHUB_TOKEN). A local folder "
            "needs none."
        )
    if problems or settings is None:
        reporter.error(ConfigError(problems))
        return 1
    with tempfile.TemporaryDirectory(prefix="traffic-sync-", dir=temp_root(env)) as workdir:
        try:
            remote = resolve_remote(
                settings.data_repository, server_url=settings.server_url, cwd=Path.cwd()
            )
            report = import_folder(
                store_options(settings),
                remote=remote,
                tool=Tool(flags["tool"]),
                path=Path(str(flags["path"])),
                repo=repo,
                today=utc_now().date(),
                workdir=Path(workdir),
            )
        except TrafficSyncError as error:
            reporter.error(error, where=repo)
            return 1
    for line in report.lines():
        reporter.progress(line)
    return 0


def needs_push_token(settings: Settings) -> bool:
    """Whether the data repository is `owner/name` on this GitHub server (a local folder or
    another git URL brings its own access)."""
    remote = resolve_remote(settings.data_repository, server_url=settings.server_url, cwd=Path())
    return remote.local_path is None and remote.url.startswith(settings.server_url + "/")


def report_crash(
    error: Exception, *, reporter: Reporter, settings: Settings, report: RunReport | None
) -> None:
    """An unexpected error still leaves what a workflow reads: an annotation, the outputs and a
    summary that says what failed and what it means for the data."""
    reporter.error(TrafficSyncError(f"Unexpected error: {error!r}"))
    reporter.progress(reporter.redact(traceback.format_exc()).replace("\n", " | "))
    if report is not None:  # the run itself ended: its outputs are true
        reporter.write_outputs(run_outputs(report))
    else:
        named = sum(not p.is_wildcard and not p.exclude for p in settings.repos)
        reporter.write_outputs(crash_outputs(repos_named=named))
    reporter.write_summary(crash_summary(reporter.redact(repr(error)), report))


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


def utc_now() -> dt.datetime:
    """The one clock of a real run: the fetch day, and when GitHub's rate limits reset."""
    return dt.datetime.now(dt.UTC)


def sync(settings: Settings, *, reporter: Reporter, env: Mapping[str, str]) -> RunReport:
    """One real run: today's UTC date, the GitHub API, a temporary git dir."""
    today = utc_now().date()
    source = github_source(
        settings, token=settings.token, budget=True, clock=lambda: utc_now().timestamp()
    )
    with tempfile.TemporaryDirectory(prefix="traffic-sync-", dir=temp_root(env)) as workdir:
        return run(
            settings,
            today=today,
            source=source,
            log=reporter,
            workdir=Path(workdir),
            cwd=Path.cwd(),
        )


def temp_root(env: Mapping[str, str]) -> str | None:
    """Where the run's temporary folder goes: `RUNNER_TEMP` when that folder is there and
    writable, else the system's temp folder (`TMPDIR`, else `/tmp`).

    A container action is handed the runner's `RUNNER_TEMP` unchanged: a path on the host that
    is not mounted in the container (https://github.com/actions/runner/issues/1984), so there
    the image's own `/tmp` serves. `RUNNER_WORKSPACE` and `RUNNER_TOOL_CACHE` are host paths in
    the same way, and the tool reads neither.
    """
    folder = env.get("RUNNER_TEMP", "")
    if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
        return folder
    return None


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


def crash_summary(error: str, report: RunReport | None) -> str:
    """The step summary of a crash; `error` is the exception's text, redacted (and untrusted:
    it may quote what a server sent), so it is escaped, not put in a code span."""
    if report is not None:
        saved = (
            f"The run itself had ended: {report.repos_synced} repos saved, "
            f"{report.repos_failed} failed, commit `{report.commit_sha or 'none'}`; "
            "only its report could not be written."
        )
    else:
        saved = (
            "Nothing is counted as saved. The data branch either has this run's commit "
            "(a push is all or nothing) or is as it was; no stored day is lost either way, "
            "and the next run fetches again whatever this one missed."
        )
    return (
        "## traffic-sync: unexpected error\n\n"
        "The run stopped on an error it does not know how to handle: "
        f"{escape_text(error)}.\n\n"
        f"{saved}\n\n"
        "This is a bug in traffic-sync: please report it with the log of this step "
        "(tokens are masked in it).\n"
    )
