"""Real GPIO that tells the truth and does not disturb, tested through gpiozero's real LGPIOFactory.

A fake ``lgpio`` module models a Pi 5's gpiochip: claiming a line (which creating a gpiozero pin
does) makes it the server's and resets it. A fake character device answers the kernel's line info
from the same model. Reading pins must claim nothing the server has not configured.
"""

from __future__ import annotations

import importlib
import struct
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pins import hardware, parsers, services
from pins.configuration import InputChange, OutputChange
from pins.hardware import Gpio, KernelLines


@dataclass
class Line:
    direction: str = "input"
    pull: str | None = None
    consumer: str = ""
    level: int = 0


@dataclass
class FakeChip:
    """gpiochip0 of a Pi 5 as the kernel sees it: every line's direction, bias and owner."""

    lines: dict[int, Line] = field(default_factory=lambda: {offset: Line() for offset in range(54)})
    asked: list[int] = field(default_factory=list)

    def line_info(self, path: Path, request: bytes) -> bytes:
        assert path.name == "gpiochip0"
        assert len(request) == 256
        (offset,) = struct.unpack_from("<I", request, 64)
        assert request[:64] == b"\0" * 64, "a line info request is zeroed"
        assert request[68:] == b"\0" * 188, "a line info request is zeroed"
        self.asked.append(offset)
        line = self.lines[offset]
        flags = parsers.LINE_FLAG_OUTPUT if line.direction == "output" else parsers.LINE_FLAG_INPUT
        flags |= {
            "up": parsers.LINE_FLAG_BIAS_PULL_UP,
            "down": parsers.LINE_FLAG_BIAS_PULL_DOWN,
            "floating": parsers.LINE_FLAG_BIAS_DISABLED,
            None: 0,
        }[line.pull]
        if line.consumer:
            flags |= parsers.LINE_FLAG_USED
        name = f"GPIO{offset}".encode()
        return struct.pack("<32s32sIIQ160s16s", name, line.consumer.encode(), offset, 0, flags, b"", b"")


def fake_lgpio(chip: FakeChip) -> Any:
    """Enough of lgpio for gpiozero's LGPIOFactory; every claim changes the chip's line, as on a Pi."""
    module: Any = types.ModuleType("lgpio")
    module.SET_ACTIVE_LOW = 4
    module.SET_PULL_UP = 32
    module.SET_PULL_DOWN = 64
    module.SET_PULL_NONE = 128
    module.RISING_EDGE, module.FALLING_EDGE, module.BOTH_EDGES = 1, 2, 3
    module.error = type("error", (Exception,), {})
    module.claims = {}
    pulls = {32: "up", 64: "down", 128: "floating", 0: None}

    def claim(handle, gpio, direction, flags):
        module.claims[gpio] = direction
        line = chip.lines[gpio]
        line.direction, line.consumer = direction, "lg"
        line.pull = pulls[flags & 0xE0]

    def claim_output(handle, gpio, flags=0, level=0):
        claim(handle, gpio, "output", flags)
        chip.lines[gpio].level = level

    def mode(handle, gpio):
        line = chip.lines[gpio]
        bits = 2 if line.direction == "output" else 0
        return bits | {"up": 32, "down": 64, "floating": 128, None: 0}[line.pull]

    def read(handle, gpio):
        if gpio not in module.claims:
            raise module.error("GPIO not allocated")
        return chip.lines[gpio].level

    def write(handle, gpio, level):
        assert module.claims.get(gpio) == "output"
        chip.lines[gpio].level = level

    module.gpiochip_open = lambda chip_number: 5
    module.gpiochip_close = lambda handle: None
    module.gpio_claim_input = lambda handle, gpio, flags=0: claim(handle, gpio, "input", flags)
    module.gpio_claim_output = claim_output
    module.gpio_free = lambda handle, gpio: module.claims.pop(gpio, None)
    module.gpio_get_mode = mode
    module.gpio_read = read
    module.gpio_write = write
    module.tx_pwm = lambda handle, gpio, frequency, duty: 0
    # Level-change alerts: lgpio calls back on its own thread with (chip, gpio, level, tick).
    module.callbacks = {}

    class Callback:
        def __init__(self, gpio, func):
            self.gpio, self.func = gpio, func

        def cancel(self):
            module.callbacks.pop(self.gpio, None)

    def callback(handle, gpio, edge, func):
        module.callbacks[gpio] = Callback(gpio, func)
        return module.callbacks[gpio]

    module.gpio_claim_alert = lambda handle, gpio, edges, flags=0, notify_handle=None: claim(
        handle, gpio, "input", flags
    )
    module.callback = callback
    return module


@pytest.fixture
def chip():
    chip = FakeChip()
    # What the firmware and the kernel left behind: I2C on 2/3, a pulled-up input, a driven output.
    chip.lines[2] = Line(direction="input", pull="up", consumer="i2c1")
    chip.lines[5] = Line(direction="input", pull="up")
    chip.lines[6] = Line(direction="input", pull="down")
    chip.lines[22] = Line(direction="output", pull="floating", level=1)
    return chip


