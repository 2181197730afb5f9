"""The rules of a pin configuration, in one place: what INPUT and OUTPUT need, which pulls a pin can
have, and the PWM frequencies the pin library can drive.

The serializers (REST and WebSocket input), the admin's saved configurations and the services all
ask this module, so a rule and its message are written once. Pure: no I/O, no Django.
"""

from __future__ import annotations

import math
import struct

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


def _float32(value: float) -> float:
    """``value`` as a C ``float``: lgpio's ``lgTxPwm`` takes its frequency and duty cycle as floats."""
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def pwm_timing(*, state: float, frequency: float) -> tuple[int, int]:
    """The microseconds high and the microseconds of a period that lgpio's software PWM drives for a
    duty cycle of ``state`` (0 to 1) at ``frequency`` Hz.

    joan2937/lg ``lgGpio.c`` ``lgTxPwm``: ``micros = (1.0e6 / pwmFrequency) + 0.5`` and ``micros_on =
    (pwmDutyCycle / 100.0 * micros) + 0.5``, each stored in an ``int`` (truncated), the two arguments
    being C floats. So the duty is timed in whole microseconds: 10,000 steps a period at 100 Hz, 100 at
    10 kHz. (gpiozero's ``LGPIOPin`` would first cut it to whole percent: ``int(value * 100)``.)
    """
    period = int(1.0e6 / _float32(frequency) + 0.5)
    high = int(_float32(state * 100) / 100.0 * period + 0.5)
    return high, period


def pwm_state_check(*, pin: int, state: float, frequency: float) -> None:
    """Refuse a PWM duty cycle lgpio would not drive: one that rounds to a steady level (0 µs or a whole
    period high), since lgpio would then keep its PWM thread running at 0 % or 100 %."""
    if state <= 0.0 or state >= 1.0:
        return
    high, period = pwm_timing(state=state, frequency=frequency)
    if 0 < high < period:
        return
    raise RuleBroken(
        f"{naming.pin_name(pin)} cannot drive a PWM duty cycle of {state:g} at {frequency:g} Hz "
        f"(ENDRPI_PWM_FREQUENCY): lgpio's PWM times each {period:,} µs period in whole microseconds, so a "
        f"state between 0 and 1 must come to at least 1 µs high and 1 µs low (steps of {1 / period:g}); "
        "use 0 or 1 for a steady level"
    )


def change_check(*, pin: int, change: PinChange, pwm_frequency: float | None = None) -> None:
    """Refuse a change the hardware of ``pin`` cannot make (an input pull its resistors rule out, a
    PWM duty cycle too close to 0 or 1 to time at ``pwm_frequency``, when given)."""
    if isinstance(change, OutputChange) and pwm_frequency is not None:
        pwm_state_check(pin=pin, state=change.state, frequency=pwm_frequency)
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
