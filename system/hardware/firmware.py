"""The VideoCore firmware: throttle flags and measured clocks.

A :class:`Firmware` asks its sources in order, for each question, and uses the first one that
answers. A source that fails is set aside for :data:`RETRY_SECONDS` (the next one in the order
answers meanwhile) and then asked again, so a missing source costs one cheap attempt every few
seconds, not one per reading, and a source that comes back (a udev rule applied, a device added) is
preferred again. ``vcgencmd`` is the exception: while a device source answers it is not started
again, since it opens the same devices (a process per attempt would be the opposite of cheap). The
order differs per question because the sources do not all mean the same thing (paths below
``ENDRPI_HOST_ROOT``):

``vcio_gencmd``
    The firmware's text commands (``get_throttled``, ``measure_clock arm|core``) through the mailbox
    tag ``0x00030080`` on ``/dev/vcio_gencmd``, the device kernels from mid-2026 add for exactly
    that tag (raspberrypi/linux ``drivers/char/broadcom/vcio.c``, ``vcio_gencmd_tags``).
``vcio``
    The same text commands through ``/dev/vcio``, which takes any tag: where ``vcio_gencmd`` does
    not exist yet (Raspberry Pi OS Bookworm's 6.6 and 6.12 kernels). ``vcgencmd`` opens the two
    devices in this order (raspberrypi/utils ``vcgencmd/vcgencmd.c``, ``mbox_open``).
``vcgencmd``
    ``vcgencmd`` run as a process: the same text commands, so the same answers, but a process each.
``vcio_property``
    The mailbox property tags ``0x00030046`` (get throttled) and ``0x00030047`` (measured clock:
    ARM 3, core 4) on ``/dev/vcio``.
``sysfs``
    The firmware device's ``get_throttled`` file, only on kernels before 4.19 (see below).

The firmware keeps two sets of sticky "has occurred" bits. The text command ``get_throttled``
answers from its own, kept since boot. The property tag's set is the one the kernel's
``raspberrypi-hwmon`` driver (always loaded: it is the ``rpi_volt`` device) asks with ``0xffff``
every 2 seconds, which clears it (raspberrypi/linux ``drivers/hwmon/raspberrypi-hwmon.c``,
``rpi_firmware_get_throttled`` and ``get_values_poll``). So through the property tag, and through
sysfs, which shows what the last such call answered, the four ``...HasOccurred`` flags only cover
about the last 2 seconds. Throttling is therefore asked through every text-command source first,
``vcgencmd`` included, and an answer from the property tag or sysfs says so
(:attr:`ThrottleAnswer.since_boot` is false; the API's ``historyWindow`` is ``LAST_2_SECONDS``).
Clocks mean the same through every source, so the property tag (no process) comes before
``vcgencmd`` for them.

The sysfs file warns: from the 4.19 kernels on (when ``raspberrypi-hwmon`` replaced it) its
``get_throttled_show`` is ``WARN_ONCE(1, "deprecated, use hwmon sysfs instead")``, which puts a
warning with a backtrace in ``dmesg`` and taints the kernel (raspberrypi/linux
``drivers/firmware/raspberrypi.c``). Before 4.19 the file asked the firmware itself, with
``0xffff`` and a poll every 2 s, and did not warn. So it is only ever read when the kernel release
(``/proc/sys/kernel/osrelease``) is older than 4.19, and never opened otherwise.

Each source raises :class:`FirmwareUnavailable` when it is not there or refuses access (no device,
no permission, a tag the firmware does not know; ``vcgencmd`` exiting 255 because it could open
neither device) so the next one is tried at once, and :class:`FirmwareError` when it is there but
answered badly (a garbled answer, a firmware that did not answer in time): that reading fails, since
every source asks the same firmware, and the source is set aside, so the next reading asks the
next one. The byte layouts are pure functions in
:mod:`system.parsers`; the ioctl goes through a :class:`MailboxDevice`, which tests replace.

Calls to the firmware run in their own small pool of threads (:class:`FirmwareCalls`), one call per
question at a time shared by everyone who asks meanwhile, so a firmware that hangs holds at most
:data:`FIRMWARE_WORKERS` threads and never the ones pin and database work run in.
"""

from __future__ import annotations

import concurrent.futures
import errno
import glob
import logging
import re
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from django.conf import settings
from django.core.signals import setting_changed

