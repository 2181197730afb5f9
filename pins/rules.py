"""The rules of a pin configuration, in one place: what INPUT and OUTPUT need, which pulls a pin can
have, and the PWM frequencies the pin library can drive.

The serializers (REST and WebSocket input), the admin's saved configurations and the services all
ask this module, so a rule and its message are written once. Pure: no I/O, no Django.
"""

from __future__ import annotations

import math

from pins import naming
from pins.configuration import InputChange, Io, OutputChange, PinChange, Pull

IO_CHOICES: tuple[Io, ...] = ("INPUT", "OUTPUT")
PULL_CHOICES: tuple[Pull, ...] = ("FLOATING", "UP", "DOWN")

NO_PULL = "No pull specified for input pin configuration"
NO_STATE = "No state specified for output pin configuration"
NO_PINS = "At least one pin id and pin configuration must be supplied"

# GPIO2 and GPIO3 (I2C1 SDA/SCL) have 1.8 kOhm pull-up resistors to 3V3 on the board of every
# 40-pin Raspberry Pi, so an input there always reads pulled up: FLOATING and DOWN cannot be had.
# gpiozero's board data says the same (``gpiozero/pins/data.py``: pull 'up' for GPIO2/3), and its
# pins refuse any other pull with PinFixedPull.
FIXED_PULLS: dict[int, Pull] = {2: "UP", 3: "UP"}

# lgpio's software PWM (joan2937/lg, lgGpio.c ``lgTxPwm``): 0.1 to 10,000 Hz, else LG_BAD_PWM_FREQ.
PWM_FREQUENCY_MIN = 0.1
PWM_FREQUENCY_MAX = 10_000.0


class RuleBroken(ValueError):
    """A configuration these rules refuse; the message says which rule, in the client's words."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def pin_pulls(bcm: int) -> tuple[Pull, ...]:
    """The pulls an input on ``bcm`` can have (for the dashboard, and checked on every update)."""
    fixed = FIXED_PULLS.get(bcm)
    return PULL_CHOICES if fixed is None else (fixed,)


def change_from(*, io: Io, state: float | None, pull: Pull | None) -> PinChange:
    """The change ``{"io", "state", "pull"}`` asks for: INPUT needs a pull (its state is ignored),
    OUTPUT needs a state (its pull is ignored)."""
    if io == "INPUT":
        if pull is None:
            raise RuleBroken(NO_PULL)
        return InputChange(pull=pull)
    if state is None:
        raise RuleBroken(NO_STATE)
    return OutputChange(state=state)


def change_check(*, pin: int, change: PinChange) -> None:
    """Refuse a change the hardware of ``pin`` cannot make (an input pull its resistors rule out)."""
    if isinstance(change, InputChange) and change.pull not in pin_pulls(pin):
        fixed = FIXED_PULLS[pin]
        raise RuleBroken(
            f"{naming.pin_name(pin)} has a fixed pull-{fixed.lower()} resistor on the board, so an input there "
            f"can only have pull {fixed} (not {change.pull})"
        )


def pwm_frequency_problem(frequency: float) -> str | None:
    """Why ``frequency`` (``ENDRPI_PWM_FREQUENCY``) cannot drive PWM, or ``None`` when it can."""
    if math.isfinite(frequency) and PWM_FREQUENCY_MIN <= frequency <= PWM_FREQUENCY_MAX:
        return None
    return (
        f"ENDRPI_PWM_FREQUENCY must be between {PWM_FREQUENCY_MIN:g} and {PWM_FREQUENCY_MAX:,.0f} Hz "
        f"(the range lgpio's PWM can drive), not {frequency:g}"
    )
