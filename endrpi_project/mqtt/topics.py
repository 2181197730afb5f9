"""Every MQTT topic Endrpi uses, written once: ``endrpi/<node id>/...`` and the fleet's filters.

Retained, per Pi: ``availability`` (``online``/``offline``), ``device`` (name, model, dashboard),
``system`` (the readings, as ``GET /system``), ``pins/<GPIO17>`` (each pin as ``GET /pins/GPIO17``).
Not retained: ``errors`` (refused commands). Subscribed: ``pins/+/set`` (commands).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "endrpi"
# What the fleet listens to: every Endrpi's retained availability, device and readings.
FLEET_KINDS = ("availability", "device", "system")
FLEET_FILTERS = tuple(f"{ROOT}/+/{kind}" for kind in FLEET_KINDS)

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def node_id_from(name: str) -> str:
    """A host name made safe for a topic level and a Home Assistant node id (``[a-z0-9_-]``)."""
    return _UNSAFE.sub("_", name.strip().lower()).strip("_") or "endrpi"


@dataclass(frozen=True)
class NodeTopics:
    node: str

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.node}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def device(self) -> str:
        return f"{self.base}/device"

    @property
    def system(self) -> str:
        return f"{self.base}/system"

    @property
    def errors(self) -> str:
        return f"{self.base}/errors"

    def pin(self, name: str) -> str:
        return f"{self.base}/pins/{name}"

    def pin_set(self, name: str) -> str:
        return f"{self.pin(name)}/set"

    @property
    def commands(self) -> str:
        """The filter every command matches."""
        return self.pin_set("+")

    def command_pin(self, topic: str) -> str | None:
        """The pin a command topic names (as sent), or ``None`` when ``topic`` is not a command."""
        prefix, suffix = f"{self.base}/pins/", "/set"
        if topic.startswith(prefix) and topic.endswith(suffix):
            name = topic[len(prefix) : -len(suffix)]
            return name if name and "/" not in name else None
        return None


def fleet_topic(topic: str) -> tuple[str, str] | None:
    """``(node, kind)`` of a fleet topic (``endrpi/<node>/<kind>``), else ``None``."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == ROOT and parts[1] and parts[2] in FLEET_KINDS:
        return parts[1], parts[2]
    return None
