"""Release traffic-sync: check the version, publish the image, tag the release commit.

    python scripts/release.py [--owner OWNER] [--remote origin]
    python scripts/release.py --dry-run --out DIR [--owner OWNER]

1. Checks that one SemVer version is written everywhere: `traffic_sync.__version__` (which
   pyproject.toml reads), the Dockerfile's version label, and a dated CHANGELOG section for it;
   that the work tree is clean and the tag `v<version>` is new.
2. Builds the Dockerfile for linux/amd64 and linux/arm64 with `docker buildx` and pushes
   `ghcr.io/<owner>/traffic-sync:<version>` and `:<major>` (a pre-release moves no major tag).
3. Writes the release's action.yml, main's with `runs.image: docker://ghcr.io/<owner>/
   traffic-sync:<version>`, so a run pulls the image instead of building it; main keeps
   `image: Dockerfile`. It is committed on a release commit beside main (in a temporary
   worktree, so the checkout is not touched), tagged `v<version>`, and the major tag `v<major>`
   is moved to it; both tags are pushed.

`--dry-run` does all the checks and writes the release action.yml into `--out`, and prints the
commands it would run instead of building, pushing or tagging. The owner is `--owner`, else the
GitHub owner in the remote's URL.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = "linux/amd64,linux/arm64"
REGISTRY = "ghcr.io"
IMAGE_NAME = "traffic-sync"
# semver.org's own regular expression, with named groups
SEMVER = re.compile(
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
PACKAGE_VERSION = re.compile(r'^__version__ = "([^"]*)"$', re.M)
VERSION_LABEL = re.compile(r'org\.opencontainers\.image\.version="([^"]*)"')
SECTION = re.compile(r"^## (.*)$", re.M)
RELEASED = re.compile(r"\[([^\]]+)\] - (\d{4}-\d{2}-\d{2})")
RUNS_IMAGE = re.compile(r"^(  image: )Dockerfile$", re.M)
GITHUB_REMOTE = re.compile(
    r"github\.com[:/](?P<owner>[A-Za-z0-9-]+)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)

VersionKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


class ReleaseError(Exception):
    """What keeps the release from going ahead, each problem on its own line."""


def semver_key(version: str) -> VersionKey:
    """Sort key in SemVer precedence: a pre-release sorts before its release; build is ignored."""
    match = SEMVER.fullmatch(version)
    if not match:
        raise ValueError(f"{version!r} is not SemVer")
    numbers = int(match["major"]), int(match["minor"]), int(match["patch"])
    if not match["prerelease"]:
        return (*numbers, 1, ())
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in match["prerelease"].split(".")
    )
    return (*numbers, 0, identifiers)


def label_version(dockerfile: str) -> str | None:
    """The Dockerfile's `org.opencontainers.image.version` label, or None without one."""
    match = VERSION_LABEL.search(dockerfile)
    return match.group(1) if match else None


def changelog_problems(text: str, version: str) -> list[str]:
    """What keeps a Keep a Changelog file from covering `version`; empty when it does."""
    problems: list[str] = []
    if not text.startswith("# Changelog\n"):
        problems.append("does not start with '# Changelog'")
    headings = SECTION.findall(text)
    if "[Unreleased]" in headings[1:]:
        problems.append("[Unreleased] is not the first section")
    released: list[str] = []
    for heading in headings:
        match = RELEASED.fullmatch(heading)
        if heading == "[Unreleased]":
            continue
        if not match or not SEMVER.fullmatch(match[1]):
            problems.append(f"'## {heading}' is not '[Unreleased]' or '[X.Y.Z] - YYYY-MM-DD'")
            continue
        try:
            date.fromisoformat(match[2])
        except ValueError:
            problems.append(f"'## {heading}' has no real date")
        released.append(match[1])
    keys = [semver_key(v) for v in released]
    if keys != sorted(keys, reverse=True) or len(set(keys)) != len(keys):
        problems.append(f"released sections are not newest first, each once: {released}")
    if released and semver_key(released[0]) > semver_key(version):
        problems.append(f"[{released[0]}] is newer than the package's {version}")
    if "[Unreleased]" not in headings and version not in released:
        problems.append(f"no [Unreleased] section and none for {version}")
    return problems


def package_version(root: Path) -> str:
    """`traffic_sync.__version__` as written in the package, the version's one source."""
    text = (root / "src" / "traffic_sync" / "__init__.py").read_text(encoding="utf-8")
    match = PACKAGE_VERSION.search(text)
    if not match:
        raise ReleaseError('src/traffic_sync/__init__.py: no `__version__ = "X.Y.Z"` line')
    return match[1]


