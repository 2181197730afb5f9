"""The only code that touches GPIO: gpiozero's pin factory and the pins the server drives.

The factory is chosen on first use, never at import: on a Raspberry Pi gpiozero's default
factory for the board (lgpio on a Pi 5), elsewhere gpiozero's mock pins. ``ENDRPI_GPIO`` forces
either. Tests install their own :class:`Gpio` with :func:`install_gpio`.

Reading never changes a pin. On real hardware, creating a gpiozero pin claims the line (lgpio
resets it to a floating input), so only pins the server has configured are gpiozero pins (kept,
claimed, for the server's lifetime). Any other pin is read from the kernel's line info on the
GPIO character device (``GPIO_V2_GET_LINEINFO_IOCTL``), which reports direction and bias without
claiming the line; its level is not known without claiming it, so its ``state`` is ``None``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from gpiozero import Factory, GPIOZeroError, Pin, PinPWMUnsupported
from gpiozero.pins.mock import MockFactory, MockPWMPin

from pins import parsers
from system.hardware.host import OpenDevices, host_path, read_board_model

logger = logging.getLogger(__name__)

Function = Literal["input", "output"]
Pull = Literal["up", "down", "floating"]
# Called with the BCM number of an input pin whose level changed, on gpiozero's thread.
EdgeListener = Callable[[int], None]

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
    except Exception:  # never into gpiozero's callback thread
        logger.exception("Handling a level change of GPIO%d failed", bcm)


class GpioError(OSError):
    """The GPIO hardware refused an operation; the message says which and why."""


class GpioUnsupported(GpioError):
    """The pin cannot do what was asked (for example PWM on a pin without it)."""


@dataclass(frozen=True)
class PinState:
    """What a pin is doing, in gpiozero's words."""

    function: Function
    state: float | None
    pull: Pull | None


class ChipDevice(Protocol):
    """The line-info ioctl on a GPIO character device: send the request, get the kernel's answer.

    Raises ``OSError`` as ``open`` and ``ioctl`` do.
    """

    def line_info(self, path: Path, request: bytes) -> bytes: ...


class GpioChipDevice(OpenDevices):
    """The real ``/dev/gpiochipN``: opened once, read-only; asking for line info claims nothing."""

    def line_info(self, path: Path, request: bytes) -> bytes:
        return self.ioctl(path, parsers.GPIO_V2_GET_LINEINFO_IOCTL, request)


class KernelLines:
    """What the kernel says about the lines of one gpiochip (BCM number = line offset on a Pi)."""

    def __init__(self, path: Path, device: ChipDevice) -> None:
        self.path = path
        self.device = device

    def read(self, bcm: int) -> PinState:
        try:
            info = parsers.parse_line_info(self.device.line_info(self.path, parsers.line_info_request(bcm)))
        except OSError as error:
            raise GpioError(
                f"the kernel's line info for GPIO{bcm} is unavailable ({self.path}: {error.strerror})"
            ) from None
        except ValueError as error:
            raise GpioError(f"unexpected line info for GPIO{bcm}: {error}") from None
        # The level of a line nobody here claimed is unknown: reading it would mean claiming it.
        return PinState(function=info.direction, state=None, pull=info.pull)


