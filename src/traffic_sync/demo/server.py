"""The simulated GitHub served over HTTP on 127.0.0.1, for `traffic-sync demo` and the tests.

`SimulatedGitHub` is the world (`world.SimWorld`: repos, clock, controls) served in a daemon
thread: it logs every request, counts it against the hourly budget, checks the token, hands it
to the REST (`rest`) or GraphQL (`simgraphql`) answers and sends the answer with GitHub's
headers, over real HTTP, so PyGithub and everything above it run unchanged. `fail` injects any
answer a broken, slow or hostile server could give. Stdlib only; nothing runs at import time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from traffic_sync.demo.rest import (
    DOCS,
    RATE_DOCS,
    Answer,
    RestApi,
    error,
    json_or_none,
    rate_headers,
    rate_limited,
)
from traffic_sync.demo.simgraphql import GRAPHQL_DOCS, GRAPHQL_PATHS, GraphQLApi, Validator
from traffic_sync.demo.traffic import Json, SimRepo
from traffic_sync.demo.world import GRAPHQL_POINTS, RATE_LIMIT, SimWorld


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the simulator received it (the path without its query string)."""

    method: str
    path: str
    query: dict[str, str]
    body: Json = None  # a POST's JSON body (a GraphQL query and its variables)


@dataclass(slots=True)
class _Failure:
    """An injected answer for the next `times` requests whose path matches (see `fail`)."""

    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    message: str
    delay: float
    body: bytes | None = None  # None: GitHub's own answer (its error shape from 400 on)
    rate: float = 0.0  # bytes a second the body is sent at; 0: all at once
    cut: int | None = None  # send only this many bytes of the body, then drop the connection


@dataclass(frozen=True, slots=True)
class _Reply:
    """What the HTTP handler sends: status, headers, bytes, and how slowly or how cut."""

    status: int
    headers: dict[str, str]
    payload: bytes
    delay: float  # seconds to wait before answering: a slow GitHub
    rate: float = 0.0  # bytes a second the body trickles at; 0: all at once
    cut: int | None = None  # bytes of the body sent before the connection drops; None: all