@pytest.fixture
def lgpio(chip, monkeypatch):
    module = fake_lgpio(chip)
    monkeypatch.setitem(sys.modules, "lgpio", module)
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    monkeypatch.setattr("gpiozero.pins.local.get_pi_revision", lambda: 0xD04170)  # a Pi 5 Model B
    return module


@pytest.fixture
def real_gpio(lgpio, chip, tmp_path):
    factory_module = importlib.import_module("gpiozero.pins.lgpio")
    factory = factory_module.LGPIOFactory(chip=0)
    gpio = Gpio(factory, simulated=False, lines=KernelLines(tmp_path / "dev/gpiochip0", chip))
    previous = hardware.install_gpio(gpio)
    yield gpio
    hardware.install_gpio(previous)
    gpio.close()


def test_reading_every_pin_claims_none_of_them(real_gpio, lgpio, chip):
    before = {offset: Line(**vars(line)) for offset, line in chip.lines.items()}
    configurations = services.pin_configurations_read()
    assert len(configurations) == 26
    assert lgpio.claims == {}
    assert chip.lines == before
    assert sorted(chip.asked) == list(parsers.USER_GPIOS)


def test_an_unconfigured_pin_reports_what_the_kernel_says_with_its_level_unknown(real_gpio):
    configurations = services.pin_configurations_read(pins=[2, 5, 6, 22, 17])
    assert configurations["GPIO2"].io == "INPUT"
    assert configurations["GPIO2"].pull == "UP"
    assert configurations["GPIO6"].pull == "DOWN"
    assert configurations["GPIO22"].io == "OUTPUT"
    assert configurations["GPIO22"].pull == "FLOATING"
    assert configurations["GPIO17"].pull is None, "a line without bias reported has an unknown pull"
    assert {configuration.state for configuration in configurations.values()} == {None}


def test_a_configured_pin_stays_claimed_and_reads_its_real_level(real_gpio, lgpio, chip):
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    assert lgpio.claims == {17: "output"}
    assert chip.lines[17].level == 1
    configurations = services.pin_configurations_read()
    assert configurations["GPIO17"].io == "OUTPUT"
    assert configurations["GPIO17"].state == 1.0
    assert lgpio.claims == {17: "output"}, "reading the others claimed nothing more"
    assert chip.asked.count(17) == 1, "asked once, before it was configured; read through its pin after"


def test_a_configured_input_reads_its_pull_through_gpiozero(real_gpio, lgpio):
    services.pin_configurations_update(changes={27: InputChange(pull="DOWN")})
    configuration = services.pin_configuration_read(pin=27)
    assert (configuration.io, configuration.state, configuration.pull) == ("INPUT", 0.0, "DOWN")
    services.pin_configurations_read()
    assert lgpio.claims == {27: "input"}


def test_an_unreadable_gpiochip_is_a_failed_reading_that_says_so(real_gpio, chip, monkeypatch):
    def refuse(path, request):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(chip, "line_info", refuse)
    with pytest.raises(Exception, match=r"Failed to read pin configuration of GPIO4: .*line info.*Permission denied"):
        services.pin_configuration_read(pin=4)


def test_the_real_chip_layer_reports_a_missing_device_clearly(tmp_path):
    lines = KernelLines(tmp_path / "gpiochip0", hardware.GpioChipDevice())
    with pytest.raises(hardware.GpioError, match="No such file"):
        lines.read(17)


def test_create_gpio_reads_unconfigured_pins_from_the_factorys_chip(lgpio, host_root, monkeypatch, settings):
    factory_module = importlib.import_module("gpiozero.pins.lgpio")
    factory = staticmethod(lambda: factory_module.LGPIOFactory(chip=4))
    monkeypatch.setattr("gpiozero.Device._default_pin_factory", factory)
    host_root.write("proc/device-tree/model", "Raspberry Pi 5 Model B Rev 1.0\0")
    gpio = hardware.create_gpio("real")
    try:
        assert not gpio.simulated
        assert gpio.lines is not None
        assert gpio.lines.path == host_root.root / "dev/gpiochip4"
    finally:
        gpio.close()


def test_the_mock_gpio_reads_pins_as_it_always_has(gpio):
    assert gpio.lines is None
    assert services.pin_configuration_read(pin=17).state == 0.0


def test_a_configured_input_reports_its_level_changes_and_an_output_does_not(real_gpio, lgpio, chip):
    changed: list[int] = []
    previous = hardware.watch_edges(changed.append)
    try:
        services.pin_configurations_update(changes={27: InputChange(pull="DOWN")})
        assert chip.lines[27].pull == "down", "watching for alerts keeps the pull"
        chip.lines[27].level = 1
        lgpio.callbacks[27].func(0, 27, 1, 1_000_000)
        assert changed == [27]
        services.pin_configurations_update(changes={27: OutputChange(state=0.0)})
        assert 27 not in lgpio.callbacks
    finally:
        hardware.watch_edges(previous)
