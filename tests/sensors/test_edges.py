"""The sensors on every edge, through the real ASGI application."""

from __future__ import annotations

import errno

import pytest

from tests.helpers import http_get

pytestmark = pytest.mark.django_db(transaction=True)


async def test_get_system_sensors_lists_each_sensor_with_its_value_or_its_error(sysfs):
    sysfs.pi_hwmons()
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.w1_probe("28-000000000002", 19000)
    sysfs.w1_crc_failure("28-000000000002")
    status, body = await http_get("/system/sensors")
    assert status == 200
    sensors = body["sensors"]
    assert set(sensors) == {"w1-28-0316a2797f7f", "w1-28-000000000002"}
    good = sensors["w1-28-0316a2797f7f"]
    assert good["value"] == {"quantity": 21.562, "prefix": None, "unitOfMeasurement": "CELSIUS"}
    assert (good["name"], good["label"], good["kind"], good["source"], good["error"]) == (
        "28-0316a2797f7f",
        None,
        "temperature",
        "w1",
        None,
    )
    bad = sensors["w1-28-000000000002"]
    assert bad["value"] is None
    assert bad["error"].startswith("Failed to read sensor 28-000000000002: the probe gave no reading")


async def test_get_one_sensor_and_an_unknown_one(sysfs):
    path = sysfs.bme280(kpa=100.8296)
    sysfs.fail(f"{path}/in_temp_input", errno.EREMOTEIO)
    status, body = await http_get("/system/sensors/iio-bme280-1-0076-pressure")
    assert status == 200
    assert body["value"] == {"quantity": 1008.296, "prefix": None, "unitOfMeasurement": "HECTOPASCAL"}
    status, body = await http_get("/system/sensors/iio-bme280-1-0076-temp/")
    assert status == 200
    assert body["error"] == "Failed to read sensor bme280 temperature: Remote I/O error"
    status, body = await http_get("/system/sensors/w1-28-nothere")
    assert status == 404
    assert body == {"message": "No sensor `w1-28-nothere`: GET /system/sensors lists the sensors this Pi has now"}