from system import parsers
from system.hardware.host import OpenDevices, read_host_file

logger = logging.getLogger(__name__)

Clock = Literal["arm", "core"]
T = TypeVar("T")


class FirmwareError(OSError):
    """The firmware could not answer."""


class FirmwareUnavailable(FirmwareError):
    """This source is absent or refuses access here; the next source may work."""


@dataclass(frozen=True)
class ThrottleAnswer:
    """The firmware's ``get_throttled`` word, and whether its sticky bits cover the time since boot.

    ``since_boot`` is false for the property tag and sysfs, whose sticky bits the kernel's hwmon
    poll clears every 2 seconds.
    """

    word: int
    since_boot: bool


class FirmwareSource(Protocol):
    name: str
    process: bool  # asking it starts a process (vcgencmd), rather than one ioctl or read

    def get_throttled(self) -> ThrottleAnswer: ...

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
        if len(buffer) > parsers.MAILBOX_BUFFER_MAX:
            # CPython's fcntl.ioctl copies a buffer of up to 1,024 bytes and releases the GIL for
            # the call; a larger one is passed in place with the GIL held for the whole firmware
            # round trip (up to a second), which would stop every other thread, the event loop's too.
            raise ValueError(f"a mailbox buffer is at most {parsers.MAILBOX_BUFFER_MAX} bytes; got {len(buffer)}")
        return self.ioctl(path, MAILBOX_IOCTL, buffer)


# errno values that mean "this door is closed here", so the next source should be tried.
_UNAVAILABLE = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENODEV, errno.ENXIO, errno.ENOTTY, errno.EINVAL}


def _unavailable_or_error(device: str, error: OSError) -> FirmwareError:
    reason = error.strerror or str(error)
    if error.errno in _UNAVAILABLE:
        return FirmwareUnavailable(f"{device}: {reason}")
    return FirmwareError(f"{device}: {reason}")


class GencmdSource:
    """The firmware's text commands through the gencmd tag on a mailbox device, as vcgencmd sends them."""

    process = False

    def __init__(self, name: str, path: Path, device: MailboxDevice) -> None:
        self.name = name
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

    def get_throttled(self) -> ThrottleAnswer:
        return ThrottleAnswer(_parsed(parsers.parse_throttled, self._command("get_throttled")), since_boot=True)

    def measure_clock(self, clock: Clock) -> int:
        return _parsed(parsers.parse_clock, self._command(f"measure_clock {clock}"))


class PropertyTagSource:
    """``/dev/vcio``: the mailbox property tags, without a process."""

    name = "vcio_property"
    process = False

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

    def get_throttled(self) -> ThrottleAnswer:
        # Asked with 0 so this call clears nothing; the hwmon driver's poll clears them anyway.
        (word,) = self._property(parsers.TAG_GET_THROTTLED, [0], 1)
        return ThrottleAnswer(word, since_boot=False)

    def measure_clock(self, clock: Clock) -> int:
        clock_id = parsers.CLOCK_IDS[clock]
        answered_id, hertz = self._property(parsers.TAG_GET_CLOCK_MEASURED, [clock_id], 2)
        if answered_id != clock_id:
            raise FirmwareError(f"asked for clock {clock_id}, the firmware answered clock {answered_id}")
        return hertz


# The firmware device's get_throttled file: soc/soc:firmware on every Pi up to the 4; on other
# device trees the same file under that bus's name.
SYSFS_THROTTLED = (
    "sys/devices/platform/soc/soc:firmware/get_throttled",
    "sys/devices/platform/*/*:firmware/get_throttled",
    "sys/devices/platform/*:firmware/get_throttled",
)
KERNEL_RELEASE = "proc/sys/kernel/osrelease"
# From this kernel on, reading the file puts a WARN_ONCE backtrace in dmesg (see the module docstring).
SYSFS_THROTTLED_WARNS_FROM = (4, 19)


def sysfs_throttled_warns(release: str) -> bool:
    """Whether the kernel ``release`` (``6.6.51+rpt-rpi-v8``) warns when its get_throttled file is read.

    A release that cannot be read as ``MAJOR.MINOR`` counts as warning: when in doubt, never read.
    """
    match = re.match(r"\s*(\d+)\.(\d+)", release)
    if match is None:
        return True
    return (int(match.group(1)), int(match.group(2))) >= SYSFS_THROTTLED_WARNS_FROM


