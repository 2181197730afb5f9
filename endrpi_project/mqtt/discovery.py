"""Home Assistant MQTT discovery: the retained configs that make a Pi a device with entities.

Pure functions of the device, the node's topics, the readings' declarations (each names its Home
Assistant entities) and the pins; the bridge publishes what they return. Shapes follow Home
Assistant's MQTT discovery documentation and the schemas it validates configs with
(home-assistant/core, ``homeassistant/components/mqtt/schemas.py``
``MQTT_ENTITY_DEVICE_INFO_SCHEMA``, ``sensor.py`` ``DISCOVERY_SCHEMA``): topic
``<prefix>/<component>/<node id>/<object id>/config``; every config has a stable ``unique_id``, the
device block (``identifiers`` first), the availability topic, and a ``value_template`` into the
JSON state Endrpi publishes. A template that finds no value (a reading unavailable off a Pi)
renders ``None``, which Home Assistant shows as "unknown".

Units are ones Home Assistant accepts for each device class and shows as published (its MQTT sensor
drops ``suggested_unit_of_measurement``): °C for ``temperature``, MHz for ``frequency``, MiB for
``data_size``; ``timestamp`` takes an ISO 8601 time with its zone and no
unit or state class.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from endrpi_project.mqtt.topics import NodeTopics
from endrpi_project.readings.declaration import OFF, ON
from endrpi_project.readings.registry import reading_table

ONLINE, OFFLINE = "online", "offline"
# Home Assistant's birth message: it (re)started and wants the discovery configs again.
BIRTH_ONLINE = "online"


@dataclass(frozen=True)
class Device:
    """What Home Assistant (and the fleet) show about this Pi."""

    node: str
    name: str
    model: str | None
    version: str
    url: str

    def block(self) -> dict[str, Any]:
        """Home Assistant's device: the board's model and maker only where the device tree names a
        Raspberry Pi (off a Pi, neither: Home Assistant takes both as optional)."""
        block: dict[str, Any] = {"identifiers": [f"endrpi_{self.node}"], "name": self.name}
        if self.model:
            block["model"] = self.model
            if self.model.startswith("Raspberry Pi"):
                block["manufacturer"] = "Raspberry Pi Ltd"
        return {**block, "sw_version": f"Endrpi {self.version}", "configuration_url": self.url}

    def announcement(self) -> dict[str, Any]:
        """The retained ``endrpi/<node>/device`` message the fleet lists."""
        return {"name": self.name, "model": self.model, "version": self.version, "url": self.url}


@dataclass(frozen=True)
class Entity:
    component: str  # sensor, binary_sensor or switch
    object_id: str
    config: dict[str, Any]

    def topic(self, prefix: str, node: str) -> str:
        return config_topic(prefix, self.component, node, self.object_id)

    def payload(self) -> str:
        return json.dumps(self.config, separators=(",", ":"))


def config_topic(prefix: str, component: str, node: str, object_id: str) -> str:
    return f"{prefix}/{component}/{node}/{object_id}/config"


def _common(device: Device, topics: NodeTopics, object_id: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "unique_id": f"endrpi_{device.node}_{object_id}",
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": device.block(),
        "origin": {"name": "Endrpi", "sw_version": device.version},
    }


def reading_entities(device: Device, topics: NodeTopics, state: Mapping[str, Any] | None = None) -> list[Entity]:
    """The sensors and binary sensors read from ``endrpi/<node>/system``: those each reading declares
    (``home_assistant`` in its declaration), in the order of the readings, and those it finds in its
    section of ``state`` (the last published state; ``home_assistant_found``)."""
    entities: list[Entity] = []
    for reading in reading_table().readings:
        declared_entities = list(reading.home_assistant)
        section = (state or {}).get(reading.key)
        if reading.home_assistant_found is not None and section is not None:
            declared_entities += list(reading.home_assistant_found(section))
        for declared in declared_entities:
            config = {
                **_common(device, topics, declared.object_id, declared.name),
                "state_topic": topics.system,
                "value_template": declared.value_template,
                **({"device_class": declared.device_class} if declared.device_class else {}),
                **({"unit_of_measurement": declared.unit} if declared.unit else {}),
                **({"state_class": declared.state_class} if declared.state_class else {}),
                **declared.extra,
            }
            entities.append(Entity(declared.component, declared.object_id, config))
    return entities


PIN_STATE_TEMPLATE = f"{{{{ '{ON}' if value_json.state else '{OFF}' }}}}"


def pin_entity(
    device: Device,
    topics: NodeTopics,
    *,
    name: str,
    io: str,
    label: str | None,
    controllable: bool,
    exposed: bool,
) -> Entity | None:
    """A switch for a controllable OUTPUT, a binary sensor for an exposed INPUT, else nothing."""
    object_id = name.lower()
    common = {
        **_common(device, topics, object_id, label or name),
        "state_topic": topics.pin(name),
        "value_template": PIN_STATE_TEMPLATE,
        # The pin's state message as attributes: io, pull, label, and on a Pi its function ("GPIO",
        # "I2C1 SDA") and usedBy, as REST and the WebSocket carry them.
        "json_attributes_topic": topics.pin(name),
    }
    if controllable and io == "OUTPUT":
        config = {
            **common,
            "command_topic": topics.pin_set(name),
            "payload_on": ON,
            "payload_off": OFF,
            "state_on": ON,
            "state_off": OFF,
        }
        return Entity("switch", object_id, config)
    if exposed and io == "INPUT":
        return Entity("binary_sensor", object_id, {**common, "payload_on": ON, "payload_off": OFF})
    return None


PIN_COMPONENTS = ("switch", "binary_sensor")
