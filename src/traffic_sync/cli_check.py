"""`traffic-sync check` and the action's `check: true`: the preflight, its table and exit code.

It takes the same inputs as a sync (the flags, the environment, or the action's inputs) and
writes nothing: no branch, no state, no event. Exit 1 when a finding is a problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from traffic_sync.actions import Reporter
from traffic_sync.core.config import Settings
from traffic_sync.core.errors import TrafficSyncError
from traffic_sync.pages import markdown
from traffic_sync.stages.check import CheckOptions, Finding, check, problems, token_kind
from traffic_sync.sync import collect_options, github_source


class CheckProblem(TrafficSyncError):
    """A finding of the check that would make a sync fail or fall short."""

    title = "Check"


def run_check(
    settings: Settings, *, reporter: Reporter, clock: Callable[[], float] = time.time
) -> int:
    """Check `settings` against GitHub, report every finding, and say whether to fail;
    `clock` is the run's one clock (when GitHub's limits reset)."""
    options = check_options(settings)
    pusher = settings.push_token or settings.token
    findings = check(
        options,
        source=github_source(settings, token=settings.token, clock=clock),
        pusher=github_source(settings, token=pusher, clock=clock)
        if options.sync.guarded is not None
        else None,
    )
    for finding in findings:
        if finding.problem:
            reporter.error(CheckProblem(finding.result, fix=finding.fix), where=finding.subject)
        else:
            reporter.progress(f"{finding.subject}: {finding.result}")
    reporter.write_summary(render_check(findings))
    return 1 if problems(findings) else 0


def check_options(settings: Settings) -> CheckOptions:
    """What the check takes of the settings: what the sync's collection would take."""
    return CheckOptions(
        sync=collect_options(settings),
        keepalive=settings.keepalive,
        kind=token_kind(settings.token),
    )


def render_check(findings: Sequence[Finding]) -> str:
    """The step summary (or the terminal's table): a row a finding, problems first."""
    count = problems(findings)
    verdict = (
        "no problem found: a sync would work."
        if not count
        else f"{markdown.plural(count, 'problem')} to fix before a sync."
    )
    ordered = sorted(findings, key=lambda f: not f.problem)
    rows = (
        (
            "problem" if f.problem else "ok" if f.known else "not known",
            f.subject,
            markdown.escape_cell(f.result),
            markdown.escape_cell(f.fix),
        )
        for f in ordered
    )
    lines = [f"## traffic-sync check: {verdict}", ""]
    lines += markdown.table(("", "Checked", "Found", "Fix"), "llll", rows)
    return markdown.page(lines)
