"""Pin names: pure functions from what a client writes to a BCM number, and back.

A client may name a pin the ways gpiozero does, case-insensitively: ``GPIO17``, ``BCM17``,
``BOARD11``, ``J8:11``, ``WPI0`` or ``17``. Only the 26 user GPIOs of the 40-pin header are pins
here; anything else (GPIO0/1, power, ground, numbers off the header) is not.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Literal

from system.parsers import ioctl_readwrite

USER_GPIOS: tuple[int, ...] = tuple(range(2, 28))

# Physical pin of the 40-pin header (J8) -> BCM number, for the user GPIOs.
HEADER_TO_BCM: dict[int, int] = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10,
    21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16, 37: 26,
    38: 20, 40: 21,
}  # fmt: skip
BCM_TO_HEADER: dict[int, int] = {bcm: physical for physical, bcm in HEADER_TO_BCM.items()}

# The other physical pins of the header: power, ground and the HAT ID EEPROM bus (GPIO0/1, not user pins).
HEADER_OTHER: dict[int, str] = {
    1: "3V3", 2: "5V", 4: "5V", 6: "GND", 9: "GND", 14: "GND", 17: "3V3", 20: "GND", 25: "GND",
    27: "ID_SD", 28: "ID_SC", 30: "GND", 34: "GND", 39: "GND",
}  # fmt: skip
HEADER_PINS = 40

# wiringPi numbers, as gpiozero names them (WPI0 is GPIO17).
WIRINGPI_TO_BCM: dict[int, int] = {
    0: 17, 1: 18, 2: 27, 3: 22, 4: 23, 5: 24, 6: 25, 7: 4, 8: 2, 9: 3, 10: 8, 11: 7, 12: 10,
    13: 9, 14: 11, 15: 14, 16: 15, 21: 5, 22: 6, 23: 13, 24: 19, 25: 26, 26: 12, 27: 16,
    28: 20, 29: 21,
}  # fmt: skip

_NAME = re.compile(r"^(GPIO|BCM|BOARD|J8:|WPI|)(\d{1,3})$")


def pin_name(bcm: int) -> str:
    """The name replies key a pin by: ``GPIO17``."""
    return f"GPIO{bcm}"


def parse_pin(text: object) -> int | None:
    """The BCM number of a user GPIO named by ``text``, or ``None`` when it names no such pin."""
    if not isinstance(text, (str, int)) or isinstance(text, bool):
        return None
    match = _NAME.match(str(text).strip().upper())
    if match is None:
        return None
    scheme, number = match.group(1), int(match.group(2))
    if scheme in ("GPIO", "BCM", ""):
        bcm: int | None = number
    elif scheme in ("BOARD", "J8:"):
        bcm = HEADER_TO_BCM.get(number)
    else:
        bcm = WIRINGPI_TO_BCM.get(number)
    return bcm if bcm in USER_GPIOS else None


# --- The kernel's view of a GPIO line (GPIO character device, uAPI v2) --------------------------
#
# struct gpio_v2_line_info (256 bytes): name[32], consumer[32], u32 offset, u32 num_attrs,
# u64 flags, 10 attributes of 16 bytes, u32 padding[4]. GPIO_V2_GET_LINEINFO_IOCTL fills it in
# for the line whose offset is set, without requesting (claiming) the line.

LINE_INFO_SIZE = 256
GPIO_V2_GET_LINEINFO_IOCTL = ioctl_readwrite(0xB4, 0x05, LINE_INFO_SIZE)

LINE_FLAG_USED = 1 << 0
LINE_FLAG_ACTIVE_LOW = 1 << 1
LINE_FLAG_INPUT = 1 << 2
LINE_FLAG_OUTPUT = 1 << 3
LINE_FLAG_BIAS_PULL_UP = 1 << 8
LINE_FLAG_BIAS_PULL_DOWN = 1 << 9
LINE_FLAG_BIAS_DISABLED = 1 << 10

_LINE_INFO = struct.Struct("<32s32sIIQ160s16s")


@dataclass(frozen=True)
class LineInfo:
    """What the kernel says about a line: its direction, and its bias where the driver reports one."""

    offset: int
    name: str
    consumer: str
    used: bool
    direction: Literal["input", "output"]
    pull: Literal["up", "down", "floating"] | None


def line_info_request(offset: int) -> bytes:
    """The zeroed ``gpio_v2_line_info`` asking about line ``offset``."""
    return _LINE_INFO.pack(b"", b"", offset, 0, 0, b"", b"")


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def parse_line_info(buffer: bytes) -> LineInfo:
    """A ``gpio_v2_line_info`` the kernel filled in, decoded."""
    if len(buffer) != LINE_INFO_SIZE:
        raise ValueError(f"a line info is {LINE_INFO_SIZE} bytes; got {len(buffer)}")
    name, consumer, offset, _, flags, _, _ = _LINE_INFO.unpack(buffer)
    pull: Literal["up", "down", "floating"] | None = None
    if flags & LINE_FLAG_BIAS_PULL_UP:
        pull = "up"
    elif flags & LINE_FLAG_BIAS_PULL_DOWN:
        pull = "down"
    elif flags & LINE_FLAG_BIAS_DISABLED:
        pull = "floating"
    return LineInfo(
        offset=offset,
        name=_text(name),
        consumer=_text(consumer),
        used=bool(flags & LINE_FLAG_USED),
        direction="output" if flags & LINE_FLAG_OUTPUT else "input",
        pull=pull,
    )
