from __future__ import annotations

import pytest

from endrpi_project.api.errors import InvalidRequest, NotFound, ReadingFailed
from pins import services
from pins.configuration import InputChange, OutputChange, PinConfiguration
from pins.hardware import GpioError


def test_it_reads_every_header_gpio_keyed_by_name():
    configurations = services.pin_configurations_read()
    assert list(configurations) == [f"GPIO{n}" for n in range(2, 28)]
    assert configurations["GPIO17"] == PinConfiguration(io="INPUT", state=0.0, pull="FLOATING")


def test_an_output_reads_back_as_a_number():
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    configuration = services.pin_configuration_read(pin=17)
    assert configuration == PinConfiguration(io="OUTPUT", state=1.0, pull="FLOATING")
    assert type(configuration.state) is float


def test_an_input_with_a_pull_up_reads_high(gpio):
    services.pin_configurations_update(changes={4: InputChange(pull="UP")})
    assert services.pin_configuration_read(pin=4) == PinConfiguration(io="INPUT", state=1.0, pull="UP")


def test_an_input_follows_the_level_driven_on_it(gpio):
    services.pin_configurations_update(changes={22: InputChange(pull="FLOATING")})
    gpio.factory.pin(22).drive_high()
    assert services.pin_configuration_read(pin=22).state == 1.0
    gpio.factory.pin(22).drive_low()
    assert services.pin_configuration_read(pin=22).state == 0.0


def test_a_state_between_0_and_1_drives_pwm(gpio):
    services.pin_configurations_update(changes={18: OutputChange(state=0.25)})
    assert services.pin_configuration_read(pin=18).state == 0.25
    assert gpio.factory.pin(18).frequency == 100


def test_going_back_to_a_digital_level_stops_pwm(gpio):
    services.pin_configurations_update(changes={18: OutputChange(state=0.25)})
    services.pin_configurations_update(changes={18: OutputChange(state=0.0)})
    assert gpio.factory.pin(18).frequency is None
    assert services.pin_configuration_read(pin=18).state == 0.0


def test_resolving_an_unknown_pin_names_it():
    with pytest.raises(NotFound, match="GPIO99"):
        services.pin_resolve(name="GPIO99")


def test_an_empty_update_is_refused():
    with pytest.raises(InvalidRequest, match="At least one pin"):
        services.pin_configurations_update(changes={})


def test_an_update_that_fails_part_way_puts_every_pin_back(gpio, monkeypatch):
    services.pin_configurations_update(changes={5: OutputChange(state=1.0), 6: InputChange(pull="DOWN")})
    real_set_output = gpio.set_output

    def failing_set_output(bcm: int, state: float) -> None:
        if bcm == 6:
            gpio.factory.pin(6).function = "output"  # half-configured when the hardware fails
            raise GpioError("GPIO6 is busy")
        real_set_output(bcm, state)

    monkeypatch.setattr(gpio, "set_output", failing_set_output)
    with pytest.raises(ReadingFailed, match="GPIO6"):
        services.pin_configurations_update(changes={5: OutputChange(state=0.0), 6: OutputChange(state=1.0)})
    monkeypatch.setattr(gpio, "set_output", real_set_output)
    assert services.pin_configuration_read(pin=5) == PinConfiguration(io="OUTPUT", state=1.0, pull="FLOATING")
    assert services.pin_configuration_read(pin=6) == PinConfiguration(io="INPUT", state=0.0, pull="DOWN")


def test_pwm_on_a_pin_without_pwm_is_a_clear_client_error(gpio, monkeypatch):
    from gpiozero.pins.mock import MockFactory

    from pins.hardware import Gpio, install_gpio

    no_pwm = Gpio(MockFactory(), simulated=True)
    install_gpio(no_pwm)
    try:
        with pytest.raises(InvalidRequest, match="GPIO12 does not support PWM"):
            services.pin_configurations_update(changes={12: OutputChange(state=0.5)})
        assert services.pin_configuration_read(pin=12).io == "INPUT"
    finally:
        install_gpio(gpio)
        no_pwm.close()


