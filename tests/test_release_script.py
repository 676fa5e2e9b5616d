"""scripts/release.py: a dry run checks the version everywhere and writes the release action.yml;
a release publishes the image and tags a release commit beside main. Real git in temp folders;
`docker` is a stand-in that records its arguments (no image is built here)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.release import Release, action_problems, owner_from_remote, release_action
from tests.helpers.gitrepo import PLAIN_ENV, git
from traffic_sync import __version__

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "release.py"
IMAGE = f"ghcr.io/octo-org/traffic-sync:{__version__}"
MAJOR = __version__.split(".")[0]
FILES = (
    "action.yml",
    "pyproject.toml",
    "Dockerfile",
    "CHANGELOG.md",
    "src/traffic_sync/__init__.py",
)


def released_changelog(text: str) -> str:
    """The changelog as a release commit has it: a dated section for the version."""
    return text.replace("## [Unreleased]", f"## [Unreleased]\n\n## [{__version__}] - 2026-12-01", 1)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A repository with the release's files, the changelog dated, pushed to a bare origin
    whose URL (for the owner) is set apart as `github`."""
    work = tmp_path / "traffic-sync"
    for name in FILES:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, work / name)
    changelog = work / "CHANGELOG.md"
    changelog.write_text(released_changelog(changelog.read_text(encoding="utf-8")))
    git("init", "--quiet", "--initial-branch", "main", str(work))
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Release prep", cwd=work)
    git("init", "--quiet", "--bare", str(tmp_path / "origin.git"))
    git("remote", "add", "origin", str(tmp_path / "origin.git"), cwd=work)
    git("remote", "add", "github", "git@github.com:Octo-Org/traffic-sync.git", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return work


def release(clone: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the release script on `clone` as a maintainer would, in its own process."""
    env = {**os.environ, **PLAIN_ENV, "PATH": path or os.environ["PATH"]}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(clone), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def test_dry_run_writes_the_release_action_and_changes_nothing(clone: Path, tmp_path: Path) -> None:
    """The dry run writes an action.yml that runs the version's image with main's inputs and
    outputs, prints the build and tag commands, and leaves the repository as it was."""
    out = tmp_path / "out"
    before = git("for-each-ref", cwd=clone), git("status", "--porcelain", cwd=clone)
    result = release(clone, "--dry-run", "--out", str(out), "--remote", "github")
    assert result.returncode == 0, result.stderr
    written, main = load(out / "action.yml"), load(clone / "action.yml")
    assert written["runs"] == {"using": "docker", "image": f"docker://{IMAGE}"}
    assert (written["inputs"], written["outputs"]) == (main["inputs"], main["outputs"])
    assert main["runs"]["image"] == "Dockerfile"
    schema = [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema"]
    checked = subprocess.run(
        [*schema, "vendor.github-actions", str(out / "action.yml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    commands = [shlex.split(line[2:]) for line in result.stdout.splitlines() if line[:2] == "$ "]
    build = commands[0]
    assert build[:3] == ["docker", "buildx", "build"]
    assert build[build.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert [build[i + 1] for i, a in enumerate(build) if a == "--tag"] == [
        IMAGE,
        f"ghcr.io/octo-org/traffic-sync:{MAJOR}",
    ]
    assert "org.opencontainers.image.source=https://github.com/Octo-Org/traffic-sync" in build
    pushes = [c[-1] for c in commands if "push" in c and c[0] == "git"]
    assert pushes == [f"refs/tags/v{__version__}", f"refs/tags/v{MAJOR}"]
    assert (git("for-each-ref", cwd=clone), git("status", "--porcelain", cwd=clone)) == before


MISMATCHES = {
    "dockerfile label": (
        "Dockerfile",
        (f'version="{__version__}"', 'version="9.9.9"'),
        "Dockerfile: version label '9.9.9', the package says",
    ),
    "changelog not dated": (
        "CHANGELOG.md",
        (f"## [{__version__}] - 2026-12-01", ""),
        f"no '## [{__version__}] - YYYY-MM-DD' section",
    ),
    "pyproject version": (
        "pyproject.toml",
        ('dynamic = ["version"]', 'version = "9.9.9"\ndynamic = []'),
        "pyproject.toml: version '9.9.9'",
    ),
}


@pytest.mark.parametrize("case", MISMATCHES)
def test_a_version_mismatch_is_refused(clone: Path, tmp_path: Path, case: str) -> None:
    """A file whose version is not the package's stops the release with a clear error, before
    anything is written or run."""
    file, (old, new), problem = MISMATCHES[case]
    path = clone / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    git("commit", "--quiet", "-am", "mismatch", cwd=clone)
    out = tmp_path / "out"
    result = release(clone, "--dry-run", "--out", str(out), "--owner", "octo-org")
    assert result.returncode == 1
    assert "release refused:" in result.stderr
    assert problem in result.stderr
    assert "$ " not in result.stdout
    assert not out.exists()


def test_a_dirty_tree_an_existing_tag_and_no_owner_are_refused(clone: Path, tmp_path: Path) -> None:
    """Uncommitted changes, a tag that exists and a remote that is not on GitHub (with no
    --owner) are each named."""
    git("tag", f"v{__version__}", cwd=clone)
    (clone / "Dockerfile").write_text("changed\n", encoding="utf-8")
    result = release(clone, "--dry-run", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "uncommitted changes" in result.stderr
    assert f"the tag v{__version__} exists already" in result.stderr
    assert "pass --owner" in result.stderr


@pytest.mark.parametrize(
    ("url", "owner"),
    [
        ("https://github.com/Octo-Org/traffic-sync.git", "Octo-Org"),
        ("git@github.com:octo/traffic-sync", "octo"),
        ("ssh://git@github.com/octo/traffic-sync.git/", "octo"),
        ("https://gitlab.com/octo/traffic-sync.git", None),
        ("/srv/git/traffic-sync.git", None),
    ],
)
def test_owner_comes_from_a_github_remote(url: str, owner: str | None) -> None:
    """The owner is read from an https or ssh GitHub URL, and from no other host."""
    assert owner_from_remote(url) == owner


def docker_stand_in(folder: Path, calls: Path, *, exit_code: int = 0) -> str:
    """A PATH whose `docker` only records its arguments in `calls` and exits `exit_code`."""
    folder.mkdir()
    (folder / "docker").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexit {exit_code}\n')
    (folder / "docker").chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_release_commits_beside_main_tags_it_and_moves_the_major_tag(
    clone: Path, tmp_path: Path
) -> None:
    """A release (docker a stand-in) pushes the image, then a release commit on top of main's
    head whose action.yml runs the image, tagged v<version> and v<major> in origin; main and
    the checkout keep `image: Dockerfile`."""
    calls = tmp_path / "docker-calls"
    path = docker_stand_in(tmp_path / "bin", calls)
    origin = tmp_path / "origin.git"
    git("tag", "-a", f"v{MAJOR}", "-m", "an older release", cwd=clone)
    git("push", "--quiet", "origin", f"refs/tags/v{MAJOR}", cwd=clone)
    main_head = git("rev-parse", "main", cwd=clone)
    result = release(clone, "--owner", "Octo-Org", path=path)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().startswith("buildx build --platform linux/amd64,linux/arm64 ")
    for tag in (f"v{__version__}", f"v{MAJOR}"):
        commit = git("rev-parse", f"{tag}^{{commit}}", cwd=origin)
        assert git("rev-parse", f"{commit}^", cwd=origin) == main_head, tag
        action = yaml.safe_load(git("show", f"{commit}:action.yml", cwd=origin))
        assert action["runs"]["image"] == f"docker://{IMAGE}", tag
    assert git("rev-parse", "main", cwd=origin) == main_head
    assert load(clone / "action.yml")["runs"]["image"] == "Dockerfile"
    assert git("status", "--porcelain", cwd=clone) == ""
    assert git("worktree", "list", "--porcelain", cwd=clone).count("worktree ") == 1


def test_a_failed_image_push_stops_before_any_tag(clone: Path, tmp_path: Path) -> None:
    """When the image build or push fails, the release stops there, says so, and makes no
    commit or tag."""
    calls = tmp_path / "docker-calls"
    path = docker_stand_in(tmp_path / "bin", calls, exit_code=1)
    refs = git("for-each-ref", cwd=clone)
    result = release(clone, "--owner", "Octo-Org", path=path)
    assert result.returncode == 1
    assert "release stopped: `docker buildx build" in result.stderr
    assert git("for-each-ref", cwd=clone) == refs
    assert git("tag", "--list", cwd=tmp_path / "origin.git") == ""


def test_release_action_check_names_a_changed_input() -> None:
    """The check of the written file finds inputs that differ from main's."""
    main = (ROOT / "action.yml").read_text(encoding="utf-8")
    chosen = Release(version="1.2.3", owner="octo", remote="origin")
    written = release_action(main, chosen)
    assert action_problems(main, written, chosen) == []
    changed = written.replace("  dry-run:", "  dry-run-renamed:", 1)
    assert action_problems(main, changed, chosen) == [
        "the release action.yml's inputs differ from main's"
    ]