class Gpio:
    """A pin factory and the pins this server has configured (kept for its lifetime).

    ``lines`` reads the pins the server has not configured without touching them; without it (the
    simulated GPIO) every pin read is a gpiozero mock pin, which disturbs nothing real.
    """

    def __init__(self, factory: Factory, *, simulated: bool, lines: KernelLines | None = None) -> None:
        self.factory = factory
        self.simulated = simulated
        self.lines = lines
        self._pins: dict[int, Pin] = {}
        self._lock = threading.Lock()
        # gpiozero holds ``when_changed`` callbacks weakly; these are the strong references.
        self._edge_callbacks: dict[int, Callable[[object, object], None]] = {}

    def is_configured(self, bcm: int) -> bool:
        return bcm in self._pins

    def _pin(self, bcm: int) -> Pin:
        pin = self._pins.get(bcm)
        if pin is None:
            with self._lock:
                pin = self._pins.get(bcm)
                if pin is None:
                    try:
                        pin = self.factory.pin(bcm)
                    except GPIOZeroError as error:
                        raise GpioError(f"GPIO{bcm} is not available: {error}") from error
                    self._pins[bcm] = pin
        return pin

    def read(self, bcm: int) -> PinState:
        if self.lines is not None and bcm not in self._pins:
            return self.lines.read(bcm)
        try:
            pin = self._pin(bcm)
            function = pin.function
            if function not in ("input", "output"):
                raise GpioError(f"GPIO{bcm} is in use by another function ({function})")
            state = pin.state
            pull = pin.pull
        except GPIOZeroError as error:
            raise GpioError(f"Failed to read GPIO{bcm}: {error}") from error
        return PinState(
            function=function,
            state=None if state is None else float(state),
            pull=pull if pull in ("up", "down", "floating") else None,
        )

    def set_input(self, bcm: int, pull: Pull) -> None:
        """Make ``bcm`` an input with ``pull``, and report its level changes to :func:`watch_edges`' listener."""
        try:
            pin = self._pin(bcm)
            self._unwatch(pin, bcm)  # configuring it is not an edge to report
            if pin.frequency is not None:
                pin.frequency = None
            pin.function = "input"
            pin.pull = pull
            self._watch(pin, bcm)
        except GPIOZeroError as error:
            raise GpioError(f"Failed to configure GPIO{bcm} as an input: {error}") from error

    def _watch(self, pin: Pin, bcm: int) -> None:
        def changed(ticks: object, state: object) -> None:
            _edge(bcm)

        self._edge_callbacks[bcm] = changed
        pin.edges = "both"
        pin.when_changed = changed

    def _unwatch(self, pin: Pin, bcm: int) -> None:
        if self._edge_callbacks.pop(bcm, None) is not None:
            pin.when_changed = None

    def set_output(self, bcm: int, state: float) -> None:
        """Drive ``state``: 0 or 1 as a digital level, anything between as a PWM duty cycle."""
        try:
            pin = self._pin(bcm)
            self._unwatch(pin, bcm)
            pin.function = "output"
            if state in (0.0, 1.0):
                if pin.frequency is not None:
                    pin.frequency = None
                pin.state = bool(state)
            else:
                if pin.frequency is None:
                    pin.frequency = settings.ENDRPI_PWM_FREQUENCY
                pin.state = state
        except PinPWMUnsupported:
            raise GpioUnsupported(f"GPIO{bcm} does not support PWM; use a state of 0 or 1") from None
        except GPIOZeroError as error:
            raise GpioError(f"Failed to drive GPIO{bcm}: {error}") from error

    def close(self) -> None:
        self.factory.close()


class SimulatedPin(MockPWMPin):
    """gpiozero's mock PWM pin with a bounded history.

    A mock pin records every state it has been in; in a simulated server that runs for weeks that
    list would grow without end, so only the most recent changes are kept.
    """

    HISTORY = 64

    def _change_state(self, value: object) -> bool:
        changed: bool = super()._change_state(value)
        if len(self.states) > self.HISTORY:
            del self.states[: -self.HISTORY]
        return changed


def simulated_gpio() -> Gpio:
    """Mock pins that can do PWM, as the server uses off a Raspberry Pi."""
    return Gpio(MockFactory(pin_class=SimulatedPin), simulated=True)


def is_raspberry_pi() -> bool:
    """Whether the device tree names a Raspberry Pi board."""
    return (read_board_model() or "").startswith("Raspberry Pi")


def create_gpio(mode: str) -> Gpio:
    """Build the :class:`Gpio` for ``ENDRPI_GPIO`` mode ``auto``, ``mock`` or ``real``."""
    if mode == "mock" or (mode == "auto" and not is_raspberry_pi()):
        return simulated_gpio()
    from gpiozero import Device

    try:
        factory = Device._default_pin_factory()
    except GPIOZeroError as error:
        if mode == "real":
            raise ImproperlyConfigured(f"ENDRPI_GPIO=real but no GPIO pin factory loads: {error}") from error
        logger.error("No GPIO pin factory loads on this Raspberry Pi (%s); simulating GPIO instead", error)
        return simulated_gpio()
    chip = getattr(factory, "chip", 0)
    return Gpio(factory, simulated=False, lines=KernelLines(host_path(f"dev/gpiochip{chip}"), GpioChipDevice()))


_gpio: Gpio | None = None
_gpio_lock = threading.Lock()


def get_gpio() -> Gpio:
    """The process's GPIO, created (and announced in the log) on first use."""
    global _gpio
    if _gpio is None:
        with _gpio_lock:
            if _gpio is None:
                gpio = create_gpio(settings.ENDRPI_GPIO)
                if gpio.simulated:
                    logger.warning("GPIO is simulated: no Raspberry Pi GPIO here, pins are gpiozero mock pins")
                else:
                    logger.info("GPIO uses %s", type(gpio.factory).__name__)
                _gpio = gpio
    return _gpio


def install_gpio(gpio: Gpio | None) -> Gpio | None:
    """Replace the process's GPIO (tests, shutdown); returns the one it replaced."""
    global _gpio
    with _gpio_lock:
        previous, _gpio = _gpio, gpio
    return previous
