"""The data branch against real git: bare repos in tmp_path and a local smart-HTTP server."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.branch import install_hook
from tests.git_host import GitHost
from tests.helpers import servers
from tests.helpers.gitrepo import PLAIN_ENV, blobs_in, git, objects_in
from traffic_sync.core.errors import PushRejectedError, StoreError
from traffic_sync.core.gitids import tree_sha
from traffic_sync.sinks import gitrun
from traffic_sync.sinks.gitremote import Remote, prepare_local, resolve_remote
from traffic_sync.sinks.gitrun import BOT, Identity
from traffic_sync.sinks.gitstore import DataBranch

BRANCH = "traffic-data"
TOKEN = "ghs_s3cretTokenValue1234567890"


# --- plain git, independent of the code under test ---


def bare_repo(path: Path) -> Path:
    git("init", "--bare", "--quiet", str(path))
    return path


def seed(remote: Path, tmp: Path, files: dict[str, str], *, commits: int = 1) -> None:
    """Give `remote` a branch with `files`, made in `commits` commits by someone else."""
    work = tmp / "seed"
    git("init", "--quiet", f"--initial-branch={BRANCH}", str(work))
    for number in range(commits):
        for path, text in files.items():
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(f"{text}{'' if number == commits - 1 else number}")
        git("add", "-A", cwd=work)
        git("commit", "--quiet", "-m", f"seed {number}", cwd=work)
    git("push", "--quiet", str(remote), f"HEAD:refs/heads/{BRANCH}", cwd=work)
    shutil.rmtree(work)


def remote_files(remote: Path) -> dict[str, bytes]:
    """Every file on the remote branch, read with plain git."""
    names = git("--git-dir", str(remote), "ls-tree", "-r", "-z", "--name-only", BRANCH)
    env = {**os.environ, **PLAIN_ENV}
    return {
        name: subprocess.run(
            ["git", "--git-dir", str(remote), "show", f"{BRANCH}:{name}"],
            env=env,
            capture_output=True,
            check=True,
        ).stdout
        for name in names.split("\0")
        if name
    }


def local(path: Path) -> Remote:
    return Remote(url=str(path), display=str(path), local_path=path)


@pytest.fixture
def git_remote(tmp_path: Path) -> Path:
    """An empty bare repo standing in for the data repository."""
    return bare_repo(tmp_path / "remote.git")


def writer(remote: Path, workdir: Path, *, identity: Identity = BOT) -> DataBranch:
    return DataBranch(remote=local(remote), branch=BRANCH, workdir=workdir, identity=identity)


# --- committing ---


def test_first_run_creates_orphan_branch_with_only_our_files(
    git_remote: Path, tmp_path: Path
) -> None:
    """With no branch yet, the first commit is a root commit holding exactly our files."""
    branch = writer(git_remote, tmp_path / "work")
    assert branch.fetch() is None
    sha = branch.commit({"a/stats/2026.json": b"{}\n", "README.md": b"# hi\n"}, "first")
    assert sha is not None
    branch.push(sha)
    assert git("--git-dir", str(git_remote), "rev-parse", BRANCH) == sha
    assert git("--git-dir", str(git_remote), "rev-list", "--parents", BRANCH) == sha
    assert remote_files(git_remote) == {"a/stats/2026.json": b"{}\n", "README.md": b"# hi\n"}


def test_staged_files_and_final_files_make_one_commit(git_remote: Path, tmp_path: Path) -> None:
    """Files staged while others are still computed land in the one final commit; a path
    staged again holds its newest bytes, and one staged back to the tip's bytes is unchanged."""
    seed(git_remote, tmp_path, {"a.json": "a\n", "b.json": "b\n"})
    branch = writer(git_remote, tmp_path / "work")
    before = branch.fetch()
    with branch.staging() as staging:
        staging.add({"a.json": b"first\n", "b.json": b"changed\n", "big": b"x" * 100_000})
        staging.add({"a.json": b"second\n", "b.json": b"b\n"})
        sha = staging.commit({"README.md": b"# index\n"}, "one commit")
    assert sha is not None
    branch.push(sha)
    assert git("--git-dir", str(git_remote), "rev-parse", f"{BRANCH}^") == before
    assert remote_files(git_remote) == {
        "a.json": b"second\n",
        "b.json": b"b\n",
        "big": b"x" * 100_000,
        "README.md": b"# index\n",
    }
    assert git("--git-dir", str(git_remote), "diff", "--name-only", f"{BRANCH}^", BRANCH) == (
        "README.md\na.json\nbig"
    )


