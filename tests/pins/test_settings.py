"""Operator settings kept in the admin: labels, write locks, configurations applied at start-up."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import OperationalError
from gpiozero.pins.mock import MockFactory

from endrpi_project.api.errors import Conflict
from pins import services
from pins.configuration import InputChange, OutputChange
from pins.hardware import Gpio, install_gpio
from pins.models import PinSetting
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)

LOCKED = "GPIO17 is locked in the server's settings (unlock it in the admin at /admin/); no pin was changed"


def put(client, path, body):
    return client.put(path, data=json.dumps(body), content_type="application/json", HTTP_ACCEPT="application/json")


def test_a_label_is_returned_with_the_pin_configuration(client):
    PinSetting.objects.create(pin=17, label="Garage relay")
    assert client.get("/pins/GPIO17", HTTP_ACCEPT="application/json").json() == {
        "io": "INPUT",
        "state": 0.0,
        "pull": "FLOATING",
        "label": "Garage relay",
    }
    every_pin = client.get("/pins", HTTP_ACCEPT="application/json").json()
    assert every_pin["GPIO17"]["label"] == "Garage relay"
    assert every_pin["GPIO27"]["label"] is None


def test_a_label_or_used_by_sent_in_an_update_is_ignored(client):
    response = put(client, "/pins/GPIO17", {"io": "OUTPUT", "state": 1, "label": "Sneaky", "usedBy": "me"})
    assert response.status_code == 200
    assert client.get("/pins/GPIO17", HTTP_ACCEPT="application/json").json() == {
        "io": "OUTPUT",
        "state": 1.0,
        "pull": "FLOATING",
        "label": None,
    }


def test_a_changed_label_is_seen_without_a_restart(client):
    setting = PinSetting.objects.create(pin=4, label="Door")
    assert services.pin_label(pin=4) == "Door"
    setting.label = "Back door"
    setting.save()
    assert services.pin_label(pin=4) == "Back door"
    setting.delete()
    assert services.pin_label(pin=4) is None


def test_settings_are_read_from_memory_after_the_first_read(django_assert_num_queries):
    PinSetting.objects.create(pin=4, label="Door")  # its push (pins.services.pin_settings_changed) reads them
    services.pin_settings_forget()
    with django_assert_num_queries(1):
        for _ in range(5):
            services.pin_configurations_read()


def test_it_refuses_a_rest_update_of_a_locked_pin(client, gpio):
    PinSetting.objects.create(pin=17, locked=True)
    response = put(client, "/pins/GPIO17", {"io": "OUTPUT", "state": 1})
    assert response.status_code == 409
    assert response.json() == {"message": LOCKED}
    assert client.get("/pins/GPIO17", HTTP_ACCEPT="application/json").json()["io"] == "INPUT"


async def test_it_refuses_a_websocket_update_of_a_locked_pin_and_changes_none_of_the_batch():
    await sync_to_async(PinSetting.objects.create)(pin=17, locked=True)
    async with websocket() as client:
        reply = await client.request(
            "UPDATE_PIN_CONFIGURATIONS",
            {"pins": {"GPIO27": {"io": "OUTPUT", "state": 1}, "GPIO17": {"io": "OUTPUT", "state": 1}}},
            id=7,
        )
        assert reply == {
            "action": "UPDATE_PIN_CONFIGURATIONS",
            "success": False,
            "data": None,
            "error": LOCKED,
            "id": 7,
        }
        read = await client.request("READ_PIN_CONFIGURATIONS", {"pins": ["GPIO27"]})
        assert read["data"]["GPIO27"]["io"] == "INPUT"


def test_a_locked_pin_can_still_be_read(client):
    PinSetting.objects.create(pin=17, locked=True, label="Relay")
    assert client.get("/pins/GPIO17", HTTP_ACCEPT="application/json").status_code == 200


def test_the_lock_error_names_every_locked_pin():
    PinSetting.objects.create(pin=17, locked=True)
    PinSetting.objects.create(pin=27, locked=True)
    with pytest.raises(Conflict, match=r"^GPIO17, GPIO27 are locked"):
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 27: OutputChange(state=0.0)})


@pytest.mark.parametrize(
    ("io", "state", "pull", "message"),
    [
        ("INPUT", None, "", "No pull specified for input pin configuration"),
        ("OUTPUT", None, "UP", "No state specified for output pin configuration"),
        ("", 1.0, "", "Choose a saved io for the saved state or pull, or clear them"),
        ("", None, "UP", "Choose a saved io for the saved state or pull, or clear them"),
        (
            "OUTPUT",
            0.00001,
            "",
            "GPIO17 cannot drive a PWM duty cycle of 1e-05 at 100 Hz (ENDRPI_PWM_FREQUENCY): lgpio's PWM times "
            "each 10,000 µs period in whole microseconds, so a state between 0 and 1 must come to at least 1 µs "
            "high and 1 µs low (steps of 0.0001); use 0 or 1 for a steady level",
        ),
    ],
)
def test_the_admin_refuses_a_saved_configuration_the_api_would_refuse(io, state, pull, message):
    setting = PinSetting(pin=17, io=io, state=state, pull=pull)
    with pytest.raises(ValidationError) as raised:
        setting.full_clean()
    assert raised.value.messages == [message]


def test_the_admin_accepts_a_valid_saved_configuration():
    PinSetting(pin=17, io="OUTPUT", state=1.0).full_clean()
    PinSetting(pin=4, io="INPUT", pull="UP", state=1.0).full_clean()
    PinSetting(pin=5, label="Spare").full_clean()


def test_the_admin_refuses_a_pin_off_the_header():
    with pytest.raises(ValidationError) as raised:
        PinSetting(pin=28).full_clean()
    assert "pin" in raised.value.message_dict


def test_saved_configurations_are_applied_at_start_up(gpio, caplog):
    PinSetting.objects.create(pin=17, io="OUTPUT", state=1.0)
    PinSetting.objects.create(pin=4, io="INPUT", pull="UP")
    PinSetting.objects.create(pin=5, label="Only a label")
    PinSetting.objects.create(pin=6, io="OUTPUT", state=1.0, locked=True)
    PinSetting.objects.create(pin=12, io="INPUT")  # saved before validation, or edited outside the admin
    with caplog.at_level(logging.INFO, logger="pins.services"):
        services.pins_start()
    assert services.pin_configuration_read(pin=17).io == "OUTPUT"
    assert services.pin_configuration_read(pin=17).state == 1.0
    assert services.pin_configuration_read(pin=4).pull == "UP"
    assert services.pin_configuration_read(pin=6).io == "INPUT"
    assert services.pin_configuration_read(pin=12).io == "INPUT"
    assert services.pin_configuration_read(pin=12).pull == "FLOATING"
    assert "Applied saved configuration of GPIO4" in caplog.text
    assert "Saved configuration of GPIO6 skipped: the pin is locked" in caplog.text
    assert "Saved configuration of GPIO12 skipped: No pull specified for input pin configuration" in caplog.text


def test_a_saved_configuration_the_hardware_refuses_does_not_stop_the_others(gpio, caplog):
    PinSetting.objects.create(pin=4, io="OUTPUT", state=0.5)
    PinSetting.objects.create(pin=17, io="OUTPUT", state=1.0)
    no_pwm = Gpio(MockFactory(), simulated=True)
    install_gpio(no_pwm)
    try:
        assert services.pin_settings_apply() == ["GPIO17"]
    finally:
        install_gpio(gpio)
        no_pwm.close()
    assert "Saved configuration of GPIO4 skipped: GPIO4 does not support PWM" in caplog.text


def test_start_up_serves_on_when_the_settings_cannot_be_read(monkeypatch, caplog):
    def unreadable() -> None:
        raise RuntimeError("no such table: pins_pinsetting")

    monkeypatch.setattr(services, "pin_settings_apply", unreadable)
    services.pins_start()
    assert "Saved pin configurations were not applied: no such table: pins_pinsetting" in caplog.text


def test_saved_changes_are_the_changes_an_update_would_make():
    assert PinSetting(pin=4, io="INPUT", pull="DOWN", state=1.0).saved_change() == InputChange(pull="DOWN")
    assert PinSetting(pin=4, io="OUTPUT", state=0.0, pull="UP").saved_change() == OutputChange(state=0.0)
    assert PinSetting(pin=4, label="x").saved_change() is None


def test_without_its_table_reads_answer_without_labels_and_updates_are_refused(client, monkeypatch):
    def no_table(*args, **kwargs):
        raise OperationalError("no such table: pins_pinsetting")

    monkeypatch.setattr(PinSetting.objects, "all", no_table)
    services.pin_settings_forget()
    assert client.get("/pins/GPIO17", HTTP_ACCEPT="application/json").json()["label"] is None
    response = put(client, "/pins/GPIO17", {"io": "OUTPUT", "state": 1})
    assert response.status_code == 503
    assert response.json() == {
        "message": "Failed to read the pin settings: "
        "The database is not set up: run manage.py migrate (scripts/serve does)"
    }


def test_a_lock_set_by_another_process_holds_at_the_very_next_write():
    """``QuerySet.update`` sends no signal: as if ``manage.py shell`` or a second server had set it."""
    services.pin_settings_forget()
    PinSetting.objects.create(pin=17, label="Relay")
    services.pin_configurations_read()  # the settings are now in memory, unlocked
    PinSetting.objects.filter(pin=17).update(locked=True)
    with pytest.raises(Conflict, match=r"^GPIO17 is locked"):
        services.pin_configurations_update(changes={17: OutputChange(state=1.0)})
    assert services.pin_configuration_read(pin=17).io == "INPUT"


def test_a_label_changed_by_another_process_shows_once_the_settings_are_stale(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("pins.services.time.monotonic", lambda: clock[0])
    services.pin_settings_forget()
    PinSetting.objects.create(pin=4, label="Door")
    assert services.pin_label(pin=4) == "Door"
    PinSetting.objects.filter(pin=4).update(label="Back door")
    assert services.pin_label(pin=4) == "Door", "kept in memory for a moment"
    assert services.pin_configurations_read_now(pins=[4]) == {"GPIO4": services.pin_configuration_read(pin=4)}
    assert services.pin_configuration_read(pin=4).label == "Door"
    clock[0] += services.SETTINGS_TTL + 0.01
    assert services.pin_configurations_read_now(pins=[4]) is None, "stale: the event loop does not query"
    assert services.pin_label(pin=4) == "Back door"
    now = services.pin_configurations_read_now(pins=[4])
    assert now is not None
    assert now["GPIO4"].label == "Back door"


def test_every_write_reads_the_settings_afresh_and_reads_do_not(django_assert_num_queries):
    services.pin_settings_forget()
    PinSetting.objects.create(pin=4, label="Door")
    services.pin_configurations_read()
    with django_assert_num_queries(0):
        services.pin_configurations_read()
    with django_assert_num_queries(1):
        services.pin_configurations_update(changes={5: OutputChange(state=1.0)})


def test_the_admin_refuses_a_pull_the_board_rules_out():
    with pytest.raises(ValidationError) as raised:
        PinSetting(pin=3, io="INPUT", pull="FLOATING").full_clean()
    assert raised.value.messages == [
        "GPIO3 has a fixed pull-up resistor on the board, so an input there can only have pull UP (not FLOATING)"
    ]
    PinSetting(pin=3, io="INPUT", pull="UP").full_clean()


def test_a_pull_the_board_rules_out_is_a_400_message(client):
    response = put(client, "/pins/GPIO2", {"io": "INPUT", "pull": "FLOATING"})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "GPIO2 has a fixed pull-up resistor on the board, so an input there can only have pull UP (not FLOATING)"
    )


async def test_a_pull_the_board_rules_out_is_an_error_envelope():
    async with websocket() as client:
        reply = await client.request("UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO3": {"io": "INPUT", "pull": "DOWN"}}})
    assert reply["success"] is False
    assert (
        reply["error"]
        == "GPIO3 has a fixed pull-up resistor on the board, so an input there can only have pull UP (not DOWN)"
    )


@pytest.mark.parametrize("frequency", [0.05, 10_000.5, 20_000.0, float("nan"), float("inf"), -1.0])
def test_a_pwm_frequency_lgpio_cannot_drive_stops_django_from_starting(frequency, settings):
    settings.ENDRPI_PWM_FREQUENCY = frequency
    with pytest.raises(SystemExit, match=r"^ENDRPI_PWM_FREQUENCY must be between 0\.1 and 10,000 Hz"):
        apps.get_app_config("pins").ready()


@pytest.mark.slow
def test_the_server_does_not_start_with_a_pwm_frequency_lgpio_cannot_drive():
    """On any machine: simulated pins included (this one has no Raspberry Pi GPIO)."""
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", "ENDRPI_PWM_FREQUENCY": "20000"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert result.stderr.startswith("ENDRPI_PWM_FREQUENCY must be between 0.1 and 10,000 Hz"), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("frequency", [0.1, 100.0, 10_000.0])
def test_pwm_frequencies_lgpio_can_drive_pass(frequency):
    from pins import rules

    assert rules.pwm_frequency_problem(frequency) is None


def test_the_pwm_check_names_the_setting_and_its_range():
    from pins import rules

    assert rules.pwm_frequency_problem(20_000.0) == (
        "ENDRPI_PWM_FREQUENCY must be between 0.1 and 10,000 Hz (the range lgpio's PWM can drive), not 20000"
    )
