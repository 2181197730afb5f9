"""Reading and configuring GPIO pins: the one place that decides what a pin update does.

Pins are BCM numbers here; names are resolved at the edge by the serializers, with
:func:`pin_resolve`. An update of several pins is all-or-nothing: every change is validated before
the first pin is touched, updates are applied one batch at a time, and a batch that fails part-way
puts the pins it already changed back as they were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping

from endrpi_project.errors import InvalidRequest, NotFound, ReadingFailed
from pins import hardware, parsers
from pins.configuration import InputChange, PinChange, PinConfiguration, Pull
from pins.hardware import GpioError, GpioUnsupported, PinState, get_gpio

logger = logging.getLogger(__name__)

# One batch of pin updates at a time, from every client, REST or WebSocket.
_update_lock = threading.Lock()


def pins_start() -> None:
    """Server start-up: choose the GPIO (saying in the log whether it is simulated)."""
    get_gpio()


def pin_resolve(*, name: object) -> int:
    """The BCM number of the user GPIO ``name`` names; :class:`NotFound` for any other pin."""
    bcm = parsers.parse_pin(name)
    if bcm is None:
        raise NotFound(f"Pin with BCM pin number `{name}` not found; pins are GPIO2 to GPIO27")
    return bcm


def pins_all() -> tuple[int, ...]:
    return parsers.USER_GPIOS


_PULLS: dict[Pull, hardware.Pull] = {"FLOATING": "floating", "UP": "up", "DOWN": "down"}
_PULL_NAMES: dict[hardware.Pull, Pull] = {value: key for key, value in _PULLS.items()}


def _configuration(state: PinState) -> PinConfiguration:
    return PinConfiguration(
        io="INPUT" if state.function == "input" else "OUTPUT",
        state=state.state,
        pull=None if state.pull is None else _PULL_NAMES[state.pull],
    )


def pin_configuration_read(*, pin: int) -> PinConfiguration:
    try:
        return _configuration(get_gpio().read(pin))
    except GpioError as error:
        raise ReadingFailed(f"Failed to read pin configuration of {parsers.pin_name(pin)}: {error}") from error


def pin_configurations_read(*, pins: Iterable[int] | None = None) -> dict[str, PinConfiguration]:
    """``{"GPIO17": PinConfiguration, ...}`` for ``pins`` (every user GPIO when ``None``)."""
    chosen = pins_all() if pins is None else pins
    return {parsers.pin_name(pin): pin_configuration_read(pin=pin) for pin in chosen}


def _apply(pin: int, change: PinChange) -> None:
    gpio = get_gpio()
    if isinstance(change, InputChange):
        gpio.set_input(pin, _PULLS[change.pull])
    else:
        gpio.set_output(pin, change.state)


def _restore(pin: int, previous: PinState) -> None:
    try:
        if previous.function == "input":
            get_gpio().set_input(pin, previous.pull or "floating")
        else:
            get_gpio().set_output(pin, previous.state or 0.0)
    except GpioError:
        logger.exception("Could not restore %s after a failed update", parsers.pin_name(pin))


def pin_configurations_update(*, changes: Mapping[int, PinChange]) -> None:
    """Apply every change or none of them."""
    if not changes:
        raise InvalidRequest("At least one pin id and pin configuration must be supplied")
    for pin in changes:
        if pin not in parsers.USER_GPIOS:
            raise NotFound(f"Pin with BCM pin number `{pin}` not found")
    gpio = get_gpio()
    with _update_lock:
        done: list[tuple[int, PinState]] = []
        for pin, change in changes.items():
            try:
                done.append((pin, gpio.read(pin)))
                _apply(pin, change)
            except GpioError as error:
                # Put back every pin this batch touched, the failing one included.
                for changed, previous in reversed(done):
                    _restore(changed, previous)
                if isinstance(error, GpioUnsupported):
                    raise InvalidRequest(str(error)) from error
                raise ReadingFailed(
                    f"Failed to update pin configuration of {parsers.pin_name(pin)}: {error}"
                ) from error


def pin_configuration_update(*, pin: int, change: PinChange) -> str:
    """Update one pin; the message REST answers with."""
    pin_configurations_update(changes={pin: change})
    return f"Pin configuration for pin `{parsers.pin_name(pin)}` was updated successfully"
