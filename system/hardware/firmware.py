"""The VideoCore firmware: throttle flags and measured clocks.

A :class:`Firmware` asks its sources in order and remembers, for each question, the first one that
answers, so a missing source costs one failed attempt per process, not one per reading. The
sources, in the order they are asked (paths below ``ENDRPI_HOST_ROOT``):

1. ``/dev/vcio_gencmd``: the firmware's text commands (``get_throttled``, ``measure_clock arm``)
   through the mailbox ioctl, as ``vcgencmd`` itself sends them; readable by the ``video`` group on
   current Raspberry Pi OS images.
2. ``/dev/vcio``: the mailbox property tags ``0x00030046`` (get throttled, asked with 0 so the
   sticky "has occurred" bits are not cleared) and ``0x00030047`` (measured clock: ARM 3, core 4).
3. the kernel's ``get_throttled`` file of the firmware device in sysfs (throttling only; the
   ``rpi_volt`` hwmon device reports just the under-voltage alarm, not the whole word, so it is
   not a source).
4. ``vcgencmd`` as a process, last.

Each source raises :class:`FirmwareUnavailable` when it is not there or refuses access (no device,
no permission, a tag the firmware does not know) so the next one is tried, and
:class:`FirmwareError` when it is there but answered badly. The byte layouts are pure functions in
:mod:`system.parsers`; the ioctl goes through a :class:`MailboxDevice`, which tests replace.
"""

from __future__ import annotations

import errno
import glob
import logging
import shutil
import struct
import subprocess
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from django.conf import settings
from django.core.signals import setting_changed

from system import parsers
from system.hardware.host import OpenDevices

logger = logging.getLogger(__name__)

Clock = Literal["arm", "core"]
T = TypeVar("T")


class FirmwareError(OSError):
    """The firmware could not answer."""


class FirmwareUnavailable(FirmwareError):
    """This source is absent or refuses access here; the next source may work."""


class FirmwareSource(Protocol):
    name: str

    def get_throttled(self) -> int: ...

    def measure_clock(self, clock: Clock) -> int: ...


class MailboxDevice(Protocol):
    """The mailbox property ioctl: send a buffer to the device at ``path``, get it back as answered.

    Raises ``OSError`` as ``open`` and ``ioctl`` do.
    """

    def call(self, path: Path, buffer: bytes) -> bytes: ...


# _IOWR(100, 0, char *): the pointer's size is part of the request code (8 on 64-bit, 4 on 32-bit).
MAILBOX_IOCTL = parsers.ioctl_readwrite(100, 0, struct.calcsize("P"))


class VcioDevice(OpenDevices):
    """The real mailbox: each device is opened once and kept open for the life of the process."""

    def call(self, path: Path, buffer: bytes) -> bytes:
        return self.ioctl(path, MAILBOX_IOCTL, buffer)


# errno values that mean "this door is closed here", so the next source should be tried.
_UNAVAILABLE = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENODEV, errno.ENXIO, errno.ENOTTY, errno.EINVAL}


def _unavailable_or_error(device: str, error: OSError) -> FirmwareError:
    reason = error.strerror or str(error)
    if error.errno in _UNAVAILABLE:
        return FirmwareUnavailable(f"{device}: {reason}")
    return FirmwareError(f"{device}: {reason}")


class GencmdDeviceSource:
    """``/dev/vcio_gencmd``: the firmware's text commands without a process."""

    name = "vcio_gencmd"

    def __init__(self, path: Path, device: MailboxDevice) -> None:
        self.path = path
        self.device = device

    def _command(self, command: str) -> str:
        try:
            answer = self.device.call(self.path, parsers.gencmd_request(command))
        except OSError as error:
            raise _unavailable_or_error(str(self.path), error) from None
        try:
            return parsers.gencmd_response(answer)
        except ValueError as error:
            raise FirmwareUnavailable(f"{self.path} {command}: {error}") from None

    def get_throttled(self) -> int:
        return _parsed(parsers.parse_throttled, self._command("get_throttled"))

    def measure_clock(self, clock: Clock) -> int:
        return _parsed(parsers.parse_clock, self._command(f"measure_clock {clock}"))


class MailboxSource:
    """``/dev/vcio``: the mailbox property tags, without a process."""

    name = "vcio"

    def __init__(self, path: Path, device: MailboxDevice) -> None:
        self.path = path
        self.device = device

    def _property(self, tag: int, values: Sequence[int], count: int) -> tuple[int, ...]:
        try:
            answer = self.device.call(self.path, parsers.mailbox_request(tag, values, value_size=4 * count))
        except OSError as error:
            raise _unavailable_or_error(str(self.path), error) from None
        try:
            return parsers.mailbox_response(answer, tag, count)
        except ValueError as error:
            raise FirmwareUnavailable(f"{self.path}: {error}") from None

    def get_throttled(self) -> int:
        # 0: clear no sticky bits; the "has occurred" flags must survive our reading them.
        (word,) = self._property(parsers.TAG_GET_THROTTLED, [0], 1)
        return word

    def measure_clock(self, clock: Clock) -> int:
        clock_id = parsers.CLOCK_IDS[clock]
        answered_id, hertz = self._property(parsers.TAG_GET_CLOCK_MEASURED, [clock_id], 2)
        if answered_id != clock_id:
            raise FirmwareError(f"asked for clock {clock_id}, the firmware answered clock {answered_id}")
        return hertz


