"""The only code that touches GPIO: gpiozero's pin factory and the pins the server drives.

The factory is chosen on first use, never at import: on a Raspberry Pi gpiozero's default
factory for the board (lgpio on a Pi 5), elsewhere gpiozero's mock pins. ``ENDRPI_GPIO`` forces
either. Tests install their own :class:`Gpio` with :func:`install_gpio`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from gpiozero import Factory, GPIOZeroError, Pin, PinPWMUnsupported
from gpiozero.pins.mock import MockFactory, MockPWMPin

from system.hardware.host import read_board_model

logger = logging.getLogger(__name__)

Function = Literal["input", "output"]
Pull = Literal["up", "down", "floating"]


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


class Gpio:
    """A pin factory and the pins this server has configured (kept for its lifetime)."""

    def __init__(self, factory: Factory, *, simulated: bool) -> None:
        self.factory = factory
        self.simulated = simulated
        self._pins: dict[int, Pin] = {}
        self._lock = threading.Lock()

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
        try:
            pin = self._pin(bcm)
            if pin.frequency is not None:
                pin.frequency = None
            pin.function = "input"
            pin.pull = pull
        except GPIOZeroError as error:
            raise GpioError(f"Failed to configure GPIO{bcm} as an input: {error}") from error

    def set_output(self, bcm: int, state: float) -> None:
        """Drive ``state``: 0 or 1 as a digital level, anything between as a PWM duty cycle."""
        try:
            pin = self._pin(bcm)
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


def is_raspberry_pi() -> bool:
    """Whether the device tree names a Raspberry Pi board."""
    return (read_board_model() or "").startswith("Raspberry Pi")


def create_gpio(mode: str) -> Gpio:
    """Build the :class:`Gpio` for ``ENDRPI_GPIO`` mode ``auto``, ``mock`` or ``real``."""
    if mode == "mock" or (mode == "auto" and not is_raspberry_pi()):
        return Gpio(MockFactory(pin_class=MockPWMPin), simulated=True)
    from gpiozero import Device

    try:
        factory = Device._default_pin_factory()
    except GPIOZeroError as error:
        if mode == "real":
            raise ImproperlyConfigured(f"ENDRPI_GPIO=real but no GPIO pin factory loads: {error}") from error
        logger.error("No GPIO pin factory loads on this Raspberry Pi (%s); simulating GPIO instead", error)
        return Gpio(MockFactory(pin_class=MockPWMPin), simulated=True)
    return Gpio(factory, simulated=False)


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
