"""Pin names: the one place that says which pins there are and what a client may call them.

A client may name a pin the ways gpiozero does, case-insensitively: ``GPIO17``, ``BCM17``,
``BOARD11``, ``J8:11``, ``WPI0`` or ``17``. Only the 26 user GPIOs of the 40-pin header are pins
here; anything else (GPIO0/1, power, ground, numbers off the header) is not. Replies key a pin by
its canonical name, ``GPIO17``. Pure functions and tables: no I/O, no Django.
"""

from __future__ import annotations

import re

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
_NAMES: dict[int, str] = {bcm: f"GPIO{bcm}" for bcm in USER_GPIOS}


def pin_name(bcm: int) -> str:
    """The canonical name replies key a pin by: ``GPIO17``."""
    return _NAMES.get(bcm) or f"GPIO{bcm}"


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


def unknown_pin_message(name: object) -> str:
    """What every edge answers for a name that is not a user GPIO."""
    return f"Pin with BCM pin number `{name}` not found; pins are GPIO2 to GPIO27"
