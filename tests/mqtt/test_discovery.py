"""Home Assistant discovery configs: every key Home Assistant needs, values it accepts, templates that render."""

from __future__ import annotations

import json

import pytest

from endrpi_project.mqtt import discovery
from endrpi_project.mqtt.topics import NodeTopics
from tests.mqtt.homeassistant import as_kept, config_problems, render

DEVICE = discovery.Device("pi1", "pi1", "Raspberry Pi 4 Model B Rev 1.4", "1.0.0", "http://pi1:5000/")
TOPICS = NodeTopics("pi1")
STATE = {
    "temperature": {"systemOnChip": {"quantity": 48.312, "prefix": None, "unitOfMeasurement": "CELSIUS"}},
    "throttle": {
        "underVoltageDetected": True,
        "armFrequencyCapped": False,
        "throttling": True,
        "softTemperatureLimitActive": False,
        "underVoltageHasOccurred": True,
        "armFrequencyCappingHasOccurred": False,
        "throttlingHasOccurred": True,
        "softTemperatureLimitHasOccurred": False,
    },
    "frequency": {
        "arm": {"quantity": 1500398464, "prefix": None, "unitOfMeasurement": "HERTZ"},
        "core": {"quantity": 500000992, "prefix": None, "unitOfMeasurement": "HERTZ"},
    },
    "memory": {"available": {"quantity": 3411872, "prefix": "KILO", "unitOfMeasurement": "BYTE"}},
    "bootTime": "2026-11-29T10:00:00+00:00",
}


def entities():
    return discovery.reading_entities(DEVICE, TOPICS)


def test_every_reading_config_is_one_home_assistant_accepts():
    for entity in entities():
        topic = entity.topic("homeassistant", "pi1")
        assert config_problems(topic, json.loads(entity.payload())) == [], topic


def test_the_device_block_names_the_pi_and_links_its_dashboard():
    config = entities()[0].config
    assert config["device"] == {
        "identifiers": ["endrpi_pi1"],
        "name": "pi1",
        "manufacturer": "Raspberry Pi Ltd",
        "model": "Raspberry Pi 4 Model B Rev 1.4",
        "sw_version": "Endrpi 1.0.0",
        "configuration_url": "http://pi1:5000/",
    }
    assert config["availability_topic"] == "endrpi/pi1/availability"


def test_unique_ids_are_stable_and_distinct():
    ids = [entity.config["unique_id"] for entity in entities()]
    assert len(ids) == len(set(ids)) == 18
    assert "endrpi_pi1_soc_temperature" in ids


def test_sensors_have_the_device_classes_and_units_the_issue_names():
    by_id = {entity.object_id: entity.config for entity in entities()}
    assert by_id["soc_temperature"]["device_class"] == "temperature"
    assert by_id["soc_temperature"]["unit_of_measurement"] == "°C"
    assert by_id["soc_temperature"]["state_class"] == "measurement"
    assert by_id["arm_clock"]["device_class"] == by_id["core_clock"]["device_class"] == "frequency"
    assert by_id["memory_available"]["device_class"] == "data_size"
    assert by_id["memory_available"]["unit_of_measurement"] == "MiB"
    assert by_id["last_boot"]["device_class"] == "timestamp"
    problems = [entity.config for entity in entities() if entity.component == "binary_sensor"]
    assert len(problems) == 8
    assert {config["device_class"] for config in problems} == {"problem"}


@pytest.mark.parametrize(
    ("object_id", "value"),
    [
        ("soc_temperature", "48.312"),
        ("arm_clock", "1500.4"),
        ("core_clock", "500.0"),
        ("memory_available", "3331.9"),  # MiB: /proc/meminfo's kB are KiB
        ("last_boot", "2026-11-29T10:00:00+00:00"),
        ("under_voltage", "ON"),
        ("frequency_capped", "OFF"),
        ("throttled_since_boot", "ON"),
    ],
)
def test_value_templates_read_the_published_state(object_id, value):
    config = next(entity.config for entity in entities() if entity.object_id == object_id)
    assert render(config["value_template"], STATE) == value


def test_a_reading_unavailable_here_renders_as_unknown():
    state = {"temperature": None, "throttle": None, "frequency": None, "memory": None, "bootTime": None}
    for entity in entities():
        assert render(entity.config["value_template"], state) == "None", entity.object_id


def test_a_controllable_output_is_a_switch_named_by_its_label():
    entity = discovery.pin_entity(
        DEVICE, TOPICS, name="GPIO17", io="OUTPUT", label="Garage relay", controllable=True, exposed=False
    )
    assert entity is not None
    assert entity.topic("homeassistant", "pi1") == "homeassistant/switch/pi1/gpio17/config"
    assert entity.config["name"] == "Garage relay"
    assert entity.config["command_topic"] == "endrpi/pi1/pins/GPIO17/set"
    assert entity.config["state_topic"] == "endrpi/pi1/pins/GPIO17"
    assert entity.config["json_attributes_topic"] == "endrpi/pi1/pins/GPIO17", "function, usedBy as attributes"
    assert config_problems(entity.topic("homeassistant", "pi1"), entity.config) == []
    assert render(entity.config["value_template"], {"io": "OUTPUT", "state": 1.0}) == "ON"
    assert render(entity.config["value_template"], {"io": "OUTPUT", "state": 0.0}) == "OFF"


def test_an_exposed_input_is_a_binary_sensor():
    entity = discovery.pin_entity(
        DEVICE, TOPICS, name="GPIO22", io="INPUT", label=None, controllable=False, exposed=True
    )
    assert entity is not None
    assert entity.topic("homeassistant", "pi1") == "homeassistant/binary_sensor/pi1/gpio22/config"
    assert entity.config["name"] == "GPIO22"
    assert "command_topic" not in entity.config
    assert config_problems(entity.topic("homeassistant", "pi1"), entity.config) == []


@pytest.mark.parametrize(
    ("io", "controllable", "exposed"),
    [("OUTPUT", False, True), ("INPUT", True, False), ("OUTPUT", False, False), ("INPUT", False, False)],
)
def test_other_pins_are_not_announced(io, controllable, exposed):
    assert (
        discovery.pin_entity(
            DEVICE, TOPICS, name="GPIO5", io=io, label=None, controllable=controllable, exposed=exposed
        )
        is None
    )


def test_every_key_of_every_config_is_one_home_assistant_keeps():
    for entity in entities():
        assert as_kept(entity.component, entity.config) == entity.config, entity.object_id


def test_memory_shows_in_mib_as_home_assistant_keeps_it():
    config = next(entity.config for entity in entities() if entity.object_id == "memory_available")
    kept = as_kept("sensor", config)
    assert (kept["unit_of_measurement"], render(kept["value_template"], STATE)) == ("MiB", "3331.9")


def test_off_a_pi_the_device_claims_no_maker_or_model():
    block = discovery.Device("vm", "vm", None, "1.0.0", "http://vm:5000/").block()
    assert "manufacturer" not in block
    assert "model" not in block
    assert "Raspberry" not in json.dumps(block)
    config = {**entities()[0].config, "device": block}
    assert config_problems("homeassistant/sensor/vm/soc_temperature/config", config) == []


def test_another_board_is_named_but_not_made_by_raspberry_pi():
    block = discovery.Device("rock", "rock", "Radxa ROCK 5B", "1.0.0", "http://rock:5000/").block()
    assert block["model"] == "Radxa ROCK 5B"
    assert "manufacturer" not in block
