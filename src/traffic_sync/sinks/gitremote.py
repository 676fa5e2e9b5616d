"""Where the data lives: a data-repository setting read as a remote URL or a local folder,
the `owner/name` it names on a GitHub server, URLs made safe to print, and a local folder made
a repository that accepts the run's pushes and shows the files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from traffic_sync.core.errors import StoreError
from traffic_sync.sinks.gitrun import BOT, GitResult, git_env, run_git


@dataclass(frozen=True, slots=True)
class Remote:
    """Where the data branch lives."""

    url: str  # what git fetches/pushes
    display: str  # safe to print (never contains a token)
    local_path: Path | None  # set when the data repository is a local folder


_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"[^/@:\s]+@[^/:\s]+:")
_OWNER_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)")


def resolve_remote(spec: str, *, server_url: str, cwd: Path) -> Remote:
    """`owner/name` -> a repo on `server_url`; a git URL as is; anything else a local folder.

    A plain `owner/name` is always a repo, even if such a folder exists: writing `./owner/name`
    is how to say "the folder".
    """
    spec = spec.strip()
    if not spec:
        raise StoreError("The data repository is empty.", fix="Set data-repository.")
    if _URL_SCHEME.match(spec) or _SCP_LIKE.match(spec):
        return Remote(url=spec, display=display_url(spec), local_path=None)
    match = _OWNER_NAME.fullmatch(spec)
    if match and match[2] not in {".", ".."}:
        owner, name = match[1], match[2].removesuffix(".git")
        url = f"{server_url.rstrip('/')}/{owner}/{name}.git"
        return Remote(url=url, display=f"{owner}/{name}", local_path=None)
    path = Path(spec).expanduser()
    path = path if path.is_absolute() else cwd / path
    path = Path(os.path.normpath(path))
    return Remote(url=str(path), display=str(path), local_path=path)


def repo_on_server(spec: str, *, server_url: str) -> str | None:
    """The `owner/name` a data repository names on this GitHub server, else None.

    `owner/name` itself, or a URL of a repo on `server_url`'s host: https or http
    (`https://<server>/<owner>/<name>[.git][/]`, credentials or not), `ssh://git@<server>/...`
    or `git@<server>:<owner>/<name>[.git]`, any case. Another host's URL or a local path is
    None: nothing on this server says whether it is public.
    """
    spec = spec.strip()
    if _URL_SCHEME.match(spec):
        parts = urlsplit(spec)
        host, path = parts.hostname or "", parts.path
    elif _SCP_LIKE.match(spec):
        host, _, path = spec.partition("@")[2].partition(":")
        path = "/" + path.lstrip("/")
    else:
        match = _OWNER_NAME.fullmatch(spec)
        ok = match is not None and match[2].removesuffix(".git") not in {"", ".", ".."}
        return spec.removesuffix(".git") if ok else None
    server = urlsplit(server_url)
    if host.lower() != (server.hostname or "").lower():
        return None
    prefix = server.path.rstrip("/").lower()
    if not path.lower().startswith(prefix + "/"):
        return None
    match = _OWNER_NAME.fullmatch(path[len(prefix) :].strip("/"))
    if match is None:
        return None
    name = match[2].removesuffix(".git")
    return None if name in {"", ".", ".."} else f"{match[1]}/{name}"


def display_url(url: str) -> str:
    """The URL without credentials: any userinfo of http(s), the password of others."""
    if not _URL_SCHEME.match(url):
        return url  # scp-like `git@host:path` carries a user name, never a secret
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    host = f"{host}:{parts.port}" if parts.port else host
    if parts.scheme not in {"http", "https"} and parts.username:
        host = f"{parts.username}@{host}"
    return urlunsplit(parts._replace(netloc=host))


def url_secrets(url: str) -> list[str]:
    """Credentials written into a URL, to scrub from git's messages."""
    if not _URL_SCHEME.match(url):
        return []
    parts = urlsplit(url)
    return [s for s in (parts.password, parts.username) if s and len(s) >= 8]