# The firmware device's get_throttled file: soc/soc:firmware on every Pi up to the 4; on other
# device trees (the Pi 5's soc@107c000000) the same file under that bus's name.
SYSFS_THROTTLED = (
    "sys/devices/platform/soc/soc:firmware/get_throttled",
    "sys/devices/platform/*/*:firmware/get_throttled",
    "sys/devices/platform/*:firmware/get_throttled",
)


class SysfsThrottleSource:
    """The kernel's ``get_throttled`` sysfs file: throttling only, no clocks."""

    name = "sysfs"

    def __init__(self, root: Path, patterns: Sequence[str] = SYSFS_THROTTLED) -> None:
        self.root = root
        self.patterns = patterns
        self._path: Path | None = None

    def _find(self) -> Path:
        if self._path is None:
            for pattern in self.patterns:
                found = sorted(glob.glob(glob.escape(str(self.root)) + "/" + pattern))
                if found:
                    self._path = Path(found[0])
                    break
            else:
                raise FirmwareUnavailable("no get_throttled file in sysfs")
        return self._path

    def get_throttled(self) -> int:
        path = self._find()
        try:
            text = path.read_text(encoding="ascii", errors="replace")
        except OSError as error:
            raise _unavailable_or_error(str(path), error) from None
        return _parsed(parsers.parse_sysfs_throttled, text)

    def measure_clock(self, clock: Clock) -> int:
        raise FirmwareUnavailable("sysfs has no measured clocks")


class VcgencmdSource:
    """``vcgencmd`` run as a process: the slowest source, used when no device answers."""

    name = "vcgencmd"

    def __init__(self, command: str, timeout: float) -> None:
        self.command = command
        self.timeout = timeout

    def _run(self, *args: str) -> str:
        executable = shutil.which(self.command)
        if executable is None:
            raise FirmwareUnavailable(f"{self.command} not found")
        try:
            completed = subprocess.run(
                [executable, *args],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FirmwareError(f"{self.command} {' '.join(args)} timed out after {self.timeout}s") from None
        except OSError as error:
            raise FirmwareUnavailable(f"{self.command} could not run: {error}") from None
        if completed.returncode != 0:
            detail = (completed.stderr or completed.stdout).strip() or f"exit status {completed.returncode}"
            raise FirmwareError(f"{self.command} {' '.join(args)} failed: {detail}")
        return completed.stdout

    def get_throttled(self) -> int:
        return _parsed(parsers.parse_throttled, self._run("get_throttled"))

    def measure_clock(self, clock: Clock) -> int:
        return _parsed(parsers.parse_clock, self._run("measure_clock", clock))


def _parsed(parse: Callable[[str], T], text: str) -> T:
    try:
        return parse(text)
    except ValueError as error:
        raise FirmwareError(f"unexpected firmware answer: {error}") from None


Question = Literal["throttled", "clock"]


class Firmware:
    """Asks each source in turn; for each question keeps using the first source that answered it.

    Questions are remembered apart because a source may answer one and not the other (sysfs knows
    throttling but not clocks).
    """

    def __init__(self, sources: Sequence[FirmwareSource]) -> None:
        self.sources = list(sources)
        self._working: dict[Question, FirmwareSource] = {}
        self._lock = threading.Lock()

    @property
    def source_name(self) -> str | None:
        """The source that answers throttling (else clocks), once one has; ``None`` before."""
        working = self._working.get("throttled") or self._working.get("clock")
        return working.name if working else None

    def source_for(self, question: Question) -> str | None:
        working = self._working.get(question)
        return working.name if working else None

    def _ask(self, kind: Question, question: Callable[[FirmwareSource], T]) -> T:
        working = self._working.get(kind)
        if working is not None:
            return question(working)
        reasons: list[str] = []
        for source in self.sources:
            try:
                answer = question(source)
            except FirmwareUnavailable as error:
                reasons.append(f"{source.name}: {error}")
                continue
            with self._lock:
                if kind not in self._working:
                    logger.info("Reading the firmware's %s through %s", kind, source.name)
                    self._working[kind] = source
            return answer
        raise FirmwareUnavailable("no firmware source answered (" + "; ".join(reasons) + ")")

    def get_throttled(self) -> int:
        return self._ask("throttled", lambda source: source.get_throttled())

    def measure_clock(self, clock: Clock) -> int:
        return self._ask("clock", lambda source: source.measure_clock(clock))


def firmware_sources(*, root: Path, device: MailboxDevice, vcgencmd: str, timeout: float) -> list[FirmwareSource]:
    """Every source, in the order they are asked."""
    return [
        GencmdDeviceSource(root / "dev/vcio_gencmd", device),
        MailboxSource(root / "dev/vcio", device),
        SysfsThrottleSource(root),
        VcgencmdSource(vcgencmd, timeout),
    ]


_device: MailboxDevice = VcioDevice()


def install_mailbox_device(device: MailboxDevice) -> MailboxDevice:
    """Replace the mailbox ioctl layer (tests, the benchmark's fake firmware); returns the old one."""
    global _device
    previous, _device = _device, device
    get_firmware.cache_clear()
    return previous


@lru_cache(maxsize=1)
def get_firmware() -> Firmware:
    """The process's firmware client, built from settings on first use."""
    return Firmware(
        firmware_sources(
            root=Path(settings.ENDRPI_HOST_ROOT),
            device=_device,
            vcgencmd=settings.ENDRPI_VCGENCMD,
            timeout=settings.ENDRPI_FIRMWARE_TIMEOUT,
        )
    )


def _reset_firmware(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("ENDRPI_"):
        get_firmware.cache_clear()


setting_changed.connect(_reset_firmware)
