"""The kernel's GPIO character device: pure functions from its structs to values, and back.

No I/O: :mod:`pins.hardware` sends the ioctls; these build the requests and decode the answers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from system.parsers import ioctl_readwrite

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


# struct gpiochip_info (68 bytes): name[32], label[32], u32 lines. GPIO_GET_CHIPINFO_IOCTL is
# _IOR(0xB4, 0x01, struct gpiochip_info); the kernel fills it in (gpiolib-cdev.c ``chipinfo_get``).

CHIP_INFO_SIZE = 68
_IOC_READ = 2
GPIO_GET_CHIPINFO_IOCTL = (_IOC_READ << 30) | (CHIP_INFO_SIZE << 16) | (0xB4 << 8) | 0x01

_CHIP_INFO = struct.Struct("<32s32sI")


@dataclass(frozen=True)
class ChipInfo:
    """A gpiochip as the kernel names it: ``gpiochip0``, its label (``pinctrl-rp1``) and its line count."""

    name: str
    label: str
    lines: int


def parse_chip_info(buffer: bytes) -> ChipInfo:
    """A ``gpiochip_info`` the kernel filled in, decoded."""
    if len(buffer) != CHIP_INFO_SIZE:
        raise ValueError(f"a chip info is {CHIP_INFO_SIZE} bytes; got {len(buffer)}")
    name, label, lines = _CHIP_INFO.unpack(buffer)
    return ChipInfo(name=_text(name), label=_text(label), lines=lines)