def test_a_simulated_pin_keeps_a_bounded_history(gpio):
    for index in range(500):
        services.pin_configurations_update(changes={17: OutputChange(state=float(index % 2))})
    pin = gpio.factory.pin(17)
    assert len(pin.states) == gpio.HISTORY
    assert services.pin_configuration_read(pin=17).state == 1.0


def test_a_failed_batch_releases_a_pin_the_server_had_not_configured(gpio, monkeypatch):
    """Not left claimed and not driven low: a simulated pin starts afresh, as if never touched."""
    gpio.factory.pin(27).drive_high()  # an input someone drives high; the server has not configured it
    real_set_output = gpio.set_output

    def failing_set_output(bcm: int, state: float) -> None:
        if bcm == 6:
            raise GpioError("GPIO6 is busy")
        real_set_output(bcm, state)

    monkeypatch.setattr(gpio, "set_output", failing_set_output)
    with pytest.raises(ReadingFailed, match="GPIO6"):
        services.pin_configurations_update(changes={27: OutputChange(state=0.0), 6: OutputChange(state=1.0)})
    assert not gpio.is_configured(27)
    assert services.pin_configuration_read(pin=27) == PinConfiguration(io="INPUT", state=0.0, pull="FLOATING")
    assert gpio.factory.pin(27).function == "input"


def test_any_failure_inside_a_batch_rolls_it_back(gpio, monkeypatch):
    services.pin_configurations_update(changes={5: OutputChange(state=1.0)})
    real_set_input = gpio.set_input

    def broken_set_input(bcm: int, pull: str) -> None:
        raise RuntimeError("a pin library failed in a way nobody expected")

    monkeypatch.setattr(gpio, "set_input", broken_set_input)
    with pytest.raises(RuntimeError):
        services.pin_configurations_update(changes={5: OutputChange(state=0.0), 6: InputChange(pull="UP")})
    monkeypatch.setattr(gpio, "set_input", real_set_input)
    assert services.pin_configuration_read(pin=5).state == 1.0


@pytest.mark.parametrize("pin", [2, 3])
@pytest.mark.parametrize("pull", ["FLOATING", "DOWN"])
def test_a_pull_the_board_rules_out_is_a_client_error_and_changes_nothing(pin, pull):
    with pytest.raises(InvalidRequest) as raised:
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), pin: InputChange(pull=pull)})
    assert raised.value.message == (
        f"GPIO{pin} has a fixed pull-up resistor on the board, so an input there can only have pull UP (not {pull})"
    )
    assert services.pin_configuration_read(pin=17).io == "INPUT"


def test_gpio2_and_gpio3_take_pull_up():
    services.pin_configurations_update(changes={2: InputChange(pull="UP")})
    assert services.pin_configuration_read(pin=2) == PinConfiguration(io="INPUT", state=1.0, pull="UP")


def test_the_header_says_which_pulls_each_gpio_can_have():
    header = {pin.name: pin for pin in services.pins_header()}
    assert len(services.pins_header()) == 40
    assert header["GPIO2"].pulls == ("UP",)
    assert header["GPIO3"].pulls == ("UP",)
    assert header["GPIO17"].pulls == ("FLOATING", "UP", "DOWN")
    assert header["GND"].pulls == ()
    physical, name, bcm = header["GPIO17"][:3]
    assert (physical, name, bcm) == (11, "GPIO17", 17), "still indexable as (physical, name, bcm)"


def test_the_fixed_pulls_are_gpiozeros_own_board_data():
    from gpiozero.pins.mock import MockFactory

    from pins import rules

    for revision in ("a02082", "c03114", "d04170"):  # a Pi 3 B, a Pi 4 B, a Pi 5 B
        header = MockFactory(revision=revision).board_info.headers["J8"]
        fixed = {
            int(info.name[4:]): info.pull.upper()
            for info in header.pins.values()
            if info.pull and info.name.startswith("GPIO")
        }
        assert fixed == rules.FIXED_PULLS, revision
