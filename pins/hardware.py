"""The only code that touches GPIO: the pin library, the pins the server drives, and the kernel's
view of the header's gpiochip.

The pin factory is chosen on first use, never at import: on a Raspberry Pi gpiozero's
``LGPIOFactory`` on the header's gpiochip, elsewhere gpiozero's mock pins. ``ENDRPI_GPIO`` forces
either. Tests install their own :class:`Gpio` with :func:`install_gpio`.

The header's gpiochip is found by its label (``pinctrl-rp1`` on a Pi 5, ``pinctrl-bcm2711`` on a
Pi 4, ``pinctrl-bcm2835`` before), never by number: on early Pi 5 kernels it is ``gpiochip4``, on
later ones ``gpiochip0`` (with ``gpiochip4`` kept as a link to it).

Reading never changes a pin. On real hardware, creating a gpiozero pin claims the line (lgpio
resets it to a floating input), so only pins the server has configured are gpiozero pins (kept,
claimed, for the server's lifetime, or until a failed update releases a pin it had just claimed).
Any other pin is read from the kernel's line info (``GPIO_V2_GET_LINEINFO_IOCTL``), which claims
nothing. The kernel knows a line's direction, whether a driver or program uses it and under which
consumer name, but keeps no bias for a line nobody has requested (``gpiolib.c`` clears the bias
flags on release), and its level is unknown without claiming it: such a pin reads with ``state``
and ``pull`` unknown (``None``).

Every failure of the pin library (gpiozero's ``GPIOZeroError``, lgpio's own ``lgpio.error``, an
``OSError``) becomes a :class:`GpioError` that names the pin and the reason: :class:`GpioBusy`
when another program or driver holds the line, :class:`GpioUnsupported` when the pin cannot do it.

Private internals of other libraries (each behind one adapter, each guarded by a test that fails
loudly when the library changes):

* :func:`_lgpio_line_free` reads ``LGPIOFactory._handle`` (gpiozero/pins/lgpio.py), the lgpio chip
  handle, to give one line back with lgpio's public ``gpio_free``: gpiozero has no public way to
  release a single pin (``LGPIOPin.close`` re-claims it as an input). Guard:
  ``tests/pins/test_real_gpio.py::test_the_line_release_adapter_still_fits_gpiozero``.
* :func:`_lgpio_pwm` reads the same handle to drive software PWM with lgpio's public ``tx_pwm`` and
  its float duty cycle: ``LGPIOPin`` keeps the duty as ``int(value * 100)`` (whole percent, and a
  state under 0.01 runs PWM at 0 %). Guard: ``tests/pins/test_pwm.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import mmap
import os
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from gpiozero import Factory, GPIOZeroError, Pin, PinFixedPull, PinPWMUnsupported
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from pins import functions, naming, parsers, rules
from system.hardware.host import OpenDevices, host_path, read_board_model, read_host_bytes, read_host_file

logger = logging.getLogger(__name__)

Function = Literal["input", "output"]
Pull = Literal["up", "down", "floating"]
# Called with the BCM number of an input pin whose level changed, on the pin library's thread.
EdgeListener = Callable[[int], None]

# The labels of the gpiochip that drives the 40-pin header, newest board first.
HEADER_CHIP_LABELS = ("pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835")

# lgpio's error texts (joan2937/lg lgErr.c ``xErrInfo``) that say something a client can act on.
LG_GPIO_BUSY = "GPIO busy"  # lgGpio.c xGpioHandleRequest: the kernel answered EBUSY
# lgGpio.c lgGpioClaimAlert: lgpio frees its own claim on the line (xSetAsFree), then asks the kernel
# for it with edge detection; ANY failure of that GPIO_V2_GET_LINE_IOCTL becomes this one code, the
# errno dropped: EBUSY (another user took the line), ENXIO (gpiolib-cdev.c edge_detector_setup: the
# line has no interrupt), or the interrupt request itself failing. So it does not mean "busy".
LG_BAD_EVENT_REQUEST = "bad event request"
LG_BAD_PWM_FREQ = "bad PWM frequency"  # lgGpio.c lgTxPwm: outside 0.1-10,000 Hz

_edge_listener: EdgeListener | None = None


def watch_edges(listener: EdgeListener | None) -> EdgeListener | None:
    """Have ``listener`` called whenever a configured input pin changes level (``None`` stops it).

    Returns the listener it replaced.
    """
    global _edge_listener
    previous, _edge_listener = _edge_listener, listener
    return previous


def _edge(bcm: int) -> None:
    listener = _edge_listener
    if listener is None:
        return
    try:
        listener(bcm)
    except Exception:  # never into the pin library's callback thread
        logger.exception("Handling a level change of GPIO%d failed", bcm)


class GpioError(OSError):
    """The GPIO hardware refused an operation; the message says which and why."""


class GpioUnsupported(GpioError):
    """The pin cannot do what was asked (PWM on a pin without it, a pull its resistors rule out)."""


class GpioBusy(GpioError):
    """Another program or a kernel driver holds the line."""


@dataclass(frozen=True)
class PinState:
    """What a pin is doing, in gpiozero's words; ``used_by`` names another user of the line.

    ``mux`` is what the SoC's function select says (``functions.GPIO``, ``"I2C1 SDA"``; ``None``
    where it cannot be read, e.g. simulated pins), ``mode`` its raw value (``"input"``, ``"alt0"``).
    """

    function: Function
    state: float | None
    pull: Pull | None
    used_by: str | None = None
    mux: str | None = None
    mode: str | None = None


def pin_library_errors() -> tuple[type[BaseException], ...]:
    """Every exception type the pin libraries raise: gpiozero's, ``OSError``, and lgpio's own once loaded."""
    lgpio = sys.modules.get("lgpio")
    error = getattr(lgpio, "error", None)
    extra: tuple[type[BaseException], ...] = (error,) if isinstance(error, type) else ()
    return (GPIOZeroError, OSError, *extra)


def library_error_text(error: BaseException) -> str:
    """The reason a pin library gave. ``lgpio.error`` keeps it in ``value`` (its ``str`` adds quotes)."""
    value = getattr(error, "value", None)
    return value if isinstance(value, str) else str(error)


# --- The kernel's view of the header's gpiochip ---------------------------------------------------


@dataclass(frozen=True)
class HeaderChip:
    """The gpiochip of the 40-pin header: its device and the kernel's label for it."""

    path: Path
    label: str
    number: int


