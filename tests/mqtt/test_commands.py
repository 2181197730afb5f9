"""Commands from MQTT go through the pins service: validation, locks, all-or-nothing, the write rate."""

from __future__ import annotations

import json

import pytest

from endrpi_project.api.errors import Conflict, Forbidden, InvalidRequest, LimitExceeded, NotFound
from endrpi_project.mqtt.commands import command_bucket_reset, mqtt_command_apply
from pins import services
from pins.configuration import InputChange, OutputChange
from pins.models import PinSetting


@pytest.fixture(autouse=True)
def settings_of_pins(settings):
    settings.ENDRPI_WS_WRITE_RATE = 1000.0
    settings.ENDRPI_WS_WRITE_BURST = 1000
    command_bucket_reset()
    services.pin_settings_remember(
        {
            17: PinSetting(pin=17, mqtt_controllable=True),
            27: PinSetting(pin=27, mqtt_controllable=True, locked=True),
            22: PinSetting(pin=22, mqtt_exposed=True),
        }
    )
    yield
    command_bucket_reset()


def read(pin):
    return services.pin_configuration_read(pin=pin)


def test_a_json_configuration_changes_a_controllable_pin():
    assert mqtt_command_apply(pin="GPIO17", payload=json.dumps({"io": "OUTPUT", "state": 1}).encode()) == "GPIO17"
    assert (read(17).io, read(17).state) == ("OUTPUT", 1.0)
    mqtt_command_apply(pin="BCM17", payload=b'{"io": "INPUT", "pull": "UP"}')
    assert (read(17).io, read(17).pull) == ("INPUT", "UP")


def test_on_and_off_switch_an_output():
    services.pin_configurations_update(changes={17: OutputChange(state=0.0)})
    mqtt_command_apply(pin="GPIO17", payload=b"ON")
    assert read(17).state == 1.0
    mqtt_command_apply(pin="GPIO17", payload=b" off\n")
    assert read(17).state == 0.0


def test_on_for_an_input_is_refused_and_changes_nothing():
    services.pin_configurations_update(changes={17: InputChange(pull="DOWN")})
    with pytest.raises(InvalidRequest, match="GPIO17 is an INPUT"):
        mqtt_command_apply(pin="GPIO17", payload=b"ON")
    assert read(17).io == "INPUT"


def test_a_pin_not_controllable_over_mqtt_is_refused():
    with pytest.raises(Forbidden, match='GPIO22 is not controllable over MQTT; tick "controllable over MQTT"'):
        mqtt_command_apply(pin="GPIO22", payload=b'{"io": "OUTPUT", "state": 1}')
    with pytest.raises(Forbidden):
        mqtt_command_apply(pin="GPIO5", payload=b"ON")
    assert read(22).io == "INPUT"


def test_a_locked_pin_is_refused_by_the_pins_service():
    with pytest.raises(Conflict, match="GPIO27 is locked"):
        mqtt_command_apply(pin="GPIO27", payload=b'{"io": "OUTPUT", "state": 1}')
    assert read(27).io == "INPUT"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"io": "OUTPUT"}', "Invalid command for GPIO17"),
        (b'{"io": "INPUT"}', "Invalid command for GPIO17"),
        (b'{"io": "SIDEWAYS", "state": 1}', "Invalid command for GPIO17"),
        (b"[1]", "must be a JSON object"),
        (b"toggle", "must be ON, OFF or a pin configuration"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{" + b" " * 5000 + b"}", "too large"),
    ],
)
def test_invalid_payloads_get_a_clear_message(payload, message):
    with pytest.raises(InvalidRequest, match=message):
        mqtt_command_apply(pin="GPIO17", payload=payload)
    assert read(17).io == "INPUT"


def test_an_unknown_pin_is_not_found():
    with pytest.raises(NotFound):
        mqtt_command_apply(pin="GPIO99", payload=b"ON")


def test_commands_share_one_write_rate_limit(settings):
    settings.ENDRPI_WS_WRITE_RATE = 0.01
    settings.ENDRPI_WS_WRITE_BURST = 2
    command_bucket_reset()
    mqtt_command_apply(pin="GPIO17", payload=b'{"io": "OUTPUT", "state": 1}')
    mqtt_command_apply(pin="GPIO17", payload=b"OFF")
    with pytest.raises(LimitExceeded, match="Too many pin updates"):
        mqtt_command_apply(pin="GPIO17", payload=b"ON")
    assert read(17).state == 0.0
