"""Fixtures shared by every test: a fake host tree, a fake firmware, and mock GPIO.

Every test runs against fixtures, never this machine's /sys, /proc, firmware or pins:
``host_root`` points ``ENDRPI_HOST_ROOT`` at a temporary tree holding the files a Raspberry Pi 4
has, ``vcgencmd`` puts a faithful fake of the firmware's command on the path, and ``gpio`` installs
fresh gpiozero mock pins for each test and puts back what was there afterwards.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from endrpi_project.access import tokens
from pins import hardware as pin_hardware
from pins import services as pin_services
from system.hardware.firmware import get_firmware

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class HostTree:
    """A fake root directory with a Raspberry Pi's /sys and /proc files."""

    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink()


@pytest.fixture(autouse=True)
def host_root(tmp_path: Path, settings) -> HostTree:
    tree = HostTree(tmp_path / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "48312\n")
    tree.write("proc/uptime", "123456.78 432100.12\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    tree.write("proc/stat", (FIXTURES / "proc_stat.txt").read_text())  # a Raspberry Pi 4's four cores
    tree.write("proc/loadavg", (FIXTURES / "loadavg.txt").read_text())
    tree.write("sys/block/mmcblk0/stat", (FIXTURES / "mmcblk0_stat.txt").read_text())
    tree.write("proc/net/dev", (FIXTURES / "net_dev.txt").read_text())
    for index, (name, state, mac) in enumerate(
        [
            ("lo", "unknown", "00:00:00:00:00:00"),
            ("eth0", "up", "dc:a6:32:01:23:45"),
            ("wlan0", "down", "dc:a6:32:01:23:46"),
        ],
        start=1,
    ):
        tree.write(f"sys/class/net/{name}/ifindex", f"{index}\n")
        tree.write(f"sys/class/net/{name}/operstate", f"{state}\n")
        tree.write(f"sys/class/net/{name}/address", f"{mac}\n")
    settings.ENDRPI_HOST_ROOT = tree.root
    return tree


@pytest.fixture(autouse=True)
def token_watch_paused(monkeypatch) -> None:
    """The token watcher's periodic check waits for a tick no test gives, unless it drives the pause itself
    (tests/security/test_token_revocation.py): no query from it runs in the background of a test (in the
    tests' shared in-memory database a reader can lock a table a test is writing). A token saved or deleted
    still wakes it at once."""
    import asyncio

    from endrpi_project.access.revocation import token_watch

    async def never(seconds: float) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(token_watch, "sleep", never)


@pytest.fixture(autouse=True)
def netlink(monkeypatch) -> None:
    """The kernel's addresses are the fixture Pi's (tests/system/fake_netlink.py), not this machine's."""
    from system.hardware import host
    from tests.system.fake_netlink import PI_ADDRESSES

    monkeypatch.setattr(host, "read_netlink_addresses", lambda: PI_ADDRESSES)


@dataclass
class FakeVcgencmd:
    """A ``vcgencmd`` script that answers as the firmware does; its answers can be changed.

    Models raspberrypi/utils ``vcgencmd/vcgencmd.c``: ``main`` prints the firmware's answer text
    (``throttled=0x50005``, ``frequency(48)=1500398464``) and exits with the firmware's error word.
    Two ways it fails without reaching the firmware, both modelled:

    - ``fail="no_device"`` (or ``True``): ``mbox_open`` tries ``/dev/vcio_gencmd`` then ``/dev/vcio``;
      when neither opens it prints ``Can't open device file: /dev/vcio_gencmd`` (the first name only)
      and calls ``exit(-1)``: exit status 255.
    - ``fail="ioctl"``: the mailbox ioctl fails (a firmware that does not know the gencmd tag: the
      kernel answers ``EINVAL``, raspberrypi/linux ``drivers/firmware/raspberrypi.c``
      ``rpi_firmware_property_list``). ``mbox_property`` prints ``ioctl_set_msg failed:-1``, and
      ``gencmd`` goes on to print the text at ``p+6``, which is the command it sent, since the kernel
      copies nothing back on failure (``drivers/char/broadcom/vcio.c`` ``vcio_user_property_list``);
      the error word ``p[5]`` is still the 0 it sent, so the exit status is 0.

    Each run appends its arguments to :attr:`runs`, so tests can count the processes started.
    A command the fake does not know is not modelled (stderr and 255 stand in).
    """

    path: Path

    @property
    def runs(self) -> list[str]:
        log = self.path.with_name("vcgencmd.runs")
        return log.read_text().splitlines() if log.exists() else []

    def answer(
        self,
        *,
        throttled: str = "0x0",
        arm: int = 1500398464,
        core: int = 500000992,
        fail: bool | Literal["no_device", "ioctl"] = False,
    ) -> None:
        failure = {
            True: 'echo "Can\'t open device file: /dev/vcio_gencmd"; exit 255',
            "no_device": 'echo "Can\'t open device file: /dev/vcio_gencmd"; exit 255',
            "ioctl": 'echo "ioctl_set_msg failed:-1"; echo "$*"; exit 0',
            False: "",
        }[fail]
        log = self.path.with_name("vcgencmd.runs")
        self.path.write_text(
            "#!/bin/sh\n"
            f'echo "$*" >> "{log}"\n'
            f"{failure}\n"
            'case "$1 $2" in\n'
            f'  "get_throttled ") echo "throttled={throttled}" ;;\n'
            f'  "measure_clock arm") echo "frequency(48)={arm}" ;;\n'
            f'  "measure_clock core") echo "frequency(1)={core}" ;;\n'
            '  *) echo "Command not registered" >&2; exit 255 ;;\n'
            "esac\n"
        )
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture(autouse=True)
def vcgencmd(tmp_path: Path, settings) -> Iterator[FakeVcgencmd]:
    fake = FakeVcgencmd(tmp_path / "bin" / "vcgencmd")
    fake.path.parent.mkdir()
    fake.answer(throttled="0x50005")
    settings.ENDRPI_VCGENCMD = str(fake.path)
    get_firmware.cache_clear()
    yield fake
    get_firmware.cache_clear()


@pytest.fixture(autouse=True)
def gpio() -> Iterator[pin_hardware.Gpio]:
    """Fresh mock pins for each test, watched for input edges as a started server watches them.

    Whatever GPIO and edge listener were installed before come back afterwards.
    """
    mock = pin_hardware.simulated_gpio()
    previous = pin_hardware.install_gpio(mock)
    previous_listener = pin_hardware.watch_edges(pin_services.pin_edge_changed)
    yield mock
    pin_hardware.watch_edges(previous_listener)
    pin_hardware.install_gpio(previous)
    mock.close()


@pytest.fixture(autouse=True)
def pin_settings() -> Iterator[None]:
    """No saved pin settings unless a test saves some (saving one makes the next read load them)."""
    pin_services.pin_settings_remember({})
    yield
    pin_services.pin_settings_remember({})


@pytest.fixture(autouse=True)
def allowed_hosts(settings) -> None:
    """Django's test client calls itself ``testserver``: a name the host rule needs to be told about."""
    settings.ENDRPI_ALLOWED_HOSTS = [*settings.ENDRPI_ALLOWED_HOSTS, "testserver"]


@pytest.fixture(autouse=True)
def token_uses(monkeypatch) -> None:
    """Token uses are written only when a test calls ``access_token_use_flush()``, never by a thread
    that could write to the shared in-memory test database in the middle of another test."""
    monkeypatch.setattr(tokens, "_use_flush_later", lambda: None)
    monkeypatch.setattr(tokens, "_use_pending", {})
    monkeypatch.setattr(tokens, "_use_noted", {})
    monkeypatch.setattr(tokens, "_use_flush_scheduled", False)


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    """Rate limits and login lockouts are process-wide: each test starts with full buckets and no failures."""
    from endrpi_project.access import limits

    limits.limits_reset()


@pytest.fixture(autouse=True)
def sensors_fresh():
    """Each test finds the sensors of its own fake /sys: no monitor, reading or label carried over."""
    from system.sensors.services import sensor_monitor_reset

    sensor_monitor_reset()
    yield
    sensor_monitor_reset()


@pytest.fixture(autouse=True)
def first_reads() -> None:
    """Readings made from two reads (CPU usage, network rates) start afresh in each test."""
    from endrpi_project.readings.registry import DeltaService, reading_table

    for reading in reading_table().readings:
        if isinstance(reading.read, DeltaService):
            reading.read.forget()
