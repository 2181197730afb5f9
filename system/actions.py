"""The system app's WebSocket actions: the same services and serializers as its REST views."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers as drf

from endrpi_project.api.actions import Action
from endrpi_project.api.representation import representer
from endrpi_project.push.topics import ReadingTopic
from system import serializers, services


def _represented(service: Callable[[], Any], serializer: type[drf.Serializer[Any]]) -> Callable[[], Any]:
    """The service's reading in its wire form: what a READ_* action answers and a push topic sends."""
    represent = representer(serializer)
    return lambda: represent(service())


@dataclass(frozen=True)
class FirmwareReadingAction(Action):
    """A reading that asks the firmware: awaited on the event loop, in no shared worker thread.

    The firmware's answers come from its own small pool (``system.hardware.firmware.FirmwareCalls``)
    with one call per question in flight; waiting for it here instead of in a worker thread means a
    firmware that hangs cannot take the threads pin and database work run in, however many clients
    wait on it. ``handler`` (the blocking form) stays for callers that are already in a thread.
    """

    aread: Callable[[], Awaitable[Any]] | None = None

    async def perform(self, connection: Any, params: Any) -> Any:
        if self.aread is None:
            raise TypeError(f"{self.name} has no awaitable reading")
        self.validate(params)
        return await self.aread()


@dataclass(frozen=True)
class Reading:
    """One reading, offered both as a ``READ_<NAME>`` action and as the push topic ``<NAME>``."""

    name: str
    model: str
    service: Callable[[], Any]
    serializer: type[drf.Serializer[Any]]
    # Cheap enough for the event loop: one read of a kernel pseudo-file (the kernel answers from memory).
    inline: bool
    # The service's awaitable form, for a reading that waits on the firmware (see FirmwareReadingAction).
    aservice: Callable[[], Awaitable[Any]] | None = None

    def read(self) -> Callable[[], Any]:
        return _represented(self.service, self.serializer)

    def aread(self) -> Callable[[], Awaitable[Any]] | None:
        """The awaitable reading in its wire form, for a service that has one (the firmware's readings)."""
        if self.aservice is None:
            return None
        aservice, represent = self.aservice, representer(self.serializer)

        async def aread() -> Any:
            return represent(await aservice())

        return aread

    def action(self) -> Action:
        read = self.read()
        description = f"Reads the {self.model} model, as GET /system/{self.name.lower()} does."
        aread = self.aread()
        if aread is not None:
            return FirmwareReadingAction(
                name=f"READ_{self.name}",
                aliases=(f"GET_{self.name}",),
                handler=lambda params: read(),
                description=description,
                model=self.model,
                aread=aread,
            )
        return Action(
            name=f"READ_{self.name}",
            aliases=(f"GET_{self.name}",),
            handler=lambda params: read(),
            description=description,
            model=self.model,
            inline=self.inline,
        )

    def topic(self) -> ReadingTopic:
        return ReadingTopic(name=self.name, read=self.read(), model=self.model, inline=self.inline, aread=self.aread())


# Temperature, uptime and memory are one read of a kernel pseudo-file each (the read never waits:
# see system.hardware.host.read_host_file), so they run on the event loop. Throttle and clocks ask
# the firmware, which may mean waiting on the mailbox or, as a last resort, a vcgencmd process: a
# WebSocket read, a SUBSCRIBE reply and a push poller all await the firmware's own pool.
READINGS = [
    Reading(
        "TEMPERATURE",
        "Temperature",
        services.temperature_read,
        serializers.TemperatureSerializer,
        inline=True,
    ),
    Reading(
        "THROTTLE",
        "Throttle",
        services.throttle_read,
        serializers.ThrottleSerializer,
        inline=False,
        aservice=services.throttle_aread,
    ),
    Reading("UPTIME", "UpTime", services.uptime_read, serializers.UpTimeSerializer, inline=True),
    Reading(
        "FREQUENCY",
        "Frequency",
        services.frequency_read,
        serializers.FrequencySerializer,
        inline=False,
        aservice=services.frequency_aread,
    ),
    Reading("MEMORY", "Memory", services.memory_read, serializers.MemorySerializer, inline=True),
]

ACTIONS = [reading.action() for reading in READINGS]
# Push: each reading every intervalMs (<NAME>_UPDATED) or when it changes (<NAME>_CHANGED).
TOPICS = [reading.topic() for reading in READINGS]
