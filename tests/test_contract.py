"""The contract documents agree: action.yml, the CLI flags and the README name the same things."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.readme import doc_section, readme_section
from traffic_sync.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {"repos-synced", "repos-failed", "days-added", "commit-sha", "events-sent"}
TEST_COMMAND = ".venv/bin/python -m pytest"


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return action


def flag_names(parser: argparse.ArgumentParser) -> set[str]:
    """Long flags without `--`, leaving out --help, --version and the `--no-X` of a `--X`."""
    flags = {
        option.removeprefix("--")
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    negations = {f for f in flags if f.startswith("no-") and f.removeprefix("no-") in flags}
    return flags - negations - {"help", "version"}


def readme_table(heading: str) -> dict[str, list[str]]:
    """First-column names in backticks -> the row's other cells, from the section's table."""
    rows: dict[str, list[str]] = {}
    for line in readme_section(heading).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`([^`]+)`", cells[0]) if line.startswith("|") else None
        if name:
            rows[name.group(1)] = cells[1:]
    return rows


def run_entrypoint(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run entrypoint.py as the runner does: its own process, another working directory."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py"), *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_action_inputs_cli_flags_and_readme_name_the_same_set() -> None:
    """Every action input is a CLI flag of the same name and a row of the README's table."""
    inputs = set(load_action()["inputs"])
    assert inputs == flag_names(build_parser())
    assert inputs == set(readme_table("Inputs"))


def test_outputs_match_design_and_readme() -> None:
    """action.yml declares the five outputs DESIGN.md lists, and the README's table documents
    exactly those."""
    outputs = load_action()["outputs"]
    assert set(outputs) == OUTPUTS
    assert all(spec.get("description") for spec in outputs.values())
    assert set(readme_table("Outputs")) == set(outputs)


def test_every_input_has_a_description_and_a_default() -> None:
    """Only `token` is required; every other input documents its default."""
    for name, spec in load_action()["inputs"].items():
        assert spec.get("description"), name
        if name == "token":
            assert spec.get("required") is True
            assert "default" not in spec
        else:
            assert "default" in spec, name
            assert isinstance(spec["default"], str), name


def test_readme_defaults_match_action() -> None:
    """The README's default column shows action.yml's default for each input."""
    table = readme_table("Inputs")
    for name, spec in load_action()["inputs"].items():
        cell = table[name][0]
        if spec.get("required"):
            assert cell == "required", name
        elif spec["default"] == "":
            assert cell == "empty", name
        else:
            assert cell == f"`{spec['default']}`", name


def test_action_is_a_docker_action_fit_for_the_marketplace() -> None:
    """Docker action built from the Dockerfile, with branding and a short description."""
    action = load_action()
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert action["name"].startswith("traffic-sync")
    assert 0 < len(action["description"]) < 125
    assert action["branding"]["icon"]
    assert action["branding"]["color"]


def test_readme_starts_with_the_demo() -> None:
    """The README's first command block installs and runs the demo, no token needed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```\w*\n(.*?)```", text, re.S)
    assert first_block
    assert first_block.group(1).strip() == (
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/traffic-sync demo"
    )


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with the test command CONTRIBUTING.md's Development section gives."""
    development = doc_section("CONTRIBUTING.md", "Development")
    assert (
        f"python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && {TEST_COMMAND}"
        in development
    )
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci_lines[-1] == TEST_COMMAND


def test_entrypoint_runs_from_a_clone_in_another_directory(tmp_path: Path) -> None:
    """`python entrypoint.py --help` works from any working directory and lists the flags."""
    result = run_entrypoint(["--help"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--data-repository" in result.stdout


def test_entrypoint_bad_flag_is_usage_error(tmp_path: Path) -> None:
    """An unknown flag is bad command-line usage: exit code 2."""
    result = run_entrypoint(["--no-such-flag"], {}, tmp_path)
    assert result.returncode == 2


def test_entrypoint_reads_inputs_with_hyphens_as_the_runner_passes_them(tmp_path: Path) -> None:
    """`INPUT_DATA-BRANCH` reaches the `data-branch` input; bad inputs exit 1, nothing written."""
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "octo/site",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "INPUT_TOKEN": "",
        "INPUT_DATA-BRANCH": "bad..branch",
        "INPUT_DATA-REPOSITORY": str(tmp_path / "data"),
    }
    result = run_entrypoint([], env, tmp_path)
    assert result.returncode == 1
    assert any(line.startswith("::error") for line in result.stdout.splitlines())
    assert "bad..branch" in result.stdout  # read from INPUT_DATA-BRANCH, hyphen and all
    assert "`token`" in result.stdout  # and reported together with the empty token
    assert summary.exists()
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "traffic_sync", "--version"],
        [str(Path(sys.executable).parent / "traffic-sync"), "--version"],
    ],
    ids=["python -m traffic_sync", "traffic-sync"],
)
def test_cli_commands_start(command: list[str], tmp_path: Path) -> None:
    """The console script and `python -m traffic_sync` are the same command."""
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("traffic-sync ")
