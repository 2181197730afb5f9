"""The VideoCore firmware: throttle flags and measured clocks.

A :class:`Firmware` asks its sources in order and remembers the first one that answers, so a
missing source costs one failed attempt per process, not one per reading. Each source raises
:class:`FirmwareUnavailable` when it is not there (no device, no permission, no command) so the
next one is tried, and :class:`FirmwareError` when it is there but answered badly.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Literal, Protocol, TypeVar

from django.conf import settings
from django.core.signals import setting_changed

from system import parsers

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


class Firmware:
    """Asks each source in turn; keeps using the first one that answers."""

    def __init__(self, sources: Sequence[FirmwareSource]) -> None:
        self.sources = list(sources)
        self._working: FirmwareSource | None = None
        self._lock = threading.Lock()

    @property
    def source_name(self) -> str | None:
        return self._working.name if self._working else None

    def _ask(self, question: Callable[[FirmwareSource], T]) -> T:
        working = self._working
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
                if self._working is None:
                    logger.info("Reading the firmware through %s", source.name)
                    self._working = source
            return answer
        raise FirmwareUnavailable("no firmware source answered (" + "; ".join(reasons) + ")")

    def get_throttled(self) -> int:
        return self._ask(lambda source: source.get_throttled())

    def measure_clock(self, clock: Clock) -> int:
        return self._ask(lambda source: source.measure_clock(clock))


@lru_cache(maxsize=1)
def get_firmware() -> Firmware:
    """The process's firmware client, built from settings on first use."""
    return Firmware([VcgencmdSource(settings.ENDRPI_VCGENCMD, settings.ENDRPI_FIRMWARE_TIMEOUT)])


def _reset_firmware(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("ENDRPI_"):
        get_firmware.cache_clear()


setting_changed.connect(_reset_firmware)
