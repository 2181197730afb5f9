"""The API's reading models (``GET /system/...``) as plain dataclasses (no database tables in this app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Prefix = Literal["KILO", "MEGA", "GIGA"] | None
# What the four "has occurred" throttle flags cover: the time since boot (the firmware's text
# command), or only about the last 2 seconds (the property tag and sysfs, whose sticky bits the
# kernel's hwmon driver clears every 2 s).
HistoryWindow = Literal["SINCE_BOOT", "LAST_2_SECONDS"]


@dataclass(frozen=True)
class Measurement:
    quantity: float | int
    unit_of_measurement: str
    prefix: Prefix = None


@dataclass(frozen=True)
class Temperature:
    system_on_chip: Measurement


@dataclass(frozen=True)
class Throttle:
    under_voltage_detected: bool
    arm_frequency_capped: bool
    throttling: bool
    soft_temperature_limit_active: bool
    under_voltage_has_occurred: bool
    arm_frequency_capping_has_occurred: bool
    throttling_has_occurred: bool
    soft_temperature_limit_has_occurred: bool
    history_window: HistoryWindow = "SINCE_BOOT"


@dataclass(frozen=True)
class UpTime:
    seconds: float
    formatted: str


@dataclass(frozen=True)
class Frequency:
    arm: Measurement
    core: Measurement


@dataclass(frozen=True)
class Memory:
    total: Measurement
    free: Measurement
    available: Measurement


@dataclass(frozen=True)
class OperatingSystem:
    name: str
    release: str
    version: str


@dataclass(frozen=True)
class Platform:
    machine_type: str
    network_name: str
    operating_system: OperatingSystem
    model: str | None = None
