"""Pure functions from the raw text the kernel and firmware print to numbers.

No I/O and no Django: each takes a string (or bytes) and returns a value, or raises ``ValueError``
with a message that says what was wrong with the text.
"""

from __future__ import annotations

import re
from datetime import timedelta

THROTTLE_BITS: dict[str, int] = {
    "underVoltageDetected": 0,
    "armFrequencyCapped": 1,
    "throttling": 2,
    "softTemperatureLimitActive": 3,
    "underVoltageHasOccurred": 16,
    "armFrequencyCappingHasOccurred": 17,
    "throttlingHasOccurred": 18,
    "softTemperatureLimitHasOccurred": 19,
}

_THROTTLED = re.compile(r"^\s*throttled=(0x[0-9a-fA-F]+|\d+)\s*$")
_CLOCK = re.compile(r"^\s*frequency\(\d+\)=(\d+)\s*$")


def parse_millidegrees(text: str) -> float:
    """``/sys/class/thermal/thermal_zone0/temp`` (``"48312\\n"``) to degrees Celsius (48.312)."""
    try:
        return int(text.strip()) / 1000
    except ValueError:
        raise ValueError(f"expected millidegrees, got {text.strip()[:40]!r}") from None


def parse_uptime(text: str) -> float:
    """``/proc/uptime`` (``"1234.56 4567.89\\n"``) to seconds since boot."""
    fields = text.split()
    try:
        seconds = float(fields[0])
    except (IndexError, ValueError):
        raise ValueError(f"expected seconds since boot, got {text.strip()[:40]!r}") from None
    if seconds < 0:
        raise ValueError(f"uptime cannot be negative: {seconds}")
    return seconds


def format_uptime(seconds: float) -> str:
    """Rounded seconds as ``H:MM:SS``, or ``N day(s), H:MM:SS`` past a day."""
    return str(timedelta(seconds=round(seconds)))


def parse_meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` to a map of field name to kilobytes (``{"MemTotal": 3884328, ...}``)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        number = rest.split()
        if number and number[0].isdigit():
            values[name.strip()] = int(number[0])
    return values


def parse_throttled(text: str) -> int:
    """``vcgencmd get_throttled`` (``"throttled=0x50005"``) to the throttle word."""
    match = _THROTTLED.match(text)
    if match is None:
        raise ValueError(f"expected 'throttled=0x...', got {text.strip()[:40]!r}")
    return int(match.group(1), 0)


def throttle_flags(word: int) -> dict[str, bool]:
    """The eight throttle flags of SPEC.md read from the firmware's ``get_throttled`` word."""
    return {name: bool(word >> bit & 1) for name, bit in THROTTLE_BITS.items()}


def parse_clock(text: str) -> int:
    """``vcgencmd measure_clock arm`` (``"frequency(48)=1500398464"``) to hertz."""
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"expected 'frequency(N)=HERTZ', got {text.strip()[:40]!r}")
    return int(match.group(1))
