"""The system app's WebSocket actions: the same services and serializers as its REST views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers as drf

from endrpi_project.api.actions import Action
from endrpi_project.api.representation import representer
from endrpi_project.push.topics import ReadingTopic
from system import serializers, services


def _read(service: Callable[[], Any], serializer: type[drf.Serializer[Any]]) -> Callable[[None], Any]:
    represent = representer(serializer)
    return lambda params: represent(service())


def _reading(
    name: str, model: str, service: Callable[[], Any], serializer: type[drf.Serializer[Any]], *, inline: bool
) -> Action:
    return Action(
        name=f"READ_{name}",
        aliases=(f"GET_{name}",),
        handler=_read(service, serializer),
        description=f"Reads the {model} model, as GET /system/{name.lower()} does.",
        model=model,
        inline=inline,
    )


# Temperature, uptime and memory are one read of a kernel pseudo-file each (the kernel answers from
# memory), so they run on the event loop. Throttle and clocks ask the firmware, which may mean
# waiting on the mailbox or, as a last resort, a vcgencmd process: those run in a worker thread.
ACTIONS = [
    _reading("TEMPERATURE", "Temperature", services.temperature_read, serializers.TemperatureSerializer, inline=True),
    _reading("THROTTLE", "Throttle", services.throttle_read, serializers.ThrottleSerializer, inline=False),
    _reading("UPTIME", "UpTime", services.uptime_read, serializers.UpTimeSerializer, inline=True),
    _reading("FREQUENCY", "Frequency", services.frequency_read, serializers.FrequencySerializer, inline=False),
    _reading("MEMORY", "Memory", services.memory_read, serializers.MemorySerializer, inline=True),
]


def _taken_by(action: Action) -> Callable[[], Any]:
    return lambda: dict(action.run(None))


# Push: each reading every intervalMs (<NAME>_UPDATED) or when it changes (<NAME>_CHANGED).
TOPICS = [
    ReadingTopic(
        name=action.name.removeprefix("READ_"), read=_taken_by(action), model=action.model, inline=action.inline
    )
    for action in ACTIONS
]
