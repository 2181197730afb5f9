"""The kernel's GPIO character device: pure functions from its structs to values, and back.

No I/O: :mod:`pins.hardware` sends the ioctls; these build the requests and decode the answers.
"""

from __future__ import annotations

import re
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


# --- The SoC's own view of a pin: its function select, level and pull -----------------------------
#
# What raspberrypi/utils ``pinctrl`` reads (``pinctrl/gpiochip_bcm2835.c``, ``gpiochip_rp1.c``): the
# function-select registers through /dev/gpiomem (BCM2835/2711) or /dev/gpiomem0 (RP1), and, where
# those are not there, what the pin controller prints in debugfs. A mode is ``"input"``/``"output"``
# (plain GPIO), ``"alt0"`` ... ``"alt8"`` (a peripheral) or ``"none"`` (RP1, function off).

PinPull = Literal["up", "down", "floating"]
Buffer = bytes | bytearray | memoryview  # registers: a copy, or a view of the mapped device


@dataclass(frozen=True)
class MuxReading:
    """One pin as the SoC (or the pin controller) has it; ``None``: this source cannot tell."""

    mode: str
    level: int | None
    pull: PinPull | None
    owner: str | None = None  # the kernel device whose pinmux claims the pin (debugfs pinmux-pins)


# BCM2835/2711 GPFSELn: 3 bits per pin, 10 pins per register (gpiochip_bcm2835.c bcm2835_gpio_get_fsel).
BCM2835_FSEL_MODES = {0: "input", 1: "output", 4: "alt0", 5: "alt1", 6: "alt2", 7: "alt3", 3: "alt4", 2: "alt5"}
BCM2835_MODE_FSEL = {mode: code for code, mode in BCM2835_FSEL_MODES.items()}
BCM2835_GPLEV0 = 13  # word offsets in the GPIO block
BCM2711_GPPUPPDN0 = 57
BCM2835_REGISTERS = 4 * 61  # the words up to the last BCM2711 pull register
_BCM2711_PULLS: dict[int, PinPull] = {0: "floating", 1: "up", 2: "down"}


def _word(registers: Buffer, index: int) -> int:
    value: int = struct.unpack_from("<I", registers, 4 * index)[0]
    return value


