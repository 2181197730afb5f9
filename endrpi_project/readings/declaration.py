"""The declaration of a reading: one frozen dataclass of named fields that every edge reads.

A reading is one model (``Temperature``, ``Memory``) read by one service and rendered by one
serializer. Its declaration also says how each feature shows it:

- :class:`History`: which numbers the history keeps (:class:`Series`) and which flag words
  (:class:`Flags`), with their units; every series is summarised as min, mean and max per bucket,
  a flag as how often it was set.
- :class:`Metric`: a Prometheus gauge family and the values it takes from the model.
- :class:`HomeAssistantEntity`: a Home Assistant sensor (or binary sensor) read from the MQTT
  ``system`` state, with its device class, unit and state class.
- :class:`Card`: the dashboard's card: which values of the wire form it prints, and how.

The app that owns the reading writes its declaration (``system/declarations.py``); nothing else
names its fields, units or metrics again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rest_framework import serializers

Number = float | int


def snake_case(name: str) -> str:
    """A wire name as a Python or SQL name: ``underVoltageDetected`` -> ``under_voltage_detected``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# --- History ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One number the history keeps: ``readings[<reading>][key]`` in its answers and samples.

    Stored in the sample column ``column`` (default ``<reading>_<key>`` in snake case), summarised
    per minute and per ten minutes as count, min, sum and max.
    """

    key: str  # "systemOnChip"
    value: Callable[[Any], Number | None]  # the number, from the reading's model
    unit: str | None  # "CELSIUS", "HERTZ", "BYTE", "PERCENT"; None for a plain number
    prefix: str | None = None  # "KILO" for kB
    column: str | None = None  # the stored column; given for series kept before declarations existed
    integer: bool = False  # stored as an INTEGER (clocks, kB), else a REAL


@dataclass(frozen=True)
class Flag:
    """One bit of a flag word: ``readings[<reading>][key]`` is how often it was set."""

    key: str  # "underVoltageDetected"
    bit: int
    column: str | None = None  # its summary column; default "<word column>_<key in snake case>"


@dataclass(frozen=True)
class Flags:
    """Flags kept as one integer word per sample (``column``), each summarised as how often it was set."""

    column: str  # "throttle"
    word: Callable[[Any], int]  # the word, from the reading's model
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class Keyed:
    """Series found at run time: one per key of the mapping ``values`` returns (an interface, a sensor).

    Each key is kept in a column of its own, added the first time the key is seen; the history's
    answers name it ``<key>.<suffix>`` (``eth0.rxBytesPerSecond``), or ``<key>`` when ``suffix`` is
    empty, and keep a key that has gone for as long as its samples are kept. One ``Keyed`` per unit.
    """

    values: Callable[[Any], Mapping[str, Number | None]]
    unit: str | None
    suffix: str = ""
    prefix: str | None = None


@dataclass(frozen=True)
class History:
    """What the history keeps of a reading (every ``ENDRPI_HISTORY_INTERVAL`` seconds, for its retention)."""

    series: tuple[Series, ...] = ()
    flags: Flags | None = None
    keyed: tuple[Keyed, ...] = ()
    # The dashboard draws a chart of these series keys (None: no chart).
    chart: Chart | None = None


@dataclass(frozen=True)
class Chart:
    """A history chart on the dashboard: the mean of each series (key), in one unit."""

    title: str
    keys: tuple[str, ...]
    format: str  # as CardValue.format: how the axis and readout print a value
    scale: float = 1.0  # each value is divided by this before it is printed (1e6: Hz as MHz)


# --- Prometheus ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricValue:
    value: Number
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """One Prometheus gauge family, read from the reading's model at each scrape."""

    name: str  # "endrpi_soc_temperature_celsius"
    help: str
    values: Callable[[Any], Iterable[MetricValue]]
    labels: tuple[str, ...] = ()


# --- Home Assistant --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeAssistantEntity:
    """A Home Assistant entity read from the MQTT ``system`` state (``GET /system`` plus ``bootTime``).

    ``object_id`` is part of its unique id: never change it once published. ``value_template`` is a
    Jinja template into that JSON (see :func:`state_value` and :func:`state_flag`).
    """

    object_id: str  # "soc_temperature"
    name: str  # "SoC temperature"
    value_template: str
    component: Literal["sensor", "binary_sensor"] = "sensor"
    device_class: str | None = None  # "temperature", "frequency", "data_size", "problem", ...
    unit: str | None = None  # a unit Home Assistant accepts for the device class: "°C", "MHz", "B"
    state_class: str | None = None  # "measurement", "total_increasing"
    extra: Mapping[str, Any] = field(default_factory=dict)  # further config keys, as given