def version_problems(root: Path, version: str) -> list[str]:
    """Where the release's version is not written as `version`; empty when it is everywhere."""
    problems = [] if SEMVER.fullmatch(version) else [f"__version__ {version!r} is not SemVer"]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    static = project["project"].get("version")
    dynamic = project["tool"]["setuptools"].get("dynamic", {}).get("version")
    if static is not None and static != version:
        problems.append(f"pyproject.toml: version {static!r}, the package says {version!r}")
    if static is None and dynamic != {"attr": "traffic_sync.__version__"}:
        problems.append("pyproject.toml: the version is not read from traffic_sync.__version__")
    label = label_version((root / "Dockerfile").read_text(encoding="utf-8"))
    if label != version:
        problems.append(f"Dockerfile: version label {label!r}, the package says {version!r}")
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    problems += [f"CHANGELOG.md: {p}" for p in changelog_problems(changelog, version)]
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M):
        problems.append(
            f"CHANGELOG.md: no '## [{version}] - YYYY-MM-DD' section: turn [Unreleased] into it"
        )
    return problems


def owner_from_remote(url: str) -> str | None:
    """The GitHub owner in a remote's URL (https or ssh), or None for another host."""
    match = GITHUB_REMOTE.search(url.strip())
    return match["owner"] if match else None


@dataclass(frozen=True, slots=True)
class Release:
    """One release: its version, where its image goes, and the tags it makes."""

    version: str
    owner: str
    remote: str

    @property
    def image(self) -> str:
        """The image's name; ghcr.io takes lower-case names only."""
        return f"{REGISTRY}/{self.owner.lower()}/{IMAGE_NAME}"

    @property
    def major(self) -> str | None:
        """The major version, None for a pre-release (which moves no major tag)."""
        match = SEMVER.fullmatch(self.version)
        return match["major"] if match and not match["prerelease"] else None

    @property
    def image_ref(self) -> str:
        """What the release's action.yml runs."""
        return f"docker://{self.image}:{self.version}"


def release_action(text: str, release: Release) -> str:
    """Main's action.yml with `runs.image` pointing at the published image, all else as is."""
    released, count = RUNS_IMAGE.subn(rf"\g<1>{release.image_ref}", text)
    if count != 1:
        raise ReleaseError("action.yml: no `  image: Dockerfile` line under `runs:` to replace")
    return released


def action_problems(main_text: str, released_text: str, release: Release) -> list[str]:
    """How the release's action.yml differs from main's beyond its image; empty when not."""
    main: dict[str, Any] = yaml.safe_load(main_text)
    released: dict[str, Any] = yaml.safe_load(released_text)
    problems = []
    for key in ("name", "description", "branding", "inputs", "outputs"):
        if released.get(key) != main.get(key):
            problems.append(f"the release action.yml's {key} differ from main's")
    if released.get("runs") != {"using": "docker", "image": release.image_ref}:
        problems.append(f"the release action.yml does not run {release.image_ref}")
    return problems


def build_command(release: Release, root: Path, source: str, revision: str) -> list[str]:
    """The multi-platform build that pushes the version's image and the major tag."""
    tags = [release.version, *([release.major] if release.major else [])]
    command = ["docker", "buildx", "build", "--platform", PLATFORMS]
    for tag in tags:
        command += ["--tag", f"{release.image}:{tag}"]
    # ghcr.io links the package to the repository named here, and shows its revision
    command += ["--label", f"org.opencontainers.image.source={source}"]
    command += ["--label", f"org.opencontainers.image.revision={revision}"]
    return [*command, "--push", str(root)]


def tag_commands(release: Release, action: Path, worktree: Path, root: Path) -> list[list[str]]:
    """The release commit beside main (in a temporary worktree, so the checkout stays as it
    is), with the release's `action` file, and its tags, pushed."""
    tag, message = f"v{release.version}", f"traffic-sync {release.version}"
    git = ["git", "-C", str(worktree)]
    subject = f"Release {release.version}: the action runs {release.image}:{release.version}"
    commands = [
        ["git", "-C", str(root), "worktree", "add", "--detach", str(worktree), "HEAD"],
        ["cp", str(action), str(worktree / "action.yml")],
        [*git, "commit", "--quiet", "-m", subject, "action.yml"],
        [*git, "tag", "-a", tag, "-m", message],
    ]
    if release.major:
        commands.append([*git, "tag", "-f", "-a", f"v{release.major}", "-m", message])
    commands.append([*git, "push", release.remote, f"refs/tags/{tag}"])
    if release.major:
        commands.append([*git, "push", "--force", release.remote, f"refs/tags/v{release.major}"])
    commands.append(["git", "-C", str(root), "worktree", "remove", "--force", str(worktree)])
    return commands


