"""A fake /sys with the Pi's own sensors, laid out and behaving as the kernel's drivers do.

Directory layout: class and bus directories hold symlinks into ``/sys/devices`` as the driver core
makes them (``/sys/bus/iio/devices/iio:device0 -> ../../../devices/platform/soc/fe804000.i2c/i2c-1/
1-0076/iio:device0``), so the device a sensor hangs off is found as on a Pi.

What each part models, and its surprising behaviour:

- 1-wire (torvalds/linux ``drivers/w1/slaves/w1_therm.c``; ``Documentation/ABI/testing/
  sysfs-driver-w1_therm``): ``temperature_show`` prints ``"%d\\n"`` millidegrees, but on any
  ``convert_t`` error (``read_scratchpad`` gives -EIO when every try fails its CRC) it returns 0
  bytes: the file reads EMPTY, not an error. ``w1_slave_show`` prints the nine scratchpad bytes,
  ``: crc=xx YES|NO``, then the last GOOD bytes and ``t=`` computed from the CURRENT (possibly corrupt)
  bytes. A DS18B20 that lost power reads 0x0550 = 85000 with a valid CRC. The bus directory also
  lists ``w1_bus_master1`` and, on a floating bus, phantom ``00-...`` slaves with no family driver.
  ``drivers/w1/w1.c`` (``w1_bus_notify``) registers an hwmon device named ``w1_slave_temp`` per probe.
- IIO (``Documentation/ABI/testing/sysfs-bus-iio``; ``drivers/iio/pressure/bmp280-core.c``): a BME280
  has ``name`` ``bme280`` and processed channels: ``in_temp_input`` as an integer of milli degrees
  (IIO_VAL_INT), ``in_pressure_input`` in kPa and ``in_humidityrelative_input`` in milli percent as
  IIO_VAL_FRACTIONAL, which the IIO core prints with nine decimals (``100.829671875``). A sensor with
  ``_raw`` channels gives ``_scale`` and ``_offset`` (value = (raw + offset) * scale). A failed I2C
  transfer (unplugged sensor) fails the read with EREMOTEIO (``i2c-bcm2835`` on a NACK).
- hwmon (``Documentation/ABI/testing/sysfs-class-hwmon``; ``drivers/hwmon/hwmon.c``
  ``hwmon_attr_show`` returns the driver's error): the Pi's ``cpu_thermal`` (the thermal zone's mirror,
  ``drivers/thermal/thermal_hwmon.c``) and ``rpi_volt`` (only ``in0_lcrit_alarm``,
  ``drivers/hwmon/raspberrypi-hwmon.c``) are always there; the Pi 5's fan is ``pwmfan`` under
  ``cooling_fan`` with ``fan1_input`` in RPM (0 when stopped).

Read errors: a regular file cannot fail its read with EIO on its own, so :meth:`FakeSysfs.fail` makes
the sensors app's one reader raise ``OSError(errno, strerror)`` for that path, as the kernel's sysfs
read returns the driver's negative errno.
"""

from __future__ import annotations

import errno as errnos
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from system.sensors import hardware

W1_MASTER = "sys/devices/w1_bus_master1"
I2C1 = "sys/devices/platform/soc/fe804000.i2c/i2c-1"


def w1_crc8(data: bytes) -> int:
    """Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1), as drivers/w1/w1_io.c ``w1_calc_crc8``."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def ds18b20_scratchpad(millidegrees: int) -> bytes:
    """Nine scratchpad bytes for a reading (12-bit: 1/16 degC), TH 0x4b, TL 0x46, config 0x7f, CRC."""
    raw = round(millidegrees * 16 / 1000) & 0xFFFF
    body = bytes([raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10])
    return body + bytes([w1_crc8(body)])


def ds18b20_millidegrees(rom: bytes) -> int:
    """w1_therm's ``w1_DS18B20_convert_temp`` for 12 bits: the s16 times 1000 / 16."""
    value = int.from_bytes(rom[:2], "little", signed=True)
    return value * 1000 // 16


def _hex(rom: bytes) -> str:
    return " ".join(f"{byte:02x}" for byte in rom) + " "