def state_value(section: str, expression: str) -> str:
    """A template reading ``(value_json.<section>.<expression>)``, or ``None`` when the section is null."""
    return f"{{{{ (value_json.{section}.{expression}) if value_json.{section} else 'None' }}}}"


ON, OFF = "ON", "OFF"


def state_flag(section: str, flag: str) -> str:
    """A binary sensor's template: ``ON``/``OFF`` from a boolean of the section, ``None`` when it is null."""
    return f"{{{{ ('{ON}' if value_json.{section}.{flag} else '{OFF}') if value_json.{section} else 'None' }}}}"


# --- The dashboard ---------------------------------------------------------------------------------

# How the dashboard prints a value (dashboard.js, FORMATS): "decimal0", "decimal1", "decimal2",
# "megahertz" (Hz as MHz), "kilobytes" (kB as kB/MB/GB), "bytes" (B as kB/MB/GB), "bytesPerSecond",
# "percent" (0-100), "text", "bookmark" (an address as this page's URL on it: http://192.168.1.5:5000/).
Format = Literal[
    "decimal0",
    "decimal1",
    "decimal2",
    "megahertz",
    "kilobytes",
    "bytes",
    "bytesPerSecond",
    "percent",
    "text",
    "measurement",  # a Measurement ({quantity, unitOfMeasurement}) with its unit's symbol: "21.6 °C"
    "error",  # an error message, shown only when there is one
    "bookmark",
]


@dataclass(frozen=True)
class CardValue:
    """One value on a card: ``path`` into the reading's wire form (``systemOnChip.quantity``).

    With ``minus``, the value is ``path - minus`` (memory used: ``total - available``). An empty
    ``label`` makes it the card's big figure. ``element`` is the element's id on the page.
    """

    path: str
    format: Format
    label: str = ""
    unit: str = ""
    minus: str = ""
    element: str = ""


@dataclass(frozen=True)
class Meter:
    """A bar under the big figure: ``(path - minus) / of``, ``of`` a number or a path."""

    path: str
    of: float | str
    minus: str = ""
    element: str = ""


@dataclass(frozen=True)
class Card:
    """The reading's card on the dashboard, fed by its push topic."""

    title: str
    values: tuple[CardValue, ...]
    meter: Meter | None = None
    foot: str = ""
    # The SUBSCRIBE params the dashboard uses (readings that rarely change: only when they do).
    interval_ms: int = 1000
    on_change: bool = True
    # A value per entry of a map (an interface, a core): path to the map, and the values of each entry.
    rows: CardRows | None = None


@dataclass(frozen=True)
class CardRows:
    """Rows of a card made from a map in the wire form, one per key (``network.interfaces``)."""

    path: str
    values: tuple[CardValue, ...]
    # Each row's title: the first of these paths into its entry that has a value (a label, then a
    # name); the entry's key without any.
    title: tuple[str, ...] = ()


# --- The reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One reading, declared once.

    ``name`` (``TEMPERATURE``) gives the WebSocket action ``READ_TEMPERATURE`` (alias
    ``GET_TEMPERATURE``), the push topic ``TEMPERATURE``; its lower case (:attr:`key`) gives the REST
    route ``/system/temperature``, its section of ``GET /system`` and of MQTT's state, its name in
    the history and in ``endrpi_reading_errors_total``.

    ``read`` is the service (blocking; raises ``ReadingFailed``); ``inline`` says it never waits (one
    read of a kernel pseudo-file), so WebSocket reads run it on the event loop; ``aread`` is an
    awaitable form for a reading with its own pool (the firmware's); ``begin`` starts a slow reading
    and returns what finishes it, so ``GET /system`` overlaps slow readings with the others.
    """

    name: str  # "TEMPERATURE"
    model: str  # "Temperature": the model's name in the OpenAPI schema and /docs/websocket
    measures: str  # what it measures, one sentence: the REST view's description
    read: Callable[[], Any]
    serializer: type[serializers.Serializer[Any]]
    inline: bool = False
    aread: Callable[[], Awaitable[Any]] | None = None
    begin: Callable[[], Callable[[], Any]] | None = None
    history: History | None = None
    metrics: tuple[Metric, ...] = ()
    home_assistant: tuple[HomeAssistantEntity, ...] = ()
    # Entities found at run time (a sensor, an interface), from the reading's wire form (its section of
    # the MQTT state); announced again whenever the set of their object ids changes.
    home_assistant_found: Callable[[Any], Iterable[HomeAssistantEntity]] | None = None
    card: Card | None = None

    @property
    def key(self) -> str:
        """``temperature``: the REST path segment, the ``GET /system`` section, the history's name."""
        return self.name.lower()
