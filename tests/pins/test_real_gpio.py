"""Real GPIO that tells the truth and does not disturb, tested through gpiozero's real LGPIOFactory.

A fake ``lgpio`` module and a fake gpiochip (``tests/pins/fakes.py``, each modelled on its source:
lgpio's ``lgpio_extra.py``/``lgGpio.c``/``lgErr.c``, the kernel's ``gpiolib-cdev.c``) stand in for
a Pi 5: claiming a line (which creating a gpiozero pin does) makes it the server's, a line a
driver or another program holds is busy, and lgpio fails with its own ``lgpio.error``.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from endrpi_project.api.errors import Conflict, InvalidRequest, ReadingFailed
from pins import hardware, naming, services
from pins.configuration import InputChange, OutputChange, PinConfiguration
from pins.hardware import Gpio, HeaderChip, KernelLines
from tests.helpers import websocket
from tests.pins.fakes import BAD_PWM_FREQ, GPIO_BUSY, FakeChip, FakeDevices, Line, fake_lgpio


def make_chip(host_root, name: str, label: str) -> FakeChip:
    path = host_root.root / "dev" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return FakeChip(path=path, name=name, label=label)


@pytest.fixture
def chip(host_root):
    chip = make_chip(host_root, "gpiochip0", "pinctrl-rp1")
    # What the firmware, the kernel and other programs left behind: I2C on GPIO2/3 (muxed away from
    # GPIO: used, no consumer name), SPI0's chip selects (requested by spi-bcm2835), an output
    # another program drives (requested with its bias disabled), and a line some program released
    # after pulling it up (the kernel forgot the bias on release).
    chip.lines[2] = Line.muxed("alt3", "1f00074000.i2c")
    chip.lines[3] = Line.muxed("alt3", "1f00074000.i2c")
    chip.lines[8] = Line(direction="output", consumer="spi0 CS0", level=1)
    chip.lines[7] = Line(direction="output", consumer="spi0 CS1", level=1)
    chip.lines[22] = Line(direction="output", consumer="gpioset", bias="disabled", level=1)
    chip.lines[5] = Line(direction="input", pull="up")
    chip.lines[17] = Line(pull="down")
    chip.persist_outputs = True  # Raspberry Pi OS's kernel: a released output keeps driving
    chip.gpiomem = host_root.root / "dev" / "gpiomem0"  # Pi OS's view of RP1's registers
    chip.save()
    return chip


@pytest.fixture
def lgpio(chip, monkeypatch):
    module = fake_lgpio(chip)
    monkeypatch.setitem(sys.modules, "lgpio", module)
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    monkeypatch.setattr("gpiozero.pins.local.get_pi_revision", lambda: 0xD04170)  # a Pi 5 Model B
    return module


@pytest.fixture
def real_gpio(lgpio, chip):
    factory_module = importlib.import_module("gpiozero.pins.lgpio")
    factory = factory_module.LGPIOFactory(chip=0)
    factory.pin_class = hardware._as_found_pin_class()
    header = HeaderChip(path=chip.path, label=chip.label, number=0)
    lines = KernelLines(chip.path, FakeDevices(chip))
    gpio = Gpio(factory, simulated=False, lines=lines, chip=header, mux=hardware.PinMux(chip.label))
    previous = hardware.install_gpio(gpio)
    yield gpio
    hardware.install_gpio(previous)
    gpio.close()


def claims(lgpio) -> dict[int, str]:
    return dict(lgpio.modes)


def test_the_fake_lgpio_fails_with_lgpios_own_error_type_and_text(lgpio):
    handle = lgpio.gpiochip_open(0)
    with pytest.raises(lgpio.error) as raised:
        lgpio.gpio_claim_output(handle, 8)
    assert raised.value.value == GPIO_BUSY
    assert str(raised.value) == "'GPIO busy'", "lgpio.error's str() is the repr of its text"
    with pytest.raises(lgpio.error) as raised:
        lgpio.tx_pwm(handle, 17, 20_000, 50)
    assert raised.value.value == BAD_PWM_FREQ
    assert not issubclass(lgpio.error, OSError), "not a gpiozero error, not an OSError: its own type"


def test_reading_every_pin_claims_none_of_them(real_gpio, lgpio, chip):
    before = {offset: Line(**vars(line)) for offset, line in chip.lines.items()}
    configurations = services.pin_configurations_read()
    assert len(configurations) == 26
    assert claims(lgpio) == {}
    assert chip.lines == before
    assert sorted(chip.asked) == list(naming.USER_GPIOS)


def test_an_unconfigured_pin_reports_what_the_function_select_says_and_who_holds_it(real_gpio):
    read = services.pin_configurations_read(pins=[2, 5, 8, 17, 22])
    assert read["GPIO17"] == PinConfiguration(io="INPUT", state=0.0, pull="DOWN", function="GPIO")
    assert read["GPIO5"].pull == "UP", "RP1's pads keep the pull readable, though the kernel forgot the bias"
    assert (read["GPIO8"].io, read["GPIO8"].state, read["GPIO8"].used_by) == ("OUTPUT", 1.0, "spi0 CS0")
    assert read["GPIO2"] == PinConfiguration(io="INPUT", state=None, pull="FLOATING", function="I2C1 SDA"), (
        "muxed to I2C: line info says free, the function select says I2C1 SDA (RP1 ALT3)"
    )
    assert (read["GPIO22"].used_by, read["GPIO22"].pull) == ("gpioset", "FLOATING")


def test_without_the_registers_a_pin_reads_only_what_line_info_knows(real_gpio, chip):
    chip.gpiomem.unlink()  # not Pi OS (no /dev/gpiomem0), or not in group gpio; debugfs is root's
    chip.gpiomem = None
    read = services.pin_configurations_read(pins=[2, 5, 17])
    assert {configuration.state for configuration in read.values()} == {None}, "a level needs a claim"
    assert {configuration.function for configuration in read.values()} == {None}, "unknown, not guessed"
    assert read["GPIO5"].pull is None, "released: its old pull-up is forgotten by the kernel"
    assert read["GPIO2"].used_by is None, "a muxed pin reads free in line info: only the registers tell"


@pytest.mark.django_db
def test_used_by_and_function_are_on_the_wire_for_rest(real_gpio, client):
    every_pin = client.get("/pins", HTTP_ACCEPT="application/json").json()
    assert every_pin["GPIO8"] == {
        "io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None, "usedBy": "spi0 CS0", "function": "GPIO"
    }  # fmt: skip
    assert every_pin["GPIO17"] == {"io": "INPUT", "state": 0.0, "pull": "DOWN", "label": None, "function": "GPIO"}
    assert every_pin["GPIO3"]["function"] == "I2C1 SCL"
    assert len(every_pin) == 26
    assert all("function" in pin for pin in every_pin.values())


@pytest.mark.django_db(transaction=True)
async def test_used_by_and_function_are_on_the_wire_for_websocket_replies_and_push_alike(real_gpio):
    spi = {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None, "usedBy": "spi0 CS0", "function": "GPIO"}
    i2c = {"io": "INPUT", "state": None, "pull": "FLOATING", "label": None, "function": "I2C1 SDA"}
    async with websocket() as client:
        reply = await client.request("READ_PIN_CONFIGURATIONS", {"pins": ["GPIO8", "GPIO2"]})
        assert reply["data"] == {"GPIO8": spi, "GPIO2": i2c}
        subscribed = await client.request("SUBSCRIBE", {"topic": "PINS", "pins": ["GPIO2"]})
        assert subscribed["data"]["current"] == {"GPIO2": i2c}


def test_a_configured_pin_stays_claimed_and_reads_its_real_level(real_gpio, lgpio, chip):
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    assert claims(lgpio) == {17: "output"}
    assert chip.lines[17].level == 1
    configurations = services.pin_configurations_read()
    assert configurations["GPIO17"].io == "OUTPUT"
    assert configurations["GPIO17"].state == 1.0
    assert configurations["GPIO17"].used_by is None, "the server's own line is not 'used by' another"
    assert claims(lgpio) == {17: "output"}, "reading the others claimed nothing more"
    assert 17 not in chip.asked, "a configured pin is read through its own claimed line"


def test_a_configured_input_reads_its_pull_through_gpiozero(real_gpio, lgpio):
    services.pin_configurations_update(changes={27: InputChange(pull="DOWN")})
    configuration = services.pin_configuration_read(pin=27)
    assert (configuration.io, configuration.state, configuration.pull) == ("INPUT", 0.0, "DOWN")
    services.pin_configurations_read()
    assert claims(lgpio) == {27: "alert"}, "an input is watched for edges (an lgpio alert)"


def test_a_busy_pin_fails_the_batch_names_the_holder_and_releases_what_the_batch_claimed(real_gpio, lgpio, chip):
    chip.lines[17].level = chip.lines[17].outside = 1  # held high by the wiring; the server has not touched it
    chip.save()
    with pytest.raises(Conflict) as raised:
        services.pin_configurations_update(changes={17: InputChange(pull="UP"), 8: OutputChange(state=1.0)})
    assert raised.value.message == "GPIO8 is in use by another program or driver (spi0 CS0); no pin was changed"
    assert claims(lgpio) == {}, "GPIO17 is released again, not left claimed"
    assert chip.lines[17].consumer is None
    assert lgpio.calls[-1] == ("gpio_free", 17)
    assert not real_gpio.is_configured(17)
    assert chip.lines[8] == Line(direction="output", consumer="spi0 CS0", level=1), "the driver's line untouched"
    assert services.pin_configuration_read(pin=17) == PinConfiguration(
        io="INPUT", state=1.0, pull="DOWN", function="GPIO"
    ), "exactly as it was: an input at its level with its pull-down"


def test_a_failed_batch_puts_pins_the_server_had_configured_back_as_they_were(real_gpio, lgpio, chip):
    services.pin_configurations_update(changes={17: OutputChange(state=1.0), 27: InputChange(pull="DOWN")})
    with pytest.raises(Conflict, match="GPIO7 is in use by another program or driver \\(spi0 CS1\\)"):
        services.pin_configurations_update(
            changes={17: OutputChange(state=0.0), 27: OutputChange(state=1.0), 7: OutputChange(state=1.0)}
        )
    assert claims(lgpio) == {17: "output", 27: "alert"}
    assert chip.lines[17].level == 1
    assert (chip.lines[27].direction, chip.lines[27].bias) == ("input", "down")
    assert 27 in lgpio.callbacks, "watched for edges again"


def test_a_pwm_frequency_lgpio_refuses_is_a_client_error_and_rolls_the_batch_back(real_gpio, lgpio, chip, settings):
    settings.ENDRPI_PWM_FREQUENCY = 20_000.0  # past start-up's check, as if lgpio's limit were lower
    with pytest.raises(InvalidRequest) as raised:
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 18: OutputChange(state=0.5)})
    assert raised.value.message == (
        "GPIO18 cannot drive PWM at 20000 Hz (ENDRPI_PWM_FREQUENCY): lgpio's PWM runs at 0.1 to 10,000 Hz; "
        "no pin was changed"
    )
    assert claims(lgpio) == {}
    assert chip.lines[17].consumer is None


@pytest.mark.django_db(transaction=True)
async def test_a_busy_pin_is_an_error_envelope_and_a_409_message(real_gpio, lgpio):
    async with websocket() as client:
        reply = await client.request(
            "UPDATE_PIN_CONFIGURATIONS",
            {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}, "GPIO8": {"io": "OUTPUT", "state": 1}}},
        )
    assert reply == {
        "action": "UPDATE_PIN_CONFIGURATIONS",
        "success": False,
        "data": None,
        "error": "GPIO8 is in use by another program or driver (spi0 CS0); no pin was changed",
    }
    assert claims(lgpio) == {}


@pytest.mark.django_db
def test_a_busy_pin_over_rest_is_a_409_message(real_gpio, client):
    response = client.put(
        "/pins/GPIO8", data=json.dumps({"io": "INPUT", "pull": "UP"}), content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json() == {"message": "GPIO8 is in use by another program or driver (spi0 CS0); no pin was changed"}


def test_a_refused_edge_request_on_a_free_line_is_not_reported_as_in_use(real_gpio, lgpio, chip):
    """lgpio's LG_BAD_EVENT_REQUEST means any failed alert request (lgGpio.c lgGpioClaimAlert), not
    only a busy line: a line without an interrupt is refused too, and nobody else holds it."""
    chip.lines[27].irq = False
    with pytest.raises(ReadingFailed) as raised:
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 27: InputChange(pull="DOWN")})
    message = raised.value.message
    assert "in use" not in message
    assert message == (
        "Failed to update pin configuration of GPIO27: GPIO27 could not be watched for level changes: the "
        "kernel refused lgpio's edge-detection request for the line (lgpio: bad event request); no pin was changed"
    )
    assert claims(lgpio) == {}, "rolled back: nothing left claimed"
    assert chip.lines[27].consumer is None


def test_a_refused_edge_request_on_a_line_another_program_took_names_it(real_gpio, lgpio, chip, monkeypatch):
    real_claim_alert = lgpio.gpio_claim_alert

    def taken_meanwhile(handle, gpio, *args, **kwargs):
        # Between lgpio's own free and its edge request, another program requests the line: EBUSY.
        lgpio.gpio_free(handle, gpio)
        chip.request(gpio, "gpiomon", "input", None)
        return real_claim_alert(handle, gpio, *args, **kwargs)

    monkeypatch.setattr(lgpio, "gpio_claim_alert", taken_meanwhile)
    with pytest.raises(Conflict, match=r"^GPIO27 is in use by another program or driver \(gpiomon\); no pin"):
        services.pin_configurations_update(changes={27: InputChange(pull="DOWN")})
    assert claims(lgpio) == {}
    chip.release(27)  # the other program ends


def test_a_pull_the_board_rules_out_is_refused_before_any_pin_is_touched(real_gpio, lgpio):
    with pytest.raises(InvalidRequest, match="GPIO3 has a fixed pull-up resistor"):
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 3: InputChange(pull="FLOATING")})
    assert lgpio.calls == [("gpiochip_open", 0)]


def test_the_line_release_adapter_still_fits_gpiozero(real_gpio, lgpio, chip):
    """Guard for the one private name pins/hardware.py reads: LGPIOFactory._handle."""
    assert isinstance(getattr(real_gpio.factory, "_handle", None), int), "gpiozero moved lgpio's chip handle"
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    real_gpio.release(17)
    assert ("gpio_free", 17) in lgpio.calls
    assert chip.lines[17].consumer is None


def test_the_line_release_adapter_fails_loudly_without_the_handle(real_gpio, lgpio):
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    handle = real_gpio.factory._handle
    del real_gpio.factory._handle  # as if gpiozero had renamed it
    try:
        with pytest.raises(hardware.GpioError, match="no lgpio chip handle in _handle"):
            real_gpio.release(17)
    finally:
        real_gpio.factory._handle = handle


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


def test_the_mock_gpio_reads_pins_as_it_always_has(gpio):
    assert gpio.lines is None
    assert services.pin_configuration_read(pin=17).state == 0.0


def test_a_configured_input_reports_its_level_changes_and_an_output_does_not(real_gpio, lgpio, chip):
    changed: list[int] = []
    previous = hardware.watch_edges(changed.append)
    try:
        services.pin_configurations_update(changes={27: InputChange(pull="DOWN")})
        assert chip.lines[27].bias == "down", "watching for alerts keeps the pull"
        chip.lines[27].level = 1
        lgpio.callbacks[27].func(0, 27, 1, 1_000_000)
        assert changed == [27]
        services.pin_configurations_update(changes={27: OutputChange(state=0.0)})
        assert 27 not in lgpio.callbacks
    finally:
        hardware.watch_edges(previous)


# --- Which chip is the header's ------------------------------------------------------------------


def pi5(host_root) -> None:
    host_root.write("proc/device-tree/model", "Raspberry Pi 5 Model B Rev 1.0\0")


def test_an_early_pi_5_kernel_has_the_header_at_gpiochip4(host_root, lgpio, chip):
    chips = [make_chip(host_root, f"gpiochip{n}", f"gpio-brcmstb@107d50{n}500") for n in range(4)]
    header = make_chip(host_root, "gpiochip4", "pinctrl-rp1")
    chip.path.unlink()  # no gpiochip0 for the header on these kernels
    chips[0].path.touch()
    pi5(host_root)
    gpio = hardware.create_gpio("real", device=FakeDevices(*chips, header))
    try:
        assert gpio.chip == HeaderChip(path=header.path, label="pinctrl-rp1", number=4)
        assert gpio.lines is not None
        assert gpio.lines.path == header.path
        assert ("gpiochip_open", 4) in lgpio.calls
    finally:
        gpio.close()


def test_a_later_pi_5_kernel_has_it_at_gpiochip0_and_keeps_a_gpiochip4_link(host_root, lgpio, chip):
    link = make_chip(host_root, "gpiochip4", "pinctrl-rp1")
    others = [make_chip(host_root, f"gpiochip{n}", f"gpio-brcmstb@107d50{n}500") for n in (10, 11)]
    pi5(host_root)
    gpio = hardware.create_gpio("auto", device=FakeDevices(chip, link, *others))
    try:
        assert gpio.chip == HeaderChip(path=chip.path, label="pinctrl-rp1", number=0)
        assert ("gpiochip_open", 0) in lgpio.calls
    finally:
        gpio.close()


def test_a_pi_4_header_is_labelled_pinctrl_bcm2711(host_root, lgpio):
    header = make_chip(host_root, "gpiochip0", "pinctrl-bcm2711")
    expander = make_chip(host_root, "gpiochip1", "raspberrypi-exp-gpio")
    host_root.write("proc/device-tree/model", "Raspberry Pi 4 Model B Rev 1.4\0")
    gpio = hardware.create_gpio("auto", device=FakeDevices(expander, header))
    try:
        assert gpio.chip is not None
        assert gpio.chip.label == "pinctrl-bcm2711"
    finally:
        gpio.close()


def test_without_a_header_chip_real_refuses_to_start_and_auto_simulates(host_root, lgpio, caplog):
    other = make_chip(host_root, "gpiochip0", "some-expander")
    pi5(host_root)
    with pytest.raises(ImproperlyConfigured, match="no gpiochip labelled pinctrl-rp1, pinctrl-bcm2711"):
        hardware.create_gpio("real", device=FakeDevices(other))
    gpio = hardware.create_gpio("auto", device=FakeDevices(other))
    assert gpio.simulated
    assert "simulating GPIO instead" in caplog.text


def test_the_doctor_hears_which_factory_and_chip_are_in_use(real_gpio):
    description = services.pin_factory_describe()
    assert (description.factory, description.simulated, description.in_use) == ("LGPIOFactory", False, True)
    assert (description.chip_label, description.chip_path) == ("pinctrl-rp1", str(real_gpio.chip.path))


def test_the_doctor_hears_what_a_server_would_use_without_anything_claimed(host_root, lgpio, chip, monkeypatch):
    pi5(host_root)
    monkeypatch.setattr(hardware, "GpioChipDevice", lambda: FakeDevices(chip))
    previous = hardware.install_gpio(None)
    try:
        description = services.pin_factory_describe()
    finally:
        hardware.install_gpio(previous)
    assert (description.factory, description.simulated, description.in_use) == ("LGPIOFactory", False, False)
    assert (description.chip_label, Path(description.chip_path or "")) == ("pinctrl-rp1", chip.path)
    assert description.problem is None
    assert lgpio.calls == [], "nothing opened through lgpio, nothing claimed"


def test_the_doctor_hears_of_a_simulated_gpio_off_a_pi(gpio):
    previous = hardware.install_gpio(None)
    try:
        description = services.pin_factory_describe()
    finally:
        hardware.install_gpio(previous)
    assert (description.factory, description.simulated, description.chip_label) == ("MockFactory", True, None)
