"""System readings: hardware reads combined with parsers into the models of SPEC.md.

REST views and WebSocket actions both call these functions; nothing else decides what a reading
is or how it fails. Every failure is a :class:`~endrpi_project.api.errors.ReadingFailed` whose message
names the reading and the cause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from endrpi_project.api.errors import ReadingFailed
from system import parsers
from system.hardware import host
from system.hardware.firmware import get_firmware
from system.readings import (
    Frequency,
    Measurement,
    Memory,
    OperatingSystem,
    Platform,
    System,
    Temperature,
    Throttle,
    UpTime,
)

T = TypeVar("T")


def _reading(what: str, read: Callable[[], T]) -> T:
    """Run ``read``; turn an OS error or unparseable answer into ``Failed to query <what>: why``."""
    try:
        return read()
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ReadingFailed(f"Failed to query {what}: {reason}") from error


def temperature_read() -> Temperature:
    celsius = _reading(
        "system on chip temperature",
        lambda: parsers.parse_millidegrees(host.read_host_file(host.THERMAL_ZONE)),
    )
    return Temperature(system_on_chip=Measurement(quantity=celsius, unit_of_measurement="CELSIUS"))


def throttle_read() -> Throttle:
    word = _reading("system throttle status", lambda: get_firmware().get_throttled())
    flags = parsers.throttle_flags(word)
    return Throttle(
        under_voltage_detected=flags["underVoltageDetected"],
        arm_frequency_capped=flags["armFrequencyCapped"],
        throttling=flags["throttling"],
        soft_temperature_limit_active=flags["softTemperatureLimitActive"],
        under_voltage_has_occurred=flags["underVoltageHasOccurred"],
        arm_frequency_capping_has_occurred=flags["armFrequencyCappingHasOccurred"],
        throttling_has_occurred=flags["throttlingHasOccurred"],
        soft_temperature_limit_has_occurred=flags["softTemperatureLimitHasOccurred"],
    )


def uptime_read() -> UpTime:
    seconds = _reading("system uptime", lambda: parsers.parse_uptime(host.read_host_file(host.UPTIME)))
    return UpTime(seconds=seconds, formatted=parsers.format_uptime(seconds))


def frequency_read() -> Frequency:
    firmware = get_firmware()
    arm = _reading("system ARM frequency", lambda: firmware.measure_clock("arm"))
    core = _reading("system core frequency", lambda: firmware.measure_clock("core"))
    return Frequency(
        arm=Measurement(quantity=arm, unit_of_measurement="HERTZ"),
        core=Measurement(quantity=core, unit_of_measurement="HERTZ"),
    )


_MEMINFO_FIELDS = {"total": "MemTotal", "free": "MemFree", "available": "MemAvailable"}
_MEMINFO_NAMES = frozenset(_MEMINFO_FIELDS.values())


def memory_read() -> Memory:
    def read() -> dict[str, int]:
        values = parsers.parse_meminfo(host.read_host_file(host.MEMINFO), _MEMINFO_NAMES)
        missing = [field for field in _MEMINFO_FIELDS.values() if field not in values]
        if missing:
            raise ValueError(f"/proc/meminfo has no {', '.join(missing)}")
        return values

    values = _reading("system memory", read)

    def kilobytes(field: str) -> Measurement:
        return Measurement(quantity=values[_MEMINFO_FIELDS[field]], unit_of_measurement="BYTE", prefix="KILO")

    return Memory(total=kilobytes("total"), free=kilobytes("free"), available=kilobytes("available"))


def platform_read() -> Platform:
    uname = _reading("system platform", host.read_uname)
    return Platform(
        machine_type=uname.machine,
        network_name=uname.node,
        operating_system=OperatingSystem(name=uname.system, release=uname.release, version=uname.version),
        model=host.read_board_model(),
    )


SECTIONS: dict[str, Callable[[], object]] = {
    "platform": platform_read,
    "temperature": temperature_read,
    "throttle": throttle_read,
    "uptime": uptime_read,
    "frequency": frequency_read,
    "memory": memory_read,
}


def system_read() -> System:
    """Every reading that works; a failed one is ``None`` with its message in ``errors``.

    Raises :class:`ReadingFailed` only when every reading fails.
    """
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, read in SECTIONS.items():
        try:
            values[name] = read()
        except ReadingFailed as error:
            values[name] = None
            errors[name] = error.message
    if len(errors) == len(SECTIONS):
        raise ReadingFailed("Failed to query system: " + "; ".join(errors.values()))
    return System(errors=errors, **values)  # type: ignore[arg-type]
