"""The Pi's own sensors in Home Assistant: an entity each, with the right device class, and announced
again (added, removed, renamed) as sensors appear, vanish or are relabelled."""

from __future__ import annotations

import asyncio
import json

import pytest

from endrpi_project.mqtt import discovery
from endrpi_project.mqtt.topics import NodeTopics
from endrpi_project.readings.registry import readings_wire
from system.sensors import services
from system.sensors.models import SensorSetting
from tests.mqtt.conftest import bridge_settings, eventually, running_bridge, watching
from tests.mqtt.homeassistant import config_problems, render

DEVICE = discovery.Device("pi1", "pi1", "Raspberry Pi 4 Model B Rev 1.4", "1.0.0", "http://pi1:5000/")


def sensor_entities():
    entities = discovery.reading_entities(DEVICE, NodeTopics("pi1"), readings_wire())
    return {entity.object_id: entity for entity in entities if entity.object_id.startswith("sensor_")}


@pytest.mark.django_db
def test_each_sensor_is_an_entity_home_assistant_accepts_with_its_device_class(sysfs):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.bme280(humidity=45.2, kpa=100.8296)
    sysfs.pi5_fan(rpm=2950)
    services.sensors_read()
    entities = sensor_entities()
    configs = {object_id: json.loads(entity.payload()) for object_id, entity in entities.items()}
    for object_id, entity in entities.items():
        assert config_problems(entity.topic("homeassistant", "pi1"), configs[object_id]) == [], object_id
    kinds = {
        object_id: (config.get("device_class"), config["unit_of_measurement"], config["state_class"])
        for object_id, config in configs.items()
    }
    assert kinds == {
        "sensor_w1_28_0316a2797f7f": ("temperature", "°C", "measurement"),
        "sensor_iio_bme280_1_0076_temp": ("temperature", "°C", "measurement"),
        "sensor_iio_bme280_1_0076_humidityrelative": ("humidity", "%", "measurement"),
        "sensor_iio_bme280_1_0076_pressure": ("pressure", "hPa", "measurement"),
        "sensor_hwmon_pwmfan_cooling_fan_fan1": (None, "rpm", "measurement"),
    }
    probe = configs["sensor_w1_28_0316a2797f7f"]
    assert probe["name"] == "28-0316a2797f7f"
    assert probe["unique_id"] == "endrpi_pi1_sensor_w1_28_0316a2797f7f"
    assert probe["state_topic"] == "endrpi/pi1/system"


@pytest.mark.django_db
def test_the_templates_read_the_published_state_and_a_failed_or_gone_sensor_is_unknown(sysfs):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    sysfs.w1_probe("28-000000000002", 19000)
    sysfs.w1_crc_failure("28-000000000002")
    sysfs.bme280(kpa=100.8296)
    services.sensors_read()
    entities = sensor_entities()
    state = json.loads(json.dumps(readings_wire(), default=str))  # what MQTT's system topic carries

    def rendered(object_id, value_json):
        return render(json.loads(entities[object_id].payload())["value_template"], value_json)

    assert rendered("sensor_w1_28_0316a2797f7f", state) == "21.562"
    assert rendered("sensor_iio_bme280_1_0076_pressure", state) == "1008.296"
    assert rendered("sensor_w1_28_000000000002", state) == "None"
    assert rendered("sensor_w1_28_0316a2797f7f", {**state, "sensors": {"sensors": {}}}) == "None"  # unplugged
    assert rendered("sensor_w1_28_0316a2797f7f", {**state, "sensors": None}) == "None"  # no /sys


@pytest.mark.django_db
def test_a_label_set_in_the_admin_names_the_entity(sysfs):
    sysfs.w1_probe("28-0316a2797f7f", 21562)
    services.sensors_read()
    SensorSetting.objects.filter(sensor_id="w1-28-0316a2797f7f").update(label="Greenhouse")
    services.sensor_labels_forget()
    assert json.loads(sensor_entities()["sensor_w1_28_0316a2797f7f"].payload())["name"] == "Greenhouse"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_probe_plugged_in_is_announced_and_unplugged_is_removed_on_a_real_broker(broker, sysfs):
    topic = "homeassistant/sensor/pi1/sensor_w1_28_0316a2797f7f/config"
    monitor = services.sensor_monitor()
    await asyncio.to_thread(monitor.refresh)
    async with (
        running_bridge(bridge_settings(broker, interval=0.2)),
        watching(broker, "homeassistant/sensor/pi1/+/config") as seen,
    ):
        await eventually(lambda: "homeassistant/sensor/pi1/soc_temperature/config" in seen.latest, what="discovery")
        assert topic not in seen.latest
        sysfs.w1_probe("28-0316a2797f7f", 21562)
        await asyncio.to_thread(monitor.refresh)  # found; MQTT's next state carries it
        await eventually(lambda: seen.latest.get(topic, b"") != b"", what="the probe's config")
        config = json.loads(seen.latest[topic])
        assert config_problems(topic, config) == []
        assert config["device_class"] == "temperature"
        sysfs.w1_unplug("28-0316a2797f7f")
        await asyncio.to_thread(monitor.refresh)
        await eventually(lambda: seen.latest[topic] == b"", what="the empty retained config")
