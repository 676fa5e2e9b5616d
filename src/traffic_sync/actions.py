"""The only module that speaks the runner's protocol: masks, annotations, outputs, summary.

Run outside GitHub Actions, the same calls print plain readable lines instead.
https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from traffic_sync.core.errors import ConfigError, TrafficSyncError
from traffic_sync.core.models import RunReport

REDACTED = "***"


def escape_data(text: str) -> str:
    """A workflow command's message: one line, so it cannot end early or start a forged command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (title=...), where `:` and `,` also end the value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def one_line(text: str) -> str:
    """Untrusted text printed to the log: one line that the runner cannot read as a workflow
    command (it reads a line as one when it starts with `::` after leading white space)."""
    line = " ".join(text.splitlines())
    return f"> {line}" if line.lstrip().startswith("::") else line


def mask_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every form in which a secret can be used: as given, trimmed (what settings use), and
    each trimmed line of one pasted over several lines. Longest first, so a secret that holds
    another is redacted whole."""
    forms: set[str] = set()
    for secret in secrets:
        forms.update((secret, secret.strip(), *(line.strip() for line in secret.splitlines())))
    return tuple(sorted((f for f in forms if f), key=lambda form: (-len(form), form)))


def run_outputs(report: RunReport) -> dict[str, str]:
    """The five step outputs of a run that ended."""
    return {
        "repos-synced": str(report.repos_synced),
        "repos-failed": str(report.repos_failed),
        "days-added": str(report.days_added),
        "commit-sha": report.commit_sha,
        "events-sent": str(report.events_sent),
    }


def crash_outputs(*, repos_named: int) -> dict[str, str]:
    """The outputs of a run that died of an unexpected error: nothing counted as saved, and at
    least one repo failed, so a later step that checks `repos-failed` sees it."""
    return {
        "repos-synced": "0",
        "repos-failed": str(max(repos_named, 1)),
        "days-added": "0",
        "commit-sha": "",
        "events-sent": "0",
    }


class Reporter:
    """Writes what a run has to say, to the runner's files or to a terminal."""

    def __init__(
        self, *, env: Mapping[str, str], out: TextIO | None = None, secrets: Iterable[str] = ()
    ) -> None:
        self._env = env
        self._out = out  # None: whatever sys.stdout is when printing
        self._secrets = mask_forms(secrets)
        self.in_actions = env.get("GITHUB_ACTIONS") == "true"

    def redact(self, text: str) -> str:
        """Remove every secret from text before it goes anywhere."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def mask_secrets(self) -> None:
        """Ask the runner to hide the tokens in every later log line, in each form they can
        be used in (a form that spans lines is masked line by line)."""
        if self.in_actions:
            for secret in self._secrets:
                if "\n" not in secret and "\r" not in secret:
                    self._print(f"::add-mask::{secret}", redact=False)

    def progress(self, line: str) -> None:
        self._print(one_line(line))

    def error(self, error: TrafficSyncError, *, where: str = "") -> None:
        """An error annotation (Actions) or an `error:` line (terminal), with the fix."""
        self._annotate("error", error, where=where)

    def warning(self, error: TrafficSyncError, *, where: str = "") -> None:
        self._annotate("warning", error, where=where)

    def _annotate(self, level: str, error: TrafficSyncError, *, where: str) -> None:
        title = f"{error.title}: {where}" if where else error.title
        if isinstance(error, ConfigError):
            body = "\n".join(f"- {p}" for p in error.problems)
        else:
            body = "\n".join(part for part in (error.message, error.fix) if part)
        if self.in_actions:
            self._print(f"::{level} title={escape_property(title)}::{escape_data(body)}")
        else:
            lines = body.splitlines() or [""]
            self._print(f"{level}: {title}: {lines[0]}")
            for line in lines[1:]:
                self._print(f"  {line}")

    def write_outputs(self, outputs: Mapping[str, str]) -> None:
        """The step outputs, to $GITHUB_OUTPUT (skipped outside the runner)."""
        path = self._env.get("GITHUB_OUTPUT")
        if not path:
            return
        with Path(path).open("a", encoding="utf-8") as file:
            file.writelines(f"{name}={value}\n" for name, value in outputs.items())

    def write_summary(self, markdown: str) -> None:
        """Markdown to $GITHUB_STEP_SUMMARY, or to the terminal when there is no such file."""
        text = self.redact(markdown)
        path = self._env.get("GITHUB_STEP_SUMMARY")
        if path:
            with Path(path).open("a", encoding="utf-8") as file:
                file.write(text if text.endswith("\n") else text + "\n")
        else:
            self._print("\n" + text.rstrip("\n"))

    def _print(self, line: str, *, redact: bool = True) -> None:
        print(self.redact(line) if redact else line, file=self._out or sys.stdout, flush=True)
