"""One connection's passive messages on their way out: bounded, coalescing, and honest about it.

A client that keeps up gets every passive message, in order. A client that does not (its socket
stops draining, or messages arrive faster than they can be sent) must not grow the server's
memory: once :attr:`Outbox.limit` messages wait, the waiting messages are folded into one per
topic — a pin map merged with the newer map, a reading replaced by the newer reading — so the
client still ends up with the latest state of everything it watches, and before those it gets a
``MESSAGES_DROPPED`` envelope counting what it missed.

The outbox sends through the connection's ``send``, which waits while the client's socket buffer is
full (see :mod:`endrpi_project.websocket.consumers`): meanwhile messages stay here, where they fold,
instead of piling up in the server's write buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from endrpi_project.api.tally import tally

logger = logging.getLogger(__name__)

MESSAGES_DROPPED = "MESSAGES_DROPPED"

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _combined(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """``newer``, with ``older``'s map entries it does not replace (pin maps merge; anything else is replaced)."""
    if older["success"] and newer["success"] and isinstance(older["data"], dict) and isinstance(newer["data"], dict):
        return {**newer, "data": {**older["data"], **newer["data"]}}
    return newer


class Outbox:
    """Passive messages waiting for one client, keyed by topic for folding; a task sends them."""

    def __init__(self, send: Send, *, limit: int, name: str = "endrpi-outbox") -> None:
        self.limit = limit
        self._send = send
        self._queue: deque[tuple[str, bool, dict[str, Any]]] = deque()
        self._folded: dict[str, tuple[bool, dict[str, Any]]] = {}
        self._dropped: dict[str, int] = {}
        self._ready = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run(), name=name)

    def __len__(self) -> int:
        return len(self._queue) + len(self._folded)

    @property
    def dropped(self) -> int:
        """Messages folded away or lost and not yet reported to the client."""
        return sum(self._dropped.values())

    def put(self, key: str, message: dict[str, Any], *, merge: bool) -> None:
        if self._folded or len(self._queue) >= self.limit:
            while self._queue:
                self._fold(*self._queue.popleft())
            self._fold(key, merge, message)
        else:
            self._queue.append((key, merge, message))
        self._ready.set()

    def note_dropped(self, key: str, count: int) -> None:
        """``count`` messages for ``key`` were lost before they got here (the channel layer dropped them)."""
        self._dropped[key] = self._dropped.get(key, 0) + count
        self._ready.set()

    def discard(self, key: str) -> None:
        """Forget what waits for ``key`` (the client unsubscribed from it)."""
        self._queue = deque(entry for entry in self._queue if entry[0] != key)
        self._folded.pop(key, None)
        self._dropped.pop(key, None)

    def _fold(self, key: str, merge: bool, message: dict[str, Any]) -> None:
        waiting = self._folded.pop(key, None)
        if waiting is not None:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            if merge:
                message = _combined(waiting[1], message)
        self._folded[key] = (merge, message)  # re-inserted last: the newest goes out last

    def _take(self) -> dict[str, Any] | None:
        if self._dropped:
            tally.drop(self.dropped)
            report = {
                "action": MESSAGES_DROPPED,
                "success": True,
                "data": {"dropped": self.dropped, "topics": sorted(self._dropped)},
                "error": None,
            }
            self._dropped = {}
            return report
        if self._queue:
            return self._queue.popleft()[2]
        if self._folded:
            key = next(iter(self._folded))
            return self._folded.pop(key)[1]
        return None

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            message = self._take()
            if message is None:
                self._ready.clear()
                continue
            try:
                await self._send(message)
            except Exception:  # the connection is gone; the consumer is closing
                logger.debug("Could not send a passive message; stopping this outbox", exc_info=True)
                return

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