def git_output(root: Path, *args: str) -> str:
    """A git command's output in `root`; a failure is a ReleaseError with git's words."""
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def repository_problems(root: Path, release: Release) -> list[str]:
    """A dirty work tree or a tag that exists already keeps the release back."""
    problems = []
    if git_output(root, "status", "--porcelain"):
        problems.append("the work tree has uncommitted changes: commit them first")
    if git_output(root, "tag", "--list", f"v{release.version}"):
        problems.append(f"the tag v{release.version} exists already: bump the version")
    return problems


def plan(root: Path, owner: str | None, remote: str) -> tuple[Release, str, str]:
    """Check everything; the release, its repository's URL and the commit it releases."""
    version = package_version(root)
    problems = version_problems(root, version)
    url = git_output(root, "remote", "get-url", remote) if _has_remote(root, remote) else ""
    owner = owner or owner_from_remote(url)
    if not owner:
        problems.append(
            f"no owner: the remote {remote!r} is not a GitHub URL ({url or 'none'}); pass --owner"
        )
    release = Release(version=version, owner=owner or "-", remote=remote)
    problems += repository_problems(root, release)
    if problems:
        raise ReleaseError("\n".join(f"- {p}" for p in problems))
    name = GITHUB_REMOTE.search(url)
    source = f"https://github.com/{owner}/{name['name'] if name else IMAGE_NAME}"
    return release, source, git_output(root, "rev-parse", "HEAD")


def _has_remote(root: Path, remote: str) -> bool:
    return remote in git_output(root, "remote").split()


def run(command: Sequence[str], *, dry_run: bool) -> None:
    """Print a command; unless this is a dry run, run it and stop on its failure."""
    print("$ " + shlex.join(command), flush=True)
    if not dry_run:
        subprocess.run(command, check=True)


def release(root: Path, *, owner: str | None, remote: str, out: Path | None) -> Release:
    """The whole release (a dry run when `out` is given: it writes `out/action.yml` and prints
    the commands instead of running them)."""
    chosen, source, revision = plan(root, owner, remote)
    main_text = (root / "action.yml").read_text(encoding="utf-8")
    released = release_action(main_text, chosen)
    problems = action_problems(main_text, released, chosen)
    if problems:
        raise ReleaseError("\n".join(f"- {p}" for p in problems))
    dry_run = out is not None
    with tempfile.TemporaryDirectory(prefix="traffic-sync-release-") as scratch:
        folder = out if out is not None else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "action.yml").write_text(released, encoding="utf-8")
        run(build_command(chosen, root, source, revision), dry_run=dry_run)
        commands = tag_commands(chosen, folder / "action.yml", folder / "worktree", root)
        for command in commands:
            run(command, dry_run=dry_run)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 once released (or planned, with --dry-run); 1 with what keeps it back."""
    parser = argparse.ArgumentParser(prog="scripts/release.py", description=__doc__.split("\n")[0])
    parser.add_argument("--owner", help="GitHub owner of the image (default: the remote's)")
    parser.add_argument("--remote", default="origin", help="git remote to push the tags to")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this)")
    parser.add_argument("--dry-run", action="store_true", help="check and print, change nothing")
    parser.add_argument("--out", type=Path, help="with --dry-run: folder for the action.yml")
    args = parser.parse_args(argv)
    if args.dry_run != (args.out is not None):
        parser.error("--dry-run and --out go together")
    try:
        done = release(args.root, owner=args.owner, remote=args.remote, out=args.out)
    except ReleaseError as error:
        print(f"release refused:\n{error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        # the commands before it ran: a local tag made, say, keeps a second try back until it
        # is deleted, so say where it stopped
        print(
            f"release stopped: `{shlex.join(error.cmd)}` failed (exit {error.returncode}); "
            "the commands printed before it ran. Finish by hand, or undo them (git tag -d, "
            "git worktree prune) and run again.",
            file=sys.stderr,
        )
        return 1
    what = "would be released" if args.dry_run else "released"
    print(f"traffic-sync {done.version} {what}: {done.image_ref}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
