from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from pins import naming


@pytest.mark.parametrize(
    ("name", "bcm"),
    [
        ("GPIO17", 17),
        ("gpio17", 17),
        ("BCM17", 17),
        ("BOARD11", 17),
        ("J8:11", 17),
        ("j8:11", 17),
        ("WPI0", 17),
        ("17", 17),
        (17, 17),
        (" GPIO2 ", 2),
        ("GPIO27", 27),
        ("GPIO8", 8),
        ("BOARD24", 8),
    ],
)
def test_it_resolves_the_names_gpiozero_uses(name, bcm):
    assert naming.parse_pin(name) == bcm


@pytest.mark.parametrize(
    "name",
    [
        *("GPIO0", "GPIO1", "GPIO28", "BOARD1", "BOARD6", "J8:27", "BOARD41"),
        *("PIN17", "", "GPIO", "GPIO-1", None, True, 1.5),
    ],
)
def test_pins_that_are_not_user_gpios_are_not_pins(name):
    assert naming.parse_pin(name) is None


def test_every_header_gpio_is_a_pin():
    assert tuple(range(2, 28)) == naming.USER_GPIOS
    assert len(naming.HEADER_TO_BCM) == 26
    assert sorted(naming.HEADER_TO_BCM.values()) == list(naming.USER_GPIOS)


def test_every_name_gpiozero_gives_a_user_gpio_resolves_to_it():
    factory = MockFactory()
    try:
        header = factory.board_info.headers["J8"]
        for info in header.pins.values():
            if not str(info.name).startswith("GPIO"):
                continue
            bcm = int(info.name.removeprefix("GPIO"))
            for name in info.names:
                expected = bcm if bcm in naming.USER_GPIOS else None
                assert naming.parse_pin(name) == expected, name
    finally:
        factory.close()
