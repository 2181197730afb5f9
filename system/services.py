"""System readings: hardware reads combined with parsers into the API's reading models (:mod:`system.readings`).

REST views and WebSocket actions both call these functions; nothing else decides what a reading
is or how it fails. Every failure is a :class:`~endrpi_project.api.errors.ReadingFailed` whose message
names the reading and the cause.

Firmware readings (throttle, clocks) are asked in the firmware's own small pool, one call per
question at a time shared by every caller (``system.hardware.firmware.FirmwareCalls``); a caller waits
at most ``ENDRPI_FIRMWARE_TIMEOUT``. Each has a blocking form (``throttle_read``) for code already in a
worker thread (REST views) and an awaitable one (``throttle_aread``) for the event loop, which holds
no worker thread while it waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from django.conf import settings

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.readings.registry import (
    Readings,
    failure_summary,
    reading_failed,
    readings_read,
    readings_unavailable,
)
from system import parsers
from system.hardware import host
from system.hardware.firmware import (
    Attempt,
    Clock,
    Firmware,
    FirmwareError,
    FirmwareUnavailable,
    Question,
    ThrottleAnswer,
    firmware_build,
    firmware_calls,
    get_firmware,
)
from system.readings import (
    Frequency,
    Measurement,
    Memory,
    OperatingSystem,
    Platform,
    Temperature,
    Throttle,
    UpTime,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


# Each reading's failure in a Pi owner's words: what a page calls it, and what it is read from.
_PLAIN: dict[str, tuple[str, str]] = {
    "system on chip temperature": ("Temperature", "SoC thermal sensor"),
    "system uptime": ("Uptime", "/proc/uptime"),
    "system memory": ("Memory", "/proc/meminfo"),
    "system platform": ("Platform", "uname"),
    "system throttle status": ("Power and throttling", "Raspberry Pi firmware"),
    "system frequency": ("Clocks", "Raspberry Pi firmware"),
    "system ARM frequency": ("Clocks", "Raspberry Pi firmware"),
    "system core frequency": ("Clocks", "Raspberry Pi firmware"),
}


def _failed(what: str, error: OSError | ValueError) -> ReadingFailed:
    title, source = _PLAIN.get(what, (None, None))
    failed = reading_failed(what, error, title=title, source=source)
    if isinstance(error, FirmwareUnavailable) and failed.summary is not None:
        # No source answered: not a Pi, or one whose firmware the server may not open (both are "absent" here).
        failed.summary = (
            f"{title or 'This reading'} unavailable: no Raspberry Pi firmware answered (this is not a Pi, "
            "or the server may not open /dev/vcio; manage.py endrpi_doctor says which)"
        )
    return failed


def _reading(what: str, read: Callable[[], T]) -> T:
    """Run ``read``; turn an OS error or unparseable answer into ``Failed to query <what>: why``."""
    try:
        return read()
    except (OSError, ValueError) as error:
        raise _failed(what, error) from error


# --- Firmware readings: asked in the firmware's own pool, one call per question at a time ---------

THROTTLE = "system throttle status"
FREQUENCY = "system frequency"


def _ask_throttled() -> ThrottleAnswer:
    return get_firmware().get_throttled()


def _ask_clocks() -> tuple[int, int]:
    firmware = get_firmware()
    arm = _reading("system ARM frequency", lambda: firmware.measure_clock("arm"))
    core = _reading("system core frequency", lambda: firmware.measure_clock("core"))
    return arm, core


def _firmware_timeout() -> float:
    timeout: float = settings.ENDRPI_FIRMWARE_TIMEOUT
    return timeout


def _no_answer(what: str, timeout: float) -> ReadingFailed:
    title, source = _PLAIN.get(what, (what, "firmware"))
    return ReadingFailed(
        f"Failed to query {what}: the firmware did not answer within {timeout:g} s",
        summary=failure_summary(title, source, TimeoutError()),
    )


def _waited(what: str, future: concurrent.futures.Future[T]) -> T:
    """The answer of a firmware call, waited for at most ``ENDRPI_FIRMWARE_TIMEOUT`` in this thread."""
    timeout = _firmware_timeout()
    try:
        return future.result(timeout=timeout)
    except TimeoutError:  # (an OSError too: caught first)
        raise _no_answer(what, timeout) from None
    except (OSError, ValueError) as error:
        raise _failed(what, error) from error


async def _awaited(what: str, future: concurrent.futures.Future[T]) -> T:
    """The answer of a firmware call, awaited on the event loop without holding any worker thread.

    Shielded: a waiter that gives up does not cancel the call other waiters share.
    """
    timeout = _firmware_timeout()
    try:
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
    except TimeoutError:
        raise _no_answer(what, timeout) from None
    except (OSError, ValueError) as error:
        raise _failed(what, error) from error


def _throttle(answer: ThrottleAnswer) -> Throttle:
    flags = parsers.throttle_flags(answer.word)
    return Throttle(
        under_voltage_detected=flags["underVoltageDetected"],
        arm_frequency_capped=flags["armFrequencyCapped"],
        throttling=flags["throttling"],
        soft_temperature_limit_active=flags["softTemperatureLimitActive"],
        under_voltage_has_occurred=flags["underVoltageHasOccurred"],
        arm_frequency_capping_has_occurred=flags["armFrequencyCappingHasOccurred"],
        throttling_has_occurred=flags["throttlingHasOccurred"],
        soft_temperature_limit_has_occurred=flags["softTemperatureLimitHasOccurred"],
        history_window="SINCE_BOOT" if answer.since_boot else "LAST_2_SECONDS",
    )


def _frequency(clocks: tuple[int, int]) -> Frequency:
    arm, core = clocks
    return Frequency(
        arm=Measurement(quantity=arm, unit_of_measurement="HERTZ"),
        core=Measurement(quantity=core, unit_of_measurement="HERTZ"),
    )


def throttle_begin() -> Callable[[], Throttle]:
    """Ask the firmware now; the function returned waits for the answer (``GET /system`` overlaps it)."""
    future = firmware_calls.submit("get_throttled", _ask_throttled)
    return lambda: _throttle(_waited(THROTTLE, future))


def throttle_read() -> Throttle:
    """The throttle flags; blocks this thread (never the firmware's pool) at most ``ENDRPI_FIRMWARE_TIMEOUT``."""
    return _throttle(_waited(THROTTLE, firmware_calls.submit("get_throttled", _ask_throttled)))


async def throttle_aread() -> Throttle:
    """:func:`throttle_read` for the event loop: awaits the firmware's pool, holds no other thread."""
    return _throttle(await _awaited(THROTTLE, firmware_calls.submit("get_throttled", _ask_throttled)))


def frequency_begin() -> Callable[[], Frequency]:
    """Ask the firmware for both clocks now; the function returned waits for the answer."""
    future = firmware_calls.submit("measure_clock", _ask_clocks)
    return lambda: _frequency(_waited(FREQUENCY, future))


def frequency_read() -> Frequency:
    """The measured ARM and core clocks (one firmware call for both, shared with everyone asking)."""
    return _frequency(_waited(FREQUENCY, firmware_calls.submit("measure_clock", _ask_clocks)))


async def frequency_aread() -> Frequency:
    """:func:`frequency_read` for the event loop."""
    return _frequency(await _awaited(FREQUENCY, firmware_calls.submit("measure_clock", _ask_clocks)))


def temperature_read() -> Temperature:
    celsius = _reading(
        "system on chip temperature",
        lambda: parsers.parse_millidegrees(host.read_host_file(host.THERMAL_ZONE)),
    )
    return Temperature(system_on_chip=Measurement(quantity=celsius, unit_of_measurement="CELSIUS"))


def uptime_read() -> UpTime:
    seconds = _reading("system uptime", lambda: parsers.parse_uptime(host.read_host_file(host.UPTIME)))
    return UpTime(seconds=seconds, formatted=parsers.format_uptime(seconds))


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


def host_name_read() -> str:
    """This machine's network name, as ``GET /system/platform`` reports it (``networkName``)."""
    return host.read_uname().node


def platform_read() -> Platform:
    uname = _reading("system platform", host.read_uname)
    return Platform(
        machine_type=uname.machine,
        network_name=uname.node,
        operating_system=OperatingSystem(name=uname.system, release=uname.release, version=uname.version),
        model=host.read_board_model(),
    )


def system_read() -> Readings:
    """Every reading that works (``GET /system``); a failed one is ``None`` with its message in ``errors``.

    Raises :class:`ReadingFailed` only when every reading fails. The readings are those declared
    (``system/declarations.py`` and any other app's ``declarations``), read by the registry.
    """
    return readings_read()


# --- Start-up: say once what this machine cannot read -------------------------------------------


async def system_unavailable() -> dict[str, str]:
    """Each reading this machine cannot take, with its message; asked without blocking the loop."""
    return await readings_unavailable()


_start_tasks: set[asyncio.Task[None]] = set()


async def system_unavailable_warn() -> None:
    """Log, as a warning, each reading this machine cannot take."""
    for name, message in (await system_unavailable()).items():
        logger.warning(
            "This machine cannot take the %s reading, so it answers with this error (REST 500, WebSocket "
            "error, null in GET /system): %s",
            name,
            message,
        )


async def system_start() -> None:
    """At start-up, log once as a warning each reading this machine cannot take (in the background,
    so a slow firmware does not hold start-up). Requests that fail the same way are then not logged."""
    task = asyncio.get_running_loop().create_task(system_unavailable_warn(), name="endrpi-system-readings-check")
    _start_tasks.add(task)
    task.add_done_callback(_start_tasks.discard)


async def system_stop() -> None:
    for task in list(_start_tasks):
        task.cancel()


# --- For the doctor: which firmware source answers each question, and what the others said -------


FirmwareQuestion = Literal["get_throttled", "measure_clock arm", "measure_clock core"]


@dataclass(frozen=True)
class FirmwareSourceSaid:
    """What one firmware source said when asked."""

    source: str  # "vcio_gencmd", "vcio", "vcgencmd", "vcio_property" or "sysfs"
    answered: bool
    said: str  # the answer ("throttled=0x50005, sticky bits since boot"), or why it did not answer


@dataclass(frozen=True)
class FirmwareQuestionReport:
    """One question to the firmware: which source answered it, and what each source asked said."""

    question: FirmwareQuestion
    answered_by: str | None  # None when no source answered
    said: tuple[FirmwareSourceSaid, ...]  # each source asked, in order, up to the one that answered


def _said(attempt: Attempt) -> FirmwareSourceSaid:
    answer = attempt.answer
    if attempt.reason is not None or answer is None:
        return FirmwareSourceSaid(attempt.source, answered=False, said=attempt.reason or "no answer")
    if isinstance(answer, ThrottleAnswer):
        window = "sticky bits since boot" if answer.since_boot else "sticky bits of the last ~2 s only"
        return FirmwareSourceSaid(attempt.source, answered=True, said=f"throttled={answer.word:#x}, {window}")
    return FirmwareSourceSaid(attempt.source, answered=True, said=f"{answer} Hz")


def firmware_sources_report() -> list[FirmwareQuestionReport]:
    """Ask each firmware question afresh, each source in its order, and report what each said.

    Blocking (a source may take up to ``ENDRPI_FIRMWARE_TIMEOUT``): meant for ``endrpi_doctor``, not
    for a request. Never raises for a firmware that does not answer, and reads nothing that warns
    (sysfs is not opened on kernels where it would, see ``system.hardware.firmware``).
    """
    questions: list[tuple[FirmwareQuestion, Clock | None]] = [
        ("get_throttled", None),
        ("measure_clock arm", "arm"),
        ("measure_clock core", "core"),
    ]
    reports: list[FirmwareQuestionReport] = []
    for question, clock in questions:
        firmware: Firmware = firmware_build()
        try:
            if clock is None:
                firmware.get_throttled()
            else:
                firmware.measure_clock(clock)
        except (FirmwareError, ValueError):
            pass
        kind: Question = "throttled" if clock is None else "clock"
        reports.append(
            FirmwareQuestionReport(
                question=question,
                answered_by=firmware.source_for(kind),
                said=tuple(_said(attempt) for attempt in firmware.attempts(kind)),
            )
        )
    return reports