def bcm2835_mux(registers: Buffer, bcm: int, *, bcm2711: bool) -> MuxReading:
    """Pin ``bcm`` from the GPIO block's registers (the first :data:`BCM2835_REGISTERS` bytes).

    The BCM2835's pull registers are write-only (``bcm2835_gpio_get_pull``: "This is a write-only
    mechanism"), so its pull is unknown; the BCM2711 keeps it in ``GPIO_PUP_PDN_CNTRL_REGn``.
    """
    fsel = (_word(registers, bcm // 10) >> ((bcm % 10) * 3)) & 7
    level = (_word(registers, BCM2835_GPLEV0 + bcm // 32) >> (bcm % 32)) & 1
    pull: PinPull | None = None
    if bcm2711:
        pull = _BCM2711_PULLS.get((_word(registers, BCM2711_GPPUPPDN0 + bcm // 16) >> ((bcm % 16) * 2)) & 3)
    return MuxReading(mode=BCM2835_FSEL_MODES[fsel], level=level, pull=pull)


def bcm2835_fsel_word(word: int, bcm: int, mode: str) -> int:
    """GPFSEL register ``word`` with pin ``bcm``'s three bits set to ``mode``."""
    shift = (bcm % 10) * 3
    return (word & ~(7 << shift)) | (BCM2835_MODE_FSEL[mode] << shift)


# RP1 (gpiochip_rp1.c): bank 0 (GPIO0-27) of io (status/ctrl per pin), sys_rio (OUT, OE, SYNC_IN) and pads.
RP1_IO_BANK0 = 0x00000
RP1_SYS_RIO_BANK0 = 0x10000
RP1_PADS_BANK0 = 0x20000
RP1_SET, RP1_CLR = 0x2000, 0x3000  # atomic set/clear aliases of a register
RP1_SPAN = 0x30000
RP1_FSEL_SYS_RIO = 5
RP1_FSEL_NULL = 0x1F
RP1_PADS_IE, RP1_PADS_PUE, RP1_PADS_PDE = 1 << 6, 1 << 3, 1 << 2


def rp1_ctrl_offset(bcm: int) -> int:
    return RP1_IO_BANK0 + (bcm * 2 + 1) * 4


def rp1_pads_offset(bcm: int) -> int:
    return RP1_PADS_BANK0 + 4 + bcm * 4


def rp1_mux(block: Buffer, bcm: int) -> MuxReading:
    """Pin ``bcm`` (bank 0) from RP1's GPIO block as /dev/gpiomem0 maps it (:data:`RP1_SPAN` bytes)."""
    ctrl = _word(block, rp1_ctrl_offset(bcm) // 4)
    pads = _word(block, rp1_pads_offset(bcm) // 4)
    out = _word(block, (RP1_SYS_RIO_BANK0 + 0x0) // 4)
    oe = _word(block, (RP1_SYS_RIO_BANK0 + 0x4) // 4)
    sync_in = _word(block, (RP1_SYS_RIO_BANK0 + 0x8) // 4)
    fsel = ctrl & 0x1F
    if fsel == RP1_FSEL_SYS_RIO:
        mode = "output" if oe >> bcm & 1 else "input"
    elif fsel == RP1_FSEL_NULL:
        mode = "none"
    else:
        mode = f"alt{fsel}"
    # rp1_gpio_get_level: no level with the input buffer off; an output reads what it drives.
    level: int | None = (sync_in >> bcm) & 1 if pads & RP1_PADS_IE else None
    if mode == "output" and level is None:
        level = (out >> bcm) & 1
    pull: PinPull = "up" if pads & RP1_PADS_PUE else "down" if pads & RP1_PADS_PDE else "floating"
    return MuxReading(mode=mode, level=level, pull=pull)


# debugfs /sys/kernel/debug/pinctrl/<device>/pins, one line per pin, e.g. on 6.1 (pinctrl core
# ``pinctrl_pins_show`` + pinctrl-bcm2835.c ``bcm2835_pctl_pin_dbg_show``):
#   pin 2 (gpio2) 0:? function alt0 in hi; irq 0 (none)
_DEBUGFS_PIN = re.compile(r"^pin (\d+) \(([^)]*)\).*? function (\S+) in (hi|lo)\b")
_DEBUGFS_MODES = {"gpio_in": "input", "gpio_out": "output"}
# .../pinmux-pins, for a controller that is not strict (pinmux.c ``pinmux_pins_show``):
#   pin 2 (gpio2): 3f804000.i2c (GPIO UNCLAIMED) function alt0 group gpio2
#   pin 17 (gpio17): (MUX UNCLAIMED) pinctrl-bcm2835:475
_DEBUGFS_MUX = re.compile(r"^pin (\d+) \(([^)]*)\): (\S+)")


def parse_debugfs_pins(text: str) -> dict[int, MuxReading]:
    """Every pin's function and level from a pin controller's debugfs ``pins`` (no pull: it is not printed)."""
    pins: dict[int, MuxReading] = {}
    for line in text.splitlines():
        match = _DEBUGFS_PIN.match(line)
        if match:
            function = match[3]
            mode = _DEBUGFS_MODES.get(function, function)
            pins[int(match[1])] = MuxReading(mode=mode, level=1 if match[4] == "hi" else 0, pull=None)
    return pins


def parse_debugfs_pinmux(text: str) -> dict[int, str]:
    """The device whose pinmux holds each pin, from debugfs ``pinmux-pins`` (pins nobody muxed are absent)."""
    owners: dict[int, str] = {}
    for line in text.splitlines():
        match = _DEBUGFS_MUX.match(line)
        if match and match[3] not in ("(MUX", "UNCLAIMED"):
            owners[int(match[1])] = match[3]
    return owners
