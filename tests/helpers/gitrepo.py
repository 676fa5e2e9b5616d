"""Plain git, independent of the code under test: commands, the objects a repo holds, and a
hook that holds a fetch or push until the test lets it go."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PLAIN_ENV = {
    "GIT_AUTHOR_NAME": "someone",
    "GIT_AUTHOR_EMAIL": "someone@example.com",
    "GIT_COMMITTER_NAME": "someone",
    "GIT_COMMITTER_EMAIL": "someone@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git and return stdout; fail loudly."""
    env = {**os.environ, **PLAIN_ENV}
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)
    return result.stdout.decode().strip()


def objects_in(workdir: Path, kind: str) -> set[str]:
    """The objects of `kind` a work repo holds (plain git; no lazy fetch is possible without
    the remote)."""
    listing = git(
        "--git-dir",
        str(workdir),
        "cat-file",
        "--batch-check=%(objecttype) %(objectname)",
        "--batch-all-objects",
    )
    return {line.split()[1] for line in listing.splitlines() if line.startswith(f"{kind} ")}


def blobs_in(workdir: Path) -> set[str]:
    return objects_in(workdir, "blob")


def hold_script(path: Path, name: str, control: Path, *, then: str = 'exec "$@"') -> Path:
    """A hook that holds one fetch or push when `<name>.hold` is in `control` (it becomes
    `<name>.held`) until `<name>.go` is there, then runs `then`: reading what a receive hook is
    given, or the command a pack-objects hook is given."""
    path.write_text(
        "#!/bin/sh\n"
        f"ctl='{control}'\n"
        f'if mv "$ctl/{name}.hold" "$ctl/{name}.held" 2>/dev/null; then\n'
        "  n=0\n"
        f'  while [ ! -e "$ctl/{name}.go" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done\n'
        "fi\n"
        f"{then}\n"
    )
    path.chmod(0o755)
    return path
