"""The 40-pin header as the dashboard draws it: the API's pins plus what the board's pinout says
about each one (its alternate function), its lock and the pulls an input there can have (those
:mod:`pins.rules` allows, through ``pins_header``).

The alternate functions are those the Raspberry Pi documentation's header pinout names (raspberrypi
/documentation, ``computers/raspberry-pi/gpio-on-raspberry-pi.adoc`` and the pinout printed by
``pinout`` from gpiozero): what a HAT or a wire on that pin is usually for. They are shown, not
enforced: the kernel says whether a pin is actually in use (``usedBy``).
"""

from __future__ import annotations

from dataclasses import dataclass

from endrpi_project.api.errors import ReadingFailed
from pins import services as pin_services

# BCM number -> (function, group); the groups share a colour on the dashboard.
FUNCTIONS: dict[int, tuple[str, str]] = {
    2: ("I2C1 SDA", "i2c"),
    3: ("I2C1 SCL", "i2c"),
    4: ("GPCLK0", "clock"),
    7: ("SPI0 CE1", "spi"),
    8: ("SPI0 CE0", "spi"),
    9: ("SPI0 MISO", "spi"),
    10: ("SPI0 MOSI", "spi"),
    11: ("SPI0 SCLK", "spi"),
    12: ("PWM0", "pwm"),
    13: ("PWM1", "pwm"),
    14: ("UART TXD", "uart"),
    15: ("UART RXD", "uart"),
    18: ("PCM CLK", "pcm"),
    19: ("PCM FS", "pcm"),
    20: ("PCM DIN", "pcm"),
    21: ("PCM DOUT", "pcm"),
}
# The HAT ID EEPROM's bus (GPIO0/1): physical pins 27 and 28, not user GPIOs.
OTHER_FUNCTIONS: dict[str, tuple[str, str]] = {
    "ID_SD": ("ID EEPROM data", "eeprom"),
    "ID_SC": ("ID EEPROM clock", "eeprom"),
}


@dataclass(frozen=True)
class HeaderPin:
    physical: int
    name: str  # GPIO17, or 3V3 / 5V / GND / ID_SD / ID_SC
    bcm: int | None  # None: not a user GPIO
    function: str
    group: str
    locked: bool
    pulls: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "gpio" if self.bcm is not None else self.name.lower()


def header_rows() -> list[tuple[HeaderPin, HeaderPin]]:
    """The header's rows as on the board: odd physical pins on the left, even on the right."""
    try:
        settings = pin_services.pin_settings_read()
    except ReadingFailed:
        settings = {}  # the page still draws; an update of a locked pin is refused all the same
    pins = []
    for physical, name, bcm, pulls in pin_services.pins_header():
        function, group = FUNCTIONS.get(bcm, ("", "")) if bcm is not None else OTHER_FUNCTIONS.get(name, ("", ""))
        setting = settings.get(bcm) if bcm is not None else None
        pins.append(
            HeaderPin(
                physical=physical,
                name=name,
                bcm=bcm,
                function=function,
                group=group,
                locked=bool(setting is not None and setting.locked),
                pulls=pulls,  # pins.rules: GPIO2/3 have fixed pull-ups on the board
            )
        )
    return [(pins[index], pins[index + 1]) for index in range(0, len(pins), 2)]
