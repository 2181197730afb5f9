"""The Pi's own sensors as one reading, ``SENSORS``, declared once; every edge follows from it.

REST ``GET /system/sensors`` (and ``/system/sensors/<id>``, :mod:`sensors.urls`), ``READ_SENSORS`` and
the ``SENSORS`` topic, ``GET /system``'s and MQTT's ``sensors`` section, ``/metrics``, the history
(a series per sensor: :data:`HISTORY`), Home Assistant discovery (an entity per sensor:
:func:`home_assistant_entities`, announced again when sensors appear, vanish or are relabelled) and the dashboard's
card. See :class:`endrpi_project.readings.declaration.Reading` and ``docs/sensors.md``.

A sensor's id, its history series (``<id>.<kind>``), metric labels and Home Assistant object id are
published contracts: never change how they are made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from endrpi_project.readings.declaration import (
    Card,
    CardRows,
    CardValue,
    History,
    HomeAssistantEntity,
    Keyed,
    Metric,
    MetricValue,
    Number,
    Reading,
)
from system.sensors import serializers, services
from system.sensors.parsers import Kind
from system.sensors.services import Sensors

# --- history: a series per sensor, one column each, added when the sensor is first seen -----------

UNITS: dict[Kind, str] = {
    "temperature": "CELSIUS",
    "humidity": "PERCENT",
    "pressure": "HECTOPASCAL",
    "fan": "REVOLUTIONS_PER_MINUTE",
}


def _values_of(kind: Kind) -> Callable[[Sensors], Mapping[str, Number | None]]:
    def values(model: Sensors) -> Mapping[str, Number | None]:
        return {sensor.sensor_id: sensor.value for sensor in model.sensors if sensor.kind == kind}

    return values


# One Keyed per unit: the history names a sensor's series ``<id>.<kind>`` (``w1-28-0316a2797f7f.temperature``).
HISTORY = History(keyed=tuple(Keyed(values=_values_of(kind), unit=unit, suffix=kind) for kind, unit in UNITS.items()))

# --- Prometheus ----------------------------------------------------------------------------------

_METRIC_KINDS: tuple[tuple[Kind, str, str], ...] = (
    ("temperature", "endrpi_sensor_temperature_celsius", "Temperature of each of the Pi's own sensors."),
    ("humidity", "endrpi_sensor_humidity_percent", "Relative humidity of each of the Pi's own sensors."),
    ("pressure", "endrpi_sensor_pressure_hectopascals", "Air pressure of each of the Pi's own sensors."),
    ("fan", "endrpi_sensor_fan_rpm", "Speed of each fan the kernel measures, revolutions per minute."),
)


def _metric_values(kind: Kind) -> Callable[[Sensors], Iterable[MetricValue]]:
    def values(model: Sensors) -> Iterable[MetricValue]:
        return [
            MetricValue(sensor.value, {"sensor": sensor.sensor_id, "name": sensor.title})
            for sensor in model.sensors
            if sensor.kind == kind and sensor.value is not None
        ]

    return values


def _up(model: Sensors) -> Iterable[MetricValue]:
    return [
        MetricValue(int(sensor.error is None), {"sensor": sensor.sensor_id, "name": sensor.title, "kind": sensor.kind})
        for sensor in model.sensors
    ]


METRICS = (
    *(
        Metric(name=name, help=help_text, labels=("sensor", "name"), values=_metric_values(kind))
        for kind, name, help_text in _METRIC_KINDS
    ),
    Metric(
        name="endrpi_sensor_up",
        help="1 when the sensor's last read gave a value, 0 when it failed (its error is in GET /system/sensors).",
        labels=("sensor", "name", "kind"),
        values=_up,
    ),
)

# --- Home Assistant: an entity per sensor found now --------------------------------------------

# Device classes and units Home Assistant accepts for them (its sensor documentation and
# homeassistant/components/sensor/const.py DEVICE_CLASS_UNITS: °C; %; hPa among Pa, kPa, hPa, bar, ...).
# A fan's speed has no device class there: a plain measurement in rpm.
_HOME_ASSISTANT: dict[Kind, tuple[str | None, str, dict[str, Any]]] = {
    "temperature": ("temperature", "°C", {"suggested_display_precision": 1}),
    "humidity": ("humidity", "%", {"suggested_display_precision": 0}),
    "pressure": ("pressure", "hPa", {"suggested_display_precision": 1}),
    "fan": (None, "rpm", {"icon": "mdi:fan"}),
}


def home_assistant_object_id(sensor_id: str) -> str:
    return "sensor_" + sensor_id.replace("-", "_")


def home_assistant_template(sensor_id: str) -> str:
    """The sensor's quantity in MQTT's ``system`` state (``GET /system``), or ``None`` (shown as
    unknown) when it failed or is gone."""
    entry = f"value_json.sensors.sensors['{sensor_id}']"
    return (
        f"{{{{ {entry}.value.quantity if value_json.sensors and {entry} is defined and {entry}.value else 'None' }}}}"
    )


def home_assistant_entities(section: Any) -> list[HomeAssistantEntity]:
    """An entity per sensor in the reading's wire form (MQTT's ``sensors`` section): the bridge announces
    them again when one appears, vanishes or is relabelled, and removes the gone."""
    entities = []
    for sensor_id, sensor in sorted(((section or {}).get("sensors") or {}).items()):
        kind = sensor.get("kind")
        if kind not in _HOME_ASSISTANT:
            continue
        device_class, unit, extra = _HOME_ASSISTANT[kind]
        entities.append(
            HomeAssistantEntity(
                object_id=home_assistant_object_id(sensor_id),
                name=sensor.get("label") or sensor.get("name") or sensor_id,
                value_template=home_assistant_template(sensor_id),
                device_class=device_class,
                unit=unit,
                state_class="measurement",
                extra=extra,
            )
        )
    return entities


SENSORS = Reading(
    name="SENSORS",
    model="Sensors",
    measures=(
        "The Pi's own sensors, found without configuration: 1-wire temperature probes, IIO sensors "
        "(a BME280's temperature, humidity and pressure) and hwmon chips (the Pi 5's fan), each with its "
        "value or the error of its last read."
    ),
    read=services.sensors_read,
    aread=services.sensors_aread,
    serializer=serializers.SensorsSerializer,
    history=HISTORY,
    metrics=METRICS,
    home_assistant_found=home_assistant_entities,
    card=Card(
        title="Sensors",
        values=(),
        rows=CardRows(
            path="sensors",
            title=("label", "name"),
            values=(CardValue(path="value", format="measurement"), CardValue(path="error", format="error")),
        ),
        foot="1-wire probes, IIO sensors and fans the kernel reads, found by themselves; label them in the admin.",
        interval_ms=2000,
        on_change=True,
    ),
)

READINGS = [SENSORS]
