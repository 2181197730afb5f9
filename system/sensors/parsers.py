"""Pure functions from the text the kernel prints for a sensor to a value in the unit we report.

No I/O and no Django. Each takes what one sysfs attribute read returned and gives a number, or raises
``ValueError`` with a sentence a Pi owner can act on. The units are the kernel's ABI documents':

- ``Documentation/ABI/testing/sysfs-driver-w1_therm``: ``temperature`` "in 1/1000 degC"; ``w1_slave``
  two lines of scratchpad bytes, ``crc=xx YES|NO`` and ``t=<1/1000 degC>``;
- ``Documentation/ABI/testing/sysfs-bus-iio``: ``in_temp_input`` "milli degrees Celsius",
  ``in_humidityrelative_input`` "milli percent", ``in_pressure_input`` "kilopascal"; a ``_raw``
  value becomes those units as ``(raw + offset) * scale``;
- ``Documentation/ABI/testing/sysfs-class-hwmon``: ``temp*_input`` "millidegree Celsius",
  ``fan*_input`` "revolution/min (RPM)".
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["temperature", "humidity", "pressure", "fan"]

# What each kind is reported in (the Measurement's unitOfMeasurement).
UNITS: dict[Kind, str] = {
    "temperature": "CELSIUS",
    "humidity": "PERCENT",
    "pressure": "HECTOPASCAL",
    "fan": "REVOLUTIONS_PER_MINUTE",
}

# The DS18B20's scratchpad after power-on holds 0x0550 = 85 degC (datasheet, "Memory"): a probe
# that lost power, or whose conversion never ran (parasite power too weak), reads exactly this,
# with a valid CRC. w1_therm only rejects it itself when the "features" bit 1 is set
# (drivers/w1/slaves/w1_therm.c, convert_t: rom[6] == 0xC and rom[1:0] == 0x0550).
W1_POWER_ON_MILLIDEGREES = 85000

W1_NO_ANSWER = (
    "the probe gave no reading (w1_therm answers nothing when every try failed its CRC check or "
    "a conversion is still running): check its wiring and pull-up resistor"
)
W1_POWER_ON = (
    "the probe reads 85 °C, its power-on value: it lost power or did not convert "
    "(check its supply; a parasite-powered probe may need a stronger pull-up)"
)
W1_CRC = "the probe's answer failed its CRC check (a loose or too long cable, or electrical noise)"


def _integer(text: str, what: str) -> int:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        raise ValueError(f"expected {what}, got {stripped[:40]!r}") from None


def _decimal(text: str, what: str) -> float:
    """An IIO value: an integer (``24380``) or a decimal the IIO core formats (``100.829671875``)."""
    stripped = text.strip()
    try:
        return float(stripped)
    except ValueError:
        raise ValueError(f"expected {what}, got {stripped[:40]!r}") from None


def _w1_checked(millidegrees: int) -> float:
    if millidegrees == W1_POWER_ON_MILLIDEGREES:
        raise ValueError(W1_POWER_ON)
    return millidegrees / 1000


def w1_temperature(text: str) -> float:
    """A 1-wire probe's ``temperature`` attribute (``"21562\\n"``) in degrees Celsius.

    Empty when the driver failed (``temperature_show`` returns 0 bytes on any ``convert_t`` error,
    a CRC mismatch after its retries included); 85000 is the power-on value, not a temperature.
    """
    if not text.strip():
        raise ValueError(W1_NO_ANSWER)
    return _w1_checked(_integer(text, "millidegrees"))


_W1_SLAVE_CRC = re.compile(r":\s*crc=[0-9a-fA-F]{2}\s+(YES|NO)\s*$")
_W1_SLAVE_T = re.compile(r"\bt=(-?\d+)\s*$")


def w1_slave(text: str) -> float:
    """A 1-wire probe's older ``w1_slave`` attribute in degrees Celsius::

        72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
        72 01 4b 46 7f ff 0e 10 57 t=23125

    On ``crc=.. NO`` the driver still prints a ``t=``, computed from the corrupt bytes (and the second
    line repeats the last good ones): that number is not a reading.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(W1_NO_ANSWER)
    if len(lines) < 2:
        raise ValueError(f"expected two lines from w1_slave, got {text.strip()[:60]!r}")
    crc = _W1_SLAVE_CRC.search(lines[0])
    found = _W1_SLAVE_T.search(lines[1])
    if crc is None or found is None:
        raise ValueError(f"expected 'crc=.. YES' and 't=' from w1_slave, got {text.strip()[:60]!r}")
    if crc.group(1) != "YES":
        raise ValueError(W1_CRC)
    return _w1_checked(int(found.group(1)))


