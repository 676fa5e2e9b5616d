"""HTTP requests bounded as a whole: `request-timeout` from sending a request to its last byte.

requests' `timeout` bounds each socket read, so an answer trickled a few bytes a second never
trips it and holds a worker for as long as the server likes. Here every connection starts a
timer when it sends a request; when the time is up the timer shuts the socket, the blocked read
ends, and the try fails as a read timeout. The body is read whole before urllib3 hands the
answer back, so a slow body fails inside urllib3's retry loop and is retried like any timeout
(PyGithub's retry policy is urllib3's); callers that retry by themselves (the GraphQL client)
see a `requests.ReadTimeout`.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from typing import Any

import requests
from urllib3 import HTTPConnectionPool, HTTPResponse, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection


class _DeadlineHTTPConnection(HTTPConnection):
    """urllib3's connection, whose each request's answer is read whole, in time."""

    _deadline: float | None = None
    _expired: bool = False

    def request(self, *args: Any, **kwargs: Any) -> None:
        # urllib3 sets the read timeout (ours: requests' `timeout`) before each try's request
        seconds = self.timeout if isinstance(self.timeout, int | float) else None
        self._deadline = None if seconds is None else time.monotonic() + seconds
        self._expired = False
        super().request(*args, **kwargs)

    def getresponse(self) -> HTTPResponse:  # type: ignore[override] # as urllib3's own
        timer = None
        if self._deadline is not None:
            timer = threading.Timer(max(0.0, self._deadline - time.monotonic()), self._expire)
            timer.daemon = True
            timer.start()
        try:
            response = super().getresponse()
            body = response.read(decode_content=False)
        except Exception:
            if self._expired:  # urllib3 retries this as the read timeout it is
                raise TimeoutError(f"no whole answer within {self.timeout} s") from None
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return HTTPResponse(
            body=io.BytesIO(body),
            headers=response.headers,
            status=response.status,
            version=response.version,
            version_string=response.version_string,
            reason=response.reason,
            preload_content=False,
            decode_content=response.decode_content,
            # read whole and closed: urllib3 gives the connection back to its pool once it
            # sees this closed, so the next request reuses it
            original_response=response._original_response,
            request_url=response.url,
        )

    def _expire(self) -> None:
        """The timer's: end the read that is blocked (shutting a socket wakes its reader)."""
        self._expired = True
        with contextlib.suppress(OSError, AttributeError):
            if self.sock is not None:
                self.sock.shutdown(socket.SHUT_RDWR)


class _DeadlineHTTPSConnection(_DeadlineHTTPConnection, HTTPSConnection):
    pass


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_POOLS = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections (through an HTTP proxy too) keep the whole
    deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # a SOCKS proxy's pools are its own
            manager.pool_classes_by_scheme = _POOLS
        return manager


def deadline_session() -> requests.Session:
    """A requests Session whose every request keeps its `timeout` as a whole."""
    session = requests.Session()
    session.mount("http://", DeadlineAdapter())
    session.mount("https://", DeadlineAdapter())
    return session
