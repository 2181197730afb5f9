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
retained config removes the entity rather than being an error.
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
    "timestamp": {None},
}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_SENSOR_CLASSES = {"problem", "power", "connectivity", "running", None}
COMMON_REQUIRED = {"name", "unique_id", "availability_topic", "device", "state_topic", "value_template"}


def config_problems(topic: str, config: dict[str, Any]) -> list[str]:
    """Why Home Assistant would refuse this config (empty when it would accept it)."""
    problems: list[str] = []
    match = TOPIC.match(topic)
    if match is None:
        return [f"bad discovery topic {topic}"]
    component = match["component"]
    missing = COMMON_REQUIRED - config.keys()
    if missing:
        problems.append(f"missing {sorted(missing)}")
    device = config.get("device", {})
    if not device.get("identifiers") and not device.get("connections"):
        problems.append("device without identifiers")
    for key in ("name", "manufacturer", "model", "sw_version"):
        if not isinstance(device.get(key), str):
            problems.append(f"device {key} not a string")
    url = urlsplit(device.get("configuration_url", ""))
    if url.scheme not in ("http", "https") or not url.netloc:
        problems.append("device configuration_url not an http(s) URL")
    if component == "sensor":
        device_class = config.get("device_class")
        if device_class not in SENSOR_UNITS:
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
