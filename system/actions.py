"""The system app's WebSocket actions: the same services and serializers as its REST views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers as drf

from endrpi_project.actions import Action
from system import serializers, services


def _read(service: Callable[[], Any], serializer: type[drf.Serializer[Any]]) -> Callable[[None], Any]:
    return lambda params: serializer(service()).data


def _reading(name: str, model: str, service: Callable[[], Any], serializer: type[drf.Serializer[Any]]) -> Action:
    return Action(
        name=f"READ_{name}",
        aliases=(f"GET_{name}",),
        handler=_read(service, serializer),
        description=f"Reads the {model} model, as GET /system/{name.lower()} does.",
        model=model,
    )


ACTIONS = [
    _reading("TEMPERATURE", "Temperature", services.temperature_read, serializers.TemperatureSerializer),
    _reading("THROTTLE", "Throttle", services.throttle_read, serializers.ThrottleSerializer),
    _reading("UPTIME", "UpTime", services.uptime_read, serializers.UpTimeSerializer),
    _reading("FREQUENCY", "Frequency", services.frequency_read, serializers.FrequencySerializer),
    _reading("MEMORY", "Memory", services.memory_read, serializers.MemorySerializer),
]
