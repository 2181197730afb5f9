"""What the edges count about themselves, for the server's own metrics (``GET /metrics``).

The WebSocket consumer counts each reply and each open connection, push subscriptions count their
topics and the messages a slow client missed, and the REST middleware of
:mod:`endrpi_project.metrics` counts each response. :mod:`endrpi_project.metrics` reads
:data:`tally` at scrape time. It lives here, at the bottom, so any layer may count without
importing the metrics app above it. Each count is one locked increment (well under a microsecond).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Snapshot:
    requests: dict[tuple[str, str, str], int] = field(default_factory=dict)
    connections: int = 0
    subscriptions: dict[str, int] = field(default_factory=dict)
    dropped: int = 0


class Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = Snapshot()

    def request(self, *, edge: str, action: str | None, ok: bool) -> None:
        """One request answered: ``edge`` "rest" or "websocket", ``action`` its route or action name."""
        key = (edge, action or "unknown", "ok" if ok else "error")
        with self._lock:
            self._now.requests[key] = self._now.requests.get(key, 0) + 1

    def connection(self, change: int) -> None:
        with self._lock:
            self._now.connections += change

    def subscription(self, topic: str, change: int) -> None:
        with self._lock:
            self._now.subscriptions[topic] = self._now.subscriptions.get(topic, 0) + change

    def drop(self, count: int) -> None:
        """``count`` passive messages a client did not get (folded into newer ones, or lost on the way)."""
        with self._lock:
            self._now.dropped += count

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = self._now
            return Snapshot(dict(now.requests), now.connections, dict(now.subscriptions), now.dropped)


tally = Tally()