# IIO channel type (as in the attribute's name) -> our kind and the factor from the ABI unit to ours.
IIO_TYPES: dict[str, tuple[Kind, float]] = {
    "temp": ("temperature", 1 / 1000),  # milli degrees Celsius -> degrees Celsius
    "humidityrelative": ("humidity", 1 / 1000),  # milli percent -> percent
    "pressure": ("pressure", 10.0),  # kilopascal -> hectopascal
}


def iio_input(text: str, channel_type: str) -> float:
    """An IIO ``in_<type>_input`` value in our unit (``in_pressure_input`` ``"100.8296"`` -> 1008.296 hPa)."""
    _, factor = IIO_TYPES[channel_type]
    return _decimal(text, "a number") * factor


def iio_raw(raw: str, scale: str, offset: str | None, channel_type: str) -> float:
    """An IIO ``_raw`` value with its ``_scale`` and optional ``_offset``: ``(raw + offset) * scale``
    is in the ABI unit (sysfs-bus-iio, ``in_X_raw``/``in_X_offset``/``in_X_scale``); then ours."""
    _, factor = IIO_TYPES[channel_type]
    value = _decimal(raw, "a raw reading")
    shift = 0.0 if offset is None else _decimal(offset, "an offset")
    return (value + shift) * _decimal(scale, "a scale") * factor


def hwmon_temperature(text: str) -> float:
    """An hwmon ``temp*_input`` (millidegrees Celsius) in degrees Celsius."""
    return _integer(text, "millidegrees") / 1000


def hwmon_fan(text: str) -> int:
    """An hwmon ``fan*_input`` in revolutions per minute (0 when the fan stands still)."""
    return _integer(text, "revolutions per minute")


_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def sensor_id(*parts: str) -> str:
    """A stable id from the kernel's names, safe in a URL, an MQTT topic and a Prometheus label:
    lowercase ``[a-z0-9_-]`` (``"iio", "bme280", "1-0076", "temp"`` -> ``iio-bme280-1-0076-temp``)."""
    return "-".join(_UNSAFE.sub("_", part.lower()).strip("_") for part in parts if part)


def rounded(kind: Kind, value: float) -> float | int:
    """A value as reported: fan speeds whole, the rest to 3 decimals (the kernel's own resolution)."""
    if kind == "fan":
        return round(value)
    return round(value, 3)


def channel_value(form: str, kind: Kind, texts: tuple[str | None, ...], channel_type: str = "") -> float | int:
    """The value of one sensor channel from the texts of its files (``system.sensors.hardware.Channel.files``),
    by how it is read (``form``), in our unit and rounding."""
    if form == "w1_temperature":
        value: float = w1_temperature(texts[0] or "")
    elif form == "w1_slave":
        value = w1_slave(texts[0] or "")
    elif form == "iio_input":
        value = iio_input(texts[0] or "", channel_type)
    elif form == "iio_raw":
        value = iio_raw(texts[0] or "", texts[1] or "", texts[2], channel_type)
    elif form == "hwmon_temp":
        value = hwmon_temperature(texts[0] or "")
    elif form == "hwmon_fan":
        value = hwmon_fan(texts[0] or "")
    else:
        raise ValueError(f"unknown sensor form {form!r}")
    return rounded(kind, value)