def test_staging_left_without_commit_writes_nothing(git_remote: Path, tmp_path: Path) -> None:
    """A failure while files are still being computed ends git; no commit, no ref, no process."""
    seed(git_remote, tmp_path, {"a.json": "a\n"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()

    def merge_fails_midway() -> int:
        with branch.staging() as staging:
            staging.add({"a.json": b"half\n" * 50_000})
            raise RuntimeError(staging._process.pid)

    with pytest.raises(RuntimeError) as failed:
        merge_fails_midway()
    pid = failed.value.args[0]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: git is gone
    refs = git("--git-dir", str(tmp_path / "work"), "for-each-ref", "--format=%(refname)")
    assert "pending" not in refs
    assert remote_files(git_remote) == {"a.json": b"a\n"}
    sha = branch.commit({"a.json": b"whole\n"}, "next try")  # the work folder still works
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {"a.json": b"whole\n"}


def test_staging_reports_a_git_that_died(git_remote: Path, tmp_path: Path) -> None:
    """If git ends before the commit (killed, disk full), the commit fails with git's words
    instead of hanging or committing part of the files."""
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    with branch.staging() as staging:
        staging.add({"a.json": b"a\n"})
        os.killpg(staging._process.pid, signal.SIGKILL)
        staging._process.wait()
        staging.add({f"f{n}.json": b"y" * 100_000 for n in range(40)})  # more than a pipe holds
        with pytest.raises(StoreError, match="git fast-import failed"):
            staging.commit({"b.json": b"b\n"}, "m")
    assert git("--git-dir", str(git_remote), "for-each-ref") == ""


def test_commit_returns_none_when_bytes_unchanged(git_remote: Path, tmp_path: Path) -> None:
    """Writing the bytes a file already has makes no commit."""
    seed(git_remote, tmp_path, {"a.json": "same\n", "b.json": "other\n"})
    branch = writer(git_remote, tmp_path / "work")
    before = branch.fetch()
    assert branch.commit({"a.json": b"same\n"}, "nothing new") is None
    assert git("--git-dir", str(git_remote), "rev-parse", BRANCH) == before


def test_second_commit_keeps_other_files(git_remote: Path, tmp_path: Path) -> None:
    """A commit changes only the given paths and sits on top of the fetched tip."""
    seed(git_remote, tmp_path, {"keep/me.txt": "kept\n", "a.json": "old\n"})
    branch = writer(git_remote, tmp_path / "work")
    before = branch.fetch()
    sha = branch.commit({"a.json": b"new\n", "new/file.json": b"{}\n"}, "update")
    assert sha is not None
    branch.push(sha)
    assert git("--git-dir", str(git_remote), "rev-parse", f"{BRANCH}^") == before
    assert remote_files(git_remote) == {
        "keep/me.txt": b"kept\n",
        "a.json": b"new\n",
        "new/file.json": b"{}\n",
    }


def test_commit_is_by_identity_with_message(git_remote: Path, tmp_path: Path) -> None:
    """Author and committer are the configured identity; the message is kept whole."""
    who = Identity("Traffic Bot", "bot@example.com")
    branch = writer(git_remote, tmp_path / "work", identity=who)
    branch.fetch()
    sha = branch.commit({"x": b"1"}, "traffic-sync: 2024-05-01\n\nbody line")
    assert sha is not None
    shown = git("--git-dir", str(tmp_path / "work"), "show", "-s", "--format=%an|%ae|%cn|%ce", sha)
    assert shown == "Traffic Bot|bot@example.com|Traffic Bot|bot@example.com"
    message = git("--git-dir", str(tmp_path / "work"), "show", "-s", "--format=%B", sha)
    assert message == "traffic-sync: 2024-05-01\n\nbody line"


def test_default_identity_is_the_actions_bot(git_remote: Path, tmp_path: Path) -> None:
    """Without an identity, commits are by github-actions[bot]."""
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"x": b"1"}, "m")
    assert sha is not None
    shown = git("--git-dir", str(tmp_path / "work"), "show", "-s", "--format=%cn <%ce>", sha)
    assert shown == f"{BOT.name} <{BOT.email}>"


def test_unusual_paths_round_trip(git_remote: Path, tmp_path: Path) -> None:
    """Paths with spaces, quotes, backslashes, non-ASCII and newlines are stored as given."""
    names = ["with space/a b.json", 'quote"d.txt', "back\\slash", "ünï/ç.md", "new\nline"]
    files = {name: name.encode() for name in names}
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit(files, "odd names")
    assert sha is not None
    branch.push(sha)
    branch.fetch()
    assert branch.read_files() == files


def test_executable_mode_is_kept(git_remote: Path, tmp_path: Path) -> None:
    """Rewriting an executable file keeps it executable."""
    seed(git_remote, tmp_path, {"run.sh": "echo 1\n"})
    tree_before = git("--git-dir", str(git_remote), "ls-tree", BRANCH, "run.sh")
    assert tree_before.startswith("100644")
    work = tmp_path / "exec"
    git("clone", "--quiet", "--branch", BRANCH, str(git_remote), str(work))
    git("update-index", "--chmod=+x", "run.sh", cwd=work)
    git("commit", "--quiet", "-m", "x", cwd=work)
    git("push", "--quiet", "origin", BRANCH, cwd=work)
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"run.sh": b"echo 2\n"}, "m")
    assert sha is not None
    branch.push(sha)
    assert git("--git-dir", str(git_remote), "ls-tree", BRANCH, "run.sh").startswith("100755")