class SimulatedGitHub(SimWorld):
    """A fake api.github.com on 127.0.0.1: `with SimulatedGitHub(repos, now=...) as sim: sim.url`.

    `now` is the simulated clock (UTC) and may be changed between requests; `requests` logs
    every request received, `GET /rate_limit` included.
    """

    def __init__(
        self,
        repos: Sequence[SimRepo],
        *,
        now: dt.datetime,
        token: str = "ghp_simulated",  # noqa: S107 - the simulator's own fake token
        viewer: str = "octocat",
        orgs: Collection[str] = (),
        users: Collection[str] = (),
        latency: float = 0.0,
        rate_limit: int = RATE_LIMIT,
        graphql_points: int = GRAPHQL_POINTS,
        graphql_validator: Validator | None = None,
    ) -> None:
        super().__init__(
            repos,
            now=now,
            token=token,
            viewer=viewer,
            orgs=orgs,
            users=users,
            rate_limit=rate_limit,
            graphql_points=graphql_points,
        )
        self.latency = latency  # seconds every answer takes: a real network
        self.graphql_validator = graphql_validator  # None: queries are not checked
        self.requests: list[Request] = []
        self._failures: list[_Failure] = []
        self._rest = RestApi(self)
        self._graphql = GraphQLApi(self)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a daemon thread; returns the base URL."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.respond = self._respond
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def fail(
        self,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        message: str = "",
        delay: float = 0.0,
        body: bytes | None = None,
        rate: float = 0.0,
        cut: int | None = None,
    ) -> None:
        """The next `times` requests whose path matches the regex get this answer.

        A status below 400 (with a `delay`) answers normally, only late: a slow answer. With
        `body`, the answer is exactly `status`, these bytes and GitHub's headers (`headers`
        replace them, `Content-Length` included): any answer a broken or hostile server could
        send. `rate` trickles the body at that many bytes a second; `cut` sends only its first
        `cut` bytes (the full length announced) and drops the connection.
        """
        failure = _Failure(
            re.compile(path_pattern),
            status,
            times,
            dict(headers or {}),
            message,
            delay,
            body,
            rate,
            cut,
        )
        with self.lock:
            self._failures.append(failure)

    def fail_graphql(self, kind: str, message: str, *, times: int = 1, after: int = 0) -> None:
        """After `after` more queries answered as usual, the next `times` get HTTP 200 with one
        error of GitHub's `type` (FORBIDDEN, RATE_LIMITED, ...; "" for none) and `message`."""
        self._graphql.inject(kind, message, times=times, after=after)

    def answer_repository(self, full_name: str, **fields: object) -> None:
        """GraphQL's `repository` for `full_name` answers `fields` instead of the true ones
        (any value, shapes GitHub never sends included), until `clear_failures`."""
        with self.lock:
            self._graphql.overrides[full_name.lower()] = dict(fields)

    def clear_failures(self) -> None:
        """Forget the injected answers not given yet: GitHub is well again."""
        with self.lock:
            self._failures.clear()
            self._graphql.overrides.clear()
            self._graphql.failures.clear()

    # answering

    def _respond(self, method: str, target: str, authorization: str, body: bytes = b"") -> _Reply:
        """Log, count and answer one request, with GitHub's headers."""
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        graphql = path in GRAPHQL_PATHS  # points of its own, not REST's requests
        with self.lock:
            self.requests.append(Request(method, path, query, json_or_none(body)))
            if path != "/rate_limit" and not graphql:
                self.served += 1
            failure = self._take_failure(path)
            limited = path != "/rate_limit" and not graphql and self.served > self.rate_limit
        if limited and failure is None:
            answer = rate_limited()
        else:
            answer = self._answer(method, path, query, authorization, failure=failure, body=body)
        rate = (
            self._graphql.points_headers(_token_of(authorization))
            if graphql
            else rate_headers(self)
        )
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-media-type": "github.v3; format=json",
            **rate,
        }
        # injected headers replace GitHub's own, whatever their case
        injected = failure.headers if failure else {}
        kept = {k: v for k, v in headers.items() if k.lower() not in {i.lower() for i in injected}}
        payload = b"" if answer.status == 204 else json.dumps(answer.body).encode()
        delay = self.latency + (failure.delay if failure else 0.0)
        if failure is None:
            return _Reply(answer.status, {**kept, **answer.headers}, payload, delay)
        if failure.body is not None:
            answer, payload = Answer(failure.status, None), failure.body
        headers = {**kept, **answer.headers, **injected}
        return _Reply(answer.status, headers, payload, delay, failure.rate, failure.cut)

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        authorization: str,
        *,
        failure: _Failure | None,
        body: bytes = b"",
    ) -> Answer:
        if failure and failure.status >= 400 and failure.body is None:
            message = failure.message or HTTPStatus(failure.status).phrase
            return error(
                failure.status, message, RATE_DOCS if "rate limit" in message.lower() else DOCS
            )
        token = _token_of(authorization)
        kind = self.tokens.get(token)
        if kind is None or kind == "bad":
            return error(401, "Bad credentials", GRAPHQL_DOCS if path in GRAPHQL_PATHS else DOCS)
        if method == "POST" and path in GRAPHQL_PATHS:
            return self._graphql.answer(body, token, kind, self.graphql_validator)
        return self._rest.answer(method, path, query, token, kind)

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.pattern.search(path):
                failure.times -= 1
                return failure
        return None


# --- HTTP plumbing ------------------------------------------------------------------------------


def _token_of(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") else ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    respond: Callable[[str, str, str, bytes], _Reply]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up waiting (a timeout test) is expected; anything else is a bug."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Like api.github.com, keep each client's connection open across requests (every answer
    # has a Content-Length), and send each answer as soon as it is written: without TCP_NODELAY
    # the body waits for the client's delayed ACK of the headers.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "GitHub.com"

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self._reply()

    def do_PUT(self) -> None:
        self._reply()

    def _reply(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        authorization = self.headers.get("Authorization", "")
        reply = self.server.respond(self.command, self.path, authorization, body)
        if reply.delay > 0:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if "content-length" not in {name.lower() for name in reply.headers}:
            self.send_header("Content-Length", str(len(reply.payload)))
        self.end_headers()
        payload = reply.payload if reply.cut is None else reply.payload[: reply.cut]
        if reply.rate > 0:
            _trickle(self.wfile, payload, reply.rate)
        else:
            self.wfile.write(payload)
        if reply.cut is not None:
            self.close_connection = True  # the rest never comes

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: `SimulatedGitHub.requests` is the request log."""


def _trickle(out: Any, payload: bytes, rate: float) -> None:
    """Write `payload` at `rate` bytes a second, a piece every tenth of a second at most."""
    piece = max(1, int(rate / 10))
    for start in range(0, len(payload), piece):
        out.write(payload[start : start + piece])
        out.flush()
        time.sleep(piece / rate)
