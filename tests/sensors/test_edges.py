"""The sensors on every edge, through the real ASGI application."""

from __future__ import annotations

import asyncio
import errno
import json
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from endrpi_project.history.sampler import HISTORY_UPDATED, Sampler
from endrpi_project.history.store import HistoryStore
from system.sensors import hardware, services
from tests.helpers import http_get, websocket

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


async def test_get_system_has_the_sensors_section(sysfs):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    status, body = await http_get("/system")
    assert status == 200
    assert body["sensors"]["sensors"]["w1-28-0316a2797f7f"]["value"]["quantity"] == 21.562
    assert "errors" not in body


async def test_read_sensors_over_the_websocket_is_the_rest_answer(sysfs):
    sysfs.bme280()
    sysfs.pi5_fan(rpm=0)
    _, rest = await http_get("/system/sensors")
    async with websocket() as client:
        reply = await client.request("READ_SENSORS", id=3)
    assert reply["success"] is True
    assert reply["id"] == 3
    assert reply["data"] == rest
    assert rest["sensors"]["hwmon-pwmfan-cooling_fan-fan1"]["value"]["quantity"] == 0


async def test_a_probe_plugged_in_and_unplugged_reaches_a_subscriber(sysfs, settings):
    settings.ENDRPI_SENSORS_INTERVAL = 1  # readings refreshed at each poll of the topic below
    sysfs.w1_bus()
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "SENSORS", "intervalMs": 100, "onChange": True})
        assert reply["data"]["current"] == {"sensors": {}}
        await asyncio.to_thread(services.sensor_monitor().refresh)
        sysfs.w1_probe("28-0316a2797f7f", 21562)
        await asyncio.to_thread(services.sensor_monitor().refresh)
        pushed = await client.receive()
        assert pushed["action"] == "SENSORS_CHANGED"
        assert list(pushed["data"]["sensors"]) == ["w1-28-0316a2797f7f"]
        sysfs.w1_unplug("28-0316a2797f7f")
        await asyncio.to_thread(services.sensor_monitor().refresh)
        pushed = await client.receive()
        assert pushed["data"] == {"sensors": {}}


def test_metrics_give_each_sensors_value_and_whether_it_read(sysfs, client):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.w1_probe("28-000000000002", 19000)
    sysfs.w1_crc_failure("28-000000000002")
    sysfs.bme280(humidity=45.2, kpa=100.8296)
    sysfs.pi5_fan(rpm=2950)
    text = client.get("/metrics").content.decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}

    def samples(name):
        return {sample.labels["sensor"]: sample.value for sample in families[name].samples}

    assert samples("endrpi_sensor_temperature_celsius") == {
        "w1-28-0316a2797f7f": 21.562,
        "iio-bme280-1-0076-temp": 23.58,
    }
    assert samples("endrpi_sensor_humidity_percent") == {"iio-bme280-1-0076-humidityrelative": 45.2}
    assert samples("endrpi_sensor_pressure_hectopascals") == {"iio-bme280-1-0076-pressure": 1008.296}
    assert samples("endrpi_sensor_fan_rpm") == {"hwmon-pwmfan-cooling_fan-fan1": 2950}
    up = samples("endrpi_sensor_up")
    assert up["w1-28-000000000002"] == 0
    assert up["w1-28-0316a2797f7f"] == 1
    assert {sample.labels["name"] for sample in families["endrpi_sensor_up"].samples} >= {"28-0316a2797f7f"}


def test_the_history_keeps_a_series_per_sensor_and_a_failed_one_alone_is_null(sysfs, client):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.w1_probe("28-000000000002", 19000)
    sysfs.w1_crc_failure("28-000000000002")
    services.sensors_read()  # found: the history's layout has their series from now on
    sampler = Sampler(store=HistoryStore(retention_ms=86_400_000), interval=10, flush_interval=60)
    published = sampler._tick(True, True)
    [sample] = [data for _group, action, data in published if action == HISTORY_UPDATED]
    assert sample["sensors"] == {"w1-28-0316a2797f7f.temperature": 21.562, "w1-28-000000000002.temperature": None}
    assert sample["temperature"] == {"systemOnChip": 48.312}
    response = client.get("/system/history?readings=sensors&since=-1h", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    kept = response.json()["readings"]["sensors"]
    assert kept["w1-28-0316a2797f7f.temperature"]["mean"] == [21.562]
    assert kept["w1-28-0316a2797f7f.temperature"]["unitOfMeasurement"] == "CELSIUS"
    assert kept["w1-28-000000000002.temperature"]["mean"] == [None]


def test_a_sensor_unplugged_keeps_its_history_and_one_plugged_in_gets_a_column(sysfs, client):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    monitor = services.sensor_monitor()
    monitor.refresh()
    sampler = Sampler(store=HistoryStore(retention_ms=86_400_000), interval=10, flush_interval=60)
    sampler._tick(True, True)
    sysfs.w1_unplug("28-0316a2797f7f")
    sysfs.bme280()
    monitor.refresh()
    published = sampler._tick(True, True)
    [sample] = [data for _group, action, data in published if action == HISTORY_UPDATED]
    assert "w1-28-0316a2797f7f.temperature" not in sample["sensors"]  # gone now
    assert sample["sensors"]["iio-bme280-1-0076-temp.temperature"] == 23.58
    response = client.get("/system/history?readings=sensors&since=-1h&points=2", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    kept = response.json()["readings"]["sensors"]
    assert 21.562 in kept["w1-28-0316a2797f7f.temperature"]["mean"]  # from before it was unplugged
    assert kept["iio-bme280-1-0076-pressure.pressure"]["unitOfMeasurement"] == "HECTOPASCAL"


async def test_a_slow_sensor_read_holds_up_neither_the_event_loop_nor_other_clients(sysfs, monkeypatch):
    """A 1-wire conversion takes the kernel ~750 ms: READ_SENSORS waits for it off the event loop, so
    another client is answered meanwhile."""
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    release = threading.Event()
    real = hardware.channel_read

    def slow(channel):
        release.wait(10)
        return real(channel)

    monkeypatch.setattr(hardware, "channel_read", slow)
    async with websocket() as waiting, websocket() as other:
        await waiting.communicator.send_to(text_data=json.dumps({"action": "READ_SENSORS", "id": 1}))
        answer = await other.request("READ_UPTIME", id=2)
        assert (answer["id"], answer["success"]) == (2, True)
        assert release.is_set() is False  # answered while the sensor read was still going on
        release.set()
        sensors = await waiting.receive()
    assert sensors["id"] == 1
    assert sensors["data"]["sensors"]["w1-28-0316a2797f7f"]["value"]["quantity"] == 21.562
