"""The Pi's own sensors as the kernel lists them under /sys: found by listing directories, read as files.

The only module of this app that touches the OS. Paths are relative to ``settings.ENDRPI_HOST_ROOT``
(``/`` on a Pi) so tests point them at a fixture tree. No subprocess, no configuration:

- 1-wire thermometers: ``/sys/bus/w1/devices/<family>-<serial>/temperature`` (kernel 5.9 and later),
  else ``.../w1_slave`` (``Documentation/ABI/testing/sysfs-driver-w1_therm``). Only w1_therm's families
  (drivers/w1/slaves/w1_therm.c: 0x10 DS18S20, 0x22 DS1822, 0x28 DS18B20, 0x3B DS1825, 0x42 DS28EA00);
  the directory also lists the bus master (``w1_bus_master1``) and, on a bus without its pull-up,
  phantom slaves (``00-...``) that have no temperature.
- IIO sensors: ``/sys/bus/iio/devices/iio:deviceN`` with ``name`` and ``in_temp*``,
  ``in_humidityrelative*``, ``in_pressure*`` as ``_input`` or ``_raw`` + ``_scale`` (+ ``_offset``)
  (``Documentation/ABI/testing/sysfs-bus-iio``), e.g. a BME280 from ``dtoverlay=i2c-sensor,bme280``.
- hwmon chips: ``/sys/class/hwmon/hwmonN`` with ``name``, ``temp*_input`` (+ ``temp*_label``) and
  ``fan*_input`` (``Documentation/ABI/testing/sysfs-class-hwmon``), e.g. the Pi 5's fan (``pwmfan``).
  Left out: ``w1_slave_temp`` (drivers/w1/w1.c registers one per 1-wire thermometer: the same probe
  again, found above), the hwmon mirror of thermal zone 0 (drivers/thermal/thermal_hwmon.c names it
  after the zone's type with ``-`` as ``_``: ``cpu_thermal``, already the SoC temperature reading), and
  chips with neither (``rpi_volt`` has only ``in0_lcrit_alarm``).

``iio:deviceN`` and ``hwmonN`` are numbered in probe order and may change at the next boot, so a
sensor's id is built from what does not: the chip's name and the device it hangs off
(``1-0076``: I2C bus 1, address 0x76), or the 1-wire serial number.

A read of a 1-wire probe takes the kernel ~750 ms (the conversion at 12 bits), and any read may fail
with the driver's error (``OSError``): call these from a worker thread, never the event loop.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django.conf import settings

from system.hardware import host
from system.sensors import parsers
from system.sensors.parsers import Kind

W1_DEVICES = "sys/bus/w1/devices"
IIO_DEVICES = "sys/bus/iio/devices"
HWMON = "sys/class/hwmon"
SOC_THERMAL_TYPE = "sys/class/thermal/thermal_zone0/type"

W1_THERM_FAMILIES = frozenset({"10", "22", "28", "3b", "42"})
W1_HWMON_NAME = "w1_slave_temp"

Source = Literal["w1", "iio", "hwmon"]
Form = Literal["w1_temperature", "w1_slave", "iio_input", "iio_raw", "hwmon_temp", "hwmon_fan"]


@dataclass(frozen=True)
class Channel:
    """One sensor channel as found: who it is and which files give its value."""

    sensor_id: str  # stable across boots: "w1-28-0316a2797f7f", "iio-bme280-1-0076-temp"
    name: str  # the kernel's name for it: "28-0316a2797f7f", "bme280 humidity", "nvme Composite"
    source: Source
    kind: Kind
    form: Form
    files: tuple[str, ...]  # host-relative paths; for iio_raw: raw, scale, then offset ("" if none)
    channel_type: str = ""  # the IIO channel type: temp, humidityrelative, pressure


def attribute_read(relative: str) -> str:
    """One sysfs attribute's text: the one place this app reads a file (``host.read_host_file``: a
    regular file only, opened without waiting). Raises the driver's ``OSError``."""
    return host.read_host_file(relative)


def _root() -> Path:
    return Path(settings.ENDRPI_HOST_ROOT)


def _entries(relative: str) -> list[str]:
    try:
        return sorted(os.listdir(_root() / relative))
    except OSError:  # no such bus on this machine (no overlay loaded): nothing to find there
        return []


def _exists(relative: str) -> bool:
    return os.path.exists(_root() / relative)


def _text(relative: str) -> str | None:
    try:
        return attribute_read(relative).strip()
    except OSError:
        return None


def _parent_device(relative: str) -> str:
    """The name of the device a class device hangs off (``1-0076``, ``cooling_fan``), or ``""``."""
    real = Path(os.path.realpath(_root() / relative))
    parent = real.parent
    if parent.name in {"hwmon", "iio"}:  # .../cooling_fan/hwmon/hwmon2
        parent = parent.parent
    return "" if parent.name in {"virtual", "devices", ""} else parent.name


# --- 1-wire ------------------------------------------------------------------------------------


