"""Publishing passive messages: from any thread, in the order published, latest state always delivered.

Pins change in a service running on a worker thread, in a gpiozero edge callback on gpiozero's
own thread, or in a poller on the event loop. :func:`publish` accepts a message from any of them;
the event loop then hands it, in publishing order, to every receiver in this process that joined
its group (:meth:`Hub.join`): each connection's
:class:`~endrpi_project.push.subscriptions.Subscriptions`, whose outbox folds what a slow client
cannot take yet into the latest state and counts it.

Nothing between a publisher and a subscriber's outbox can lose a message silently. Delivery in this
process is a direct call, not a trip through the channel layer, whose per-channel queues drop
messages when full (``ChannelFull`` is swallowed by ``group_send``), which left subscribers on a
stale state with nothing reported when the last messages of a burst were the ones dropped. If the
event loop falls behind a publishing thread by more than :data:`QUEUE_LIMIT` messages, the waiting
messages are folded per group (pin maps merged, readings replaced), and each folded message carries
how many it stands for, so subscribers are told.

With a channel layer that reaches other processes (Redis), messages are also sent to the group
there, carrying ``origin`` (this process) and ``seq`` (their number within the group), so a
receiver in another process sees a gap and says so; this process ignores its own messages coming
back that way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# The channel layer message type; consumers handle messages from other processes in ``push_message``.
MESSAGE_TYPE = "push.message"
# Messages published from other threads and not yet delivered by the event loop; past this many they
# are folded per group into the latest state (and counted).
QUEUE_LIMIT = 4096

Receiver = Callable[[dict[str, Any]], None]


def _fold(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """``newer`` standing for both: maps of two successes merge, anything else is replaced."""
    skipped = older.get("skipped", 0) + 1 + newer.get("skipped", 0)
    data = newer["data"]
    if older["error"] is None and newer["error"] is None and isinstance(older["data"], dict) and isinstance(data, dict):
        data = {**older["data"], **data}
    return {**newer, "data": data, "skipped": skipped}


def remote_layer() -> Any:
    """The channel layer, if it reaches other processes (an in-memory layer does not)."""
    layer = get_channel_layer()
    return None if layer is None or isinstance(layer, InMemoryChannelLayer) else layer


class Hub:
    """Where passive messages go out; one per process (:data:`hub`)."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[dict[str, Any]] = deque()
        self._scheduled = False
        self._sequences: dict[str, int] = {}
        self._members: dict[str, dict[Receiver, None]] = {}
        self._remote: asyncio.Queue[dict[str, Any]] | None = None
        self._remote_task: asyncio.Task[None] | None = None
        self.dropped = 0  # messages folded into newer ones because the event loop fell behind

    def attach(self) -> None:
        """Serve the running event loop (called on the loop whenever a client subscribes)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is loop:
                return
            self._loop, self._scheduled = loop, False
            self._remote = self._remote_task = None
            if self._pending:
                self._scheduled = True
                loop.call_soon(self._drain)

    def join(self, group: str, receiver: Receiver) -> None:
        """``receiver`` gets every message published to ``group`` from now on (call on the event loop)."""
        self._members.setdefault(group, {})[receiver] = None

    def leave(self, group: str, receiver: Receiver) -> None:
        members = self._members.get(group)
        if members is not None:
            members.pop(receiver, None)
            if not members:
                del self._members[group]

    def members(self, group: str) -> int:
        return len(self._members.get(group, ()))

    def publish(
        self, group: str, *, action: str, data: Any = None, error: str | None = None, summary: str | None = None
    ) -> None:
        """Send ``{action, success, data, error}`` (and the error's plain ``summary``) to every member of
        ``group``. Never blocks the caller."""
        with self._lock:
            seq = self._sequences[group] = self._sequences.get(group, 0) + 1
            message = {
                "type": MESSAGE_TYPE,
                "group": group,
                "origin": self.origin,
                "seq": seq,
                "action": action,
                "data": data,
                "error": error,
                "summary": summary,
            }
            loop = self._loop
            if loop is not None and not loop.is_closed():
                self._pending.append(message)
                if len(self._pending) > QUEUE_LIMIT:
                    self._fold_pending()
                if not self._scheduled:
                    self._scheduled = True
                    loop.call_soon_threadsafe(self._drain)
                return
        self._publish_without_loop(group, message)

    def _fold_pending(self) -> None:
        folded: dict[str, dict[str, Any]] = {}
        for message in self._pending:
            waiting = folded.pop(message["group"], None)
            folded[message["group"]] = message if waiting is None else _fold(waiting, message)
        self.dropped += len(self._pending) - len(folded)
        logger.warning("Push fell behind: %d passive messages folded into the latest state so far", self.dropped)
        self._pending = deque(folded.values())

    def _drain(self) -> None:
        with self._lock:
            messages, self._pending = self._pending, deque()
            self._scheduled = False
        for message in messages:
            for receiver in list(self._members.get(message["group"], ())):
                try:
                    receiver(message)
                except Exception:
                    logger.exception("Could not deliver %s", message["action"])
            self._send_remote(message)

    def _send_remote(self, message: dict[str, Any]) -> None:
        layer = remote_layer()
        if layer is None:
            return
        if self._remote is None or self._remote_task is None or self._remote_task.done():
            self._remote = asyncio.Queue()
            self._remote_task = asyncio.get_running_loop().create_task(
                self._send_all(layer, self._remote), name="endrpi-push-remote"
            )
        self._remote.put_nowait(message)

    async def _send_all(self, layer: Any, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            message = await queue.get()
            try:
                await layer.group_send(message["group"], message)
            except Exception:
                logger.exception("Could not publish %s to %s", message["action"], message["group"])

    def _publish_without_loop(self, group: str, message: dict[str, Any]) -> None:
        """No client subscribed in this process yet: only another process's clients can listen."""
        layer = remote_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("Could not publish %s to %s", message["action"], group)


hub = Hub()


def publish(group: str, *, action: str, data: Any = None, error: str | None = None, summary: str | None = None) -> None:
    """Publish a passive message through the process's :data:`hub`."""
    hub.publish(group, action=action, data=data, error=error, summary=summary)
