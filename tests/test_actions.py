"""The runner protocol: escaped annotations, outputs, summary, and secrets that never leak."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from traffic_sync.actions import Reporter, escape_data, escape_property, run_outputs
from traffic_sync.core.errors import ConfigError, RepoNotFoundError
from traffic_sync.core.models import RepoResult, RepoStatus, RunReport

REPORT = RunReport(
    fetched_on=dt.date(2026, 1, 5),
    results=(
        RepoResult("octo/a", RepoStatus.SAVED, 10, 4, 2, 1, days_added=3),
        RepoResult("octo/b", RepoStatus.FAILED, error_title="Repo not found", error="404"),
    ),
    commit_sha="abc123",
)


def reporter(env: dict[str, str], secrets: tuple[str, ...] = ()) -> tuple[Reporter, io.StringIO]:
    out = io.StringIO()
    return Reporter(env=env, out=out, secrets=secrets), out


def test_annotation_cannot_be_split_or_forged() -> None:
    """Newlines and `%` are encoded, so untrusted text cannot start its own workflow command."""
    assert escape_data("a\n::error::x\r%") == "a%0A::error::x%0D%25"
    assert escape_property("t: a, b") == "t%3A a%2C b"


def test_error_in_actions_is_one_annotation_with_the_fix() -> None:
    """In Actions an error is one `::error title=...::` line carrying message and fix."""
    rep, out = reporter({"GITHUB_ACTIONS": "true"})
    rep.error(
        RepoNotFoundError("octo/x: not found (404).", fix="Check the spelling."), where="octo/x"
    )
    line = out.getvalue().strip()
    assert (
        line
        == "::error title=Repo not found%3A octo/x::octo/x: not found (404).%0ACheck the spelling."
    )


def test_error_in_terminal_is_readable() -> None:
    """Outside Actions the same error prints as plain lines."""
    rep, out = reporter({})
    rep.error(ConfigError(["first", "second"]))
    assert out.getvalue() == "error: Invalid configuration: - first\n  - second\n"


def test_secrets_are_masked_and_redacted() -> None:
    """Tokens are masked for the runner and replaced in everything printed or summarised."""
    rep, out = reporter({"GITHUB_ACTIONS": "true"}, secrets=("ghp_secret123",))
    rep.mask_secrets()
    rep.progress("oops ghp_secret123 leaked")
    text = out.getvalue()
    assert text.startswith("::add-mask::ghp_secret123\n")
    assert "oops *** leaked" in text
    assert text.count("ghp_secret123") == 1


def test_progress_stays_on_one_line() -> None:
    """Untrusted text in a progress line cannot open a new log line."""
    rep, out = reporter({})
    rep.progress("title\n::error::forged")
    assert out.getvalue() == "title ::error::forged\n"


def test_outputs_written_to_github_output(tmp_path: Path) -> None:
    """The five outputs land in $GITHUB_OUTPUT as name=value lines."""
    output = tmp_path / "out"
    rep, _ = reporter({"GITHUB_OUTPUT": str(output)})
    rep.write_outputs(run_outputs(REPORT))
    assert output.read_text().splitlines() == [
        "repos-synced=1",
        "repos-failed=1",
        "days-added=3",
        "commit-sha=abc123",
        "events-sent=0",
    ]


def test_outputs_skipped_without_runner_file() -> None:
    """Locally there is no output file and nothing is printed for outputs."""
    rep, out = reporter({})
    rep.write_outputs(run_outputs(REPORT))
    assert out.getvalue() == ""


def test_summary_goes_to_file_in_actions_and_terminal_otherwise(tmp_path: Path) -> None:
    """The step summary appends to $GITHUB_STEP_SUMMARY, or prints when there is none."""
    summary = tmp_path / "summary.md"
    rep, out = reporter({"GITHUB_STEP_SUMMARY": str(summary)}, secrets=("tok",))
    rep.write_summary("# hi tok")
    assert summary.read_text() == "# hi ***\n"
    assert out.getvalue() == ""
    rep2, out2 = reporter({})
    rep2.write_summary("# hi\n")
    assert out2.getvalue() == "\n# hi\n"
