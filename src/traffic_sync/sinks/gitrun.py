"""Running git: the environment every git command gets, and git run, started or streamed.

Each command runs as the data commits' author (`Identity`, `BOT` by default), in its own
process group, with a predictable, non-interactive environment (no prompts, English messages,
none of the caller's GIT_DIR and the like), and is killed with its helpers on a timeout. The
push token travels only in the environment of the commands that talk to the remote, as an
`http.extraheader` (the way actions/checkout does it), so it never reaches argv, a file or an
error message.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from traffic_sync.core.errors import StoreError


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the data commits are by: author and committer alike."""

    name: str
    email: str


BOT = Identity("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


# Variables that would point our commands at some other repository than the one we name.
FOREIGN_GIT_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG_PARAMETERS",
)


class GitResult(NamedTuple):
    """A finished git command: its exit code and what it wrote."""

    returncode: int
    stdout: bytes
    stderr: bytes

    def text(self) -> str:
        """stdout as one trimmed line of text (a sha, a ref)."""
        return self.stdout.decode().strip()


def git_env(
    *, token: str | None, identity: Identity, extra: Iterable[tuple[str, str]] = ()
) -> dict[str, str]:
    """The environment of every git command: predictable, non-interactive, token as a header.

    `GIT_CONFIG_*` settings act like `git -c` without showing in argv (`ps`), and unlike
    `.git/config` they are gone when the command ends.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in FOREIGN_GIT_VARIABLES and not key.startswith("GIT_CONFIG_")
    }
    config = [
        ("safe.directory", "*"),  # a root container on a workspace owned by the runner user
        ("gc.auto", "0"),  # no background gc outliving the command and its timeout
        ("maintenance.auto", "false"),
    ]
    if token:
        config.append(("http.extraheader", f"AUTHORIZATION: basic {basic_credentials(token)}"))
    config += extra
    env.update(
        GIT_TERMINAL_PROMPT="0",  # fail, never wait for a password nobody will type
        GIT_CONFIG_NOSYSTEM="1",
        LC_ALL="C",  # git's messages in English, so the rejection markers match
        LANGUAGE="C",
        GIT_AUTHOR_NAME=identity.name,
        GIT_AUTHOR_EMAIL=identity.email,
        GIT_COMMITTER_NAME=identity.name,
        GIT_COMMITTER_EMAIL=identity.email,
        GIT_CONFIG_COUNT=str(len(config)),
    )
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def basic_credentials(token: str) -> str:
    """The token as HTTP basic credentials, the way GitHub takes a token from git."""
    return base64.b64encode(f"x-access-token:{token}".encode()).decode()


def start_git(
    args: list[str],
    *,
    env: Mapping[str, str],
    stdin: int | IO[bytes],
    stdout: int,
    stderr: int | IO[bytes],
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start git in its own process group (a kill ends its helpers too, and with no
    controlling terminal ssh cannot prompt); StoreError when git is missing."""
    try:
        return subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except FileNotFoundError as error:
        raise StoreError(
            "git is not installed.", fix="Install git and make sure it is on PATH."
        ) from error


def run_git(
    args: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdin: bytes | None = None,
    timeout: float = 60.0,
) -> GitResult:
    """Run git in its own process group, so a timeout also ends its helpers (git-remote-https)."""
    process = start_git(
        args,
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with process:
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            verb = args[args.index("--git-dir") + 2] if "--git-dir" in args else args[1]
            raise StoreError(
                f"git {verb} did not finish within {timeout:.0f} s.",
                fix="Check the network and that the data repository URL answers.",
            ) from None
    return GitResult(process.returncode, stdout, stderr)


@contextlib.contextmanager
def stream_git(
    args: list[str], *, env: Mapping[str, str], stdin: bytes, timeout: float
) -> Iterator[IO[bytes]]:
    """Run git on `stdin` and hand over its stdout to read as it comes; like `run_git`, in its
    own process group, killed after `timeout` seconds or when the reader fails."""
    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as errors:
        source.write(stdin)  # a file, not a pipe: git may answer before it has read it all
        source.seek(0)
        process = start_git(args, env=env, stdin=source, stdout=subprocess.PIPE, stderr=errors)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):  # it ended just now
                os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            assert process.stdout is not None  # noqa: S101 - opened with stdout=PIPE
            yield process.stdout
            process.stdout.close()
            process.wait()
        except Exception:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            if not expired.is_set():
                raise
        finally:
            timer.cancel()
        verb = args[args.index("--git-dir") + 2]
        if expired.is_set():
            raise StoreError(
                f"git {verb} did not finish within {timeout:.0f} s.",
                fix="Check that the disk of the work folder is not full or very slow.",
            )
        if process.returncode != 0:
            errors.seek(0)
            raise StoreError(f"git {verb} failed: {errors.read().decode(errors='replace').strip()}")
