"""A pin's real function (the SoC's function select), refusing pins that belong to a bus, and giving every
pin back exactly as it was, on both kernel behaviours.

Driven through gpiozero's real ``LGPIOFactory`` over the fakes of ``tests/pins/fakes.py`` (lgpio, the
gpiochip, /dev/gpiomem, debugfs), whose muxed-pin behaviour was checked against the real kernel
(``tests/kernel/``: Debian's 6.1 kernel on QEMU's raspi3b, where claiming I2C1's GPIO2 succeeded and
re-muxed it). What QEMU cannot show is here only: Pi OS's ``persist_gpio_outputs``, pulls, RP1 and
/dev/gpiomem.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from endrpi_project.api.errors import Conflict
from pins import functions, hardware, parsers, services
from pins.configuration import InputChange, OutputChange
from pins.hardware import Gpio, HeaderChip, KernelLines, PinMux
from pins.models import PinSetting
from tests.helpers import websocket
from tests.pins.fakes import GPIO_BUSY, FakeChip, FakeDevices, Line, fake_lgpio

I2C = "3f804000.i2c"


@dataclass
class Board:
    chip: FakeChip
    lgpio: Any
    gpio: Gpio


@pytest.fixture
def board(host_root, monkeypatch, request) -> Iterator[Board]:
    """A Pi 4 on Raspberry Pi OS (``pinctrl-bcm2711``, /dev/gpiomem; ``persist`` marks set it) with
    I2C1 on GPIO2/3 (alt0, owned by the I2C driver), the PL011 UART on GPIO14/15 (alt0), an SPI chip
    select a driver requested, and plain pins with pulls."""
    params = getattr(request, "param", {})
    path = host_root.root / "dev" / "gpiochip0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    chip = FakeChip(path=path, name="gpiochip0", label=params.get("label", "pinctrl-bcm2711"))
    chip.lines[2] = Line(mode="alt0", owner=I2C, pull="up")
    chip.lines[3] = Line(mode="alt0", owner=I2C, pull="up")
    chip.lines[14] = Line(mode="alt0", owner="fe201000.serial")
    chip.lines[15] = Line(mode="alt0", owner="fe201000.serial", pull="up")
    chip.lines[8] = Line(direction="output", consumer="spi0 CS0", level=1)
    chip.lines[17] = Line(pull="down", level=0)
    chip.lines[22] = Line(pull="up", level=1)
    chip.lines[27] = Line(direction="output", level=1)  # left driving by a program that exited (Pi OS)
    chip.persist_outputs = params.get("persist", True)
    if params.get("gpiomem", True):
        chip.gpiomem = host_root.root / "dev" / ("gpiomem0" if chip.label == "pinctrl-rp1" else "gpiomem")
    if params.get("debugfs", False):
        chip.debugfs = host_root.root / "sys/kernel/debug/pinctrl" / f"fe200000.gpio-{chip.label}"
    chip.save()
    module = fake_lgpio(chip)
    monkeypatch.setitem(sys.modules, "lgpio", module)
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    monkeypatch.setattr("gpiozero.pins.local.get_pi_revision", lambda: 0xC03114)  # a Pi 4 Model B
    gpio = _gpio(chip)
    previous = hardware.install_gpio(gpio)
    yield Board(chip, module, gpio)
    hardware.install_gpio(previous)
    gpio.close()  # LocalPiFactory.pins is shared by every factory in the process: leave it empty


def _gpio(chip: FakeChip) -> Gpio:
    """What ``create_gpio`` builds on a Pi: the LGPIOFactory with the as-found pins, and the function select."""
    factory = importlib.import_module("gpiozero.pins.lgpio").LGPIOFactory(chip=0)
    factory.pin_class = hardware._as_found_pin_class()
    header = HeaderChip(path=chip.path, label=chip.label, number=0)
    lines = KernelLines(chip.path, FakeDevices(chip))
    return Gpio(factory, simulated=False, lines=lines, chip=header, mux=PinMux(chip.label))


def pinout(chip: FakeChip, *pins: int) -> dict[int, tuple[str | None, int, str, str | None]]:
    """What the SoC has on ``pins``: function select, level, pull, and whoever holds the line."""
    chip.load()
    return {
        pin: (chip.lines[pin].mode, chip.lines[pin].level, chip.lines[pin].pull, chip.lines[pin].consumer)
        for pin in pins
    }


# --- The fakes keep the real kernel's behaviour --------------------------------------------------


@pytest.mark.parametrize("board", [{"persist": False}], indirect=True)  # the real kernel's behaviour
def test_the_fake_kernel_lets_a_muxed_pin_be_claimed_and_re_muxes_it_as_the_real_one_did(board):
    """On the real kernel (tests/kernel), claim_output(2) with I2C1 owning GPIO2 returned 0 and alt0 became
    gpio_out, and line info said "unused" before. A fake that makes muxed pins busy (EBUSY) again fails here."""
    chip, lgpio = board.chip, board.lgpio
    info = parsers.parse_line_info(chip.info(2))
    assert (info.used, info.direction) == (False, "input"), "not a strict pin controller: line info says free"
    handle = lgpio.gpiochip_open(0)
    assert lgpio.gpio_claim_output(handle, 2, 0) == 0, "pinmux.c lets the GPIO request through"
    assert chip.lines[2].mode == "output", "taken from the bus"
    assert chip.lines[2].owner == I2C, "pinmux-pins still names the I2C driver"
    lgpio.gpio_free(handle, 2)
    assert chip.lines[2].mode == "input", "released: gpio_in, not alt0 (I2C stays broken)"
    with pytest.raises(lgpio.error, match=GPIO_BUSY):
        lgpio.gpio_claim_output(handle, 8, 0)  # only another requester makes it busy


@pytest.mark.parametrize("board", [{"persist": False}], indirect=True)
def test_the_fake_kernel_resets_a_released_output_upstream_and_line_info_keeps_saying_output(board):
    chip, lgpio = board.chip, board.lgpio
    handle = lgpio.gpiochip_open(0)
    lgpio.gpio_claim_output(handle, 17, 1)
    lgpio.gpio_free(handle, 17)
    assert chip.lines[17].mode == "input", "bcm2835_pmx_gpio_disable_free: back to gpio_in"
    assert parsers.parse_line_info(chip.info(17)).direction == "output", "gpiolib keeps FLAG_IS_OUT"


# --- Reading a pin's function ------------------------------------------------------------------


def test_every_pin_reads_its_function_from_the_function_select_and_direction_from_it_not_line_info(board):
    read = services.pin_configurations_read()
    assert (read["GPIO2"].function, read["GPIO3"].function) == ("I2C1 SDA", "I2C1 SCL")
    assert read["GPIO14"].function == "UART0 TXD"
    assert read["GPIO17"].function == read["GPIO27"].function == functions.GPIO
    assert (read["GPIO27"].io, read["GPIO27"].state) == ("OUTPUT", 1.0), "an unclaimed output, still driving"
    assert (read["GPIO22"].io, read["GPIO22"].state, read["GPIO22"].pull) == ("INPUT", 1.0, "UP")
    board.chip.lines[27].direction = "output"
    board.chip.lines[27].mode = "input"  # released upstream: line info still says output
    board.chip.save()
    assert services.pin_configuration_read(pin=27).io == "INPUT", "the function select, not the cached direction"
    assert board.lgpio.modes == {}, "reading claimed nothing"


@pytest.mark.parametrize("board", [{"gpiomem": False, "debugfs": True}], indirect=True)
def test_without_gpiomem_debugfs_gives_the_function_level_and_the_driver_holding_it(board):
    read = services.pin_configurations_read(pins=[2, 17, 27])
    assert (read["GPIO2"].function, read["GPIO2"].used_by) == ("I2C1 SDA", I2C)
    assert (read["GPIO27"].io, read["GPIO27"].state, read["GPIO27"].pull) == ("OUTPUT", 1.0, None)


# --- Refusing a pin a bus has --------------------------------------------------------------------


def config_txt_turned_on(host_root, alias: str, node: str) -> None:
    host_root.write(f"proc/device-tree/aliases/{alias}", f"{node}\0")
    host_root.write(f"proc/device-tree{node}/status", "okay\0")


def test_an_i2c_pin_is_refused_naming_its_function_and_the_setting_that_turned_it_on(board, host_root):
    config_txt_turned_on(host_root, "i2c1", "/soc/i2c@7e804000")
    before = pinout(board.chip, 2, 3, 17)
    with pytest.raises(Conflict) as raised:
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 2: OutputChange(state=0.0)})
    assert raised.value.message == "GPIO2 is I2C1 SDA (i2c_arm is on in config.txt); no pin was changed"
    assert pinout(board.chip, 2, 3, 17) == before
    assert board.lgpio.calls == [("gpiochip_open", 0)], "refused before any pin was touched"


@pytest.mark.parametrize("board", [{"gpiomem": False, "debugfs": True}], indirect=True)
def test_without_a_device_tree_hint_the_refusal_names_the_driver_holding_the_pin(board):
    with pytest.raises(Conflict, match=r"^GPIO15 is UART0 RXD \(the kernel's fe201000.serial driver holds it\); "):
        services.pin_configurations_update(changes={15: InputChange(pull="UP")})


@pytest.mark.django_db
def test_a_bus_pin_over_rest_is_a_409_and_over_the_websocket_an_error_envelope(board, client, host_root):
    config_txt_turned_on(host_root, "i2c1", "/soc/i2c@7e804000")
    response = client.put(
        "/pins/GPIO3", {"io": "INPUT", "pull": "UP"}, content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert (response.status_code, response.json()) == (
        409,
        {"message": "GPIO3 is I2C1 SCL (i2c_arm is on in config.txt); no pin was changed"},
    )
    assert board.chip.lines[3].mode == "alt0"


@pytest.mark.django_db(transaction=True)
async def test_a_bus_pin_over_the_websocket_is_an_error_envelope(board):
    async with websocket() as client:
        reply = await client.request("UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO14": {"io": "OUTPUT", "state": 1}}})
    assert reply["error"] == "GPIO14 is UART0 TXD (its function select is ALT0); no pin was changed"
    assert board.chip.lines[14].mode == "alt0"


@pytest.mark.django_db
def test_a_pin_an_admin_let_be_taken_over_is_claimed_and_given_its_bus_back_when_released(board):
    PinSetting.objects.create(pin=2, may_take_over=True)
    services.pin_configurations_update(changes={2: OutputChange(state=0.0)})
    assert pinout(board.chip, 2)[2] == ("output", 0, "up", "lg")
    assert services.pin_configuration_read(pin=2).function == functions.GPIO
    board.gpio.release(2)
    assert pinout(board.chip, 2)[2] == ("alt0", 0, "up", None), "I2C1 SDA again, its pull-up kept"


@pytest.mark.django_db
def test_at_shutdown_a_taken_over_pin_gets_its_bus_back_and_an_output_keeps_driving(board):
    PinSetting.objects.create(pin=2, may_take_over=True)
    services.pin_configurations_update(changes={2: InputChange(pull="UP"), 17: OutputChange(state=1.0)})
    board.gpio.shutdown()
    assert pinout(board.chip, 2)[2][0] == "alt0"
    assert pinout(board.chip, 17)[17][:2] == ("output", 1), "still the server's, still high"


# --- A failed batch leaves every pin exactly as it was --------------------------------------------


@pytest.mark.parametrize(
    "board",
    [{"persist": True}, {"persist": False}, {"persist": False, "label": "pinctrl-rp1"}],
    ids=["pi-os-outputs-persist", "upstream-resets", "rp1-upstream-resets"],
    indirect=True,
)
@pytest.mark.django_db
def test_a_failed_batch_leaves_every_pin_as_it_was_function_direction_level_and_pull(board):
    PinSetting.objects.create(pin=3, may_take_over=True)
    before = pinout(board.chip, 3, 17, 22, 27)
    with pytest.raises(Conflict, match="GPIO8 is in use by another program or driver"):
        services.pin_configurations_update(
            changes={
                17: OutputChange(state=1.0),  # an input with a pull-down, driven high
                22: InputChange(pull="DOWN"),  # a pull-up, changed
                27: InputChange(pull="FLOATING"),  # an output nobody holds, made an input
                3: OutputChange(state=0.0),  # I2C1 SCL, taken over
                8: OutputChange(state=1.0),  # the SPI driver's: busy
            }
        )
    assert pinout(board.chip, 3, 17, 22, 27) == before
    assert board.lgpio.modes == {}, "nothing left claimed"


def test_a_pin_whose_function_cannot_be_written_back_is_reported(board, monkeypatch):
    services.pin_configurations_update(changes={27: InputChange(pull="UP")})
    monkeypatch.setattr(board.chip, "persist_outputs", False)
    board.chip.lines[27].level = 1
    monkeypatch.setattr(PinMux, "set_mode", lambda self, bcm, mode: False)
    # The server configured GPIO27 itself now: a release puts back what was there first, an output.
    with pytest.raises(hardware.GpioError, match="GPIO27 could not be given back its function GPIO"):
        board.gpio.release(27)


# --- A restart does not blink a relay ----------------------------------------------------------


def test_a_restart_on_pi_os_keeps_an_output_driving_without_a_blink(board):
    chip = board.chip
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    start = len(chip.history[17])
    board.lgpio.gpiochip_close(board.gpio.factory._handle)  # the process ends: the kernel frees its lines
    board.gpio.factory.pins.clear()  # ... and its objects are gone (gpiozero shares them within a process)
    assert pinout(chip, 17)[17][:2] == ("output", 1), "persist_gpio_outputs: the relay stays on"
    second = _gpio(chip)  # the service starts again and applies its saved configuration
    hardware.install_gpio(second)
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    assert chip.history[17][start - 1 :] == [("output", 1)], "never an input, never low: no blink"
    assert pinout(chip, 17)[17] == ("output", 1, "down", "lg"), "claimed again, its pull untouched"


def test_the_as_found_pin_adapter_still_fits_gpiozero(board):
    """Guard for pins/hardware.py ``_as_found_pin_class``: a gpiozero pin made with it claims nothing,
    and then behaves as LGPIOPin does (function, state, pull, PWM, edges)."""
    pin = board.gpio.factory.pin(17)
    assert board.lgpio.modes == {}, "making the pin claimed nothing"
    pin.function = "input"
    pin.pull = "up"
    assert (pin.function, pin.pull, board.lgpio.modes) == ("input", "up", {17: "input"})
    pin.edges = "both"
    pin.when_changed = lambda ticks, state: None
    assert board.lgpio.modes == {17: "alert"}
    pin.when_changed = None
    pin.function = "output"
    pin.state = True
    assert board.chip.lines[17].level == 1
    pin.frequency = 100
    pin.state = 0.5
    assert pin.state == 0.5
    pin.frequency = None


# --- Decoding, from what the real kernel and pinctrl's sources show ---------------------------------


def test_debugfs_lines_as_the_real_6_1_kernel_printed_them_decode():
    pins = parsers.parse_debugfs_pins(
        "pin 2 (gpio2) 0:? function alt0 in lo; irq 0 (none)\n"
        "pin 17 (gpio17) 0:? function gpio_out in hi; irq 0 (none)\n"
        "pin 27 (gpio27) 0:? function gpio_in in hi; irq 0 (none)\n"
    )
    assert pins == {
        2: parsers.MuxReading(mode="alt0", level=0, pull=None),
        17: parsers.MuxReading(mode="output", level=1, pull=None),
        27: parsers.MuxReading(mode="input", level=1, pull=None),
    }
    owners = parsers.parse_debugfs_pinmux(
        "Pinmux settings per pin\n"
        "pin 2 (gpio2): 3f804000.i2c (GPIO UNCLAIMED) function alt0 group gpio2\n"
        "pin 3 (gpio3): 3f804000.i2c pinctrl-bcm2835:461 function alt0 group gpio3\n"
        "pin 17 (gpio17): (MUX UNCLAIMED) pinctrl-bcm2835:475\n"
        "pin 4 (gpio4): (MUX UNCLAIMED) (GPIO UNCLAIMED)\n"
    )
    assert owners == {2: "3f804000.i2c", 3: "3f804000.i2c"}


@pytest.mark.parametrize(
    ("code", "mode"),
    [(0, "input"), (1, "output"), (4, "alt0"), (5, "alt1"), (6, "alt2"), (7, "alt3"), (3, "alt4"), (2, "alt5")],
)
def test_gpfsel_codes_decode_as_pinctrl_decodes_them(code, mode):
    registers = bytearray(4 * parsers.BCM2835_REGISTERS)
    registers[4:8] = (code << 21).to_bytes(4, "little")  # GPFSEL1, GPIO17's bits 21-23
    assert parsers.bcm2835_mux(bytes(registers), 17, bcm2711=False).mode == mode
    assert parsers.bcm2835_fsel_word(0, 17, mode) == code << 21


@pytest.mark.parametrize(
    ("label", "bcm", "mode", "name"),
    [
        ("pinctrl-bcm2835", 2, "alt0", "I2C1 SDA"),
        ("pinctrl-bcm2835", 14, "alt0", "UART0 TXD"),
        ("pinctrl-bcm2835", 14, "alt5", "UART1 TXD"),
        ("pinctrl-bcm2835", 8, "alt0", "SPI0 CE0"),
        ("pinctrl-bcm2835", 18, "alt0", "PCM CLK"),
        ("pinctrl-bcm2711", 12, "alt0", "PWM0 0"),
        ("pinctrl-rp1", 2, "alt3", "I2C1 SDA"),
        ("pinctrl-rp1", 14, "alt4", "UART0 TXD"),
        ("pinctrl-bcm2835", 17, "input", "GPIO"),
        ("pinctrl-bcm2711", 16, "alt0", "ALT0"),  # reserved on the BCM2711
    ],
)
def test_function_names_follow_the_socs_alternate_function_tables(label, bcm, mode, name):
    assert functions.function_name(chip_label=label, bcm=bcm, mode=mode) == name