class ChipDevice(Protocol):
    """The two read-only ioctls of a GPIO character device. Raises ``OSError`` as ``open`` and ``ioctl`` do."""

    def line_info(self, path: Path, request: bytes) -> bytes: ...

    def chip_info(self, path: Path) -> bytes: ...


class GpioChipDevice(OpenDevices):
    """The real ``/dev/gpiochipN``: opened once, read-only; asking about a chip or a line claims nothing."""

    def line_info(self, path: Path, request: bytes) -> bytes:
        return self.ioctl(path, parsers.GPIO_V2_GET_LINEINFO_IOCTL, request)

    def chip_info(self, path: Path) -> bytes:
        return self.ioctl(path, parsers.GPIO_GET_CHIPINFO_IOCTL, bytes(parsers.CHIP_INFO_SIZE))


def _chip_number(path: Path) -> int:
    digits = path.name.removeprefix("gpiochip")
    return int(digits) if digits.isdigit() else sys.maxsize


def find_header_chip(device: ChipDevice) -> HeaderChip | None:
    """The header's gpiochip under ``/dev`` (below the host root), by label; ``None`` when there is none.

    Lowest number first: a later Pi 5 kernel has the header at ``gpiochip0`` and a link to it at
    ``gpiochip4``, an early one has other chips at 0-3 and the header at ``gpiochip4``.
    """
    try:
        paths = sorted(
            (path for path in host_path("dev").iterdir() if path.name.startswith("gpiochip")), key=_chip_number
        )
    except OSError:
        return None
    for path in paths:
        try:
            info = parsers.parse_chip_info(device.chip_info(path))
        except (OSError, ValueError):
            continue
        if info.label in HEADER_CHIP_LABELS:
            return HeaderChip(path=path, label=info.label, number=_chip_number(path))
    return None


class KernelLines:
    """What the kernel says about the lines of one gpiochip (BCM number = line offset on a Pi)."""

    def __init__(self, path: Path, device: ChipDevice) -> None:
        self.path = path
        self.device = device

    def info(self, bcm: int) -> parsers.LineInfo:
        try:
            return parsers.parse_line_info(self.device.line_info(self.path, parsers.line_info_request(bcm)))
        except OSError as error:
            raise GpioError(
                f"the kernel's line info for GPIO{bcm} is unavailable ({self.path}: {error.strerror})"
            ) from None
        except ValueError as error:
            raise GpioError(f"unexpected line info for GPIO{bcm}: {error}") from None

    def read(self, bcm: int) -> PinState:
        info = self.info(bcm)
        # The level of a line nobody here claimed is unknown: reading it would mean claiming it.
        return PinState(function=info.direction, state=None, pull=info.pull, used_by=used_by(info))

    def consumer(self, bcm: int) -> str | None:
        """Who holds ``bcm`` now, as the kernel names it (``None`` when free or unknown)."""
        try:
            return used_by(self.info(bcm))
        except GpioError:
            return None


def used_by(info: parsers.LineInfo) -> str | None:
    """The consumer of a line in use (``"unknown"`` when it has no name, e.g. muxed to I2C), else ``None``."""
    if not info.used:
        return None
    return info.consumer or "unknown"


# --- The SoC's function select (what raspberrypi/utils ``pinctrl`` reads) --------------------------

# /dev/gpiomem maps the BCM2835/2711 GPIO block (one page), /dev/gpiomem0 RP1's (Pi OS kernels only).
GPIOMEM = {"pinctrl-bcm2835": ("dev/gpiomem", 4096), "pinctrl-bcm2711": ("dev/gpiomem", 4096)}
GPIOMEM_RP1 = ("dev/gpiomem0", parsers.RP1_SPAN)
DEBUGFS_PINCTRL = "sys/kernel/debug/pinctrl"
DEVICE_TREE = "proc/device-tree"
# pinctrl-bcm2835.c ``bcm2835_functions``: the names its debugfs ``pinmux-select`` takes.
_BCM2835_DEBUGFS_FUNCTIONS = {"input": "gpio_in", "output": "gpio_out"}