def prepare_local(remote: Remote, *, branch: str) -> None:
    """Make a local data folder a repo that accepts our pushes and shows the files.

    A missing or empty folder becomes a new repo whose work tree follows pushes
    (`receive.denyCurrentBranch updateInstead`), so the user sees the files without a checkout.
    """
    path = remote.local_path
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise StoreError(
            f"The data repository {path} is a file, not a folder.",
            fix="Point data-repository at a folder (it is created if missing).",
        )
    env = git_env(token=None, identity=BOT)
    kind = _repo_kind(path, env)
    if kind is None:
        _init_local(path, branch=branch, env=env)
    elif kind == "worktree":
        _follow_pushes(path, branch=branch, env=env)
    give_to_owner(path)


def give_to_owner(path: Path) -> None:
    """Hand what this run wrote in a local data repository to the owner of the folder it is in.

    A container action runs as root in a workspace that belongs to the runner's user (uid 1001):
    the objects, refs and files that root's git writes there would be root's, and the job's
    later steps, running as that user, could no longer change that repository.
    """
    if os.geteuid() != 0 or not path.is_dir():
        return
    owner = path.parent.stat()
    if owner.st_uid == 0:
        return
    for folder, _, files in os.walk(path):
        for entry in (folder, *(os.path.join(folder, name) for name in files)):
            if os.lstat(entry).st_uid == 0:
                os.lchown(entry, owner.st_uid, owner.st_gid)


def _repo_kind(path: Path, env: Mapping[str, str]) -> str | None:
    """ "bare" or "worktree" when `path` is the root of a repo; None for an empty or missing folder.

    A folder inside some other repo (say `./data` in the project) is not a repo of its own.
    """
    if not path.exists() or not any(path.iterdir()):
        return None
    result = run_git(
        ["git", "rev-parse", "--is-bare-repository", "--absolute-git-dir"], env=env, cwd=path
    )
    lines = result.stdout.decode(errors="replace").splitlines()
    real = path.resolve()
    if result.returncode == 0 and lines[0] == "true" and Path(lines[1]).resolve() == real:
        return "bare"
    if result.returncode == 0 and lines[0] == "false" and (real / ".git").exists():
        return "worktree"
    raise StoreError(
        f"The data repository {path} is a folder with files in it but not a git repository.",
        fix=f"Use an empty or missing folder (it becomes a repo), or run `git init {path}` "
        "if these files should be kept alongside the data.",
    )


def _init_local(path: Path, *, branch: str, env: Mapping[str, str]) -> None:
    """Create the repo with the data branch checked out, so pushes land in its work tree."""
    path.mkdir(parents=True, exist_ok=True)
    _check_local(
        run_git(["git", "init", "--quiet", f"--initial-branch={branch}", str(path)], env=env)
    )
    _allow_push_to_checkout(path, env)


def _follow_pushes(path: Path, *, branch: str, env: Mapping[str, str]) -> None:
    """With the data branch checked out, git refuses pushes unless told to update the files."""
    head = run_git(["git", "symbolic-ref", "--quiet", "HEAD"], env=env, cwd=path)
    if head.stdout.decode().strip() != f"refs/heads/{branch}":
        return
    setting = run_git(["git", "config", "--local", "receive.denyCurrentBranch"], env=env, cwd=path)
    if setting.returncode == 1:  # unset: git's default would refuse our push
        _allow_push_to_checkout(path, env)


def _allow_push_to_checkout(path: Path, env: Mapping[str, str]) -> None:
    args = ["git", "config", "--local", "receive.denyCurrentBranch", "updateInstead"]
    _check_local(run_git(args, env=env, cwd=path))


def _check_local(result: GitResult) -> None:
    if result.returncode != 0:
        raise StoreError(
            f"Could not set up the local data repository: {result.stderr.decode().strip()}",
            fix="Check that the folder is writable.",
        )
