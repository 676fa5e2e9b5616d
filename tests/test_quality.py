"""Quality gates run by the one test command: lint, format, types, action schema, Dockerfile."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON_CODE = ["src", "tests", "entrypoint.py", "setup.py", "scripts"]
RUNTIME = {"pygithub", "requests", "pyyaml"}
IMAGE_PYTHON = "3.11"  # Debian bookworm's python3, which the Dockerfile installs


def run_tool(tool: str, *args: str) -> None:
    """Run a dev tool from this interpreter's venv in the repo root; fail with its output."""
    result = subprocess.run(
        [str(BIN / tool), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"{tool} {' '.join(args)}\n{result.stdout}\n{result.stderr}"


def read_pins() -> dict[str, str]:
    """requirements.txt as canonical name -> exact version; fails on anything but `==`."""
    pins: dict[str, str] = {}
    for raw in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"requirements.txt: {line!r} is not pinned exactly as name==version"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_ruff_lint() -> None:
    """`ruff check` finds nothing in the code and the tests."""
    run_tool("ruff", "check", *PYTHON_CODE)


def test_ruff_format() -> None:
    """The code and the tests are formatted as `ruff format` would."""
    run_tool("ruff", "format", "--check", *PYTHON_CODE)


def test_mypy_strict() -> None:
    """`mypy --strict` passes on the package, the entry point and the release script."""
    run_tool("mypy", "--strict", "src", "entrypoint.py", "scripts")


def test_action_yml_matches_the_github_actions_schema() -> None:
    """action.yml validates against SchemaStore's github-action schema."""
    run_tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml")


def test_dockerfile_passes_hadolint() -> None:
    """hadolint finds nothing in the Dockerfile."""
    run_tool("hadolint", "Dockerfile")


def test_no_workflow_files() -> None:
    """No .github/workflows: the Marketplace refuses to list a repo that has them."""
    assert not (ROOT / ".github" / "workflows").exists()


def test_requirements_pin_the_runtime_packages_exactly() -> None:
    """Every image pin is `==`, covers PyGithub, requests and PyYAML, and fits pyproject."""
    pins = read_pins()
    assert pins.keys() >= RUNTIME
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is a dependency but not pinned in requirements.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {spec}"


def test_requirements_are_a_closed_set() -> None:
    """Every package the runtime dependencies pull in is pinned too (the image uses --no-deps)."""
    pins = read_pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    queue = [(Requirement(spec), "pyproject.toml") for spec in project["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    missing: set[str] = set()
    while queue:
        requirement, needed_by = queue.pop()
        name = canonicalize_name(requirement.name)
        if name not in pins:
            missing.add(f"{name} (needed by {needed_by})")
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not in this venv: nothing to read its dependencies from
        for spec in requires:
            child = Requirement(spec)
            if child.marker is None or any(
                child.marker.evaluate({"python_version": IMAGE_PYTHON, "extra": extra})
                for extra in {"", *requirement.extras}
            ):
                queue.append((child, name))
    assert not missing, f"requirements.txt misses: {sorted(missing)}"


def test_dockerfile_installs_from_requirements_without_dev_tools() -> None:
    """The image installs the exact pins with --no-deps, copies the package, and no dev extras
    (tests/test_container.py builds and runs it)."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM debian:bookworm-slim$", dockerfile, re.M)
    assert f"'python3={IMAGE_PYTHON}.*'" in dockerfile
    assert "pip install --no-deps -r requirements.txt" in dockerfile
    assert "COPY src/ ./src/" in dockerfile  # entrypoint.py imports it from there
    assert "pip install --no-deps ." not in dockerfile  # no unpinned build tools
    assert "[dev]" not in dockerfile
