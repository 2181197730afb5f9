"""The system app's WebSocket actions: the same services and serializers as its REST views."""

from __future__ import annotations

from collections.abc import Callable
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
class Reading:
    """One reading, offered both as a ``READ_<NAME>`` action and as the push topic ``<NAME>``."""

    name: str
    model: str
    service: Callable[[], Any]
    serializer: type[drf.Serializer[Any]]
    # Cheap enough for the event loop: one read of a kernel pseudo-file (the kernel answers from memory).
    inline: bool

    def read(self) -> Callable[[], Any]:
        return _represented(self.service, self.serializer)

    def action(self) -> Action:
        read = self.read()
        return Action(
            name=f"READ_{self.name}",
            aliases=(f"GET_{self.name}",),
            handler=lambda params: read(),
            description=f"Reads the {self.model} model, as GET /system/{self.name.lower()} does.",
            model=self.model,
            inline=self.inline,
        )

    def topic(self) -> ReadingTopic:
        return ReadingTopic(name=self.name, read=self.read(), model=self.model, inline=self.inline)


# Temperature, uptime and memory are one read of a kernel pseudo-file each, so they run on the
# event loop. Throttle and clocks ask the firmware, which may mean waiting on the mailbox or, as a
# last resort, a vcgencmd process: those run in a worker thread.
READINGS = [
    Reading(
        "TEMPERATURE",
        "Temperature",
        services.temperature_read,
        serializers.TemperatureSerializer,
        inline=True,
    ),
    Reading("THROTTLE", "Throttle", services.throttle_read, serializers.ThrottleSerializer, inline=False),
    Reading("UPTIME", "UpTime", services.uptime_read, serializers.UpTimeSerializer, inline=True),
    Reading("FREQUENCY", "Frequency", services.frequency_read, serializers.FrequencySerializer, inline=False),
    Reading("MEMORY", "Memory", services.memory_read, serializers.MemorySerializer, inline=True),
]

ACTIONS = [reading.action() for reading in READINGS]
# Push: each reading every intervalMs (<NAME>_UPDATED) or when it changes (<NAME>_CHANGED).
TOPICS = [reading.topic() for reading in READINGS]
