"""Pure functions from the raw text the kernel and firmware print to numbers.

No I/O and no Django: each takes a string (or bytes) and returns a value, or raises ``ValueError``
with a message that says what was wrong with the text.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ThrottleCondition:
    """One of the firmware's four throttle conditions: a bit for now and a sticky bit since boot.

    The one table of them (:data:`THROTTLE_CONDITIONS`): the Throttle model's fields, the history's
    event names, the metrics, the MQTT entities and the dashboard's rows are all read from it.
    """

    name: str  # as the history's events name it: "underVoltage"
    now: str  # the Throttle model's field for the condition now: "underVoltageDetected"
    since_boot: str  # and for "has occurred since boot": "underVoltageHasOccurred"
    now_bit: int  # bits of the firmware's get_throttled word
    since_boot_bit: int


THROTTLE_CONDITIONS = (
    ThrottleCondition("underVoltage", "underVoltageDetected", "underVoltageHasOccurred", 0, 16),
    ThrottleCondition("armFrequencyCapped", "armFrequencyCapped", "armFrequencyCappingHasOccurred", 1, 17),
    ThrottleCondition("throttling", "throttling", "throttlingHasOccurred", 2, 18),
    ThrottleCondition("softTemperatureLimit", "softTemperatureLimitActive", "softTemperatureLimitHasOccurred", 3, 19),
)

# Each Throttle field's bit: the four "now" flags, then the four "since boot" ones.
THROTTLE_BITS: dict[str, int] = {
    **{condition.now: condition.now_bit for condition in THROTTLE_CONDITIONS},
    **{condition.since_boot: condition.since_boot_bit for condition in THROTTLE_CONDITIONS},
}


def snake_case(field: str) -> str:
    """A wire field's Python (and SQL column) name: ``underVoltageDetected`` -> ``under_voltage_detected``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()


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


def parse_meminfo(text: str, fields: Collection[str] | None = None) -> dict[str, int]:
    """``/proc/meminfo`` to a map of field name to kilobytes (``{"MemTotal": 3884328, ...}``).

    With ``fields``, stops reading as soon as it has them all (the kernel prints MemTotal, MemFree
    and MemAvailable first), and leaves out the rest.
    """
    values: dict[str, int] = {}
    wanted = len(fields) if fields is not None else -1
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        name = name.strip()
        if fields is not None and name not in fields:
            continue
        number = rest.split()
        if number and number[0].isdigit():
            values[name] = int(number[0])
            if len(values) == wanted:
                break
    return values


def parse_throttled(text: str) -> int:
    """``vcgencmd get_throttled`` (``"throttled=0x50005"``) to the throttle word."""
    match = _THROTTLED.match(text)
    if match is None:
        raise ValueError(f"expected 'throttled=0x...', got {text.strip()[:40]!r}")
    return int(match.group(1), 0)


def throttle_flags(word: int) -> dict[str, bool]:
    """The throttle reading's eight flags (bits: ``THROTTLE_BITS``) from the firmware's ``get_throttled`` word."""
    return {name: bool(word >> bit & 1) for name, bit in THROTTLE_BITS.items()}


def parse_clock(text: str) -> int:
    """``vcgencmd measure_clock arm`` (``"frequency(48)=1500398464"``) to hertz."""
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"expected 'frequency(N)=HERTZ', got {text.strip()[:40]!r}")
    return int(match.group(1))


def parse_sysfs_throttled(text: str) -> int:
    """The kernel's ``.../soc:firmware/get_throttled`` file (``"50005\\n"``, hex without ``0x``) to the word."""
    try:
        return int(text.strip(), 16)
    except ValueError:
        raise ValueError(f"expected a hexadecimal throttle word, got {text.strip()[:40]!r}") from None


def parse_device_tree_string(raw: bytes) -> str:
    """A device-tree string property (``b"Raspberry Pi 4 Model B Rev 1.4\\x00"``) to text."""
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace").strip()


# --- The VideoCore mailbox property interface ---------------------------------------------------
#
# One ioctl on /dev/vcio (or /dev/vcio_gencmd) carries a buffer of little-endian 32-bit words:
#
#   [total size in bytes] [0 = process request; answered 0x80000000 success / 0x80000001 error]
#   [tag id] [value buffer size in bytes] [0 = request; answered 0x80000000 | value length]
#   [value buffer ...] [0 = end tag]
#
# These functions build and read that buffer; opening the device and the ioctl itself live in
# ``system.hardware.firmware``. Every Raspberry Pi kernel is little-endian.

