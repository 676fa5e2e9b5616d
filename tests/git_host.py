"""A git host on 127.0.0.1 that serves bare repos over smart HTTP, as github.com does.

`git http-backend` (git's own CGI server side) answers; this module is the web server around it.
Like GitHub for a private repository, every request must carry the token as
`Authorization: basic base64(x-access-token:<token>)` (what actions/checkout and traffic-sync
send), or it gets 401. Partial fetches and fetches of objects by id are served, as on GitHub.
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from tests import branch
from tests.helpers import servers


@dataclass(frozen=True)
class GitRequest:
    """One request as the host saw it."""

    method: str
    path: str  # e.g. /octo-org/site.git/git-upload-pack
    status: int


@dataclass
class GitHost:
    """Start with `with GitHost(root, token) as host:`; repos at `host.url/<owner>/<name>.git`."""

    root: Path
    token: str
    requests: list[GitRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def create(self, full_name: str) -> Path:
        """An empty bare repo for `owner/name`, serving what GitHub serves."""
        path = branch.init_bare(self.root / f"{full_name}.git")
        for key in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):
            branch.git("-C", str(path), "config", key, "true")
        return path

    @property
    def url(self) -> str:
        assert self._server is not None
        return servers.url_of(self._server)

    def __enter__(self) -> Self:
        host = self

        class Handler(_Handler):
            git_host = host

        self._server = servers.start(Handler)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        servers.stop(self._server)

    def authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
        scheme, _, credentials = header.partition(" ")
        return scheme.lower() == "basic" and credentials.strip() == expected


class _Handler(BaseHTTPRequestHandler):
    git_host: GitHost
    protocol_version = "HTTP/1.0"  # one request a connection: no keep-alive bookkeeping

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        if not self.git_host.authorized(self.headers.get("Authorization", "")):
            self._answer(401, {"WWW-Authenticate": 'Basic realm="GitHub"'}, b"")
            self._log(parts.path, 401)
            return
        body = self._body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.git_host.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "x-access-token",  # an authenticated user may push
            "REMOTE_ADDR": self.client_address[0],
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.git_host.root),
        }
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        status = 200 if result.returncode == 0 else 500
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name] = value.strip()
        self._answer(status, headers, payload)
        self._log(parts.path, status)

    def _body(self) -> bytes:
        """The request body, chunked or not (git sends big pushes chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _log(self, path: str, status: int) -> None:
        self.git_host.requests.append(GitRequest(self.command, path, status))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: `GitHost.requests` is the request log."""
