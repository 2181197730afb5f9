from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

MEASUREMENT_KEYS = {"quantity", "prefix", "unitOfMeasurement"}


def get_json(client, path):
    response = client.get(path, HTTP_ACCEPT="application/json")
    return response.status_code, response.json()


def test_temperature_is_the_temperature_model(client):
    status, body = get_json(client, "/system/temperature")
    assert status == 200
    assert body == {"systemOnChip": {"quantity": 48.312, "prefix": None, "unitOfMeasurement": "CELSIUS"}}


def test_throttle_has_the_eight_flags_of_0x50005(client):
    status, body = get_json(client, "/system/throttle")
    assert status == 200
    assert body == {
        "underVoltageDetected": True,
        "armFrequencyCapped": False,
        "throttling": True,
        "softTemperatureLimitActive": False,
        "underVoltageHasOccurred": True,
        "armFrequencyCappingHasOccurred": False,
        "throttlingHasOccurred": True,
        "softTemperatureLimitHasOccurred": False,
        "historyWindow": "SINCE_BOOT",
    }


def test_uptime_has_seconds_and_formatted(client):
    assert get_json(client, "/system/uptime") == (200, {"seconds": 123456.78, "formatted": "1 day, 10:17:37"})


def test_frequency_has_measured_arm_and_core_clocks_in_hertz(client):
    status, body = get_json(client, "/system/frequency")
    assert status == 200
    assert body == {
        "arm": {"quantity": 1500398464, "prefix": None, "unitOfMeasurement": "HERTZ"},
        "core": {"quantity": 500000992, "prefix": None, "unitOfMeasurement": "HERTZ"},
    }


def test_memory_is_in_kilobytes(client):
    status, body = get_json(client, "/system/memory")
    assert status == 200
    assert body == {
        "total": {"quantity": 3884328, "prefix": "KILO", "unitOfMeasurement": "BYTE"},
        "free": {"quantity": 2873340, "prefix": "KILO", "unitOfMeasurement": "BYTE"},
        "available": {"quantity": 3411872, "prefix": "KILO", "unitOfMeasurement": "BYTE"},
    }
    assert isinstance(body["total"]["quantity"], int)


def test_platform_has_machine_network_name_and_operating_system(client):
    status, body = get_json(client, "/system/platform")
    assert status == 200
    assert {"machineType", "networkName", "operatingSystem"} <= set(body)
    assert set(body["operatingSystem"]) == {"name", "release", "version"}


def test_system_on_a_pi_is_exactly_the_system_model(client):
    status, body = get_json(client, "/system")
    assert status == 200
    assert set(body) == {
        "platform",
        "temperature",
        "throttle",
        "uptime",
        "frequency",
        "memory",
        "cpu",
        "storage",
        "network",
        "sensors",
    }
    assert body["temperature"]["systemOnChip"]["quantity"] == 48.312
    assert body["throttle"]["throttling"] is True


def test_system_off_a_pi_answers_what_works_and_lists_what_failed(client, host_root, settings):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    status, body = get_json(client, "/system")
    assert status == 200
    assert body["temperature"] is None
    assert body["throttle"] is None
    assert body["frequency"] is None
    assert body["memory"]["total"]["quantity"] == 3884328
    assert set(body["errors"]) == {"temperature", "throttle", "frequency"}
    assert body["errors"]["temperature"].startswith("Failed to query system on chip temperature")


def test_system_is_a_500_message_when_every_reading_fails(client, host_root, settings, monkeypatch):
    settings.ENDRPI_HOST_ROOT = host_root.root / "nothing-here"
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"
    monkeypatch.setattr("system.hardware.host.os.uname", _raise_oserror)
    status, body = get_json(client, "/system")
    assert status == 500
    assert set(body) == {"message"}
    assert body["message"].startswith("Failed to query system")


def _raise_oserror():
    raise OSError(5, "Input/output error")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/system/temperature", "Failed to query system on chip temperature"),
        ("/system/uptime", "Failed to query system uptime"),
        ("/system/memory", "Failed to query system memory"),
    ],
)
def test_a_failed_file_reading_is_a_500_message_naming_it(client, host_root, settings, path, message):
    settings.ENDRPI_HOST_ROOT = host_root.root / "nothing-here"
    status, body = get_json(client, path)
    assert status == 500
    assert body["message"].startswith(message)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/system/throttle", "Failed to query system throttle status"),
        ("/system/frequency", "Failed to query system ARM frequency"),
    ],
)
def test_a_failed_firmware_reading_is_a_500_message_naming_it(client, vcgencmd, path, message):
    vcgencmd.answer(fail=True)
    status, body = get_json(client, path)
    assert status == 500
    assert body["message"].startswith(message)


def test_a_failed_reading_shows_its_message_and_no_traceback_to_a_browser(client, host_root, settings):
    settings.ENDRPI_HOST_ROOT = host_root.root / "nothing-here"
    response = client.get("/system/memory", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    assert b"Failed to query system memory" in response.content
    assert b"Traceback (most recent call last)" not in response.content


@pytest.mark.parametrize("path", ["/system/", "/system/memory/"])
def test_routes_answer_with_a_trailing_slash_too(client, path):
    assert client.get(path).status_code == 200


def test_readings_refuse_other_methods_with_a_message(client):
    response = client.post("/system/memory", HTTP_ACCEPT="application/json")
    assert response.status_code == 405
    assert response.json() == {"message": 'Method "POST" not allowed.'}


def test_an_unknown_url_asked_for_json_is_a_404_message(client):
    response = client.get("/nothing/here", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found: /nothing/here"}
