"""A fake PostHog capture endpoint on 127.0.0.1: real HTTP, a key check, answers on demand.

`POST /batch/` with `{api_key, batch, historical_migration}` as PostHog takes it
(https://posthog.com/docs/api/capture): a wrong key gets 401, a malformed batch 400, a batch
over `max_batch` events 413, and `answer()` queues any other answer (503, 429 with
`Retry-After`, ...) for the next requests. Accepted events are kept in order.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from tests.helpers import servers

EVENT_KEYS = {"event", "uuid", "distinct_id", "timestamp", "properties"}


@dataclass(frozen=True)
class Request:
    """One request as the server saw it, and what it answered."""

    status: int
    events: int
    historical_migration: bool | None


@dataclass
class FakePostHog:
    """Start with `with FakePostHog(api_key) as posthog:`; send to `posthog.url`."""

    api_key: str
    max_batch: int | None = None  # larger batches get 413
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    _answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def answer(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """The next `times` requests get `status` (and `headers`) instead of being processed."""
        with self._lock:
            self._answers.extend([(status, headers or {})] * times)

    @property
    def url(self) -> str:
        assert self._server is not None
        return servers.url_of(self._server)

    @property
    def uuids(self) -> list[str]:
        return [event["uuid"] for event in self.events]

    def __enter__(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, headers = fake._handle(self.path, body)
                payload = json.dumps({"status": 1} if status == 200 else {"error": status})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, format: str, *args: object) -> None:
                pass

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

    def _handle(self, path: str, body: bytes) -> tuple[int, dict[str, str]]:
        try:
            data = json.loads(body)
            batch = data["batch"]
            historical = data.get("historical_migration")
        except (ValueError, KeyError, TypeError):
            data, batch, historical = {}, None, None
        size = len(batch) if isinstance(batch, list) else 0
        with self._lock:
            status, headers = self._decide(path, data, batch)
            if status == 200:
                self.events.extend(batch)
            self.requests.append(Request(status, size, historical))
        return status, headers

    def _decide(self, path: str, data: Any, batch: Any) -> tuple[int, dict[str, str]]:
        if path != "/batch/":
            return 404, {}
        if self._answers:
            return self._answers.popleft()
        status = 200
        if not isinstance(data, dict) or data.get("api_key") != self.api_key:
            status = 401
        elif not _well_formed_batch(data):
            status = 400
        elif self.max_batch is not None and len(batch) > self.max_batch:
            status = 413
        return status, {}


def _well_formed_batch(data: dict[str, Any]) -> bool:
    """A `/batch/` body PostHog takes: a flag and a list of well-formed events."""
    batch = data.get("batch")
    return (
        isinstance(data.get("historical_migration"), bool)
        and isinstance(batch, list)
        and all(_well_formed(e) for e in batch)
    )


def _well_formed(event: Any) -> bool:
    """An event PostHog can ingest: a name, ids, an ISO timestamp and properties."""
    return (
        isinstance(event, dict)
        and set(event) == EVENT_KEYS
        and all(isinstance(event[k], str) and event[k] for k in EVENT_KEYS - {"properties"})
        and isinstance(event["properties"], dict)
    )