class SysfsThrottleSource:
    """The kernel's ``get_throttled`` sysfs file: throttling only, and only on kernels before 4.19."""

    name = "sysfs"
    process = False

    def __init__(self, root: Path, patterns: Sequence[str] = SYSFS_THROTTLED) -> None:
        self.root = root
        self.patterns = patterns
        self._path: Path | None = None

    def _find(self) -> Path:
        try:
            release = read_host_file(KERNEL_RELEASE).strip()
        except OSError as error:
            raise FirmwareUnavailable(
                f"kernel release unknown ({error.strerror or error}), so get_throttled is not read: "
                "from 4.19 on, reading it puts a warning with a backtrace in the kernel log"
            ) from None
        if sysfs_throttled_warns(release):
            raise FirmwareUnavailable(
                f"not read on kernel {release}: from 4.19 on, reading get_throttled puts a warning with a "
                "backtrace in the kernel log (deprecated)"
            )
        if self._path is None:
            for pattern in self.patterns:
                found = sorted(glob.glob(glob.escape(str(self.root)) + "/" + pattern))
                if found:
                    self._path = Path(found[0])
                    break
            else:
                raise FirmwareUnavailable("no get_throttled file in sysfs")
        return self._path

    def get_throttled(self) -> ThrottleAnswer:
        path = self._find()
        try:
            text = read_host_file(str(path.relative_to(self.root)))
        except OSError as error:
            raise _unavailable_or_error(str(path), error) from None
        return ThrottleAnswer(_parsed(parsers.parse_sysfs_throttled, text), since_boot=False)

    def measure_clock(self, clock: Clock) -> int:
        raise FirmwareUnavailable("sysfs has no measured clocks")


# What vcgencmd prints when it could not ask (raspberrypi/utils vcgencmd/vcgencmd.c): mbox_open
# opens /dev/vcio_gencmd, then /dev/vcio, and when neither opens prints this and exit(-1)s (status
# 255); mbox_property prints "ioctl_set_msg failed:-1" when the mailbox ioctl fails (the kernel
# refused the tag, the firmware does not know it) and gencmd then prints the buffer it sent, which
# the kernel did not write back (drivers/char/broadcom/vcio.c vcio_user_property_list), exit status 0.
VCGENCMD_NO_DEVICE = "Can't open device file"
VCGENCMD_IOCTL_FAILED = "ioctl_set_msg failed"
# main prints this and exits with the firmware's error word when the firmware refused the command.
VCGENCMD_FIRMWARE_REFUSED = "vc_gencmd_read_response returned"


class VcgencmdSource:
    """``vcgencmd`` run as a process: the slowest source, used when no device answers."""

    name = "vcgencmd"
    process = True

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
        said = " ".join((completed.stdout + completed.stderr).split())
        asked = f"{self.command} {' '.join(args)}"
        if VCGENCMD_NO_DEVICE in completed.stdout or VCGENCMD_IOCTL_FAILED in completed.stdout:
            # It could not reach the firmware: the same doors as the mailbox sources, closed.
            raise FirmwareUnavailable(f"{asked} failed: {said} (exit status {completed.returncode})")
        if completed.returncode > 0 and VCGENCMD_FIRMWARE_REFUSED in completed.stdout:
            # The firmware refused the text command, as a non-zero error word on a mailbox device.
            raise FirmwareUnavailable(f"{asked} failed: {said}")
        if completed.returncode != 0:
            raise FirmwareError(f"{asked} failed: {said or f'exit status {completed.returncode}'}")
        return completed.stdout

    def get_throttled(self) -> ThrottleAnswer:
        # vcgencmd sends the same text command through the same gencmd tag: the since-boot bits.
        return ThrottleAnswer(_parsed(parsers.parse_throttled, self._run("get_throttled")), since_boot=True)

    def measure_clock(self, clock: Clock) -> int:
        return _parsed(parsers.parse_clock, self._run("measure_clock", clock))


def _parsed(parse: Callable[[str], T], text: str) -> T:
    try:
        return parse(text)
    except ValueError as error:
        raise FirmwareError(f"unexpected firmware answer: {error}") from None


Question = Literal["throttled", "clock"]

