"""What Home Assistant accepts in an MQTT discovery config, for the entities Endrpi announces.

Models the checks of home-assistant/core: ``homeassistant/components/mqtt/discovery.py`` (topic
``<prefix>/<component>/[<node_id>/]<object_id>/config``, ids ``[a-zA-Z0-9_-]+``),
``mqtt/schemas.py`` ``MQTT_ENTITY_DEVICE_INFO_SCHEMA`` (a device needs ``identifiers`` or
``connections``; ``configuration_url`` must be an http(s) URL), ``mqtt/sensor.py`` and
``sensor/const.py`` (``DEVICE_CLASS_UNITS``: the units each device class takes;
``DEVICE_CLASS_STATE_CLASSES``: a ``timestamp`` sensor takes no unit and no state class),
``binary_sensor`` device classes, and the switch's ``command_topic`` being required. Surprising
parts it keeps: an unknown device class is refused outright (the whole entity is dropped), a
unit that does not fit its device class only logs, but HA then converts nothing, and an empty
retained config removes the entity rather than being an error. Most surprising: a key the
platform's schema does not list is silently removed (each platform's ``DISCOVERY_SCHEMA`` is its
schema with ``extra=vol.REMOVE_EXTRA``), so ``suggested_unit_of_measurement``, which a sensor
*entity* may have but the MQTT sensor's schema does not list, never reaches Home Assistant and the
value shows in the unit it is published in. The keys listed are those of the MQTT sensor, binary
sensor and switch documentation (home-assistant.io ``integrations/sensor.mqtt``,
``binary_sensor.mqtt``, ``switch.mqtt``, "Configuration Variables") and the device block's
(``MQTT_ENTITY_DEVICE_INFO_SCHEMA``: every key optional, ``manufacturer`` and ``model`` included).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment

TOPIC = re.compile(
    r"^(?P<prefix>[^/#+]+)/(?P<component>[a-z_]+)/(?P<node>[a-zA-Z0-9_-]+)/(?P<object>[a-zA-Z0-9_-]+)/config$"
)

SENSOR_UNITS: dict[str, set[str | None]] = {
    "temperature": {"°C", "°F", "K"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
    "data_size": {"bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"},
    "data_rate": {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s", "GiB/s"},
    "timestamp": {None},
    "humidity": {"%"},
    "pressure": {"Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"},
}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_SENSOR_CLASSES = {"problem", "power", "connectivity", "running", None}
COMMON_REQUIRED = {"name", "unique_id", "availability_topic", "device", "state_topic", "value_template"}
# Keys every MQTT entity's schema lists (availability, device, identity, presentation).
COMMON_KEYS = {
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "device",
    "origin",
    "enabled_by_default",
    "encoding",
    "entity_category",
    "entity_picture",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "name",
    "object_id",
    "default_entity_id",
    "platform",
    "qos",
    "unique_id",
}
PLATFORM_KEYS = {
    "sensor": COMMON_KEYS
    | {
        "device_class",
        "expire_after",
        "force_update",
        "last_reset_value_template",
        "options",
        "state_class",
        "state_topic",
        "suggested_display_precision",
        "unit_of_measurement",
        "value_template",
    },
    "binary_sensor": COMMON_KEYS
    | {"device_class", "expire_after", "force_update", "off_delay", "payload_off", "payload_on", "state_topic"}
    | {"value_template"},
    "switch": COMMON_KEYS
    | {"command_template", "command_topic", "device_class", "optimistic", "payload_off", "payload_on", "retain"}
    | {"state_off", "state_on", "state_topic", "value_template"},
}
DEVICE_KEYS = {
    "identifiers",
    "connections",
    "name",
    "manufacturer",
    "model",
    "model_id",
    "sw_version",
    "hw_version",
    "serial_number",
    "suggested_area",
    "via_device",
    "configuration_url",
}


def as_kept(component: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as Home Assistant keeps it: keys its platform schema does not list removed, silently."""
    keys = PLATFORM_KEYS.get(component, set())
    return {key: value for key, value in config.items() if key in keys}


def config_problems(topic: str, config: dict[str, Any]) -> list[str]:
    """Why Home Assistant would refuse this config (empty when it would accept it)."""
    problems: list[str] = []
    match = TOPIC.match(topic)
    if match is None:
        return [f"bad discovery topic {topic}"]
    component = match["component"]
    dropped = sorted(config.keys() - PLATFORM_KEYS.get(component, config.keys()))
    if dropped:
        problems.append(f"silently dropped by Home Assistant: {dropped}")
    missing = COMMON_REQUIRED - config.keys()
    if missing:
        problems.append(f"missing {sorted(missing)}")
    device = config.get("device", {})
    if not device.get("identifiers") and not device.get("connections"):
        problems.append("device without identifiers")
    if device.keys() - DEVICE_KEYS:
        problems.append(f"device keys Home Assistant refuses: {sorted(device.keys() - DEVICE_KEYS)}")
    if not isinstance(device.get("name"), str):
        problems.append("device name not a string")
    for key in ("manufacturer", "model", "sw_version"):
        if key in device and not isinstance(device[key], str):
            problems.append(f"device {key} not a string")
    url = urlsplit(device.get("configuration_url", ""))
    if url.scheme not in ("http", "https") or not url.netloc:
        problems.append("device configuration_url not an http(s) URL")
    if component == "sensor":
        device_class = config.get("device_class")
        if device_class is None:
            pass  # a plain measurement (a fan's rpm): any unit, nothing converted
        elif device_class not in SENSOR_UNITS:
            problems.append(f"sensor device_class {device_class}")
        elif config.get("unit_of_measurement") not in SENSOR_UNITS[device_class]:
            problems.append(f"unit {config.get('unit_of_measurement')} for {device_class}")
        if device_class == "timestamp" and "state_class" in config:
            problems.append("timestamp sensor with a state_class")
        if "state_class" in config and config["state_class"] not in STATE_CLASSES:
            problems.append(f"state_class {config['state_class']}")
    elif component == "binary_sensor":
        if config.get("device_class") not in BINARY_SENSOR_CLASSES:
            problems.append(f"binary_sensor device_class {config.get('device_class')}")
    elif component == "switch":
        if "command_topic" not in config:
            problems.append("switch without command_topic")
    else:
        problems.append(f"unexpected component {component}")
    return problems


def render(template: str, value_json: Any) -> str:
    """A value template rendered as Home Assistant renders it (Jinja, ``value_json`` the parsed state)."""
    return Environment().from_string(template).render(value_json=value_json).strip()
