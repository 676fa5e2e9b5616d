"""The data branch: fetch its tip shallowly, read it, commit changed files, push without force.

Everything runs through git plumbing in a private bare repo (`workdir`), never `git clone`: a
clone counts as traffic on GitHub, and a bare repo has no work tree to keep in step. Where the
data lives is `gitremote`'s to say; how git is run, with the push token kept out of argv, files
and messages, is `gitrun`'s.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from traffic_sync.core.errors import PushRejectedError, StoreError
from traffic_sync.core.gitids import blob_sha
from traffic_sync.sinks.gitremote import Remote, give_to_owner, url_secrets
from traffic_sync.sinks.gitrun import (
    BOT,
    GitResult,
    Identity,
    basic_credentials,
    git_env,
    run_git,
    start_git,
    stream_git,
)

# Git's own words when a push lost a race with another writer (LC_ALL=C keeps them English).
REJECTED_MARKERS = (
    "fetch first",
    "non-fast-forward",
    "failed to update ref",
    "stale info",
    "cannot lock ref",
    "[rejected]",
)
MISSING_BRANCH_MARKER = "couldn't find remote ref"
PENDING_REF = "refs/traffic-sync/pending"
NO_DELTA_ABOVE = 1024  # bytes: fast-import tries no delta for bigger blobs


_new_tuple = tuple.__new__  # makes an _Entry without NamedTuple's Python-level __new__


class _Entry(NamedTuple):
    mode: str
    kind: str
    sha: str


class DataBranch:
    """One branch of the data repository, seen through a private bare repo in `workdir`."""

    def __init__(
        self,
        *,
        remote: Remote,
        branch: str,
        workdir: Path,
        token: str | None = None,
        identity: Identity = BOT,
        timeout: float = 300.0,
    ) -> None:
        self._remote = remote
        self._branch = branch
        self._workdir = workdir
        self._identity = identity
        self._timeout = timeout
        self._env = git_env(token=None, identity=identity)
        # The data repository as the promisor remote `data` of a partial repo: only in the
        # environment of the commands that talk to it, so its URL is in no file either.
        promisor = [
            ("remote.data.url", remote.url),
            ("remote.data.promisor", "true"),
            ("remote.data.partialclonefilter", "tree:0"),
            ("fetch.negotiationAlgorithm", "noop"),  # nothing to negotiate: depth 1, no history
        ]
        self._remote_env = git_env(token=token, identity=identity, extra=promisor)
        secrets = [token, basic_credentials(token)] if token else []
        self._secrets = [*secrets, *url_secrets(remote.url)]
        self._tracking = f"refs/remotes/data/{branch}"
        self._initialized = False
        self._fetched = False
        self._tip: str | None = None
        self._present_objects: set[str] | None = None
        self._trees: dict[str, bytes] = {}  # commits and trees read so far: they never change

    def fetch(self) -> str | None:
        """Fetch the branch's tip alone (depth 1), the commit without its trees and files
        (`--filter=tree:0`): reading a file or listing a folder then fetches the folders on
        its way and the file, each kind in one request for many, so a run fetches what it reads
        and not the years of files beside it. None when the branch does not exist yet.

        A missing branch (or an empty repo) is the first run: `commit` then starts an orphan.
        A server without partial fetch sends the blobs too, and everything works the same.
        """
        self._init_workdir()
        refspec = f"+refs/heads/{self._branch}:{self._tracking}"
        args = ["fetch", "--depth", "1", "--filter=tree:0", "--no-tags"]
        args += ["--no-write-fetch-head", "--quiet"]
        args += self._local_program("--upload-pack", "upload-pack")
        result = self._git(*args, "data", refspec, remote=True, check=False)
        if result.returncode == 0:
            self._tip = self._git("rev-parse", "--verify", f"{self._tracking}^{{commit}}").text()
        elif MISSING_BRANCH_MARKER in result.stderr.decode(errors="replace"):
            self._git("update-ref", "-d", self._tracking)  # it may have been deleted since
            self._tip = None
        else:
            raise self._failure(f"Could not fetch {self._where}", result, fix=self._read_fix())
        self._fetched = True
        return self._tip

    def read_files(self, prefix: str = "") -> dict[str, bytes]:
        """Every file at the fetched tip whose path starts with `prefix` (a folder `octo/`, or
        a file's whole path), their contents fetched in one request."""
        folder = prefix.rpartition("/")[0]
        listed = self._list_tree(self._fetched_tip(), prefixes=[folder])
        return self._read({p: e for p, e in listed.items() if p.startswith(prefix)})

    def read_paths(self, paths: Iterable[str]) -> dict[str, bytes]:
        """These files at the fetched tip (those that exist): only the folders on their way and
        the files themselves are fetched."""
        wanted = set(paths)
        folders = {path.rpartition("/")[0] for path in wanted}
        listed = self._list_tree(self._fetched_tip(), prefixes=folders, recursive=False)
        return self._read({p: e for p, e in listed.items() if p in wanted})

    def list_files(self, prefixes: Iterable[str] | None = None) -> dict[str, str]:
        """path -> blob sha of the files at the fetched tip (under `prefixes`, folders such as
        `octo/site`; None: all), with no file contents read."""
        tip = self._fetched_tip()
        entries = self._list_tree(tip, prefixes=prefixes) if tip else {}
        return {path: e.sha for path, e in entries.items() if e.kind == "blob"}

    def list_entries(self, prefixes: Iterable[str]) -> dict[str, tuple[str, str]]:
        """path -> (mode, blob sha) of the files under the folders `prefixes` at the fetched
        tip, with no file contents read."""
        tip = self._fetched_tip()
        entries = self._list_tree(tip, prefixes=prefixes) if tip else {}
        return {path: (e.mode, e.sha) for path, e in entries.items() if e.kind == "blob"}

    def list_folders(self, prefix: str, *, depth: int) -> dict[str, str]:
        """folder path -> tree sha of the folders `depth` levels below `prefix` ("" for the
        top) at the fetched tip: the trees above them are fetched, not theirs."""
        tip = self._fetched_tip()
        if tip is None:
            return {}
        level = [("", self._root_tree(tip))]
        steps = [part for part in prefix.strip("/").split("/") if part]
        for step in range(len(steps) + depth):
            trees = self._read_trees({sha for _, sha in level})
            below = [
                (f"{folder}{name}/", child)
                for folder, sha in level
                for mode, name, child in _tree_entries(trees[sha])
                if mode == "40000" and (step >= len(steps) or name == steps[step])
            ]
            level = below
        return {folder.rstrip("/"): sha for folder, sha in level}

    def _read(self, entries: Mapping[str, _Entry]) -> dict[str, bytes]:
        blobs = {p: e for p, e in entries.items() if e.kind == "blob"}
        shas = {e.sha for e in blobs.values()}
        self._fetch_missing(shas, depth=0)
        found = self._read_objects(shas)
        return {p: found[e.sha] for p, e in blobs.items()}

    def _fetch_missing(self, shas: Iterable[str], *, depth: int) -> None:
        """Fetch the objects of `shas` that are not here yet, by id, in one request (trees
        without what is below them: `depth` 0)."""
        wanted = set(shas) - self._present()
        if not wanted:
            return
        args = [f"--filter=tree:{depth}", "--no-tags", "--no-write-fetch-head", "--quiet"]
        args += [*self._local_program("--upload-pack", "upload-pack"), "--stdin", "data"]
        ids = "".join(f"{sha}\n" for sha in sorted(wanted)).encode()
        result = self._git("fetch", *args, remote=True, check=False, stdin=ids)
        if result.returncode != 0:
            raise self._failure(
                f"Could not fetch files of {self._where}", result, fix=self._read_fix()
            )
        self._present_objects = None

    def _present(self) -> set[str]:
        """Every object in the work repo (a partial fetch leaves the rest on the remote)."""
        if self._present_objects is None:
            listing = self._git("cat-file", "--batch-check=%(objectname)", "--batch-all-objects")
            self._present_objects = set(listing.stdout.decode().split())
        return self._present_objects

    def commit(
        self, files: Mapping[str, bytes], message: str, *, deletes: Iterable[str] = ()
    ) -> str | None:
        """Commit `files` on top of the fetched tip (an orphan root without one), others kept,
        and `deletes` removed (a moved folder), all in one commit.

        Returns None when every file already holds these bytes: an unchanged run makes no commit.
        """
        with self.staging() as staging:
            return staging.commit(files, message, deletes=deletes)

    def staging(
        self,
        scope: Iterable[str] | None = None,
        *,
        shallow: Iterable[str] = (),
        known: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
    ) -> Staging:
        """A commit built while its files are still being computed: `git fast-import` stores
        each file handed to `Staging.add` at once, on another core, and `Staging.commit`
        makes the commit. Nothing reaches a branch unless that commit is made and pushed.

        `scope` names the folders the commit may write or delete in, besides the files right
        in the top folder and in the `shallow` folders (None: anywhere): only their part of
        the tree is fetched and compared, and a path outside them is refused. `known` gives
        the files of some scope folders as listed already (folder -> path inside it -> (mode,
        blob sha), as `list_entries` lists them): they are not walked again.
        """
        tip = self._fetched_tip()
        listed = {} if scope is None or known is None else known
        walk = None if scope is None else [f for f in scope if f.strip("/") not in listed]
        current = self._list_tree(tip, prefixes=walk) if walk is None or walk else {}
        for folder, files in listed.items():
            for rel, (mode, sha) in files.items():
                current[f"{folder}/{rel}"] = _Entry(mode, "blob", sha)
        tops = {"", *(folder.strip("/") for folder in shallow)}
        if scope is not None:
            current.update(self._list_tree(tip, prefixes=tops, recursive=False))
        command = ["git", "-c", "pack.compression=1", "--git-dir", str(self._workdir)]
        # This repo is thrown away after the push: light compression, and no delta search
        # against the unrelated blob stored before.
        command += ["fast-import", "--quiet", "--force", "--done"]
        command.append(f"--big-file-threshold={NO_DELTA_ABOVE}")
        folders = None if scope is None else {f.strip("/") for f in scope}
        return Staging(command, self, current, tip, folders, tops=tops)

    def push(self, sha: str) -> None:
        """Push `sha` to the branch, never forced: a moved branch raises PushRejectedError."""
        refspec = f"{sha}:refs/heads/{self._branch}"
        args = ["push", "--no-verify", *self._local_program("--receive-pack", "receive-pack")]
        args += [self._remote.url, refspec]
        # No delta search: bases would be picked by file name (every repo has a views/2026.json),
        # which costs seconds per hundred repos and saves little; the server packs it well.
        result = self._git(*args, remote=True, check=False, config={"pack.window": "0"})
        if result.returncode == 0:
            self._git("update-ref", self._tracking, sha)
            self._tip = sha
            if self._remote.local_path is not None:
                give_to_owner(self._remote.local_path)
            return
        said = (result.stderr + result.stdout).decode(errors="replace")
        if any(marker in said for marker in REJECTED_MARKERS):
            raise PushRejectedError(
                f"{self._where} moved while this run worked: {self._scrub(said)}",
                fix="Fetch again, merge onto the new tip and push again.",
            )
        raise self._failure(f"Could not push to {self._where}", result, fix=self._push_fix())

    # --- helpers ---

    @property
    def _where(self) -> str:
        return f"branch {self._branch} of {self._remote.display}"

    def _local_program(self, option: str, program: str) -> list[str]:
        """For a local remote, run git's server side with `safe.directory=*` too.

        git spawns it with the `GIT_CONFIG_*` variables removed, so a folder owned by another
        user (a root container on the runner's workspace) would fail as "dubious ownership".
        """
        if self._remote.local_path is None and not self._remote.url.startswith("file://"):
            return []
        # what GitHub's servers allow: partial fetches and fetches of objects by id
        serving = "-c uploadpack.allowFilter=true -c uploadpack.allowAnySHA1InWant=true"
        return [f"{option}=git -c 'safe.directory=*' {serving} {program}"]

    def _init_workdir(self) -> None:
        """An empty bare repo to fetch into; kept across fetches so objects are reused."""
        if not self._initialized:
            self._workdir.mkdir(parents=True, exist_ok=True)
            self._git("init", "--bare", "--quiet", str(self._workdir))
            # a partial repo whose missing blobs come from the remote `data` (see __init__)
            self._git("config", "core.repositoryformatversion", "1")
            self._git("config", "extensions.partialClone", "data")
            self._initialized = True

    def _fetched_tip(self) -> str | None:
        if not self._fetched:
            raise RuntimeError("DataBranch.fetch() must run before reading or committing.")
        return self._tip

    def _list_tree(
        self, tip: str | None, *, prefixes: Iterable[str] | None = None, recursive: bool = True
    ) -> dict[str, _Entry]:
        """path -> (mode, type, sha) at `tip` under the folders `prefixes` (None or "": all;
        with `recursive` False, only the files right in them), walking the tree a level at a
        time: the trees of one level are fetched in one request and read by one process."""
        if tip is None:
            return {}
        scope = _Scope(prefixes, recursive=recursive)
        level = [("", self._root_tree(tip))]
        entries: dict[str, _Entry] = {}
        while level:
            trees = self._read_trees({sha for _, sha in level})
            below = []
            for folder, sha in level:
                held = scope.holds(folder.rstrip("/"))
                for mode, name, child in _tree_entries(trees[sha]):
                    path = f"{folder}{name}"
                    if mode == "40000":
                        if scope.enters(path):
                            below.append((f"{path}/", child))
                    elif held:
                        kind = "commit" if mode == "160000" else "blob"
                        entries[path] = _new_tuple(_Entry, (mode, kind, child))
            level = below
        return entries

    def _root_tree(self, tip: str) -> str:
        commit = self._read_trees({tip})[tip]  # its first line: `tree <sha>`
        return commit.split(b"\n", 1)[0].split(b" ")[1].decode()

    def _read_trees(self, shas: set[str]) -> dict[str, bytes]:
        """Commits or trees by sha, fetched (without what is below them) when not here yet;
        each is read once per run, as they never change."""
        missing = shas - self._trees.keys()
        if missing:
            self._fetch_missing(missing, depth=0)
            self._trees.update(self._read_objects(missing))
        return {sha: self._trees[sha] for sha in shas}

    def _read_objects(self, shas: Iterable[str]) -> dict[str, bytes]:
        """sha -> bytes for many objects through one `cat-file --batch`, read one at a time:
        the whole output at once would hold a big branch in memory twice."""
        wanted = sorted(shas)
        if not wanted:
            return {}
        ids = "".join(f"{s}\n" for s in wanted).encode()
        command = ["git", "--git-dir", str(self._workdir), "cat-file", "--batch"]
        blobs: dict[str, bytes] = {}
        with stream_git(command, env=self._env, stdin=ids, timeout=self._timeout) as out:
            for sha in wanted:
                header = out.readline().split(b" ")
                if len(header) != 3:
                    raise StoreError(f"The fetched data branch lacks object {sha}.")
                blobs[sha] = out.read(int(header[2]))
                out.read(1)  # each object ends with a newline
        return blobs

    def _git(
        self,
        *args: str,
        remote: bool = False,
        check: bool = True,
        stdin: bytes | None = None,
        config: Mapping[str, str] | None = None,
    ) -> GitResult:
        env = self._remote_env if remote else self._env
        command = ["git"]
        for key, value in (config or {}).items():
            command += ["-c", f"{key}={value}"]
        command += ["--git-dir", str(self._workdir), *args]
        result = run_git(command, env=env, stdin=stdin, timeout=self._timeout)
        if check and result.returncode != 0:
            raise self._failure(f"git {args[0]} failed in {self._workdir}", result, fix="")
        return result

    def _failure(self, what: str, result: GitResult, *, fix: str) -> StoreError:
        said = self._scrub(result.stderr.decode(errors="replace").strip())
        return StoreError(f"{what}: {said}", fix=fix)

    def _scrub(self, text: str) -> str:
        """git's words without the token, its base64 form or credentials from the URL."""
        if self._remote.url != self._remote.display:
            text = text.replace(self._remote.url, self._remote.display)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _read_fix(self) -> str:
        if self._remote.local_path is not None:
            return f"Check that {self._remote.display} is a git repository you can read."
        return (
            f"Check the URL ({self._remote.display}) and that the token can read it: a private "
            "data repository needs the push-token to have contents: read."
        )

    def _push_fix(self) -> str:
        if self._remote.local_path is not None:
            return (
                f"Check that {self._remote.display} is writable and, if it has {self._branch} "
                "checked out, that its work tree has no uncommitted changes."
            )
        return (
            f"Check that the push-token can write to {self._remote.display} (contents: write; "
            "for GITHUB_TOKEN add `permissions: contents: write` to the job) and that branch "
            f"{self._branch} is not protected."
        )


class Staging:
    """One `git fast-import` run fed while the caller still computes files (see
    `DataBranch.staging`): a context manager that ends the process, committed or not."""

    def __init__(
        self,
        command: list[str],
        branch: DataBranch,
        current: dict[str, _Entry],
        tip: str | None,
        scope: set[str] | None = None,
        *,
        tops: set[str] | None = None,
    ) -> None:
        self._scope = _Scope(scope, recursive=True)
        self._tops = tops or {""}
        self._branch = branch
        self._current = current
        self._tip = tip
        self._staged: dict[str, tuple[str, int]] = {}  # path -> (blob sha, fast-import mark)
        self._marks = 1  # :1 is the commit's
        self._given: dict[str, bytes] = {}  # every path added: a write always wins over a delete
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__
        try:
            self._process = start_git(
                command,
                env=branch._env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
            )
        except StoreError:
            self._errors.close()
            raise
        # A thread writes to git, so the caller goes on computing while git reads and
        # compresses; the bounded queue keeps memory to a few files.
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self._broken: list[OSError] = []
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._writer.start()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.poll() is None:  # not committed: git stops, no ref is written
            os.killpg(self._process.pid, signal.SIGKILL)
        self._queue.put(None)
        self._writer.join()
        self._process.wait()
        self._process.stdout.close()  # type: ignore[union-attr]
        self._errors.close()

    def add(self, files: Mapping[str, bytes]) -> None:
        """Store the files that differ from the fetched tip; a path added again takes the
        newer bytes."""
        for path, data in files.items():
            folder = path.rpartition("/")[0]
            if folder not in self._tops and not self._scope.holds(folder):
                raise ValueError(f"{path!r} is outside the folders this commit may write")
            if self._given.get(path) is data:
                continue  # these very bytes were added before (the plan's files are)
            self._given[path] = data
            sha = blob_sha(data)
            if sha == _sha_of(self._current.get(path)):
                self._staged.pop(path, None)
            elif self._staged.get(path, ("", 0))[0] != sha:
                self._marks += 1
                self._staged[path] = (sha, self._marks)
                self._send(b"blob\nmark :%d\ndata %d\n" % (self._marks, len(data)), data, b"\n")

    def commit(
        self, files: Mapping[str, bytes], message: str, *, deletes: Iterable[str] = ()
    ) -> str | None:
        """`DataBranch.commit` of what was added and of `files`; None when nothing changed."""
        self.add(files)
        removed = sorted(p for p in set(deletes) if p in self._current and p not in self._given)
        if not self._staged and not removed:
            return None
        remaining = {p: e for p, e in self._current.items() if p not in removed}
        _check_paths(self._staged, remaining)
        identity = self._branch._identity
        who = f"{identity.name} <{identity.email}> {int(time.time())} +0000"
        body = (message if message.endswith("\n") else f"{message}\n").encode()
        head = f"reset {PENDING_REF}\n" + (f"from {self._tip}\n" if self._tip else "") + "\n"
        head += f"commit {PENDING_REF}\nmark :1\nauthor {who}\ncommitter {who}\n"
        lines = [head.encode(), b"data %d\n%s\n" % (len(body), body)]
        lines += [f"D {_quote_path(path)}\n".encode(errors="surrogateescape") for path in removed]
        for path, (_, mark) in sorted(self._staged.items()):
            old = self._current.get(path)
            mode = "100755" if old and old.mode == "100755" else "100644"
            line = f"M {mode} :{mark} {_quote_path(path)}\n"
            lines.append(line.encode(errors="surrogateescape"))
        self._send(b"".join(lines) + b"\nget-mark :1\ndone\n")
        self._queue.put(None)
        self._writer.join()
        try:
            sha, _ = self._process.communicate(timeout=self._branch._timeout)
        except subprocess.TimeoutExpired:
            raise StoreError(
                f"git fast-import did not finish within {self._branch._timeout:.0f} s.",
                fix="Check that the disk of the work folder is not full or very slow.",
            ) from None
        if self._process.returncode != 0 or self._broken:
            self._errors.seek(0)
            said = self._branch._scrub(self._errors.read().decode(errors="replace").strip())
            raise StoreError(f"git fast-import failed in {self._branch._workdir}: {said}")
        return sha.decode().strip()

    def _send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self._queue.put(chunk)

    def _write(self) -> None:
        """The writer thread: chunks to git's stdin until None (`commit` then closes it); a
        dead git is noted, and its own message tells why at `commit`."""
        stdin = self._process.stdin
        assert stdin is not None  # noqa: S101 - opened with stdin=PIPE
        while (chunk := self._queue.get()) is not None:
            if self._broken:
                continue  # drain, so the caller never blocks on a full queue
            try:
                stdin.write(chunk)
            except OSError as error:
                self._broken.append(error)


def _tree_entries(tree: bytes) -> Iterator[tuple[str, str, str]]:
    """(mode, name, sha) of each entry of a raw tree object: `<mode> <name>\\0<20-byte id>`."""
    at = 0
    while at < len(tree):
        space = tree.index(b" ", at)
        nul = tree.index(b"\0", space)
        mode = tree[at:space].decode()
        name = tree[space + 1 : nul].decode("utf-8", errors="surrogateescape")
        yield mode, name, tree[nul + 1 : nul + 21].hex()
        at = nul + 21


class _Scope:
    """Folders a tree walk is limited to (None: everything), answered by set lookups, so a
    walk limited to thousands of folders stays linear in the entries it meets."""

    def __init__(self, folders: Iterable[str] | None, *, recursive: bool) -> None:
        self._all = folders is None
        self._folders = set() if folders is None else {f.strip("/") for f in folders}
        self._recursive = recursive
        if recursive and "" in self._folders:
            self._all = True
        self._on_the_way = {
            "/".join(parts[:n])
            for folder in self._folders
            for parts in [folder.split("/")]
            for n in range(len(parts))
        }

    def enters(self, folder: str) -> bool:
        """Whether the walk goes into `folder`: on the way to a scope folder, or (recursive)
        inside one."""
        return (
            self._all
            or folder in self._folders
            or folder in self._on_the_way
            or (self._recursive and self._inside(folder))
        )

    def holds(self, folder: str) -> bool:
        """Whether the files right in `folder` are listed."""
        return self._all or folder in self._folders or (self._recursive and self._inside(folder))

    def _inside(self, folder: str) -> bool:
        parts = folder.split("/")
        return any("/".join(parts[:n]) in self._folders for n in range(1, len(parts)))


def _sha_of(entry: _Entry | None) -> str | None:
    return entry.sha if entry and entry.kind == "blob" else None


def _check_paths(changed: Iterable[str], current: Mapping[str, _Entry]) -> None:
    """Refuse paths git cannot store, or that would silently replace a folder by a file."""
    for path in changed:
        parts = path.split("/")
        if any(part in {"", ".", "..", ".git"} for part in parts) or "\0" in path:
            raise ValueError(f"Not a path that can be stored in the data branch: {path!r}")
    paths = set(changed) | set(current)
    folders = {path.rsplit("/", n)[0] for path in paths for n in range(1, path.count("/") + 1)}
    clashes = sorted(folders & paths)
    if clashes:
        raise ValueError(f"A file and a folder would share a path: {clashes[0]!r}")


def _quote_path(path: str) -> str:
    """C-style quoting, which fast-import reads for any path (spaces, quotes, newlines)."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\{ord(m[0]):03o}", escaped)
    return f'"{escaped}"'
