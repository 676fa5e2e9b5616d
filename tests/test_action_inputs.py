"""action.yml is the one source of the inputs: the CLI's flags, defaults and help come from it,
and every way the tool is installed (a wheel, a clone, the image) carries it."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from traffic_sync.cli import CLI_ONLY_FLAGS, IMPORT_INPUTS, build_import_parser, build_parser
from traffic_sync.settings import (
    INPUT_DEFAULTS,
    LOCAL_FALLBACKS,
    ActionInput,
    action_file,
    action_inputs,
    parse_action_inputs,
)

ROOT = Path(__file__).resolve().parent.parent
NOTE = re.compile(r"^(?: \(default: (?P<default>[^)]+)\))?$")


def action_yml() -> dict[str, Any]:
    """action.yml at the repository's root, the file GitHub reads."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return loaded


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Long option name without `--` -> its argparse action (a `--no-X` is its `--X`)."""
    found = {}
    for action in parser._actions:
        long = [o for o in action.option_strings if o.startswith("--")]
        if long:
            found[long[0].removeprefix("--")] = action
    return found


def folded(text: str) -> str:
    return " ".join(text.split())


def test_every_input_is_a_flag_with_the_action_default_and_description() -> None:
    """Each action.yml input is a flag whose help is the input's description and whose
    default is the input's (a runner expression's stand-in named in the help)."""
    flags = options(build_parser())
    for name, spec in action_yml()["inputs"].items():
        assert name in flags, f"action input {name!r} has no --{name}"
        option = flags[name]
        description = folded(spec["description"])
        help_text = str(option.help).replace("%%", "%")
        assert help_text.startswith(description), name
        note = NOTE.fullmatch(help_text.removeprefix(description))
        assert note, f"--{name}: help adds more than a default: {help_text!r}"
        default = spec.get("default", "")
        if "${{" in default or spec.get("required"):
            assert note["default"] == LOCAL_FALLBACKS[name], name
            assert option.default in ("", False), name
        elif isinstance(option, argparse.BooleanOptionalAction):
            assert option.default is (default == "true"), name
            assert note["default"] == default, name
        else:
            assert option.default == default, name
            assert note["default"] == (default or None), name


def test_cli_has_no_flag_the_action_lacks() -> None:
    """The sync command's flags are the action's inputs plus the listed CLI-only ones."""
    flags = set(options(build_parser()))
    assert flags - set(action_yml()["inputs"]) == set(CLI_ONLY_FLAGS)


def test_import_flags_that_are_inputs_say_what_the_action_says() -> None:
    """`traffic-sync import` takes the data branch's inputs with the action's help and
    defaults; its other flags are its own."""
    flags = options(build_import_parser())
    sync_flags = options(build_parser())
    for name in IMPORT_INPUTS:
        assert (flags[name].help, flags[name].default) == (
            sync_flags[name].help,
            sync_flags[name].default,
        ), name
    assert set(flags) - set(IMPORT_INPUTS) == {"help", "from", "repo", "token"}


def test_runner_expressions_have_a_local_fallback() -> None:
    """Every input the runner fills in (an expression default, or required) names what stands
    for it on the command line, and nothing else does."""
    needing = {
        name
        for name, spec in action_yml()["inputs"].items()
        if "${{" in spec.get("default", "") or spec.get("required")
    }
    assert needing == set(LOCAL_FALLBACKS)
    assert all(INPUT_DEFAULTS[name] == "" for name in needing)


def test_settings_defaults_are_the_action_defaults() -> None:
    """The defaults settings fill in are action.yml's, in its order, expressions left empty."""
    inputs = action_yml()["inputs"]
    assert list(INPUT_DEFAULTS) == list(inputs)
    for name, spec in inputs.items():
        default = spec.get("default", "")
        assert INPUT_DEFAULTS[name] == ("" if "${{" in default else default), name


def test_a_default_that_is_not_text_is_refused() -> None:
    """GitHub passes every input as text: `default: 8` (a YAML number) is refused by name."""
    with pytest.raises(TypeError, match="'concurrency'"):
        parse_action_inputs("inputs:\n  concurrency:\n    description: d\n    default: 8\n")


def test_inputs_parse_with_folded_descriptions() -> None:
    """A description's line breaks fold to spaces; a boolean default makes a --X/--no-X flag."""
    found = parse_action_inputs(
        "inputs:\n  dry-run:\n    description: >-\n      Collect,\n      push nothing.\n"
        "    default: 'false'\n  token:\n    description: The\n      token.\n"
        "    required: true\n"
    )
    assert found == (
        ActionInput("dry-run", "Collect, push nothing.", "false", required=False),
        ActionInput("token", "The token.", "", required=True),
    )
    assert [i.is_flag for i in found] == [True, False]


def test_a_source_tree_reads_the_root_action_file() -> None:
    """Run from the source tree (this editable install), the root action.yml is the one read."""
    assert Path(str(action_file())) == ROOT / "action.yml"
    assert [i.name for i in action_inputs()] == list(action_yml()["inputs"])


def test_the_image_carries_the_action_file_beside_src() -> None:
    """The Dockerfile copies action.yml into /app beside src/, as a clone has it, and the
    build context lets it in (tests/test_container.py runs the image)."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^COPY entrypoint\.py action\.yml \./$", dockerfile, re.M)
    assert re.search(r"^WORKDIR /app$", dockerfile, re.M)
    assert "!action.yml" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


@pytest.mark.slow  # builds a wheel
def test_the_wheel_ships_the_action_file_and_reads_it(tmp_path: Path) -> None:
    """A wheel (what `pip install .` builds) holds a copy of action.yml in the package, and
    the installed CLI takes its flags from it with no source tree around."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "action.yml"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), "."]
    result = subprocess.run(
        build, cwd=source, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = wheels.glob("traffic_sync-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("traffic_sync/action.yml")
        archive.extractall(tmp_path / "installed")
    assert packaged == (ROOT / "action.yml").read_bytes()
    # the action file's description of one input, changed in the installed copy only: the CLI
    # shows what the package holds
    installed = tmp_path / "installed" / "traffic_sync" / "action.yml"
    installed.write_text(
        installed.read_text(encoding="utf-8").replace(
            "Branch that holds the data,", "Branch of the packaged copy,"
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "installed")}
    shown = subprocess.run(
        [sys.executable, "-m", "traffic_sync", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Branch of the packaged copy," in folded(shown.stdout)
