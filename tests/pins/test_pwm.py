"""PWM with lgpio's own float duty cycle, through gpiozero's real LGPIOFactory and the fake lgpio.

gpiozero's ``LGPIOPin`` keeps the duty as ``int(value * 100)`` (gpiozero/pins/lgpio.py ``_set_state``):
whole percent, and a state under 0.01 left PWM running at 0 %. lgpio's ``tx_pwm`` takes a float
percentage and times it in whole microseconds (joan2937/lg ``lgGpio.c`` ``lgTxPwm``; the fake in
``tests/pins/fakes.py`` does the same arithmetic). These tests are also the guard of the adapter that
reaches gpiozero's ``LGPIOFactory._handle`` to call ``tx_pwm`` (``pins/hardware.py`` ``_lgpio_pwm``).
"""

from __future__ import annotations

import json

import pytest

from endrpi_project.api.errors import InvalidRequest
from pins import hardware, rules, services
from pins.configuration import InputChange, OutputChange
from tests.pins import test_real_gpio
from tests.pins.test_real_gpio import claims

# The real-GPIO tests' fixtures: gpiozero's LGPIOFactory over the fake lgpio and gpiochip.
chip = test_real_gpio.chip
lgpio = test_real_gpio.lgpio
real_gpio = test_real_gpio.real_gpio


def test_pwm_runs_with_lgpios_float_duty_and_reads_back_what_lgpio_times(real_gpio, lgpio, settings):
    assert settings.ENDRPI_PWM_FREQUENCY == 100.0
    services.pin_configurations_update(changes={18: OutputChange(state=0.12345)})
    assert ("tx_pwm", 18, 100.0, pytest.approx(12.345)) in lgpio.calls
    assert lgpio.pwm[18] == (1235, 10_000), "12.35 % of a 10,000 µs period, not gpiozero's 12 %"
    assert services.pin_configuration_read(pin=18).state == 0.1235
    assert claims(lgpio) == {18: "output"}


def test_a_duty_under_one_percent_is_driven_not_cut_to_zero(real_gpio, lgpio):
    services.pin_configurations_update(changes={18: OutputChange(state=0.005)})
    assert lgpio.pwm[18] == (50, 10_000)
    assert services.pin_configuration_read(pin=18).state == 0.005


@pytest.mark.parametrize("state", [0.00001, 0.99999])
def test_a_duty_lgpio_cannot_time_is_refused_before_any_pin_is_touched(real_gpio, lgpio, state):
    with pytest.raises(InvalidRequest) as raised:
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 18: OutputChange(state=state)})
    assert raised.value.message == (
        f"GPIO18 cannot drive a PWM duty cycle of {state:g} at 100 Hz (ENDRPI_PWM_FREQUENCY): lgpio's PWM times "
        "each 10,000 µs period in whole microseconds, so a state between 0 and 1 must come to at least 1 µs "
        "high and 1 µs low (steps of 0.0001); use 0 or 1 for a steady level"
    )
    assert lgpio.calls == [("gpiochip_open", 0)], "nothing claimed, nothing driven"
    assert lgpio.pwm == {}


def test_the_limit_follows_the_frequency(real_gpio, lgpio, settings):
    settings.ENDRPI_PWM_FREQUENCY = 10_000.0  # 100 µs a period: steps of 1 %
    with pytest.raises(InvalidRequest, match=r"at 10000 Hz .* 100 µs period .* \(steps of 0.01\)"):
        services.pin_configurations_update(changes={18: OutputChange(state=0.004)})
    services.pin_configurations_update(changes={18: OutputChange(state=0.006)})
    assert lgpio.pwm[18] == (1, 100)
    assert services.pin_configuration_read(pin=18).state == 0.01


@pytest.mark.django_db
def test_over_rest_a_duty_lgpio_cannot_time_is_a_400(real_gpio, client):
    response = client.put(
        "/pins/GPIO18", data=json.dumps({"io": "OUTPUT", "state": 0.00001}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("GPIO18 cannot drive a PWM duty cycle of 1e-05 at 100 Hz")


def test_the_simulated_gpio_refuses_the_same_duty(gpio):
    with pytest.raises(InvalidRequest, match="cannot drive a PWM duty cycle of 1e-05"):
        services.pin_configurations_update(changes={18: OutputChange(state=0.00001)})


@pytest.mark.parametrize(
    ("then", "stopped_by"),
    [
        (OutputChange(state=1.0), ("tx_pwm", 18, 0, 0)),
        (OutputChange(state=0.0), ("tx_pwm", 18, 0, 0)),
        (InputChange(pull="DOWN"), ("tx_pwm", 18, 0, 0)),
    ],
)
def test_a_steady_level_or_an_input_stops_lgpios_pwm(real_gpio, lgpio, chip, then, stopped_by):
    services.pin_configurations_update(changes={18: OutputChange(state=0.5)})
    services.pin_configurations_update(changes={18: then})
    assert 18 not in lgpio.pwm, "no PWM thread left toggling the line"
    assert stopped_by in lgpio.calls
    read = services.pin_configuration_read(pin=18)
    if isinstance(then, OutputChange):
        assert (read.io, read.state, chip.lines[18].level) == ("OUTPUT", then.state, int(then.state))
    else:
        assert read.io == "INPUT"


def test_releasing_a_pwm_pin_stops_its_pwm(real_gpio, lgpio):
    services.pin_configurations_update(changes={18: OutputChange(state=0.25)})
    real_gpio.release(18)
    assert lgpio.pwm == {}
    assert claims(lgpio) == {}


def test_a_failed_batch_puts_a_pwm_pin_back_at_its_duty(real_gpio, lgpio):
    services.pin_configurations_update(changes={18: OutputChange(state=0.3333)})
    with pytest.raises(Exception, match="GPIO8 is in use"):
        services.pin_configurations_update(changes={18: OutputChange(state=1.0), 8: OutputChange(state=1.0)})
    assert lgpio.pwm[18] == (3333, 10_000)
    assert services.pin_configuration_read(pin=18).state == 0.3333


def test_the_pwm_adapter_fails_loudly_without_gpiozeros_handle(real_gpio, lgpio):
    real_gpio.set_output(18, 1.0)
    handle = real_gpio.factory._handle
    del real_gpio.factory._handle  # as if gpiozero had renamed it
    try:
        with pytest.raises(hardware.GpioError, match=r"cannot drive PWM on GPIO18: .* no lgpio chip handle in _handle"):
            hardware._lgpio_pwm(real_gpio.factory, 18, 100.0, 50.0)
    finally:
        real_gpio.factory._handle = handle


@pytest.mark.parametrize(
    ("state", "frequency", "timing"),
    [
        (0.5, 100.0, (5_000, 10_000)),
        (0.12345, 100.0, (1_235, 10_000)),
        (0.00006, 100.0, (1, 10_000)),
        (0.00005, 100.0, (0, 10_000)),  # 0.005 % as a C float is 0.0049999...: 0.99999 µs, truncated
        (0.5, 10_000.0, (50, 100)),
        (0.5, 0.1, (5_000_000, 10_000_000)),
        (0.5, 3.0, (166_667, 333_333)),  # micros = 333,333.8 truncated; on = 166,666.5 + 0.5
    ],
)
def test_the_timing_is_lgtxpwms_arithmetic(state, frequency, timing):
    assert rules.pwm_timing(state=state, frequency=frequency) == timing