@dataclass
class FakeSysfs:
    root: Path
    monkeypatch: pytest.MonkeyPatch
    failures: dict[str, int] = field(default_factory=dict)
    _hwmon_count: int = 0
    _iio_count: int = 0
    _good: dict[str, bytes] = field(default_factory=dict)
    _w1_hwmon: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        real: Callable[[str], str] = hardware.attribute_read

        def read(relative: str) -> str:
            code = self.failures.get(relative)
            if code is not None:
                raise OSError(code, os.strerror(code), str(self.root / relative))
            return real(relative)

        self.monkeypatch.setattr(hardware, "attribute_read", read)

    # --- files and links ---------------------------------------------------------------------

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def link(self, relative: str, target: str) -> None:
        """``relative`` becomes a symlink to ``target`` (both below the root), relative as sysfs makes it."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(self.root / target, path.parent), path)

    def unlink(self, relative: str) -> None:
        (self.root / relative).unlink()

    def fail(self, relative: str, code: int = errnos.EIO) -> None:
        """Reads of this attribute fail with the driver's error (``-EIO``, ``-EREMOTEIO``, ``-ENODATA``)."""
        self.failures[relative] = code

    def heal(self, relative: str) -> None:
        self.failures.pop(relative, None)

    # --- the Pi's own -----------------------------------------------------------------------

    def pi_hwmons(self) -> None:
        """What every Pi has: ``cpu_thermal`` (mirror of thermal zone 0) and ``rpi_volt``."""
        self.write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
        zone = "sys/devices/virtual/thermal/thermal_zone0"
        self.hwmon("cpu_thermal", zone, {"temp1_input": "48312\n"}, under_hwmon_dir=False)
        self.hwmon("rpi_volt", "sys/devices/platform/soc/soc:firmware/raspberrypi-hwmon", {"in0_lcrit_alarm": "0\n"})

    def hwmon(self, name: str, parent: str, files: dict[str, str], *, under_hwmon_dir: bool = True) -> str:
        """A chip under ``parent``; returns its class path (``sys/class/hwmon/hwmonN``)."""
        number = self._hwmon_count
        self._hwmon_count += 1
        device = f"{parent}/hwmon/hwmon{number}" if under_hwmon_dir else f"{parent}/hwmon{number}"
        self.write(f"{device}/name", f"{name}\n")
        for file, text in files.items():
            self.write(f"{device}/{file}", text)
        self.link(f"sys/class/hwmon/hwmon{number}", device)
        return f"sys/class/hwmon/hwmon{number}"

    def pi5_fan(self, rpm: int = 2950) -> str:
        return self.hwmon("pwmfan", "sys/devices/platform/cooling_fan", {"fan1_input": f"{rpm}\n", "pwm1": "102\n"})

    # --- 1-wire ----------------------------------------------------------------------------

    def w1_bus(self) -> None:
        self.write(f"{W1_MASTER}/w1_master_slave_count", "0\n")
        if not (self.root / "sys/bus/w1/devices/w1_bus_master1").is_symlink():
            self.link("sys/bus/w1/devices/w1_bus_master1", W1_MASTER)

    def w1_probe(self, device: str = "28-0316a2797f7f", millidegrees: int = 21562, *, legacy: bool = False) -> str:
        """A DS18B20 on the bus; ``legacy``: a kernel before 5.9, with ``w1_slave`` only."""
        self.w1_bus()
        base = f"{W1_MASTER}/{device}"
        self.write(f"{base}/name", f"{device}\n")
        self.link(f"sys/bus/w1/devices/{device}", base)
        self._w1_hwmon[device] = self.hwmon("w1_slave_temp", base, {"temp1_input": f"{millidegrees}\n"})
        self._legacy = legacy
        self.w1_read(device, millidegrees, legacy=legacy)
        return device

    def w1_read(self, device: str, millidegrees: int, *, legacy: bool = False) -> None:
        """The probe converts ``millidegrees`` with a good CRC."""
        rom = ds18b20_scratchpad(millidegrees)
        self._good[device] = rom
        base = f"sys/bus/w1/devices/{device}"
        if not legacy:
            self.write(f"{base}/temperature", f"{ds18b20_millidegrees(rom)}\n")
        self.write(f"{base}/w1_slave", self._w1_slave(rom, rom, crc_ok=True))

    def w1_crc_failure(self, device: str) -> None:
        """Noise on the line: every try's scratchpad fails its CRC."""
        good = self._good[device]
        bad = bytes([good[0] ^ 0x5A, *good[1:]])  # a flipped bit pattern, CRC byte unchanged
        base = f"sys/bus/w1/devices/{device}"
        if (self.root / base / "temperature").exists():
            self.write(f"{base}/temperature", "")  # temperature_show returns 0 bytes
        self.write(f"{base}/w1_slave", self._w1_slave(bad, good, crc_ok=False))

    def w1_power_on(self, device: str) -> None:
        """The probe lost power: its scratchpad holds the power-on 0x0550 with a valid CRC."""
        self.w1_read(device, 85000)

    def w1_phantom(self, device: str = "00-400000000000") -> None:
        """A slave the master "finds" on a bus without its pull-up: no family driver, no attributes."""
        self.w1_bus()
        self.write(f"{W1_MASTER}/{device}/name", f"{device}\n")
        self.link(f"sys/bus/w1/devices/{device}", f"{W1_MASTER}/{device}")

    def w1_unplug(self, device: str) -> None:
        """The master's search no longer finds it: its directory and its hwmon device go."""
        self.unlink(f"sys/bus/w1/devices/{device}")
        self.unlink(self._w1_hwmon.pop(device))

    def _w1_slave(self, rom: bytes, good: bytes, *, crc_ok: bool) -> str:
        crc = w1_crc8(rom[:8])
        return f"{_hex(rom)}: crc={crc:02x} {'YES' if crc_ok else 'NO'}\n{_hex(good)}t={ds18b20_millidegrees(rom)}\n"

    # --- IIO -------------------------------------------------------------------------------

    def iio(self, name: str, parent: str, files: dict[str, str]) -> str:
        """An IIO device under ``parent``; returns its bus path (``sys/bus/iio/devices/iio:deviceN``)."""
        number = self._iio_count
        self._iio_count += 1
        device = f"{parent}/iio:device{number}"
        self.write(f"{device}/name", f"{name}\n")
        for file, text in files.items():
            self.write(f"{device}/{file}", text)
        self.link(f"sys/bus/iio/devices/iio:device{number}", device)
        return f"sys/bus/iio/devices/iio:device{number}"

    def bme280(self, *, address: str = "0076", celsius: float = 23.58, humidity: float = 45.2, kpa: float = 100.8296):
        """``dtoverlay=i2c-sensor,bme280``: processed channels as bmp280-core prints them."""
        return self.iio(
            "bme280",
            f"{I2C1}/1-{address}",
            {
                "in_temp_input": f"{round(celsius * 1000)}\n",
                "in_temp_oversampling_ratio": "2\n",
                "in_humidityrelative_input": f"{humidity * 1000:.9f}\n",
                "in_humidityrelative_oversampling_ratio": "1\n",
                "in_pressure_input": f"{kpa:.9f}\n",
                "in_pressure_oversampling_ratio": "16\n",
            },
        )


@pytest.fixture
def sysfs(host_root, monkeypatch) -> FakeSysfs:
    return FakeSysfs(host_root.root, monkeypatch)