class PinMux:
    """Each header pin's real function, level and pull, as the SoC has them; claims nothing.

    The kernel's line info cannot tell a pin muxed to I2C or a UART from a free one (neither
    ``pinctrl-bcm2835`` nor ``pinctrl-rp1`` is a strict pin controller, so ``pinmux.c`` reports the
    line usable and lets any program claim it, re-muxing it to GPIO), and it caches the direction of
    lines nobody holds. So, as raspberrypi/utils ``pinctrl`` does: the function-select registers
    through ``/dev/gpiomem`` (BCM2835/2711) or ``/dev/gpiomem0`` (RP1), mapped once, read-only; else
    the pin controller's debugfs ``pins`` (root only); ``pinmux-pins`` names the driver holding a pin
    where it is readable. Without any of them a pin's function is unknown (``None``).
    """

    def __init__(self, chip_label: str) -> None:
        self.label = chip_label
        self.rp1 = chip_label == "pinctrl-rp1"
        self._device = GPIOMEM_RP1 if self.rp1 else GPIOMEM.get(chip_label, ("dev/gpiomem", 4096))
        self._map: mmap.mmap | None = None
        self._unmappable = False
        self._debugfs_dir: Path | Literal[False] | None = False  # False: not looked for yet
        self._lock = threading.Lock()

    def _open(self, *, writable: bool) -> mmap.mmap:
        relative, size = self._device
        fd = os.open(host_path(relative), (os.O_RDWR | os.O_SYNC if writable else os.O_RDONLY) | os.O_CLOEXEC)
        try:
            access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
            return mmap.mmap(fd, size, mmap.MAP_SHARED, access=access)
        finally:
            os.close(fd)  # the mapping stays valid

    def _registers(self) -> mmap.mmap | None:
        if self._map is None and not self._unmappable:
            with self._lock:
                if self._map is None and not self._unmappable:
                    try:
                        self._map = self._open(writable=False)
                    except (OSError, ValueError):  # no such device (not Pi OS), no permission, too small
                        self._unmappable = True
        return self._map

    def _decode(self, registers: mmap.mmap, bcm: int) -> parsers.MuxReading:
        view = memoryview(registers)
        try:
            if self.rp1:
                return parsers.rp1_mux(view, bcm)
            return parsers.bcm2835_mux(view, bcm, bcm2711=self.label == "pinctrl-bcm2711")
        finally:
            view.release()

    def _debugfs(self) -> Path | None:
        """This controller's debugfs directory (``3f200000.gpio-pinctrl-bcm2835``), when readable; looked
        for once (debugfs is mounted at boot, and only root may list it)."""
        if self._debugfs_dir is False:
            found: Path | None = None
            try:
                for path in sorted(host_path(DEBUGFS_PINCTRL).iterdir()):
                    if path.name.endswith(self.label) and (path / "pins").exists():
                        found = path
                        break
            except OSError:
                pass
            self._debugfs_dir = found
        return self._debugfs_dir

    @property
    def source(self) -> str | None:
        """Where readings come from: ``/dev/gpiomem``, debugfs, or ``None`` (unknown)."""
        if self._registers() is not None:
            return "/" + self._device[0]
        debugfs = self._debugfs()
        return None if debugfs is None else f"/{debugfs.relative_to(host_path(''))}/pins"

    def read(self, pins: Iterable[int]) -> dict[int, parsers.MuxReading]:
        """``pins`` as the SoC has them now; a pin no source can tell about is absent."""
        wanted = list(pins)
        registers = self._registers()
        debugfs = self._debugfs()
        owners: dict[int, str] = {}
        if debugfs is not None:
            try:
                owners = parsers.parse_debugfs_pinmux(
                    read_host_file(str(debugfs.relative_to(host_path("")) / "pinmux-pins"))
                )
            except OSError:
                owners = {}
        found: dict[int, parsers.MuxReading] = {}
        if registers is not None:
            found = {bcm: self._decode(registers, bcm) for bcm in wanted}
        elif debugfs is not None:
            try:
                every = parsers.parse_debugfs_pins(read_host_file(str(debugfs.relative_to(host_path("")) / "pins")))
            except OSError:
                every = {}
            found = {bcm: every[bcm] for bcm in wanted if bcm in every}
        return {
            bcm: replace(reading, owner=owners.get(bcm)) if bcm in owners else reading for bcm, reading in found.items()
        }

    def function(self, bcm: int, mode: str) -> str:
        return functions.function_name(chip_label=self.label, bcm=bcm, mode=mode)

    def set_mode(self, bcm: int, mode: str) -> bool:
        """Put ``bcm``'s function select back to ``mode`` (after the kernel reset it on release), as
        ``pinctrl set`` does: through ``/dev/gpiomem`` read-write, else debugfs ``pinmux-select``.
        ``False`` when neither can be written (no such device, no permission): the caller says so."""
        try:
            registers = self._open(writable=True)
        except (OSError, ValueError):
            return self._select(bcm, mode)
        try:
            if self.rp1:
                self._rp1_set(registers, bcm, mode)
            else:
                word = struct.unpack_from("<I", registers, 4 * (bcm // 10))[0]
                struct.pack_into("<I", registers, 4 * (bcm // 10), parsers.bcm2835_fsel_word(word, bcm, mode))
        finally:
            registers.close()
        return True

    @staticmethod
    def _rp1_set(registers: mmap.mmap, bcm: int, mode: str) -> None:
        """gpiochip_rp1.c ``rp1_gpio_set_fsel``: SYS_RIO for GPIO with the output enable set or cleared."""
        ctrl = parsers.rp1_ctrl_offset(bcm)
        fsel = parsers.RP1_FSEL_SYS_RIO if mode in functions.PLAIN else parsers.RP1_FSEL_NULL
        if mode.startswith("alt") and mode[3:].isdigit():
            fsel = int(mode[3:])
        if mode in functions.PLAIN:
            oe = parsers.RP1_SYS_RIO_BANK0 + 0x4 + (parsers.RP1_SET if mode == "output" else parsers.RP1_CLR)
            struct.pack_into("<I", registers, oe, 1 << bcm)
        word = struct.unpack_from("<I", registers, ctrl)[0]
        struct.pack_into("<I", registers, ctrl, (word & ~0x1F) | fsel)

    def _select(self, bcm: int, mode: str) -> bool:
        debugfs = self._debugfs()
        if debugfs is None or self.rp1:
            return False
        # pinmux.c ``pinmux_select``: "<group> <function>", the line ending it included.
        request = f"gpio{bcm} {_BCM2835_DEBUGFS_FUNCTIONS.get(mode, mode)}\n".encode()
        try:
            fd = os.open(debugfs / "pinmux-select", os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, request)
            finally:
                os.close(fd)
        except OSError:
            return False
        return True

    def why(self, function: str, reading: parsers.MuxReading) -> str:
        """Why ``function`` holds the pin, in the owner's words: the config.txt setting that turned its
        interface on (the device tree's alias of its controller is ``okay``), else the kernel driver
        holding its pinmux, else the function select itself."""
        interface = functions.interface_of(function)
        if interface is not None:
            alias, wording = interface
            try:
                node = read_host_bytes(f"{DEVICE_TREE}/aliases/{alias}").rstrip(b"\0").decode("ascii", "replace")
                status = read_host_bytes(f"{DEVICE_TREE}{node}/status").rstrip(b"\0")
            except OSError:
                status = b""
            if status in (b"okay", b"ok"):
                return wording
        if reading.owner:
            return f"the kernel's {reading.owner} driver holds it"
        return f"its function select is {reading.mode.upper()}"


# --- The pins ------------------------------------------------------------------------------------


class Gpio:
    """A pin factory and the pins this server has configured (kept for its lifetime).

    ``lines`` reads the pins the server has not configured without touching them; without it (the
    simulated GPIO) every pin read is a gpiozero mock pin, which disturbs nothing real.
    """

    HISTORY = 64  # the most recent states a simulated pin remembers

    def __init__(
        self,
        factory: Factory,
        *,
        simulated: bool,
        lines: KernelLines | None = None,
        chip: HeaderChip | None = None,
        mux: PinMux | None = None,
    ) -> None:
        self.factory = factory
        self.simulated = simulated
        self.lines = lines
        self.chip = chip
        self.mux = mux
        # What the SoC had on each pin before this server first claimed it: what releasing it puts back.
        self._found: dict[int, parsers.MuxReading] = {}
        self.errors = pin_library_errors()
        self._pins: dict[int, Pin] = {}
        self._configured: set[int] = set()
        self._lock = threading.Lock()
        # The duty cycle (0-1) of each pin running lgpio's software PWM through :func:`_lgpio_pwm`.
        self._duty: dict[int, float] = {}
        # gpiozero holds ``when_changed`` callbacks weakly; these are the strong references.
        self._edge_callbacks: dict[int, Callable[[object, object], None]] = {}

    @property
    def factory_name(self) -> str:
        return type(self.factory).__name__

    def is_configured(self, bcm: int) -> bool:
        return bcm in self._configured

    def _pin(self, bcm: int) -> Pin:
        pin = self._pins.get(bcm)
        if pin is None:
            with self._lock:
                pin = self._pins.get(bcm)
                if pin is None:
                    pin = self.factory.pin(bcm)  # claims the line on real hardware
                    self._pins[bcm] = pin
        return pin

    def _failure(self, bcm: int, error: BaseException) -> GpioError:
        """``error`` from the pin library as a :class:`GpioError` naming ``bcm`` and the reason."""
        name = naming.pin_name(bcm)
        if isinstance(error, PinPWMUnsupported):
            return GpioUnsupported(f"{name} does not support PWM; use a state of 0 or 1")
        if isinstance(error, PinFixedPull):
            return GpioUnsupported(f"{name} cannot have that pull: {error}")
        text = library_error_text(error)
        consumer = None
        if text in (LG_GPIO_BUSY, LG_BAD_EVENT_REQUEST) and self.lines is not None:
            consumer = self.lines.consumer(bcm)
        if text == LG_GPIO_BUSY or (text == LG_BAD_EVENT_REQUEST and consumer is not None):
            holder = f" ({consumer})" if consumer else ""
            return GpioBusy(f"{name} is in use by another program or driver{holder}")
        if text == LG_BAD_EVENT_REQUEST:
            # Nobody else holds the line: the kernel refused edge detection itself (no interrupt for
            # the line, or the interrupt could not be had). lgpio keeps no errno to say which.
            return GpioError(
                f"{name} could not be watched for level changes: the kernel refused lgpio's edge-detection "
                "request for the line (lgpio: bad event request)"
            )
        if text == LG_BAD_PWM_FREQ:
            return GpioUnsupported(
                f"{name} cannot drive PWM at {settings.ENDRPI_PWM_FREQUENCY:g} Hz (ENDRPI_PWM_FREQUENCY): "
                "lgpio's PWM runs at 0.1 to 10,000 Hz"
            )
        return GpioError(text)

    def mux_readings(self, pins: Iterable[int]) -> Mapping[int, parsers.MuxReading]:
        """What the SoC's function select says of ``pins`` (one read for all), for :meth:`read`."""
        return self.mux.read(pins) if self.mux is not None else {}

    def read(self, bcm: int, *, readings: Mapping[int, parsers.MuxReading] | None = None) -> PinState:
        """``bcm`` as it is now; ``readings`` from :meth:`mux_readings` saves reading them pin by pin."""
        if readings is None:
            readings = self.mux_readings([bcm])
        return self._read(bcm, readings.get(bcm))

    def _unclaimed(self, lines: KernelLines, bcm: int, reading: parsers.MuxReading | None) -> PinState:
        """A pin this server has not claimed: who holds it from line info; its function, direction,
        level (and pull, where the SoC keeps it readable) from the function select, since line info
        cannot tell a muxed pin from a free one and caches the direction of unclaimed lines."""
        state = lines.read(bcm)
        if reading is None or self.mux is None:
            return state
        plain = reading.mode in functions.PLAIN
        return PinState(
            function=reading.mode if plain else state.function,  # type: ignore[arg-type]
            state=float(reading.level) if plain and reading.level is not None else None,
            pull=reading.pull if reading.pull is not None else state.pull,
            used_by=state.used_by or reading.owner,
            mux=self.mux.function(bcm, reading.mode),
            mode=reading.mode,
        )

    def taken(self, bcm: int) -> str | None:
        """Why ``bcm`` is not this server's to claim although the kernel would let it (its function is
        not plain GPIO, or a driver's pinmux holds it), naming what has it: ``GPIO2 is I2C1 SDA
        (i2c_arm is on in config.txt)``. ``None`` for plain GPIO, a pin this server configured, or a
        pin whose function nobody here can read."""
        if self.mux is None or bcm in self._configured:
            return None
        reading = self.mux.read([bcm]).get(bcm)
        if reading is None:
            return None
        name = naming.pin_name(bcm)
        if reading.mode not in functions.PLAIN:
            function = self.mux.function(bcm, reading.mode)
            return f"{name} is {function} ({self.mux.why(function, reading)})"
        if reading.owner:
            return f"{name} is held by the kernel's {reading.owner} driver (its pinmux)"
        return None

    def _read(self, bcm: int, reading: parsers.MuxReading | None) -> PinState:
        if self.lines is not None and bcm not in self._configured:
            return self._unclaimed(self.lines, bcm, reading)
        try:
            pin = self._pin(bcm)
            function = pin.function
            if function not in ("input", "output"):
                raise GpioError(f"GPIO{bcm} is in use by another function ({function})")
            duty = self._duty.get(bcm)  # lgpio's PWM: the level read would be a random phase
            state = pin.state if duty is None else duty
            pull = pin.pull
        except self.errors as error:
            if isinstance(error, GpioError):
                raise
            raise self._failure(bcm, error) from error
        return PinState(
            function=function,
            state=None if state is None else float(state),
            pull=pull if pull in ("up", "down", "floating") else None,
            mux=None if self.simulated else functions.GPIO,  # claimed here: gpiolib made it plain GPIO
            mode=None if self.simulated else function,
        )

    def _pin_for(self, bcm: int) -> Pin:
        """``bcm``'s gpiozero pin; the first time, what the SoC has there is remembered for its release."""
        if bcm not in self._pins and bcm not in self._found and self.mux is not None:
            reading = self.mux.read([bcm]).get(bcm)
            if reading is not None:
                self._found[bcm] = reading
        return self._pin(bcm)

    def set_input(self, bcm: int, pull: Pull) -> None:
        """Make ``bcm`` an input with ``pull``, and report its level changes to :func:`watch_edges`' listener."""
        try:
            pin = self._pin_for(bcm)
            self._unwatch(pin, bcm)  # configuring it is not an edge to report
            self._pwm_off(pin, bcm)
            pin.function = "input"
            pin.pull = pull
            self._watch(pin, bcm)
        except self.errors as error:
            raise self._failure(bcm, error) from error
        self._configured.add(bcm)
        self._trim(pin)

    def set_output(self, bcm: int, state: float) -> None:
        """Drive ``state``: 0 or 1 as a digital level, anything between as a PWM duty cycle."""
        try:
            claimed = bcm in self._pins
            pin = self._pin_for(bcm)
            self._unwatch(pin, bcm)
            if not claimed and not isinstance(self.factory, MockFactory):
                # Claimed straight as an output at its level: never an input or low on the way, so an
                # output the kernel kept driving (Pi OS) through a restart does not blink.
                _lgpio_claim_output(self.factory, bcm, 1 if state >= 1.0 else 0)
            pin.function = "output"
            if state in (0.0, 1.0):
                self._pwm_off(pin, bcm)
                pin.state = bool(state)
            elif isinstance(self.factory, MockFactory):
                if pin.frequency is None:
                    pin.frequency = settings.ENDRPI_PWM_FREQUENCY
                pin.state = state
            else:
                frequency = settings.ENDRPI_PWM_FREQUENCY
                high, period = rules.pwm_timing(state=state, frequency=frequency)
                _lgpio_pwm(self.factory, bcm, frequency, state * 100)
                self._duty[bcm] = high / period  # what lgpio times, in whole microseconds
        except self.errors as error:
            raise self._failure(bcm, error) from error
        self._configured.add(bcm)
        self._trim(pin)

    def release(self, bcm: int) -> None:
        """Give ``bcm`` back exactly as the SoC had it before this server first claimed it: function,
        direction, level and pull; not watched, not claimed.

        The line is put back while still claimed (an output at its old level, an input with its old
        pull: gpiozero claims with "no pull"), then freed; where the kernel resets a freed line to
        an input (upstream kernels; Pi OS keeps outputs driving, ``persist_gpio_outputs``) or the pin
        had another function (I2C, a UART: a pin an admin let this server take over), its function
        select is written back as ``pinctrl`` would. A simulated pin starts afresh.
        """
        with self._lock:
            pin = self._pins.pop(bcm, None)
            self._configured.discard(bcm)
            found = self._found.pop(bcm, None)
        if pin is None:
            return
        try:
            self._unwatch(pin, bcm)
            self._pwm_off(pin, bcm)
            held = False
            if isinstance(self.factory, MockFactory):
                pin.close()
            else:
                held = _lgpio_holds(self.factory, bcm)  # not so when claiming it is what failed
                if found is not None and held:
                    self._put_back(pin, bcm, found)
                _lgpio_line_free(self.factory, bcm)
            self.factory.pins.pop(pin.info, None)  # the next use makes (and claims) a new pin
        except self.errors as error:
            if isinstance(error, GpioError):
                raise
            raise self._failure(bcm, error) from error
        if found is not None and held and self.mux is not None:
            after = self.mux.read([bcm]).get(bcm)
            changed = after is None or after.mode != found.mode
            if changed and not self.mux.set_mode(bcm, found.mode):
                raise GpioError(
                    f"{naming.pin_name(bcm)} could not be given back its function "
                    f"{self.mux.function(bcm, found.mode)} ({found.mode}): neither /dev/gpiomem nor debugfs "
                    "is writable here"
                )

    def _put_back(self, pin: Pin, bcm: int, found: parsers.MuxReading) -> None:
        """While ``bcm`` is still claimed, make its line what it was: an output at its level, or an input
        with its pull (where the SoC let it be read; the BCM2835's pulls are write-only)."""
        if found.mode == "output" and found.level is not None:
            _lgpio_claim_output(self.factory, bcm, found.level)
            return
        if pin.function != "input":
            if found.level is not None:
                # The output latch back to the level it read (what it drives if it is ever an output again;
                # QEMU's GPLEV even shows it for an input).
                _lgpio_claim_output(self.factory, bcm, found.level)
            pin.function = "input"  # lgpio claims it without bias flags: the pull is not touched
        if found.pull is not None and pin.pull != found.pull:
            with contextlib.suppress(PinFixedPull):  # GPIO2/3: gpiozero allows only their board pull-ups
                pin.pull = found.pull

    def shutdown(self) -> None:
        """The server stops: pins it took from another function (an admin allowed it) get that function
        back; every other pin is left as it stands (an output keeps its level where the kernel keeps
        released outputs driving, so a restart does not blink a relay). Never raises."""
        for bcm in sorted(self._configured):
            found = self._found.get(bcm)
            if found is None or found.mode in functions.PLAIN:
                continue
            try:
                self.release(bcm)
            except GpioError as error:
                logger.error("%s was not given back at shutdown: %s", naming.pin_name(bcm), error)

    def _pwm_off(self, pin: Pin, bcm: int) -> None:
        """Stop PWM on ``bcm``, whichever library runs it (lgpio's own, or a mock pin's)."""
        if self._duty.pop(bcm, None) is not None:
            _lgpio_pwm(self.factory, bcm, 0, 0)  # lgTxPwm: frequency 0 stops it
        if pin.frequency is not None:
            pin.frequency = None

    def _watch(self, pin: Pin, bcm: int) -> None:
        def changed(ticks: object, state: object) -> None:
            _edge(bcm)

        self._edge_callbacks[bcm] = changed
        pin.edges = "both"
        pin.when_changed = changed

    def _unwatch(self, pin: Pin, bcm: int) -> None:
        if self._edge_callbacks.pop(bcm, None) is not None:
            pin.when_changed = None

    def _trim(self, pin: Pin) -> None:
        """Bound a simulated pin's history: a mock pin records every state it has been in (``states``),
        which in a simulated server running for weeks would grow without end."""
        if isinstance(pin, MockPin) and len(pin.states) > self.HISTORY:
            del pin.states[: -self.HISTORY]

    def close(self) -> None:
        self.factory.close()


def _lgpio_line_free(factory: Factory, bcm: int) -> None:
    """Free line ``bcm`` of an ``LGPIOFactory`` with lgpio's ``gpio_free``.

    The one private name read here: gpiozero keeps lgpio's chip handle in ``LGPIOFactory._handle``
    and has no public call that frees a single line. A gpiozero that renames it makes this raise
    (and the guard test fail) rather than leave lines claimed without a word.
    """
    handle = getattr(factory, "_handle", None)
    lgpio = sys.modules.get("lgpio")
    if not isinstance(handle, int) or lgpio is None:
        raise GpioError(
            f"cannot release GPIO{bcm}: {type(factory).__name__} has no lgpio chip handle in _handle "
            "(gpiozero changed; see pins/hardware.py _lgpio_line_free)"
        )
    lgpio.gpio_free(handle, bcm)


# lgpio's own bits in gpio_get_mode for a line this process claimed (input, output, alert).
LG_CLAIMED_MODES = 256 | 512 | 1024


def _lgpio_holds(factory: Factory, bcm: int) -> bool:
    """Whether this process's lgpio handle has ``bcm`` claimed (lgpio's ``gpio_get_mode`` bits 8-10)."""
    handle = getattr(factory, "_handle", None)
    lgpio = sys.modules.get("lgpio")
    if not isinstance(handle, int) or lgpio is None:
        return False
    return bool(lgpio.gpio_get_mode(handle, bcm) & LG_CLAIMED_MODES)


def _lgpio_claim_output(factory: Factory, bcm: int, level: int) -> None:
    """Claim ``bcm`` as an output driving ``level`` with lgpio's own ``gpio_claim_output`` (no bias
    flags, so its pull is not touched), or drive ``level`` if this process already has it as an output
    (lgpio's ``xSetAsOutput`` then changes nothing). Reads ``LGPIOFactory._handle`` as
    :func:`_lgpio_line_free` does."""
    handle = getattr(factory, "_handle", None)
    lgpio = sys.modules.get("lgpio")
    if not isinstance(handle, int) or lgpio is None:
        raise GpioError(
            f"cannot claim GPIO{bcm}: {type(factory).__name__} has no lgpio chip handle in _handle "
            "(gpiozero changed; see pins/hardware.py _lgpio_claim_output)"
        )
    lgpio.gpio_claim_output(handle, bcm, level, 0)
    lgpio.gpio_write(handle, bcm, level)


def _lgpio_pwm(factory: Factory, bcm: int, frequency: float, duty_percent: float) -> None:
    """Run lgpio's software PWM on ``bcm`` at ``frequency`` Hz and ``duty_percent`` (a float, 0-100),
    with lgpio's public ``tx_pwm``; ``frequency`` 0 stops it.

    Reads ``LGPIOFactory._handle`` as :func:`_lgpio_line_free` does: gpiozero's ``LGPIOPin`` would
    pass ``int(value * 100)``, whole percent, and run PWM at 0 % for a state under 0.01. The line is
    already this process's output (lgpio's ``xSetAsPwm`` would otherwise claim it).
    """
    handle = getattr(factory, "_handle", None)
    lgpio = sys.modules.get("lgpio")
    if not isinstance(handle, int) or lgpio is None:
        raise GpioError(
            f"cannot drive PWM on GPIO{bcm}: {type(factory).__name__} has no lgpio chip handle in _handle "
            "(gpiozero changed; see pins/hardware.py _lgpio_pwm)"
        )
    lgpio.tx_pwm(handle, bcm, frequency, duty_percent)


def simulated_gpio() -> Gpio:
    """Mock pins that can do PWM, as the server uses off a Raspberry Pi."""
    return Gpio(MockFactory(pin_class=MockPWMPin), simulated=True)


def is_raspberry_pi() -> bool:
    """Whether the device tree names a Raspberry Pi board."""
    return (read_board_model() or "").startswith("Raspberry Pi")


def _lgpio_factory(chip: HeaderChip) -> Factory:
    from gpiozero.pins.lgpio import LGPIOFactory  # imports lgpio, which opens its notification pipe

    factory: Factory = LGPIOFactory(chip=chip.number)
    factory.pin_class = _as_found_pin_class()
    return factory


def _as_found_pin_class() -> type[Pin]:
    """gpiozero's ``LGPIOPin`` without the claim its constructor makes.

    ``LGPIOPin.__init__`` claims the line as an input with "no pull" (gpiozero/pins/lgpio.py): an
    output the kernel kept driving would float for a moment (a relay blinks) and the pin's pull would
    be lost before this server configures it. This subclass sets the four attributes that
    constructor sets and claims nothing; the first configuration claims the line as it will be used.
    Guard: ``tests/pins/test_real_gpio.py::test_the_as_found_pin_adapter_still_fits_gpiozero``.
    """
    import lgpio
    from gpiozero.pins.lgpio import LGPIOPin

    class AsFoundLGPIOPin(LGPIOPin):
        def __init__(self, factory: Factory, info: object) -> None:
            super(LGPIOPin, self).__init__(factory, info)
            self._pwm = None
            self._bounce = None
            self._callback = None
            self._edges = lgpio.BOTH_EDGES

    pin_class: type[Pin] = AsFoundLGPIOPin
    return pin_class


def _without_real_gpio(mode: str, reason: str, error: BaseException) -> Gpio:
    if mode == "real":
        raise ImproperlyConfigured(f"ENDRPI_GPIO=real but the header's GPIO cannot be driven: {reason}") from error
    logger.error("No GPIO on this Raspberry Pi can be driven (%s); simulating GPIO instead", reason)
    return simulated_gpio()


def create_gpio(mode: str, *, device: ChipDevice | None = None) -> Gpio:
    """Build the :class:`Gpio` for ``ENDRPI_GPIO`` mode ``auto``, ``mock`` or ``real``."""
    if mode == "mock" or (mode == "auto" and not is_raspberry_pi()):
        return simulated_gpio()
    device = device or GpioChipDevice()
    chip = find_header_chip(device)
    try:
        if chip is None:
            raise GpioError(f"no gpiochip labelled {', '.join(HEADER_CHIP_LABELS)} under {host_path('dev')}")
        factory = _lgpio_factory(chip)
    except pin_library_errors() as error:  # gpiozero's, lgpio's own (once loaded), OSError
        return _without_real_gpio(mode, library_error_text(error), error)
    except ImportError as error:  # no lgpio here
        return _without_real_gpio(mode, library_error_text(error), error)
    return Gpio(factory, simulated=False, lines=KernelLines(chip.path, device), chip=chip, mux=PinMux(chip.label))


def _lgpio_installed() -> bool:
    """Whether lgpio could be imported, without importing it."""
    if "lgpio" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("lgpio") is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class GpioDescription:
    """Which pin factory drives (or would drive) the pins, and the header's gpiochip, for a bug report."""

    mode: str  # ENDRPI_GPIO
    factory: str  # "LGPIOFactory", "MockFactory"
    simulated: bool
    in_use: bool  # this process has chosen it; otherwise it is what a server here would choose
    chip_label: str | None
    chip_path: str | None
    problem: str | None  # why real GPIO would not be driven, on a Raspberry Pi


def gpio_describe() -> GpioDescription:
    """Describe the GPIO without creating it when this process has none: nothing claimed, nothing written.

    (Importing lgpio opens a notification pipe in the working directory, so it is only looked for.)
    """
    mode = str(settings.ENDRPI_GPIO)
    gpio = _gpio
    if gpio is not None:
        chip = gpio.chip
        return GpioDescription(
            mode=mode,
            factory=gpio.factory_name,
            simulated=gpio.simulated,
            in_use=True,
            chip_label=chip.label if chip else None,
            chip_path=str(chip.path) if chip else None,
            problem=None,
        )
    pi = is_raspberry_pi()
    found = find_header_chip(GpioChipDevice()) if pi or mode == "real" else None
    problem: str | None = None
    if mode != "mock" and (pi or mode == "real"):
        if found is None:
            problem = (
                f"no gpiochip labelled {', '.join(HEADER_CHIP_LABELS)} under {host_path('dev')} (or no permission)"
            )
        elif not _lgpio_installed():
            problem = "the lgpio module is not installed"
    real = mode != "mock" and (pi or mode == "real") and problem is None
    return GpioDescription(
        mode=mode,
        factory="LGPIOFactory" if real else "MockFactory",
        simulated=not real,
        in_use=False,
        chip_label=found.label if found else None,
        chip_path=str(found.path) if found else None,
        problem=problem,
    )


_gpio: Gpio | None = None
_gpio_lock = threading.Lock()


def get_gpio() -> Gpio:
    """The process's GPIO, created (and announced in the log) on first use."""
    global _gpio
    if _gpio is None:
        with _gpio_lock:
            if _gpio is None:
                gpio = create_gpio(settings.ENDRPI_GPIO)
                if not gpio.simulated:
                    atexit.register(gpio.shutdown)
                if gpio.simulated:
                    logger.warning("GPIO is simulated: no Raspberry Pi GPIO here, pins are gpiozero mock pins")
                else:
                    assert gpio.chip is not None
                    logger.info("GPIO uses %s on %s (%s)", gpio.factory_name, gpio.chip.path, gpio.chip.label)
                _gpio = gpio
    return _gpio


def install_gpio(gpio: Gpio | None) -> Gpio | None:
    """Replace the process's GPIO (tests, shutdown); returns the one it replaced."""
    global _gpio
    with _gpio_lock:
        previous, _gpio = _gpio, gpio
    return previous
