"""What a client can subscribe to: each app lists its topics beside its actions.

A topic says which params it takes (a serializer), which channel-layer group carries its passive
messages, what the current value is (sent in the ``SUBSCRIBE`` reply, so a client never reads and
subscribes in two racing steps) and which part of a message a given subscriber gets.

- :class:`EventTopic`: the code that changes something publishes to one group (pins).
- :class:`ReadingTopic`: a reading taken every N ms, or checked every N ms and sent when it
  changes. One :class:`Poller` per (topic, interval, mode) serves every subscriber in this process
  through a group, so 50 clients watching the temperature cost one reading per tick, not 50.
  Intervals are rounded to one significant digit (:func:`interval_quantise`: 1,234 ms -> 1,000,
  150 -> 200; the ``SUBSCRIBE`` reply says the interval used), so however many distinct intervals
  clients ask for, there are at most :data:`INTERVAL_STEPS` pollers per topic and mode, and their
  ticks fall on a shared clock grid (multiples of the interval), so pollers due together share
  one reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from endrpi_project.api.actions import NameTable
from endrpi_project.api.errors import error_message, error_summary
from endrpi_project.push.hub import hub

logger = logging.getLogger(__name__)

# Reading subscriptions: the bounds of intervalMs, and the defaults.
INTERVAL_MIN_MS = 100
INTERVAL_MAX_MS = 3_600_000
INTERVAL_DEFAULT_MS = 1000
CHANGE_CHECK_DEFAULT_MS = 500
# A reading this recent is shared rather than taken again (half the shortest interval).
SHARE_SECONDS = INTERVAL_MIN_MS / 1000 / 2


def interval_quantise(interval_ms: int) -> int:
    """``interval_ms`` rounded to one significant digit (halves up), within the allowed bounds."""
    magnitude = 10 ** (len(str(int(interval_ms))) - 1)
    rounded: int = (interval_ms + magnitude // 2) // magnitude * magnitude
    return max(INTERVAL_MIN_MS, min(INTERVAL_MAX_MS, rounded))


# How many intervals a poller can run at: 100..900, 1,000..9,000, ... 1,000,000..3,000,000, 3,600,000.
INTERVAL_STEPS = len({interval_quantise(ms) for ms in range(INTERVAL_MIN_MS, INTERVAL_MAX_MS + 1, 50)})

# A reading as pushed: its data, or None, the error message and its plain sentence (or None).
Reading = tuple[Any, str | None, str | None]


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: ``"1000"``, ``1000.5`` and ``true`` are refused rather than coerced."""

    default_error_messages = {"invalid": "A whole number of milliseconds is required."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, float)) or int(data) != data:
            self.fail("invalid")
        return super().to_internal_value(int(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: ``"true"`` or ``1`` is refused rather than guessed at."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class TopicParams(serializers.Serializer[Any]):
    """Base of a topic's params: refuses a param the topic does not know (a typo is not ignored)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        known = {"topic", *self.fields}
        unknown = sorted(str(key) for key in self.initial_data if key not in known)
        if unknown:
            takes = ", ".join(self.fields) or "no other params"
            raise serializers.ValidationError(f"Unknown param(s) {', '.join(unknown)}; this topic takes {takes}")
        return attrs


class ReadingParams(TopicParams):
    intervalMs = StrictIntegerField(
        required=False,
        min_value=INTERVAL_MIN_MS,
        max_value=INTERVAL_MAX_MS,
        help_text=f"Milliseconds between readings ({INTERVAL_MIN_MS} to {INTERVAL_MAX_MS}); with onChange, "
        "between checks.",
    )
    onChange = StrictBooleanField(required=False, default=False, help_text="Send only when the reading changes.")


@dataclass(frozen=True)
class Plan:
    """One subscription, as the topic plans it; :class:`~endrpi_project.push.subscriptions.Subscriptions` runs it."""

    group: str
    event: str  # the passive action of its messages
    described: dict[str, Any]  # the options as the SUBSCRIBE reply echoes them
    read: Callable[[], Any]  # the current value (blocking; run off the event loop)
    # The current value awaited on the event loop, where the reading has its own pool (the firmware's):
    # then no shared worker thread waits on it.
    aread: Callable[[], Awaitable[Any]] | None = None
    # A reading topic's current reading as its poller pushes it (data, or the failure): a reading that
    # fails at SUBSCRIBE time is accepted, its failure in the reply, and the poller pushes its recovery.
    take: Callable[[], Awaitable[Reading]] | None = None
    select: Callable[[Any], Any] = field(default=lambda data: data)  # this subscriber's part, None for none
    merge: bool = False  # whether two pending messages combine (maps) or the newer replaces
    start: Callable[[Reading], None] = field(default=lambda current: None)  # the group is joined; current read
    stop: Callable[[], None] = field(default=lambda: None)


class Topic(ABC):
    name: str
    description: str
    model: str
    params: type[TopicParams]

    @property
    @abstractmethod
    def events(self) -> tuple[str, ...]:
        """The passive actions this topic's messages carry."""

    @abstractmethod
    def plan(self, options: Mapping[str, Any]) -> Plan:
        """A subscription with these validated params."""


class EventTopic(Topic):
    """Messages published by the code that makes the change, to one group for the whole server."""

    def __init__(
        self,
        *,
        name: str,
        event: str,
        group: str,
        params: type[TopicParams],
        read: Callable[[Mapping[str, Any]], Any],
        select: Callable[[Mapping[str, Any], Any], Any],
        describe: Callable[[Mapping[str, Any]], dict[str, Any]],
        description: str,
        model: str,
    ) -> None:
        self.name, self.event, self.group, self.params = name, event, group, params
        self.description, self.model = description, model
        self._read, self._select, self._describe = read, select, describe

    @property
    def events(self) -> tuple[str, ...]:
        return (self.event,)

    def plan(self, options: Mapping[str, Any]) -> Plan:
        return Plan(
            group=self.group,
            event=self.event,
            described=self._describe(options),
            read=lambda: self._read(options),
            select=lambda data: self._select(options, data),
            merge=True,
        )


class ReadingTopic(Topic):
    """A reading, pushed every ``intervalMs`` (``<NAME>_UPDATED``) or when it changes (``<NAME>_CHANGED``)."""

    params = ReadingParams

    def __init__(
        self,
        *,
        name: str,
        read: Callable[[], Any],
        model: str,
        inline: bool = False,
        aread: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.name, self.model, self.read, self.inline, self.aread = name, model, read, inline, aread
        self.description = f"The {model} reading, every intervalMs or only when it changes."
        self.updated, self.changed = f"{name}_UPDATED", f"{name}_CHANGED"
        self._pending: asyncio.Task[Reading] | None = None
        # The last reading, when and on which loop it was taken (another loop's — a test's, a
        # restarted server's — is never shared).
        self._latest: tuple[asyncio.AbstractEventLoop, float, Reading] | None = None

    async def take(self) -> Reading:
        """The reading (data, or the error message), shared by every poller of this topic.

        Pollers on different intervals that fall due together share one read, and a reading is
        reused for :data:`SHARE_SECONDS`, so however many intervals clients ask for, the hardware
        is read at most about ``1 / SHARE_SECONDS`` times a second per topic, one read at a time.
        """
        loop = asyncio.get_running_loop()
        pending = self._pending
        if pending is None or pending.done() or pending.get_loop() is not loop:
            latest = self._latest
            if latest is not None and latest[0] is loop and time.monotonic() - latest[1] < SHARE_SECONDS:
                return latest[2]
            pending = self._pending = loop.create_task(self._read_once(), name=f"endrpi-reading-{self.name}")
        # Shielded: a poller cancelled while waiting does not cancel the read the others wait for.
        return await asyncio.shield(pending)

    async def _read_once(self) -> Reading:
        try:
            # A kernel pseudo-file read (inline) is cheaper than the hop to a worker thread; a reading
            # with its own pool (aread) waits there without holding a worker thread.
            if self.aread is not None:
                data = await self.aread()
            elif self.inline:
                data = self.read()
            else:
                data = await asyncio.to_thread(self.read)
            reading: Reading = (data, None, None)
        except Exception as exc:  # the subscriber gets the failure as an error envelope
            reading = (None, error_message(exc)[1], error_summary(exc))
        self._latest = (asyncio.get_running_loop(), time.monotonic(), reading)
        return reading

    @property
    def events(self) -> tuple[str, ...]:
        return (self.updated, self.changed)

    def plan(self, options: Mapping[str, Any]) -> Plan:
        on_change: bool = options.get("onChange", False)
        asked: int = options.get("intervalMs") or (CHANGE_CHECK_DEFAULT_MS if on_change else INTERVAL_DEFAULT_MS)
        interval = interval_quantise(asked)
        key = PollerKey(self.name, interval, on_change)
        return Plan(
            group=key.group,
            event=self.changed if on_change else self.updated,
            described={"intervalMs": interval, "onChange": on_change},
            read=self.read,
            aread=self.aread,
            take=self.take,
            start=lambda current: pollers.acquire(key, self, current),
            stop=lambda: pollers.release(key),
        )


@dataclass(frozen=True)
class PollerKey:
    topic: str
    interval_ms: int
    on_change: bool

    @property
    def group(self) -> str:
        # Pollers are per process, so their groups are too: a Redis layer shared by several server
        # processes must not hand one process's readings to another's subscribers twice.
        mode = "change" if self.on_change else "every"
        return f"endrpi.{hub.origin}.{self.topic.lower()}.{mode}.{self.interval_ms}"


class Poller:
    """Takes one reading every interval off the event loop and publishes it to its group."""

    def __init__(self, key: PollerKey, topic: ReadingTopic, current: Reading) -> None:
        self.key, self.topic = key, topic
        self.subscribers = 0
        self._last: Reading = current
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"endrpi-poller-{key.topic}-{key.interval_ms}-{key.on_change}"
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.key.interval_ms / 1000
        event = self.topic.changed if self.key.on_change else self.topic.updated
        while True:
            # The next multiple of the interval on the loop's clock: pollers due together share a reading.
            now = loop.time()
            await asyncio.sleep((now // interval + 1) * interval - now)
            value = await self.topic.take()
            if self.key.on_change and value == self._last:
                continue
            self._last = value
            hub.publish(self.key.group, action=event, data=value[0], error=value[1], summary=value[2])


class Pollers:
    """The running pollers of this process, each counted by its subscribers."""

    def __init__(self) -> None:
        self._running: dict[PollerKey, Poller] = {}

    def acquire(self, key: PollerKey, topic: ReadingTopic, current: Reading) -> None:
        poller = self._running.get(key)
        if poller is None or poller.task.done() or poller.task.get_loop().is_closed():
            poller = self._running[key] = Poller(key, topic, current)
        poller.subscribers += 1

    def release(self, key: PollerKey) -> None:
        poller = self._running.get(key)
        if poller is None:
            return
        poller.subscribers -= 1
        if poller.subscribers <= 0:
            del self._running[key]
            poller.task.cancel()

    def running(self) -> list[PollerKey]:
        return [key for key, poller in self._running.items() if not poller.task.done()]


pollers = Pollers()


class TopicTable(NameTable[Topic]):
    """Topic name to topic, joined from every app's ``TOPICS``."""

    kind = "Push topic"
