"""The system app's readings, each declared once; every edge follows from these declarations.

REST ``/system/<key>``, the WebSocket action ``READ_<NAME>`` and topic ``<NAME>``, ``GET /system``
and MQTT's ``system`` state, the history's series, ``/metrics``, Home Assistant discovery,
``/docs/websocket``, the OpenAPI schema and the dashboard's card: see
:class:`endrpi_project.readings.declaration.Reading` and ``docs/readings.md``.

The order here is the order of ``GET /system``'s sections. Names, columns, metric names and Home
Assistant object ids of these readings are published contracts: never rename one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from endrpi_project.readings.declaration import (
    Card,
    CardRows,
    CardValue,
    Chart,
    Flag,
    Flags,
    History,
    HomeAssistantEntity,
    Keyed,
    Meter,
    Metric,
    MetricValue,
    Reading,
    Series,
    state_flag,
    state_value,
)
from endrpi_project.readings.registry import reading_delta, reading_service
from endrpi_project.readings.serializers import serializer_for
from system import parsers, serializers, services
from system.hardware import host
from system.parsers import THROTTLE_BITS, THROTTLE_CONDITIONS, snake_case

# --- platform ----------------------------------------------------------------------------------


def _build_info(platform: Any) -> list[MetricValue]:
    version = str(settings.SPECTACULAR_SETTINGS["VERSION"])
    return [MetricValue(1, {"version": version, "model": platform.model or ""})]


PLATFORM = Reading(
    name="PLATFORM",
    model="Platform",
    measures="Machine type, network name and operating system.",
    read=services.platform_read,
    serializer=serializers.PlatformSerializer,
    inline=True,
    metrics=(
        Metric(
            name="endrpi_build_info",
            help="Always 1: the Endrpi API version and the board.",
            labels=("version", "model"),
            values=_build_info,
        ),
    ),
)

# --- temperature -------------------------------------------------------------------------------

TEMPERATURE = Reading(
    name="TEMPERATURE",
    model="Temperature",
    measures="System on chip temperature in degrees Celsius.",
    read=services.temperature_read,
    serializer=serializers.TemperatureSerializer,
    inline=True,
    history=History(
        series=(
            Series(
                key="systemOnChip",
                value=lambda t: float(t.system_on_chip.quantity),
                unit="CELSIUS",
                column="temperature",
            ),
        ),
    ),
    metrics=(
        Metric(
            name="endrpi_soc_temperature_celsius",
            help="SoC temperature.",
            values=lambda t: [MetricValue(t.system_on_chip.quantity)],
        ),
    ),
    home_assistant=(
        HomeAssistantEntity(
            object_id="soc_temperature",
            name="SoC temperature",
            value_template=state_value("temperature", "systemOnChip.quantity"),
            device_class="temperature",
            unit="°C",
            state_class="measurement",
            extra={"suggested_display_precision": 1},
        ),
    ),
    card=Card(
        title="SoC temperature",
        values=(CardValue(path="systemOnChip.quantity", format="decimal1", unit="°C", element="temperature"),),
        meter=Meter(path="systemOnChip.quantity", of=85, element="temperature-meter"),
        foot="The SoC throttles from 80 °C (85 °C on a Pi 5).",
    ),
)

# --- throttle ----------------------------------------------------------------------------------


def _throttle_word(throttle: Any) -> int:
    """The firmware word back from a ``Throttle`` model (each flag at its bit of ``system.parsers.THROTTLE_BITS``)."""
    word = 0
    for field, bit in THROTTLE_BITS.items():
        if getattr(throttle, snake_case(field)):
            word |= 1 << bit
    return word


# The metric's condition labels and Home Assistant's object ids and names, per condition (in the
# order of THROTTLE_CONDITIONS): both published, so never renamed.
_CONDITION_NAMES = (
    ("under_voltage", "under_voltage", "Under-voltage"),
    ("arm_frequency_capped", "frequency_capped", "Frequency capped"),
    ("throttled", "throttled", "Throttled"),
    ("soft_temperature_limit", "soft_temperature_limit", "Soft temperature limit"),
)


def _throttled(throttle: Any) -> list[MetricValue]:
    # Where only the property tag answers, the sticky flags cover the last 2 s, not the boot.
    sticky = "last_2_seconds" if throttle.history_window == "LAST_2_SECONDS" else "since_boot"
    values = []
    for (label, _, _), condition in zip(_CONDITION_NAMES, THROTTLE_CONDITIONS, strict=True):
        values.append(
            MetricValue(float(getattr(throttle, snake_case(condition.now))), {"condition": label, "window": "now"})
        )
        values.append(
            MetricValue(
                float(getattr(throttle, snake_case(condition.since_boot))), {"condition": label, "window": sticky}
            )
        )
    return values


def _problem(object_id: str, name: str, flag: str) -> HomeAssistantEntity:
    return HomeAssistantEntity(
        object_id=object_id,
        name=name,
        value_template=state_flag("throttle", flag),
        component="binary_sensor",
        device_class="problem",
        extra={"payload_on": "ON", "payload_off": "OFF"},
    )


THROTTLE = Reading(
    name="THROTTLE",
    model="Throttle",
    measures="Under-voltage, frequency capping, throttling and soft temperature limit: now and since boot.",
    read=services.throttle_read,
    serializer=serializers.ThrottleSerializer,
    aread=services.throttle_aread,
    begin=services.throttle_begin,
    history=History(
        flags=Flags(
            column="throttle",
            word=_throttle_word,
            flags=tuple(Flag(key=field, bit=bit, column=snake_case(field)) for field, bit in THROTTLE_BITS.items()),
        ),
    ),
    metrics=(
        Metric(
            name="endrpi_throttled",
            help="1 while a condition holds (window now) or if it has held since boot (window since_boot; "
            "last_2_seconds where the firmware only keeps that).",
            labels=("condition", "window"),
            values=_throttled,
        ),
    ),
    home_assistant=(
        *(
            _problem(object_id, name, condition.now)
            for (_, object_id, name), condition in zip(_CONDITION_NAMES, THROTTLE_CONDITIONS, strict=True)
        ),
        *(
            _problem(f"{object_id}_since_boot", f"{name} since boot", condition.since_boot)
            for (_, object_id, name), condition in zip(_CONDITION_NAMES, THROTTLE_CONDITIONS, strict=True)
        ),
    ),
    # Shown as the dashboard's "Power and throttling" panel (endrpi_project/pages/throttle.py), not a card.
)

# --- uptime ------------------------------------------------------------------------------------

UPTIME = Reading(
    name="UPTIME",
    model="UpTime",
    measures="Time since boot.",
    read=services.uptime_read,
    serializer=serializers.UpTimeSerializer,
    inline=True,
    metrics=(Metric(name="endrpi_uptime_seconds", help="Time since boot.", values=lambda u: [MetricValue(u.seconds)]),),
    home_assistant=(
        # The bridge adds bootTime (now minus the uptime, fixed once) to the MQTT state.
        HomeAssistantEntity(
            object_id="last_boot",
            name="Last boot",
            value_template="{{ value_json.bootTime if value_json.bootTime else 'None' }}",
            device_class="timestamp",
            extra={"entity_category": "diagnostic"},
        ),
    ),
    card=Card(
        title="Uptime",
        values=(CardValue(path="formatted", format="text", element="uptime"),),
        foot="Since the last boot.",
        on_change=False,
    ),
)

# --- frequency ---------------------------------------------------------------------------------


def _clock(clock: str, name: str) -> HomeAssistantEntity:
    return HomeAssistantEntity(
        object_id=f"{clock}_clock",
        name=name,
        value_template=state_value("frequency", f"{clock}.quantity / 1000000) | round(1"),
        device_class="frequency",
        unit="MHz",
        state_class="measurement",
    )


FREQUENCY = Reading(
    name="FREQUENCY",
    model="Frequency",
    measures="Measured ARM and core clocks in hertz.",
    read=services.frequency_read,
    serializer=serializers.FrequencySerializer,
    aread=services.frequency_aread,
    begin=services.frequency_begin,
    history=History(
        series=(
            Series(key="arm", value=lambda f: int(f.arm.quantity), unit="HERTZ", column="arm", integer=True),
            Series(key="core", value=lambda f: int(f.core.quantity), unit="HERTZ", column="core", integer=True),
        ),
    ),
    metrics=(
        Metric(
            name="endrpi_clock_hertz",
            help="Measured clock frequency.",
            labels=("clock",),
            values=lambda f: [
                MetricValue(f.arm.quantity, {"clock": "arm"}),
                MetricValue(f.core.quantity, {"clock": "core"}),
            ],
        ),
    ),
    home_assistant=(_clock("arm", "ARM clock"), _clock("core", "Core clock")),
    card=Card(
        title="Clocks",
        values=(
            CardValue(path="arm.quantity", format="megahertz", label="ARM", unit="MHz", element="clock-arm"),
            CardValue(path="core.quantity", format="megahertz", label="Core", unit="MHz", element="clock-core"),
        ),
        foot="Measured now by the firmware.",
    ),
)

# --- memory ------------------------------------------------------------------------------------

MEMORY = Reading(
    name="MEMORY",
    model="Memory",
    measures="Total, free and available memory in kilobytes.",
    read=services.memory_read,
    serializer=serializers.MemorySerializer,
    inline=True,
    history=History(
        series=(
            Series(
                key="available",
                value=lambda m: int(m.available.quantity),
                unit="BYTE",
                prefix="KILO",
                column="memory",
                integer=True,
            ),
        ),
        chart=Chart(title="Memory available", keys=("available",), format="kilobytes"),
    ),
    metrics=(
        Metric(
            name="endrpi_memory_bytes",
            help="Memory, from /proc/meminfo.",
            labels=("kind",),
            values=lambda m: [
                MetricValue(getattr(m, kind).quantity * 1024, {"kind": kind}) for kind in ("total", "free", "available")
            ],
        ),
    ),
    home_assistant=(
        HomeAssistantEntity(
            object_id="memory_available",
            name="Memory available",
            # /proc/meminfo's kB are KiB, so KiB / 1024 is MiB. Published in the unit Home Assistant is to
            # show: its MQTT sensor drops suggested_unit_of_measurement (tests/mqtt/homeassistant.py).
            value_template=state_value("memory", "available.quantity / 1024) | round(1"),
            device_class="data_size",
            unit="MiB",
            state_class="measurement",
            extra={"suggested_display_precision": 0},
        ),
    ),
    card=Card(
        title="Memory",
        values=(
            CardValue(
                path="total.quantity",
                minus="available.quantity",
                format="kilobytes",
                unit="used",
                element="memory-used",
            ),
            CardValue(path="available.quantity", format="kilobytes", label="Available", element="memory-available"),
            CardValue(path="total.quantity", format="kilobytes", label="Total", element="memory-total"),
        ),
        meter=Meter(path="total.quantity", minus="available.quantity", of="total.quantity", element="memory-meter"),
        interval_ms=2000,
    ),
)

# --- CPU ---------------------------------------------------------------------------------------

_LOADS = (("1m", "load_1"), ("5m", "load_5"), ("15m", "load_15"))

CPU = Reading(
    name="CPU",
    model="Cpu",
    measures="Load averages, and how busy all cores and each core were since the previous read.",
    read=reading_delta(
        "CPU load",
        host.read_cpu_files,
        lambda files: parsers.cpu_snapshot(stat=files.stat, loadavg=files.loadavg),
        parsers.cpu_usage,
    ),
    serializer=serializer_for(parsers.Cpu),
    inline=True,
    history=History(
        series=(
            Series(key="usagePercent", value=lambda cpu: cpu.usage_percent, unit="PERCENT"),
            Series(key="load1", value=lambda cpu: cpu.load_1, unit=None),
        ),
        # Each core's usage is on the wire and in /metrics, not in the history: four more series a sample
        # would add a sixth to what the history writes to the SD card, for little a chart would show.
        chart=Chart(title="CPU", keys=("usagePercent",), format="percent"),
    ),
    metrics=(
        Metric(
            name="endrpi_load_average",
            help="Load average (runnable and waiting tasks) over a period.",
            labels=("period",),
            values=lambda cpu: [MetricValue(getattr(cpu, field), {"period": period}) for period, field in _LOADS],
        ),
        Metric(
            name="endrpi_cpu_usage_ratio",
            help="How busy the CPU was since the previous read, 0 to 1: all cores (cpu=all) and each core.",
            labels=("cpu",),
            values=lambda cpu: [
                MetricValue(cpu.usage_percent / 100, {"cpu": "all"}),
                *(MetricValue(percent / 100, {"cpu": core}) for core, percent in cpu.cores.items()),
            ],
        ),
    ),
    home_assistant=(
        HomeAssistantEntity(
            object_id="cpu_usage",
            name="CPU usage",
            value_template=state_value("cpu", "usagePercent"),
            unit="%",
            state_class="measurement",
            extra={"suggested_display_precision": 0},
        ),
        HomeAssistantEntity(
            object_id="load_1m",
            name="Load (1 min)",
            value_template=state_value("cpu", "load1"),
            state_class="measurement",
            extra={"suggested_display_precision": 2},
        ),
    ),
    card=Card(
        title="CPU",
        values=(
            CardValue(path="usagePercent", format="decimal0", unit="% busy"),
            CardValue(path="load1", format="decimal2", label="Load 1 min"),
            CardValue(path="load5", format="decimal2", label="5 min"),
            CardValue(path="load15", format="decimal2", label="15 min"),
        ),
        meter=Meter(path="usagePercent", of=100),
        rows=CardRows(path="cores", values=(CardValue(path="", format="percent"),)),
        interval_ms=2000,
        on_change=False,
    ),
)

# --- storage -----------------------------------------------------------------------------------


def _file_systems(storage: Any) -> list[tuple[str, Any]]:
    return [("root", storage.root), ("data", storage.data)]


STORAGE = Reading(
    name="STORAGE",
    model="Storage",
    measures="Size, used and free space of the root file system and of the data directory's, and the SD "
    "card's bytes written since boot.",
    read=reading_service("storage", host.read_storage, lambda storage: storage),
    serializer=serializer_for(parsers.Storage),
    history=History(
        series=(
            Series(key="rootFreeBytes", value=lambda storage: storage.root.free_bytes, unit="BYTE", integer=True),
            Series(key="dataFreeBytes", value=lambda storage: storage.data.free_bytes, unit="BYTE", integer=True),
            Series(key="sdWrittenBytes", value=lambda storage: storage.sd_written_bytes, unit="BYTE", integer=True),
        ),
    ),
    metrics=(
        Metric(
            name="endrpi_filesystem_size_bytes",
            help="Size of the root file system (mount=root) and of the data directory's (mount=data).",
            labels=("mount", "path"),
            values=lambda storage: [
                MetricValue(fs.size_bytes, {"mount": mount, "path": fs.path}) for mount, fs in _file_systems(storage)
            ],
        ),
        Metric(
            name="endrpi_filesystem_free_bytes",
            help="Bytes a user can still write on the root file system and the data directory's.",
            labels=("mount", "path"),
            values=lambda storage: [
                MetricValue(fs.free_bytes, {"mount": mount, "path": fs.path}) for mount, fs in _file_systems(storage)
            ],
        ),
        Metric(
            name="endrpi_sd_written_bytes",
            help="Bytes written to the SD card since boot (absent without an SD card).",
            values=lambda storage: [] if storage.sd_written_bytes is None else [MetricValue(storage.sd_written_bytes)],
        ),
    ),
    home_assistant=(
        HomeAssistantEntity(
            object_id="root_free",
            name="Disk free",
            # In the unit Home Assistant shows (its MQTT sensor drops suggested_unit_of_measurement).
            value_template=state_value("storage", "root.freeBytes / 1073741824) | round(2"),
            device_class="data_size",
            unit="GiB",
            state_class="measurement",
        ),
        HomeAssistantEntity(
            object_id="sd_written",
            name="SD card written since boot",
            # Null without an SD card (a Pi booted from USB or NVMe): unknown, not an error.
            value_template="{{ ((value_json.storage.sdWrittenBytes / 1048576) | round(1)) if value_json.storage and "
            "value_json.storage.sdWrittenBytes is not none else 'None' }}",
            device_class="data_size",
            unit="MiB",
            state_class="total_increasing",
            extra={"entity_category": "diagnostic"},
        ),
    ),
    card=Card(
        title="Storage",
        values=(
            CardValue(path="root.freeBytes", format="bytes", unit="free"),
            CardValue(path="root.sizeBytes", format="bytes", label="Of"),
            CardValue(path="data.freeBytes", format="bytes", label="Data dir free"),
            CardValue(path="sdWrittenBytes", format="bytes", label="SD written since boot"),
        ),
        meter=Meter(path="root.usedBytes", of="root.sizeBytes"),
        interval_ms=10_000,
    ),
)

# --- network -----------------------------------------------------------------------------------


def _kept(network: Any, rate: str) -> dict[str, float | None]:
    """An interface's rate for the history: those that are up, loopback left out (its traffic is the
    Pi talking to itself), so the history writes no columns for interfaces that carry nothing."""
    return {
        name: getattr(interface, rate)
        for name, interface in network.interfaces.items()
        if name != "lo" and interface.state == "up"
    }


def _traffic(network: Any) -> list[MetricValue]:
    values = []
    for name, interface in network.interfaces.items():
        for direction, rate in (
            ("receive", interface.rx_bytes_per_second),
            ("transmit", interface.tx_bytes_per_second),
        ):
            if rate is not None:
                values.append(MetricValue(rate, {"interface": name, "direction": direction}))
    return values


NETWORK = Reading(
    name="NETWORK",
    model="Network",
    measures="Each network interface's link state, addresses and bytes per second, and the address to bookmark.",
    read=reading_delta("network", host.read_network, lambda snapshot: snapshot, parsers.network_rates),
    serializer=serializer_for(parsers.Network),
    history=History(
        keyed=(
            Keyed(
                values=lambda network: _kept(network, "rx_bytes_per_second"),
                unit="BYTE",
                suffix="rxBytesPerSecond",
            ),
            Keyed(
                values=lambda network: _kept(network, "tx_bytes_per_second"),
                unit="BYTE",
                suffix="txBytesPerSecond",
            ),
        ),
    ),
    metrics=(
        Metric(
            name="endrpi_network_bytes_per_second",
            help="Bytes received (direction=receive) and sent (transmit) per second since the previous read.",
            labels=("interface", "direction"),
            values=_traffic,
        ),
        Metric(
            name="endrpi_network_up",
            help="1 while an interface's link is up (operstate up).",
            labels=("interface",),
            values=lambda network: [
                MetricValue(float(i.state == "up"), {"interface": n}) for n, i in network.interfaces.items()
            ],
        ),
    ),
    home_assistant=(
        HomeAssistantEntity(
            object_id="ip_address",
            name="IP address",
            value_template=state_value("network", "address"),
            extra={"entity_category": "diagnostic"},
        ),
    ),
    card=Card(
        title="Network",
        values=(CardValue(path="address", format="bookmark", element="network-address"),),
        foot="The address to bookmark for this dashboard.",
        rows=CardRows(
            path="interfaces",
            values=(
                CardValue(path="state", format="text"),
                CardValue(path="addresses.0", format="text"),
                CardValue(path="rxBytesPerSecond", format="bytesPerSecond", label="↓"),
                CardValue(path="txBytesPerSecond", format="bytesPerSecond", label="↑"),
            ),
        ),
        interval_ms=2000,
        on_change=False,
    ),
)

READINGS = [PLATFORM, TEMPERATURE, THROTTLE, UPTIME, FREQUENCY, MEMORY, CPU, STORAGE, NETWORK]
