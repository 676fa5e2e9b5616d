"""A release is consistent: one SemVer version everywhere, and a changelog entry that covers it.

The checks are scripts/release.py's, which refuses a release that fails them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scripts.release import SEMVER, changelog_problems, label_version, semver_key
from traffic_sync import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_semver() -> None:
    """`__version__`, the one place the version is written, is valid SemVer."""
    assert SEMVER.fullmatch(__version__), __version__


@pytest.mark.parametrize(
    ("version", "valid"),
    [
        ("1.0.0", True),
        ("1.0.0-rc.1+build.5", True),
        ("1.0", False),
        ("v1.0.0", False),
        ("01.0.0", False),
        ("1.0.0-", False),
        ("1.0.0-rc.01", False),
    ],
)
def test_semver_check_tells_valid_from_invalid(version: str, valid: bool) -> None:
    """The SemVer check accepts SemVer and refuses a prefix, a leading zero or a stub."""
    assert bool(SEMVER.fullmatch(version)) is valid


def test_semver_precedence() -> None:
    """Versions sort as SemVer says: numbers numerically, a pre-release before its release."""
    shuffled = ["1.10.0", "1.0.0-rc.1", "1.9.0", "1.0.0", "1.0.0-alpha.beta", "1.0.0-alpha"]
    assert sorted([*shuffled, "1.0.0-alpha.1"], key=semver_key) == [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-rc.1",
        "1.0.0",
        "1.9.0",
        "1.10.0",
    ]


def test_dockerfile_label_is_the_version() -> None:
    """The image's version label (a Dockerfile cannot read Python) equals `__version__`."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert label_version(dockerfile) == __version__
    assert label_version('LABEL org.opencontainers.image.title="traffic-sync"') is None


def test_pyproject_takes_the_version_from_the_package() -> None:
    """pyproject.toml writes no version of its own: setuptools reads `__version__`."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "traffic_sync.__version__"
    }


def test_entrypoint_prints_the_version(tmp_path: Path) -> None:
    """`python entrypoint.py --version`, what the image runs, prints `__version__`."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py"), "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"traffic-sync {__version__}\n"


def test_changelog_covers_the_version() -> None:
    """CHANGELOG.md has an [Unreleased] section or one for `__version__`, and is well formed."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog_problems(text, __version__) == []


GOOD_RELEASED = "# Changelog\n\n## [1.1.0] - 2025-03-01\n\n## [1.0.0] - 2025-01-31\n"


@pytest.mark.parametrize(
    ("text", "version", "problem"),
    [
        (GOOD_RELEASED, "1.2.0", "no [Unreleased] section and none for 1.2.0"),
        (GOOD_RELEASED, "1.0.1", "[1.1.0] is newer than the package's 1.0.1"),
        ("# Changelog\n\n## [1.0.0] - 2025-02-30\n", "1.0.0", "has no real date"),
        ("# Changelog\n\n## [1.0.0]\n", "1.0.0", "is not '[Unreleased]' or"),
        ("# Changelog\n\n## [v1.0.0] - 2025-01-31\n", "1.0.0", "is not '[Unreleased]' or"),
        ("# Changelog\n\n## [1.0.0] - 2025-01-31\n## [Unreleased]\n", "1.0.0", "not the first"),
        (
            "# Changelog\n\n## [1.0.0] - 2025-01-31\n## [1.1.0] - 2025-03-01\n",
            "1.1.0",
            "not newest first",
        ),
        ("## [Unreleased]\n", "1.0.0", "does not start with '# Changelog'"),
    ],
    ids=[
        "version not in it",
        "section newer than the version",
        "impossible date",
        "no date",
        "not semver",
        "unreleased below a release",
        "oldest first",
        "no title",
    ],
)
def test_changelog_check_finds_each_problem(text: str, version: str, problem: str) -> None:
    """Each way a changelog can miss the release is reported."""
    assert any(problem in found for found in changelog_problems(text, version))


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (GOOD_RELEASED, "1.1.0"),
        (GOOD_RELEASED.replace("\n\n", "\n\n## [Unreleased]\n\n", 1), "1.1.0"),
        (GOOD_RELEASED.replace("\n\n", "\n\n## [Unreleased]\n\n", 1), "1.2.0"),
    ],
    ids=["released", "released, more to come", "next version unreleased"],
)
def test_changelog_check_passes_a_released_or_unreleased_version(text: str, version: str) -> None:
    """A section for the version, or an [Unreleased] one for the next, is enough."""
    assert changelog_problems(text, version) == []
