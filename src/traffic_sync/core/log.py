"""Where a run says what happens, as the stages and GitHub's keepalive see it.

The Protocol sits here, below the layers that log; `actions.Reporter`, the entry layer's
implementation, speaks the runner's protocol.
"""

from __future__ import annotations

from typing import Protocol

from traffic_sync.core.errors import TrafficSyncError


class Log(Protocol):
    """Where a run says what happens: `Reporter` in production."""

    def progress(self, line: str) -> None: ...

    def error(self, error: TrafficSyncError, *, where: str = "") -> None: ...

    def warning(self, error: TrafficSyncError, *, where: str = "") -> None: ...