def test_bad_paths_are_refused(git_remote: Path, tmp_path: Path) -> None:
    """Paths git cannot store, or a file replacing a folder, raise before anything is written."""
    seed(git_remote, tmp_path, {"dir/file": "x"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    for bad in ["/abs", "a//b", "a/../b", ".git/config", "dir", "dir/file/under"]:
        with pytest.raises(ValueError, match="path"):
            branch.commit({bad: b"x"}, "m")


def test_commit_before_fetch_is_a_programming_error(git_remote: Path, tmp_path: Path) -> None:
    """Reading or committing without a fetch fails loudly instead of guessing the tip."""
    branch = writer(git_remote, tmp_path / "work")
    with pytest.raises(RuntimeError, match="fetch"):
        branch.commit({"a": b"1"}, "m")


def test_many_files_commit_in_one_go(git_remote: Path, tmp_path: Path) -> None:
    """Thousands of files are committed, read back and recognised as unchanged."""
    files = {
        f"owner{n % 30}/repo{n}/stats/2026.json": f'{{"n": {n}}}\n'.encode() for n in range(3000)
    }
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit(files, "many")
    assert sha is not None
    branch.push(sha)
    branch.fetch()
    assert branch.read_files() == files
    assert branch.commit(files, "again") is None


# --- deleting (a renamed repo's old folder) ---


def tree_names(remote: Path, folder: str = "") -> list[str]:
    """The names directly inside `folder` on the remote branch (files and folders)."""
    names = git("--git-dir", str(remote), "ls-tree", "-z", "--name-only", f"{BRANCH}:{folder}")
    return sorted(name for name in names.split("\0") if name)


def test_deletes_remove_paths_and_written_files_stay(git_remote: Path, tmp_path: Path) -> None:
    """Deleted paths leave the new commit's tree (an emptied folder too); writes land beside."""
    seed(
        git_remote,
        tmp_path,
        {"old/name/views/2026.json": "v", "old/name/stats/2026.json": "s", "keep/me.txt": "kept"},
    )
    branch = writer(git_remote, tmp_path / "work")
    before = branch.fetch()
    sha = branch.commit(
        {"new/name/views/2026.json": b"v\n", "new/name/stats/2026.json": b"s\n"},
        "moved",
        deletes=["old/name/views/2026.json", "old/name/stats/2026.json"],
    )
    assert sha is not None
    branch.push(sha)
    assert git("--git-dir", str(git_remote), "rev-parse", f"{BRANCH}^") == before
    assert remote_files(git_remote) == {
        "keep/me.txt": b"kept",
        "new/name/views/2026.json": b"v\n",
        "new/name/stats/2026.json": b"s\n",
    }
    assert tree_names(git_remote) == ["keep", "new"]


def test_delete_only_commit(git_remote: Path, tmp_path: Path) -> None:
    """A commit that only deletes is made, on top of the fetched tip, and keeps the rest."""
    seed(git_remote, tmp_path, {"a.json": "a", "b.json": "b"})
    branch = writer(git_remote, tmp_path / "work")
    before = branch.fetch()
    sha = branch.commit({}, "delete a", deletes=("a.json", "a.json"))
    assert sha is not None
    branch.push(sha)
    assert git("--git-dir", str(git_remote), "rev-parse", f"{BRANCH}^") == before
    assert remote_files(git_remote) == {"b.json": b"b"}


def test_deleting_missing_paths_is_harmless(git_remote: Path, tmp_path: Path) -> None:
    """Paths that are not in the tip are skipped: the writes are committed, nothing else moves."""
    seed(git_remote, tmp_path, {"a.json": "a"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"b.json": b"b"}, "m", deletes=["gone.json", "no/such/folder.json"])
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {"a.json": b"a", "b.json": b"b"}


def test_deletes_without_a_branch_yet_are_harmless(git_remote: Path, tmp_path: Path) -> None:
    """On the first run there is nothing to delete: the orphan commit holds the writes."""
    branch = writer(git_remote, tmp_path / "work")
    assert branch.fetch() is None
    assert branch.commit({}, "m", deletes=["a.json"]) is None
    sha = branch.commit({"b.json": b"b"}, "m", deletes=["a.json"])
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {"b.json": b"b"}


def test_nothing_changed_makes_no_commit(git_remote: Path, tmp_path: Path) -> None:
    """Unchanged bytes plus deletes of paths that are not there: no commit, the tip stays."""
    seed(git_remote, tmp_path, {"a.json": "a"})
    branch = writer(git_remote, tmp_path / "work")
    before = branch.fetch()
    assert branch.commit({}, "m") is None
    assert branch.commit({"a.json": b"a"}, "m", deletes=["gone.json"]) is None
    assert git("--git-dir", str(git_remote), "rev-parse", BRANCH) == before


def test_a_written_path_is_never_deleted(git_remote: Path, tmp_path: Path) -> None:
    """A path both written and deleted holds the written bytes: a write always wins."""
    seed(git_remote, tmp_path, {"a.json": "old", "b.json": "b"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"a.json": b"new"}, "m", deletes=["a.json", "b.json"])
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {"a.json": b"new"}
    assert branch.commit({"a.json": b"new"}, "m", deletes=["a.json"]) is None


def test_a_file_may_replace_a_deleted_folder(git_remote: Path, tmp_path: Path) -> None:
    """Once every file of a folder is deleted, a file may take the folder's path, and back."""
    seed(git_remote, tmp_path, {"dir/file": "x", "dir/other": "y"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    with pytest.raises(ValueError, match="share a path"):
        branch.commit({"dir": b"file now"}, "m", deletes=["dir/file"])
    sha = branch.commit({"dir": b"file now"}, "m", deletes=["dir/file", "dir/other"])
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {"dir": b"file now"}
    again = branch.commit({"dir/file": b"x"}, "m", deletes=["dir"])
    assert again is not None
    branch.push(again)
    assert remote_files(git_remote) == {"dir/file": b"x"}


def test_deletes_of_unusual_paths(git_remote: Path, tmp_path: Path) -> None:
    """Paths with spaces, quotes, non-ASCII and newlines are deleted as exactly as written."""
    names = ["with space/a b.json", 'quote"d.txt', "back\\slash", "ünï/ç.md", "new\nline"]
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    first = branch.commit({**{n: n.encode() for n in names}, "keep": b"k"}, "odd names")
    assert first is not None
    branch.push(first)
    sha = branch.commit({}, "delete them", deletes=names)
    assert sha is not None
    branch.push(sha)
    branch.fetch()
    assert branch.read_files() == {"keep": b"k"}


# --- reading and fetching ---


def test_read_files_streams_big_blobs(git_remote: Path, tmp_path: Path) -> None:
    """Blobs far bigger than a pipe's buffer, many of them, come back byte for byte."""
    files = {f"r{n}/views/2026.json": bytes([n]) * (150_000 + n) for n in range(30)}
    files["empty"] = b""
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit(files, "big")
    assert sha is not None
    branch.push(sha)
    reader = writer(git_remote, tmp_path / "read")
    reader.fetch()
    assert reader.read_files() == files


def read_first_line(command: list[str], *, stdin: bytes, timeout: float) -> bytes:
    """Read one line of a streaming git stand-in's output, then fail as a reader would."""
    with gitrun.stream_git(command, env=os.environ, stdin=stdin, timeout=timeout) as out:
        line = out.readline()
        raise ValueError(line)


@pytest.mark.slow  # waits seconds of real time
def test_a_streaming_git_that_hangs_is_killed(tmp_path: Path) -> None:
    """Reading git's output as it comes has a timeout too: a hung git ends in StoreError."""
    hanging = ["sh", "-c", "sleep 30", "--git-dir", str(tmp_path), "cat-file"]  # git stand-in
    started = time.monotonic()
    with pytest.raises(StoreError, match="git cat-file did not finish within 1 s"):
        read_first_line(hanging, stdin=b"x\n", timeout=1)
    assert time.monotonic() - started < 10


def test_a_failing_reader_ends_the_streaming_git(tmp_path: Path) -> None:
    """When the reader fails, git is killed and reaped, and the reader's error comes through."""
    talking = ["sh", "-c", "echo $$; sleep 30", "--git-dir", str(tmp_path), "cat-file"]
    with pytest.raises(ValueError, match=r"\d") as failed:
        read_first_line(talking, stdin=b"", timeout=60)
    with pytest.raises(ProcessLookupError):
        os.kill(int(failed.value.args[0]), 0)  # killed and reaped


def test_read_files_with_prefix(git_remote: Path, tmp_path: Path) -> None:
    """read_files returns only the files under the prefix, with their bytes."""
    seed(git_remote, tmp_path, {"data/a/x.json": "1", "data/b.json": "2", "other/c": "3"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    assert branch.read_files("data/") == {"data/a/x.json": b"1", "data/b.json": b"2"}
    assert set(branch.read_files()) == {"data/a/x.json", "data/b.json", "other/c"}
    assert branch.read_files("nothing/") == {}


def test_read_files_is_empty_without_branch(git_remote: Path, tmp_path: Path) -> None:
    """Before the first run there is nothing to read."""
    branch = writer(git_remote, tmp_path / "work")
    assert branch.fetch() is None
    assert branch.read_files() == {}


def test_missing_branch_in_non_empty_repo_is_first_run(git_remote: Path, tmp_path: Path) -> None:
    """A repo with other branches but not ours gives no tip, and the commit is an orphan."""
    work = tmp_path / "other"
    git("init", "--quiet", "--initial-branch=main", str(work))
    (work / "code.py").write_text("print()\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "code", cwd=work)
    git("push", "--quiet", str(git_remote), "main", cwd=work)
    branch = writer(git_remote, tmp_path / "work")
    assert branch.fetch() is None
    sha = branch.commit({"a": b"1"}, "m")
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {"a": b"1"}


def test_fetch_is_shallow(git_remote: Path, tmp_path: Path) -> None:
    """Only the tip commit is fetched, however long the history."""
    seed(git_remote, tmp_path, {"a.json": "x"}, commits=5)
    assert git("--git-dir", str(git_remote), "rev-list", "--count", BRANCH) == "5"
    branch = writer(git_remote, tmp_path / "work")
    tip = branch.fetch()
    assert tip == git("--git-dir", str(git_remote), "rev-parse", BRANCH)
    assert git("--git-dir", str(tmp_path / "work"), "rev-list", "--count", "--all") == "1"


def test_fetch_again_sees_the_moved_tip(git_remote: Path, tmp_path: Path) -> None:
    """A second fetch follows the branch to where another writer moved it."""
    first = writer(git_remote, tmp_path / "one")
    second = writer(git_remote, tmp_path / "two")
    second.fetch()
    first.fetch()
    sha = first.commit({"a": b"1"}, "m")
    assert sha is not None
    first.push(sha)
    assert second.fetch() == sha
    assert second.read_files() == {"a": b"1"}


def test_fetch_after_branch_deleted_starts_over(git_remote: Path, tmp_path: Path) -> None:
    """When the branch disappears between fetches, the next fetch reports no tip."""
    seed(git_remote, tmp_path, {"a": "1"})
    branch = writer(git_remote, tmp_path / "work")
    assert branch.fetch() is not None
    git("--git-dir", str(git_remote), "update-ref", "-d", f"refs/heads/{BRANCH}")
    assert branch.fetch() is None
    assert branch.read_files() == {}


def test_fetch_from_nowhere_says_what_to_check(tmp_path: Path) -> None:
    """A remote that is not a repository raises StoreError naming it."""
    branch = writer(tmp_path / "missing.git", tmp_path / "work")
    with pytest.raises(StoreError, match=r"missing\.git"):
        branch.fetch()


@pytest.mark.slow  # waits seconds of real time
def test_silent_server_times_out(tmp_path: Path) -> None:
    """A server that never answers ends in StoreError after the timeout, not a hang."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/data.git"
        remote = Remote(url=url, display=url, local_path=None)
        branch = DataBranch(remote=remote, branch=BRANCH, workdir=tmp_path / "w", timeout=1)
        with pytest.raises(StoreError, match="git fetch did not finish"):
            branch.fetch()


def test_missing_git_is_store_error(
    git_remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without git on PATH the error says to install it."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StoreError, match="git is not installed"):
        writer(git_remote, tmp_path / "work").fetch()


# --- pushing ---


def test_moved_branch_rejects_push_then_retry_keeps_both(git_remote: Path, tmp_path: Path) -> None:
    """Two writers race: the loser is rejected, refetches, recommits, and nothing is lost."""
    seed(git_remote, tmp_path, {"base.json": "0"})
    first = writer(git_remote, tmp_path / "one")
    second = writer(git_remote, tmp_path / "two")
    first.fetch()
    second.fetch()
    mine = first.commit({"first.json": b"1"}, "first")
    theirs = second.commit({"second.json": b"2"}, "second")
    assert mine is not None
    assert theirs is not None
    first.push(mine)
    with pytest.raises(PushRejectedError):
        second.push(theirs)
    assert git("--git-dir", str(git_remote), "rev-parse", BRANCH) == mine

    second.fetch()
    current = second.read_files()
    retry = second.commit({**current, "second.json": b"2"}, "second, again")
    assert retry is not None
    second.push(retry)
    git("--git-dir", str(git_remote), "merge-base", "--is-ancestor", mine, BRANCH)
    assert remote_files(git_remote) == {"base.json": b"0", "first.json": b"1", "second.json": b"2"}
    assert git("--git-dir", str(git_remote), "rev-list", "--count", BRANCH) == "3"


def test_push_refused_by_server_is_store_error(git_remote: Path, tmp_path: Path) -> None:
    """A push the server declines for another reason is a StoreError, not a retryable race."""
    install_hook(git_remote, "#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n")
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"a": b"1"}, "m")
    assert sha is not None
    with pytest.raises(StoreError, match="protected") as caught:
        branch.push(sha)
    assert not isinstance(caught.value, PushRejectedError)


def test_commit_after_push_builds_on_pushed_commit(git_remote: Path, tmp_path: Path) -> None:
    """After a successful push the pushed commit is the tip the next commit builds on."""
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    first = branch.commit({"a": b"1"}, "one")
    assert first is not None
    branch.push(first)
    second = branch.commit({"b": b"2"}, "two")
    assert second is not None
    branch.push(second)
    assert remote_files(git_remote) == {"a": b"1", "b": b"2"}


# --- where the data lives ---


@pytest.mark.parametrize(
    ("spec", "url", "display", "local_part"),
    [
        ("octo/data", "https://github.com/octo/data.git", "octo/data", None),
        ("octo/data.git", "https://github.com/octo/data.git", "octo/data", None),
        ("o-1/d.a_t-a", "https://github.com/o-1/d.a_t-a.git", "o-1/d.a_t-a", None),
        ("https://h.example/x.git", "https://h.example/x.git", "https://h.example/x.git", None),
        ("http://h.example:8080/x", "http://h.example:8080/x", "http://h.example:8080/x", None),
        ("ssh://git@h.example/x", "ssh://git@h.example/x", "ssh://git@h.example/x", None),
        ("git@github.com:o/n.git", "git@github.com:o/n.git", "git@github.com:o/n.git", None),
        ("file:///srv/data.git", "file:///srv/data.git", "file:///srv/data.git", None),
        ("./octo/data", None, None, "octo/data"),
        ("data", None, None, "data"),
        ("../up/data", None, None, "../up/data"),
        ("a/b/c", None, None, "a/b/c"),
    ],
)
def test_resolve_remote(
    spec: str, url: str | None, display: str | None, local_part: str | None, tmp_path: Path
) -> None:
    """owner/name is a GitHub repo, git URLs are kept, anything else is a folder under cwd."""
    cwd = tmp_path / "cwd"
    remote = resolve_remote(spec, server_url="https://github.com", cwd=cwd)
    if local_part is None:
        assert remote == Remote(url=str(url), display=str(display), local_path=None)
    else:
        path = Path(os.path.normpath(cwd / local_part))
        assert remote == Remote(url=str(path), display=str(path), local_path=path)


def test_resolve_remote_owner_name_wins_over_existing_folder(tmp_path: Path) -> None:
    """A plain owner/name is a repo even when such a folder exists; ./owner/name is the folder."""
    (tmp_path / "octo" / "data").mkdir(parents=True)
    remote = resolve_remote("octo/data", server_url="https://ghe.example/", cwd=tmp_path)
    assert remote.url == "https://ghe.example/octo/data.git"
    assert remote.local_path is None
    folder = resolve_remote("./octo/data", server_url="https://ghe.example", cwd=tmp_path)
    assert folder.local_path == tmp_path / "octo" / "data"


def test_resolve_remote_absolute_path(tmp_path: Path) -> None:
    """An absolute path is used as is, whatever the cwd."""
    remote = resolve_remote(str(tmp_path / "d"), server_url="https://github.com", cwd=Path("/x"))
    assert remote.local_path == tmp_path / "d"


def test_resolve_remote_hides_credentials_in_url(tmp_path: Path) -> None:
    """A token written into an https URL is used to push but never displayed."""
    url = f"https://x-access-token:{TOKEN}@github.com/o/n.git"
    remote = resolve_remote(url, server_url="https://github.com", cwd=tmp_path)
    assert remote.url == url
    assert remote.display == "https://github.com/o/n.git"
    bare = resolve_remote(f"https://{TOKEN}@h.example/n", server_url="", cwd=tmp_path)
    assert bare.display == "https://h.example/n"


def test_resolve_remote_refuses_empty(tmp_path: Path) -> None:
    """An empty data repository is a StoreError, not the current folder."""
    with pytest.raises(StoreError):
        resolve_remote("  ", server_url="https://github.com", cwd=tmp_path)


# --- a local folder as the data repository ---


def test_prepare_local_creates_repo_showing_pushed_files(tmp_path: Path) -> None:
    """A missing folder becomes a repo whose work tree shows each pushed commit."""
    remote = resolve_remote("./nested/data", server_url="https://github.com", cwd=tmp_path)
    prepare_local(remote, branch=BRANCH)
    branch = DataBranch(remote=remote, branch=BRANCH, workdir=tmp_path / "work")
    assert branch.fetch() is None
    for text in (b"one\n", b"two\n"):
        sha = branch.commit({"repo/stats/2026.json": text}, "m")
        assert sha is not None
        branch.push(sha)
        assert (tmp_path / "nested" / "data" / "repo" / "stats" / "2026.json").read_bytes() == text
    assert git("status", "--porcelain", cwd=tmp_path / "nested" / "data") == ""


def test_prepare_local_uses_empty_folder(tmp_path: Path) -> None:
    """An existing empty folder becomes the repo."""
    (tmp_path / "data").mkdir()
    prepare_local(local(tmp_path / "data"), branch=BRANCH)
    assert git("symbolic-ref", "HEAD", cwd=tmp_path / "data") == f"refs/heads/{BRANCH}"


def test_prepare_local_refuses_folder_with_files(tmp_path: Path) -> None:
    """A non-empty folder that is not a repo is left alone with a message on how to fix it."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a git repository") as caught:
        prepare_local(local(tmp_path / "data"), branch=BRANCH)
    assert "git init" in caught.value.fix
    assert not (tmp_path / "data" / ".git").exists()


def test_prepare_local_refuses_folder_inside_other_repo(tmp_path: Path) -> None:
    """A folder with files inside the project's repo is not mistaken for a data repo."""
    git("init", "--quiet", str(tmp_path / "project"))
    (tmp_path / "project" / "data").mkdir()
    (tmp_path / "project" / "data" / "f").write_text("x")
    with pytest.raises(StoreError, match="not a git repository"):
        prepare_local(local(tmp_path / "project" / "data"), branch=BRANCH)


def test_prepare_local_refuses_a_file(tmp_path: Path) -> None:
    """A data repository path that is a file is a StoreError."""
    (tmp_path / "data").write_text("x")
    with pytest.raises(StoreError, match="file"):
        prepare_local(local(tmp_path / "data"), branch=BRANCH)


def test_prepare_local_lets_existing_checkout_follow_pushes(tmp_path: Path) -> None:
    """An existing repo with the branch checked out accepts pushes and updates its files."""
    folder = tmp_path / "data"
    git("init", "--quiet", f"--initial-branch={BRANCH}", str(folder))
    (folder / "old.txt").write_text("old\n")
    git("add", "-A", cwd=folder)
    git("commit", "--quiet", "-m", "old", cwd=folder)
    prepare_local(local(folder), branch=BRANCH)
    assert git("config", "receive.denyCurrentBranch", cwd=folder) == "updateInstead"
    branch = DataBranch(remote=local(folder), branch=BRANCH, workdir=tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"new.txt": b"new\n"}, "m")
    assert sha is not None
    branch.push(sha)
    assert (folder / "new.txt").read_text() == "new\n"
    assert (folder / "old.txt").read_text() == "old\n"


def test_prepare_local_keeps_explicit_setting_and_bare_repos(tmp_path: Path) -> None:
    """A chosen denyCurrentBranch and bare repos are used exactly as they are."""
    folder = tmp_path / "data"
    git("init", "--quiet", f"--initial-branch={BRANCH}", str(folder))
    git("config", "receive.denyCurrentBranch", "warn", cwd=folder)
    prepare_local(local(folder), branch=BRANCH)
    assert git("config", "receive.denyCurrentBranch", cwd=folder) == "warn"
    other = tmp_path / "other"
    git("init", "--quiet", "--initial-branch=main", str(other))
    prepare_local(local(other), branch=BRANCH)
    assert git("config", "--default=unset", "receive.denyCurrentBranch", cwd=other) == "unset"
    bare = bare_repo(tmp_path / "bare.git")
    prepare_local(local(bare), branch=BRANCH)
    assert git("config", "--default=unset", "receive.denyCurrentBranch", cwd=bare) == "unset"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the folder to another user")
def test_folder_owned_by_another_user_is_not_dubious(tmp_path: Path) -> None:
    """As root on a repo owned by someone else (a container on a runner's workspace), all works."""
    folder = tmp_path / "data"
    git("init", "--quiet", f"--initial-branch={BRANCH}", str(folder))
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, 65534, 65534)
    prepare_local(local(folder), branch=BRANCH)
    branch = DataBranch(remote=local(folder), branch=BRANCH, workdir=tmp_path / "work")
    assert branch.fetch() is None
    sha = branch.commit({"a.txt": b"1\n"}, "m")
    assert sha is not None
    branch.push(sha)
    assert branch.fetch() == sha
    assert (folder / "a.txt").read_bytes() == b"1\n"


def test_prepare_local_ignores_remote_repos(tmp_path: Path) -> None:
    """A GitHub or URL remote needs no preparation and touches no folder."""
    remote = resolve_remote("octo/data", server_url="https://github.com", cwd=tmp_path)
    prepare_local(remote, branch=BRANCH)
    assert list(tmp_path.iterdir()) == []


def test_dirty_local_checkout_push_says_what_to_check(tmp_path: Path) -> None:
    """A push into a checkout with uncommitted edits fails with advice, not a retry loop."""
    folder = tmp_path / "data"
    prepare_local(local(folder), branch=BRANCH)
    branch = DataBranch(remote=local(folder), branch=BRANCH, workdir=tmp_path / "work")
    branch.fetch()
    first = branch.commit({"a.txt": b"1\n"}, "m")
    assert first is not None
    branch.push(first)
    (folder / "a.txt").write_text("edited by hand\n")
    second = branch.commit({"a.txt": b"2\n"}, "m")
    assert second is not None
    with pytest.raises(StoreError) as caught:
        branch.push(second)
    assert not isinstance(caught.value, PushRejectedError)
    assert "uncommitted" in caught.value.fix


# --- the token, through a real smart-HTTP server ---


@dataclass(frozen=True)
class GitServer:
    url: str  # of the one repository it serves
    repo: Path


class _GitHttpHandler(BaseHTTPRequestHandler):
    """`git http-backend` as CGI, behind the exact Authorization header actions/checkout sends."""

    root: Path
    header: str

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def _serve(self) -> None:
        body = self._read_body()
        if self.headers.get("Authorization") != self.header:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "REMOTE_USER": "x-access-token",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=True
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        headers = [line.split(": ", 1) for line in head.decode().split("\r\n") if line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)


@pytest.fixture
def git_http_server(tmp_path: Path) -> Iterator[GitServer]:
    """A smart-HTTP git server on 127.0.0.1 that wants `TOKEN` the way actions/checkout sends it."""
    root = tmp_path / "srv"
    repo = bare_repo(root / "data.git")
    credentials = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    handler = type("Handler", (_GitHttpHandler,), {"root": root, "header": f"basic {credentials}"})
    with servers.serving(handler) as server:
        yield GitServer(url=f"{servers.url_of(server)}/data.git", repo=repo)


@pytest.fixture
def git_argv_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a `git` first on PATH that records its arguments and runs the real git."""
    real = shutil.which("git")
    assert real is not None
    shims = tmp_path / "shims"
    shims.mkdir()
    log = tmp_path / "argv.log"
    shim = shims / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    return log


def secrets() -> list[bytes]:
    encoded = base64.b64encode(f"x-access-token:{TOKEN}".encode())
    return [TOKEN.encode(), encoded]


def test_token_reaches_server_and_nothing_else(
    git_http_server: GitServer, git_argv_log: Path, tmp_path: Path
) -> None:
    """Fetch and push with the token work over HTTP; it is in no argv and no file of workdir."""
    remote = Remote(url=git_http_server.url, display="data", local_path=None)
    workdir = tmp_path / "work"
    branch = DataBranch(remote=remote, branch=BRANCH, workdir=workdir, token=TOKEN)
    assert branch.fetch() is None
    sha = branch.commit({"a.json": b"1\n"}, "first")
    assert sha is not None
    branch.push(sha)
    assert branch.fetch() == sha
    assert branch.read_files() == {"a.json": b"1\n"}
    assert remote_files(git_http_server.repo) == {"a.json": b"1\n"}

    argv = git_argv_log.read_bytes()
    assert b"fetch" in argv
    assert b"push" in argv
    stored = [path.read_bytes() for path in workdir.rglob("*") if path.is_file()]
    for secret in secrets():
        assert secret not in argv
        assert not any(secret in data for data in stored)


def test_without_token_fetch_fails_cleanly(git_http_server: GitServer, tmp_path: Path) -> None:
    """Without the token the server refuses, and the StoreError says what to check."""
    remote = Remote(url=git_http_server.url, display="octo/data", local_path=None)
    branch = DataBranch(remote=remote, branch=BRANCH, workdir=tmp_path / "work")
    with pytest.raises(StoreError, match="octo/data") as caught:
        branch.fetch()
    assert "contents: read" in caught.value.fix


def test_wrong_token_is_not_in_error_text(git_http_server: GitServer, tmp_path: Path) -> None:
    """A rejected token appears nowhere in the error, in plain or base64 form."""
    wrong = "ghs_wrongTokenValue0987654321"
    remote = Remote(url=git_http_server.url, display="octo/data", local_path=None)
    branch = DataBranch(remote=remote, branch=BRANCH, workdir=tmp_path / "work", token=wrong)
    with pytest.raises(StoreError) as caught:
        branch.fetch()
    text = f"{caught.value} {caught.value.fix}"
    assert wrong not in text
    assert base64.b64encode(f"x-access-token:{wrong}".encode()).decode() not in text


def test_push_without_write_access_is_store_error(
    git_http_server: GitServer, tmp_path: Path
) -> None:
    """A server that refuses pushes gives a StoreError naming the permission to grant."""
    git("--git-dir", str(git_http_server.repo), "config", "http.receivepack", "false")
    remote = Remote(url=git_http_server.url, display="octo/data", local_path=None)
    branch = DataBranch(remote=remote, branch=BRANCH, workdir=tmp_path / "work", token=TOKEN)
    branch.fetch()
    sha = branch.commit({"a": b"1"}, "m")
    assert sha is not None
    with pytest.raises(StoreError) as caught:
        branch.push(sha)
    assert not isinstance(caught.value, PushRejectedError)
    assert "contents: write" in caught.value.fix
    assert TOKEN not in str(caught.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes files as another user")
def test_local_repo_in_another_users_folder_stays_theirs(tmp_path: Path) -> None:
    """As root (a container action) in a workspace of the runner's user (uid 1001), what the run
    writes into a local data repository belongs to that user, work tree included."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    os.chown(workspace, 1001, 1001)
    remote = resolve_remote("data", server_url="https://github.com", cwd=workspace)
    prepare_local(remote, branch=BRANCH)
    branch = DataBranch(remote=remote, branch=BRANCH, workdir=tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"octo/site/stats.json": b"[]\n"}, "m")
    assert sha is not None
    branch.push(sha)
    paths = [workspace / "data", *(workspace / "data").rglob("*")]
    assert (workspace / "data" / "octo" / "site" / "stats.json") in paths
    assert {(p.lstat().st_uid, p.lstat().st_gid) for p in paths} == {(1001, 1001)}


def test_local_repo_in_roots_folder_is_left_as_it_is(tmp_path: Path) -> None:
    """Where the folder around the repo is root's (or the run is not root), nothing is chowned."""
    remote = local(tmp_path / "data")
    prepare_local(remote, branch=BRANCH)
    owners = {p.lstat().st_uid for p in (tmp_path / "data").rglob("*")}
    assert owners == {os.geteuid()}


# --- partial fetch: file contents only for what is read ---


def blob_of(remote: Path, path: str) -> str:
    return git("--git-dir", str(remote), "rev-parse", f"{BRANCH}:{path}")


def test_fetch_takes_no_file_contents_and_reads_fetch_only_what_they_read(
    git_remote: Path, tmp_path: Path
) -> None:
    """A fetch brings the tip's trees but no blob; read_paths brings exactly the files asked."""
    files = {f"octo/r{n}/views/2026.json": f"[{n}]\n" for n in range(6)}
    seed(git_remote, tmp_path, {**files, ".traffic-sync/state.json": "{}\n"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    assert blobs_in(tmp_path / "work") == set()
    assert set(branch.list_files()) == {*files, ".traffic-sync/state.json"}
    assert blobs_in(tmp_path / "work") == set()

    read = branch.read_paths(["octo/r1/views/2026.json", "octo/r4/views/2026.json", "nope.json"])
    assert read == {"octo/r1/views/2026.json": b"[1]\n", "octo/r4/views/2026.json": b"[4]\n"}
    assert blobs_in(tmp_path / "work") == {
        blob_of(git_remote, "octo/r1/views/2026.json"),
        blob_of(git_remote, "octo/r4/views/2026.json"),
    }
    assert branch.read_files("octo/r5/") == {"octo/r5/views/2026.json": b"[5]\n"}


def test_commit_and_push_from_a_partial_fetch_keep_the_unread_files(
    git_remote: Path, tmp_path: Path
) -> None:
    """Files never read are kept as they are by a commit made without their contents."""
    seed(git_remote, tmp_path, {"a/views/2025.json": "old\n", "a/views/2026.json": "new\n"})
    replaced = blob_of(git_remote, "a/views/2026.json")
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    sha = branch.commit({"a/views/2026.json": b"newer\n"}, "m")
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {
        "a/views/2025.json": b"old\n",
        "a/views/2026.json": b"newer\n",
    }
    git("--git-dir", str(git_remote), "fsck", "--strict")
    # the push fetched nothing either (a thin pack would look for the replaced blob as a base)
    assert blobs_in(tmp_path / "work") == {blob_of(git_remote, "a/views/2026.json")}
    assert replaced not in blobs_in(tmp_path / "work")


def test_the_work_repo_keeps_no_url_and_no_token(git_remote: Path, tmp_path: Path) -> None:
    """The promisor remote lives in the environment of each git command, not in a file."""
    seed(git_remote, tmp_path, {"a.json": "x\n"})
    branch = DataBranch(
        remote=local(git_remote), branch=BRANCH, workdir=tmp_path / "work", token=TOKEN
    )
    branch.fetch()
    branch.read_files()
    for path in (tmp_path / "work").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert str(git_remote).encode() not in data, path
            assert TOKEN.encode() not in data, path


@pytest.mark.parametrize("filters", [True, False])
def test_partial_fetch_over_smart_http(tmp_path: Path, filters: bool) -> None:
    """Against a smart-HTTP host with the token as GitHub takes it: partial where the server
    allows filters, whole where it does not, and the same files either way."""
    with GitHost(tmp_path / "host", TOKEN) as host:
        remote = host.create("octo/data")
        git("--git-dir", str(remote), "config", "uploadpack.allowFilter", str(filters).lower())
        seed(remote, tmp_path, {"a/views/2025.json": "old\n", "a/views/2026.json": "new\n"})
        url = Remote(url=f"{host.url}/octo/data.git", display="octo/data", local_path=None)
        branch = DataBranch(remote=url, branch=BRANCH, workdir=tmp_path / "work", token=TOKEN)
        branch.fetch()
        assert len(blobs_in(tmp_path / "work")) == (0 if filters else 2)
        assert branch.read_paths(["a/views/2026.json"]) == {"a/views/2026.json": b"new\n"}
        sha = branch.commit({"a/views/2026.json": b"newer\n"}, "m")
        assert sha is not None
        branch.push(sha)
        assert remote_files(remote)["a/views/2025.json"] == b"old\n"
        assert {r.status for r in host.requests} == {200}


def trees_in(workdir: Path) -> set[str]:
    return objects_in(workdir, "tree")


def tree_of(remote: Path, folder: str) -> str:
    return git("--git-dir", str(remote), "rev-parse", f"{BRANCH}:{folder}")


def test_reading_a_folder_fetches_only_the_folders_on_its_way(
    git_remote: Path, tmp_path: Path
) -> None:
    """A fetch brings the commit alone; reading one repo's file brings the folders from the
    top down to it, and no other repo's folders, however many years they hold."""
    years = {f"octo/r{n}/views/{y}.json": f"{n} {y}\n" for n in range(3) for y in range(2016, 2027)}
    seed(git_remote, tmp_path, {**years, "README.md": "index\n"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    assert trees_in(tmp_path / "work") == set()
    assert branch.read_paths(["octo/r1/views/2026.json", "README.md"]) == {
        "octo/r1/views/2026.json": b"1 2026\n",
        "README.md": b"index\n",
    }
    on_the_way = {tree_of(git_remote, f) for f in ("", "octo", "octo/r1", "octo/r1/views")}
    assert trees_in(tmp_path / "work") == on_the_way
    assert set(branch.list_files(["octo/r2"])) == {
        f"octo/r2/views/{y}.json" for y in range(2016, 2027)
    }
    assert tree_of(git_remote, "octo/r0") not in trees_in(tmp_path / "work")


def test_a_scoped_commit_keeps_everything_outside_its_folders(
    git_remote: Path, tmp_path: Path
) -> None:
    """A commit that names its folders changes them and the top files, keeps every other
    folder as it was without fetching it, and refuses a path outside them."""
    seed(git_remote, tmp_path, {"octo/a/views/2025.json": "a\n", "octo/b/views/2025.json": "b\n"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    with branch.staging(scope=["octo/a", ".traffic-sync"]) as staging:
        with pytest.raises(ValueError, match="outside the folders"):
            staging.add({"octo/b/views/2026.json": b"no\n"})
        sha = staging.commit(
            {"octo/a/views/2026.json": b"a2\n", "README.md": b"index\n"},
            "m",
            deletes=["octo/a/views/2025.json"],
        )
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {
        "octo/a/views/2026.json": b"a2\n",
        "octo/b/views/2025.json": b"b\n",
        "README.md": b"index\n",
    }
    assert tree_of(git_remote, "octo/b") not in trees_in(tmp_path / "work")
    git("--git-dir", str(git_remote), "fsck", "--strict")


def test_list_folders_names_each_folder_by_its_git_tree_id(
    git_remote: Path, tmp_path: Path
) -> None:
    """Two levels below a prefix, each folder with the tree id git gives it, fetching only the
    trees above them; `tree_sha` computes the same ids from a listing."""
    files = {
        "data/octo/a/views/2026.json": "[1]\n",
        "data/octo/a/README.md": "# a\n",
        "data/octo/b-c/views/2026.json": "[2]\n",
        "data/cat/x/stats/2025.json": "[3]\n",
        "data/README.md": "# index\n",
        "other/o/r/file": "x\n",
    }
    seed(git_remote, tmp_path, files)
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    found = branch.list_folders("data", depth=2)
    expected = {
        folder: git("--git-dir", str(git_remote), "rev-parse", f"{BRANCH}:{folder}")
        for folder in ("data/octo/a", "data/octo/b-c", "data/cat/x")
    }
    assert found == expected
    assert not objects_in(tmp_path / "work", "tree") & set(expected.values())
    entries = branch.list_entries(["data/octo/a"])
    assert {path: mode for path, (mode, _) in entries.items()} == {
        "data/octo/a/views/2026.json": "100644",
        "data/octo/a/README.md": "100644",
    }
    inside = {path.removeprefix("data/octo/a/"): entry for path, entry in entries.items()}
    assert tree_sha(inside) == expected["data/octo/a"]
    assert branch.list_folders("nowhere", depth=2) == {}


def test_a_scoped_commit_writes_the_files_of_its_shallow_folders_only(
    git_remote: Path, tmp_path: Path
) -> None:
    seed(git_remote, tmp_path, {"data/README.md": "old\n", "data/o/r/views/2026.json": "[]\n"})
    branch = writer(git_remote, tmp_path / "work")
    branch.fetch()
    with branch.staging(["data/o/new"], shallow=["data"]) as staging:
        with pytest.raises(ValueError, match="outside the folders"):
            staging.add({"data/o/r/views/2026.json": b"[1]\n"})
        sha = staging.commit({"data/README.md": b"new\n", "data/o/new/x": b"x\n"}, "m")
    assert sha is not None
    branch.push(sha)
    assert remote_files(git_remote) == {
        "data/README.md": b"new\n",
        "data/o/r/views/2026.json": b"[]\n",
        "data/o/new/x": b"x\n",
    }
