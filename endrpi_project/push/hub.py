"""Publishing passive messages onto the channel layer: from any thread, in the order published.

Pins change in a service running on a worker thread, in a gpiozero edge callback on gpiozero's
own thread, or in a poller on the event loop. :func:`publish` accepts a message from any of them
and hands it to the event loop with ``call_soon_threadsafe`` (a FIFO), where one task sends the
messages to their group one after another. Two changes of a pin therefore reach every subscriber
in the order they happened, whatever the channel layer (in-memory or Redis).

Every message carries ``origin`` (this process) and ``seq`` (its number within its group), so a
connection sees when the channel layer dropped one (a full or expired channel) and can say so.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# The channel layer message type; consumers handle it in ``push_message``.
MESSAGE_TYPE = "push.message"
# Messages published while the event loop is busy wait here; past this many they are dropped
# (and the gap in ``seq`` tells every subscriber).
QUEUE_LIMIT = 4096


class Hub:
    """Where passive messages leave for the channel layer; one per process (:data:`hub`)."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._sequences: dict[str, Iterator[int]] = {}
        self.dropped = 0

    def attach(self) -> None:
        """Serve the running event loop (called on the loop whenever a client subscribes)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is loop and self._task is not None and not self._task.done():
                return
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            self._loop, self._queue = loop, queue
            self._task = loop.create_task(self._send_all(queue), name="endrpi-push-hub")

    def publish(self, group: str, *, action: str, data: Any = None, error: str | None = None) -> None:
        """Send ``{action, success, data, error}`` to every member of ``group``. Never blocks the caller."""
        with self._lock:
            message = {
                "type": MESSAGE_TYPE,
                "group": group,
                "origin": self.origin,
                "seq": next(self._sequences.setdefault(group, itertools.count(1))),
                "action": action,
                "data": data,
                "error": error,
            }
            loop, queue = self._loop, self._queue
            if loop is not None and queue is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._enqueue, queue, message)
                return
        self._publish_without_loop(group, message)

    def _enqueue(self, queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
        if queue.qsize() >= QUEUE_LIMIT:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("Push queue full: %d passive messages dropped so far", self.dropped)
            return
        queue.put_nowait(message)

    async def _send_all(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        layer = get_channel_layer()
        if layer is None:
            logger.error("No channel layer is configured: passive messages cannot be delivered")
            return
        while True:
            message = await queue.get()
            try:
                await layer.group_send(message["group"], message)
            except Exception:
                logger.exception("Could not publish %s to %s", message["action"], message["group"])

    def _publish_without_loop(self, group: str, message: dict[str, Any]) -> None:
        """No client subscribed in this process yet: only another process's clients can listen."""
        layer = get_channel_layer()
        if layer is None or isinstance(layer, InMemoryChannelLayer):
            return  # an in-memory layer has no members outside this process
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("Could not publish %s to %s", message["action"], group)


hub = Hub()


def publish(group: str, *, action: str, data: Any = None, error: str | None = None) -> None:
    """Publish a passive message through the process's :data:`hub`."""
    hub.publish(group, action=action, data=data, error=error)