def _w1_channels() -> list[Channel]:
    found = []
    for device in _entries(W1_DEVICES):
        family, _, serial = device.partition("-")
        if not serial or family.lower() not in W1_THERM_FAMILIES:
            continue
        base = f"{W1_DEVICES}/{device}"
        if _exists(f"{base}/temperature"):
            form: Form = "w1_temperature"
            path = f"{base}/temperature"
        elif _exists(f"{base}/w1_slave"):
            form, path = "w1_slave", f"{base}/w1_slave"
        else:  # the family driver is not bound (yet): nothing to read
            continue
        found.append(Channel(parsers.sensor_id("w1", device), device, "w1", "temperature", form, (path,)))
    return found


# --- IIO ---------------------------------------------------------------------------------------

_IIO_CHANNEL = re.compile(r"^in_(temp|humidityrelative|pressure)(\d*)(?:_(ambient|object))?_(input|raw)$")
_IIO_WORDS = {"temp": "temperature", "humidityrelative": "humidity", "pressure": "pressure"}


def _iio_attribute(base: str, files: set[str], stem: str, index: str, modifier: str, suffix: str) -> str:
    """The most specific of ``in_temp0_ambient_scale``, ``in_temp0_scale``, ``in_temp_scale`` present."""
    for candidate in (
        f"in_{stem}{index}{modifier}_{suffix}",
        f"in_{stem}{index}_{suffix}",
        f"in_{stem}_{suffix}",
    ):
        if candidate in files:
            return f"{base}/{candidate}"
    return ""


def _iio_channels() -> list[Channel]:
    found = []
    for device in _entries(IIO_DEVICES):
        if not device.startswith("iio:device"):
            continue
        base = f"{IIO_DEVICES}/{device}"
        chip = _text(f"{base}/name") or device
        parent = _parent_device(base)
        files = set(_entries(base))
        channels: dict[tuple[str, str, str], dict[str, str]] = {}
        for file in files:
            match = _IIO_CHANNEL.match(file)
            if match:
                stem, index, modifier, form = match.groups()
                channels.setdefault((stem, index, modifier or ""), {})[form] = file
        for (stem, index, modifier), forms in sorted(channels.items()):
            channel = f"{stem}{index}{'_' + modifier if modifier else ''}"
            words = " ".join(word for word in (_IIO_WORDS[stem] + index, modifier) if word)
            sensor = parsers.sensor_id("iio", chip, parent, channel)
            name, kind = f"{chip} {words}", parsers.IIO_TYPES[stem][0]
            if "input" in forms:
                paths: tuple[str, ...] = (f"{base}/{forms['input']}",)
                found.append(Channel(sensor, name, "iio", kind, "iio_input", paths, stem))
                continue
            mod = f"_{modifier}" if modifier else ""
            scale = _iio_attribute(base, files, stem, index, mod, "scale")
            if not scale:  # a raw value without its scale has no unit: not a reading
                continue
            offset = _iio_attribute(base, files, stem, index, mod, "offset")
            paths = (f"{base}/{forms['raw']}", scale, offset)
            found.append(Channel(sensor, name, "iio", kind, "iio_raw", paths, stem))
    return found


# --- hwmon -------------------------------------------------------------------------------------

_HWMON_CHANNEL = re.compile(r"^(temp|fan)(\d+)_input$")


def _soc_hwmon_name() -> str:
    zone = _text(SOC_THERMAL_TYPE) or "cpu-thermal"
    return zone.replace("-", "_")


def _hwmon_channels() -> list[Channel]:
    found = []
    skipped = {W1_HWMON_NAME, _soc_hwmon_name()}
    for device in _entries(HWMON):
        base = f"{HWMON}/{device}"
        chip = _text(f"{base}/name")
        if chip is None or chip in skipped:
            continue
        parent = _parent_device(base)
        files = _entries(base)
        for file in files:
            match = _HWMON_CHANNEL.match(file)
            if not match:
                continue
            stem, index = match.groups()
            channel = f"{stem}{index}"
            label = _text(f"{base}/{channel}_label") if f"{channel}_label" in files else None
            found.append(
                Channel(
                    sensor_id=parsers.sensor_id("hwmon", chip, parent, channel),
                    name=f"{chip} {label or channel}",
                    source="hwmon",
                    kind="temperature" if stem == "temp" else "fan",
                    form="hwmon_temp" if stem == "temp" else "hwmon_fan",
                    files=(f"{base}/{file}",),
                )
            )
    return found


def sensors_scan() -> list[Channel]:
    """Every sensor channel the kernel offers now, by id. Lists a few directories and reads the chips'
    ``name`` files: cheap enough to repeat every few seconds (no subprocess, no sensor is read).

    Raises ``FileNotFoundError`` where there is no ``/sys`` at all (not Linux): no sensor can be found
    there, which is not the same as a Pi with none wired.
    """
    if not os.path.isdir(_root() / "sys"):
        raise FileNotFoundError(2, "there is no /sys here (sensors are read from Linux's sysfs)")
    channels: dict[str, Channel] = {}
    for channel in (*_w1_channels(), *_iio_channels(), *_hwmon_channels()):
        channels.setdefault(channel.sensor_id, channel)
    return [channels[key] for key in sorted(channels)]


def channel_read(channel: Channel) -> tuple[str | None, ...]:
    """The text of each of the channel's files (``None`` for an absent optional one). Blocks for as long
    as the driver takes (a 1-wire conversion: ~750 ms); raises the driver's ``OSError``."""
    return tuple(attribute_read(path) if path else None for path in channel.files)