MAILBOX_REQUEST = 0x00000000
MAILBOX_SUCCESS = 0x80000000
TAG_RESPONSE = 0x80000000
TAG_GET_THROTTLED = 0x00030046
TAG_GET_CLOCK_MEASURED = 0x00030047
TAG_GET_GENCMD_RESULT = 0x00030080
CLOCK_IDS: dict[str, int] = {"arm": 3, "core": 4}
# The whole buffer of one mailbox ioctl, at most: CPython's fcntl.ioctl copies a buffer of up to
# 1,024 bytes (its IOCTL_BUFSZ) and releases the GIL while the kernel waits on the firmware; a larger
# one is passed in place with the GIL held for the whole round trip (up to a second).
MAILBOX_BUFFER_MAX = 1024
# The room for a command and for its answer: vcgencmd's MAX_STRING (1024, 4096 since 2025) made small
# enough that the whole gencmd buffer (24 bytes of header and error word, this, the end tag) is
# MAILBOX_BUFFER_MAX. Answers to the commands Endrpi sends are under 40 bytes.
GENCMD_MAX = MAILBOX_BUFFER_MAX - 28

_IOC_WRITE = 1
_IOC_READ = 2


def ioctl_readwrite(kind: int, number: int, size: int) -> int:
    """Linux's ``_IOWR(kind, number, size)`` request code (``_IOWR(100, 0, char *)`` on a 64-bit Pi)."""
    return ((_IOC_READ | _IOC_WRITE) << 30) | (size << 16) | (kind << 8) | number


def _words(buffer: bytes) -> tuple[int, ...]:
    if len(buffer) % 4 or len(buffer) < 24:
        raise ValueError(f"a mailbox buffer is whole 32-bit words, at least 6; got {len(buffer)} bytes")
    return struct.unpack(f"<{len(buffer) // 4}I", buffer)


def mailbox_request(tag: int, values: Sequence[int], *, value_size: int | None = None) -> bytes:
    """The buffer asking ``tag`` with request ``values`` (32-bit words) in a value buffer of ``value_size``."""
    size = 4 * len(values) if value_size is None else value_size
    if size % 4 or size < 4 * len(values):
        raise ValueError(f"a value buffer of {size} bytes cannot hold {len(values)} words")
    padding = (0,) * (size // 4 - len(values))
    words = (0, MAILBOX_REQUEST, tag, size, 0, *values, *padding, 0)
    return struct.pack(f"<{len(words)}I", 4 * len(words), *words[1:])


def mailbox_response(buffer: bytes, tag: int, count: int) -> tuple[int, ...]:
    """The first ``count`` value words the firmware answered to ``tag``; ``ValueError`` if it did not."""
    words = _words(buffer)
    if words[0] != len(buffer):
        raise ValueError(f"mailbox buffer says it is {words[0]} bytes but is {len(buffer)}")
    if words[1] != MAILBOX_SUCCESS:
        raise ValueError(f"the firmware refused the request (code {words[1]:#010x})")
    if words[2] != tag:
        raise ValueError(f"the firmware answered tag {words[2]:#010x}, not {tag:#010x}")
    if not words[4] & TAG_RESPONSE:
        raise ValueError(f"the firmware did not answer tag {tag:#010x}")
    length = words[4] & ~TAG_RESPONSE
    if length < 4 * count or 5 + count > len(words):
        raise ValueError(f"the firmware answered {length} bytes to tag {tag:#010x}; expected {4 * count}")
    return tuple(words[5 : 5 + count])


def gencmd_request(command: str) -> bytes:
    """The buffer sending a text command (``"get_throttled"``) as vcgencmd does: error word, then text.

    The layout is vcgencmd's ``gencmd()`` (raspberrypi/utils ``vcgencmd/vcgencmd.c``) word for word:
    the value buffer's declared size is the text room, and the error word sits before it, with
    :data:`GENCMD_MAX` for vcgencmd's ``MAX_STRING`` so the buffer is :data:`MAILBOX_BUFFER_MAX` bytes.
    """
    text = command.encode("ascii")
    if len(text) + 1 >= GENCMD_MAX:
        raise ValueError(f"a firmware command is under {GENCMD_MAX} bytes; got {len(text)}")
    value = struct.pack("<I", 0) + text.ljust(GENCMD_MAX, b"\0")
    words = struct.pack("<5I", 0, MAILBOX_REQUEST, TAG_GET_GENCMD_RESULT, GENCMD_MAX, 0)
    body = words + value + struct.pack("<I", 0)
    return struct.pack("<I", len(body)) + body[4:]


def gencmd_response(buffer: bytes) -> str:
    """The text the firmware answered to a command (``"throttled=0x50005"``); ``ValueError`` on an error."""
    if len(buffer) < 28 or len(buffer) % 4:
        raise ValueError(f"a firmware command answer is whole 32-bit words; got {len(buffer)} bytes")
    size, code, tag, _, _, error = struct.unpack_from("<6I", buffer)
    if size != len(buffer):
        raise ValueError(f"mailbox buffer says it is {size} bytes but is {len(buffer)}")
    if code != MAILBOX_SUCCESS:
        raise ValueError(f"the firmware refused the request (code {code:#010x})")
    if tag != TAG_GET_GENCMD_RESULT:
        raise ValueError(f"the firmware answered tag {tag:#010x}, not {TAG_GET_GENCMD_RESULT:#010x}")
    if error:
        raise ValueError(f"the firmware answered error {error} to the command")
    return buffer[24:-4].split(b"\0", 1)[0].decode("ascii", errors="replace")