# Which sources answer which question, in the order they are asked (see the module docstring).
ORDER: dict[Question, tuple[str, ...]] = {
    "throttled": ("vcio_gencmd", "vcio", "vcgencmd", "vcio_property", "sysfs"),
    "clock": ("vcio_gencmd", "vcio", "vcio_property", "vcgencmd"),
}


# A source that failed is not asked again for this long (per question); the next source answers
# meanwhile. Short, so a source that comes back is used again soon; long enough that a failing
# source is asked a few times a minute at most, whatever the number of readers.
RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Attempt:
    """What one source said when it was asked (or why it was passed over) while looking for an answer."""

    source: str
    answer: object = None  # what it answered (a ThrottleAnswer, hertz), or None
    reason: str | None = None  # why it did not answer, or None


@dataclass(frozen=True)
class _SetAside:
    until: float  # time.monotonic() after which it is asked again
    reason: str


class Firmware:
    """Asks each source in turn, for each question, and answers with the first that answers.

    Questions are kept apart because a source may answer one and not the other (sysfs knows
    throttling but not clocks), and because they are asked in different orders. For each question
    a source that failed is passed over for ``retry_after`` seconds, so a reading costs one call
    to the source that answered last, plus, every ``retry_after`` seconds, one attempt at each
    better source that had failed. A source that starts a process (vcgencmd) is not tried again
    while a source that does not is answering. Calls run in the firmware's own threads
    (:class:`FirmwareCalls`), never on the event loop.
    """

    def __init__(
        self,
        sources: Sequence[FirmwareSource],
        order: dict[Question, tuple[str, ...]] = ORDER,
        *,
        retry_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        by_name = {source.name: source for source in sources}
        self.sources = list(sources)
        self.order: dict[Question, list[FirmwareSource]] = {
            question: [by_name[name] for name in names if name in by_name] for question, names in order.items()
        }
        self.retry_after = RETRY_SECONDS if retry_after is None else retry_after
        self._clock = clock
        self._working: dict[Question, FirmwareSource] = {}
        self._set_aside: dict[tuple[Question, str], _SetAside] = {}
        self._attempts: dict[Question, list[Attempt]] = {}
        self._lock = threading.Lock()

    @property
    def source_name(self) -> str | None:
        """The source that answered throttling (else clocks) last; ``None`` before one has."""
        working = self._working.get("throttled") or self._working.get("clock")
        return working.name if working else None

    def source_for(self, question: Question) -> str | None:
        """The source that answered ``question`` last, unless it has failed since."""
        working = self._working.get(question)
        return working.name if working else None

    def attempts(self, question: Question) -> list[Attempt]:
        """What each source asked (or passed over) said, up to the one that answered, the last time
        ``question`` was asked past the source that answered before."""
        return list(self._attempts.get(question, []))

    def _passed_over(self, kind: Question, source: FirmwareSource, now: float) -> str | None:
        """Why ``source`` is not asked now, or ``None``."""
        aside = self._set_aside.get((kind, source.name))
        if aside is not None and now < aside.until:
            return f"{aside.reason} (asked again in {aside.until - now:.0f} s)"
        working = self._working.get(kind)
        if aside is not None and source.process and working is not None and not working.process:
            # vcgencmd opens the same devices: it cannot answer where they do not.
            return f"{aside.reason} (not started again while {working.name} answers)"
        return None

    def _ask(self, kind: Question, question: Callable[[FirmwareSource], T]) -> T:
        now = self._clock()
        working = self._working.get(kind)
        attempts: list[Attempt] = []
        for source in self.order[kind]:
            passed = self._passed_over(kind, source, now)
            if passed is not None:
                attempts.append(Attempt(source.name, reason=passed))
                continue
            try:
                answer = question(source)
            except FirmwareError as error:
                attempts.append(Attempt(source.name, reason=str(error)))
                with self._lock:
                    self._set_aside[(kind, source.name)] = _SetAside(now + self.retry_after, str(error))
                    if self._working.get(kind) is source:
                        del self._working[kind]
                if isinstance(error, FirmwareUnavailable):
                    continue
                self._attempts[kind] = attempts  # there, but answered badly: this reading fails
                raise
            attempts.append(Attempt(source.name, answer=answer))
            with self._lock:
                self._set_aside.pop((kind, source.name), None)
                self._working[kind] = source
            if source is not working:
                self._attempts[kind] = attempts
                self._log_change(kind, working, source, attempts)
            return answer
        self._attempts[kind] = attempts
        reasons = "; ".join(f"{attempt.source}: {attempt.reason}" for attempt in attempts)
        raise FirmwareUnavailable(f"no firmware source answered ({reasons})")

    @staticmethod
    def _log_change(
        kind: Question, before: FirmwareSource | None, now: FirmwareSource, attempts: list[Attempt]
    ) -> None:
        if before is None:
            logger.info("Reading the firmware's %s through %s", kind, now.name)
            return
        why = next((attempt.reason for attempt in attempts if attempt.source == before.name), None)
        if why is None:
            logger.info("Reading the firmware's %s through %s again (instead of %s)", kind, now.name, before.name)
        else:
            logger.warning("Reading the firmware's %s through %s: %s failed (%s)", kind, now.name, before.name, why)

    def get_throttled(self) -> ThrottleAnswer:
        return self._ask("throttled", lambda source: source.get_throttled())

    def measure_clock(self, clock: Clock) -> int:
        return self._ask("clock", lambda source: source.measure_clock(clock))


def firmware_sources(*, root: Path, device: MailboxDevice, vcgencmd: str, timeout: float) -> list[FirmwareSource]:
    """Every source (each question asks them in its own :data:`ORDER`)."""
    return [
        GencmdSource("vcio_gencmd", root / "dev/vcio_gencmd", device),
        GencmdSource("vcio", root / "dev/vcio", device),
        VcgencmdSource(vcgencmd, timeout),
        PropertyTagSource(root / "dev/vcio", device),
        SysfsThrottleSource(root),
    ]


_device: MailboxDevice = VcioDevice()


def install_mailbox_device(device: MailboxDevice) -> MailboxDevice:
    """Replace the mailbox ioctl layer (tests, the benchmark's fake firmware); returns the old one."""
    global _device
    previous, _device = _device, device
    get_firmware.cache_clear()
    return previous


def firmware_build() -> Firmware:
    """A firmware client built from settings, that has asked nothing yet."""
    return Firmware(
        firmware_sources(
            root=Path(settings.ENDRPI_HOST_ROOT),
            device=_device,
            vcgencmd=settings.ENDRPI_VCGENCMD,
            timeout=settings.ENDRPI_FIRMWARE_TIMEOUT,
        )
    )


@lru_cache(maxsize=1)
def get_firmware() -> Firmware:
    """The process's firmware client, built from settings on first use."""
    return firmware_build()


# --- The firmware's own threads ------------------------------------------------------------------

# The kernel serialises every mailbox transaction behind one mutex (drivers/firmware/raspberrypi.c,
# rpi_firmware_transaction), so more threads would only queue there; two let a second question
# start while the first is still being answered.
FIRMWARE_WORKERS = 2


class FirmwareCalls:
    """A small bounded pool for firmware calls, with at most one call in flight per question.

    :meth:`submit` hands back the call already in flight for the same key if there is one, so
    however many readers wait on a hanging firmware, it holds at most :data:`FIRMWARE_WORKERS`
    threads and is asked once per question at a time. The pool's threads start on first use.
    """

    def __init__(self, workers: int = FIRMWARE_WORKERS, executor: concurrent.futures.Executor | None = None) -> None:
        self.workers = workers
        self._executor = executor
        self._in_flight: dict[str, concurrent.futures.Future[object]] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, call: Callable[[], T]) -> concurrent.futures.Future[T]:
        with self._lock:
            future = self._in_flight.get(key)
            if future is not None:
                return future  # type: ignore[return-value]
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="endrpi-firmware"
                )
            future = self._executor.submit(call)
            self._in_flight[key] = future
        # Outside the lock: a call that has already finished runs the callback right here.
        future.add_done_callback(lambda done: self._forget(key, done))
        return future  # type: ignore[return-value]

    def _forget(self, key: str, done: concurrent.futures.Future[object]) -> None:
        with self._lock:
            if self._in_flight.get(key) is done:
                del self._in_flight[key]

    def in_flight(self) -> list[str]:
        with self._lock:
            return list(self._in_flight)


firmware_calls = FirmwareCalls()


def _reset_firmware(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("ENDRPI_"):
        get_firmware.cache_clear()


setting_changed.connect(_reset_firmware)
