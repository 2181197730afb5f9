"""The bridge against a real Mosquitto, in this process: state, discovery, commands, birth, bursts, restarts."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from endrpi_project.mqtt import bridge as bridge_module
from endrpi_project.mqtt.bridge import BACKOFF_MAX
from endrpi_project.mqtt.commands import command_bucket_reset
from endrpi_project.readings.registry import reading_table
from pins import naming, services
from pins.configuration import InputChange, OutputChange
from pins.models import PinSetting
from tests.helpers import http_put, websocket
from tests.mqtt.conftest import bridge_settings, eventually, running_bridge, watching
from tests.mqtt.homeassistant import config_problems

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # a real broker; the ASGI app

PINS = [naming.pin_name(pin) for pin in naming.USER_GPIOS]


@pytest.fixture(autouse=True)
def mqtt_settings(settings):
    settings.ENDRPI_WS_WRITE_RATE = 100_000.0
    settings.ENDRPI_WS_WRITE_BURST = 100_000
    command_bucket_reset()
    services.pin_settings_remember(
        {
            17: PinSetting(pin=17, label="Garage relay", mqtt_controllable=True),
            27: PinSetting(pin=27, mqtt_controllable=True, locked=True),
            22: PinSetting(pin=22, mqtt_exposed=True),
        }
    )
    yield
    command_bucket_reset()


def server_pins() -> dict[str, dict[str, Any]]:
    return {
        name: {"io": config.io, "state": config.state, "pull": config.pull, "label": config.label}
        for name, config in services.pin_configurations_read().items()
    }


async def test_connecting_publishes_availability_device_readings_and_every_pin(broker):
    async with running_bridge(bridge_settings(broker)), watching(broker, "endrpi/pi1/#") as seen:
        await eventually(lambda: all(f"endrpi/pi1/pins/{name}" in seen.latest for name in PINS), what="every pin")
        await eventually(lambda: "endrpi/pi1/system" in seen.latest, what="the readings")
        assert seen.latest["endrpi/pi1/availability"] == b"online"
        assert seen.json("endrpi/pi1/device") == {
            "name": "pi1",
            "model": None,
            "version": "1.0.0",
            "url": "http://pi1:5000/",
        }
        system = seen.json("endrpi/pi1/system")
        assert system["temperature"]["systemOnChip"]["quantity"] == 48.312
        assert system["bootTime"].endswith("+00:00")
        assert seen.json("endrpi/pi1/pins/GPIO17") == {
            "io": "INPUT",
            "state": 0.0,
            "pull": "FLOATING",
            "label": "Garage relay",
        }


def declared_configs(state: dict[str, Any] | None) -> set[str]:
    """The reading entities' config topics, from the declarations: each reading's ``home_assistant``, and
    what its ``home_assistant_found`` finds in its section of the published ``state`` (sensors)."""
    topics = set()
    for reading in reading_table().readings:
        entities = list(reading.home_assistant)
        section = (state or {}).get(reading.key)
        if reading.home_assistant_found is not None and section is not None:
            entities += reading.home_assistant_found(section)
        topics |= {f"homeassistant/{entity.component}/pi1/{entity.object_id}/config" for entity in entities}
    return topics


# The pins the mqtt_settings fixture announces: GPIO17 controllable (a switch once it is an output),
# GPIO22 exposed (an input); GPIO27 is controllable but an input, so it has none.
SWITCH_17 = "homeassistant/switch/pi1/gpio17/config"
SENSOR_22 = "homeassistant/binary_sensor/pi1/gpio22/config"


def published_state(watcher) -> dict[str, Any] | None:
    payload = watcher.latest.get("endrpi/pi1/system")
    return None if payload is None else json.loads(payload)


def configs_in(topics) -> set[str]:
    return {topic for topic in topics if topic.startswith("homeassistant/") and topic.endswith("/config")}


async def all_retained_delivered(watcher) -> None:
    """Wait until the broker has delivered every retained message of the watcher's subscription: it sends
    them on subscribing, before any later message, so a marker published after them arrives last."""
    marker = f"homeassistant/endrpi-test-marker/{id(watcher)}"
    await watcher.client.subscribe(marker, qos=1)
    await watcher.client.publish(marker, "end of retained", qos=1)
    await eventually(lambda: marker in watcher.latest, what="the marker after the retained messages")


async def test_discovery_configs_are_retained_and_valid_for_home_assistant(broker):
    services.pin_configurations_update(changes={17: OutputChange(state=1.0)})

    def expected(watcher) -> set[str] | None:
        state = published_state(watcher)
        return None if state is None else declared_configs(state) | {SWITCH_17, SENSOR_22}

    async with running_bridge(bridge_settings(broker)):
        async with watching(broker, "homeassistant/#", "endrpi/pi1/system") as first:
            await eventually(
                lambda: (wanted := expected(first)) is not None and configs_in(first.latest) >= wanted,
                what="every declared config",
            )
        async with watching(broker, "homeassistant/#", "endrpi/pi1/system") as seen:  # later: they are retained
            await all_retained_delivered(seen)
    wanted = expected(seen)
    configs = {topic: json.loads(seen.latest[topic]) for topic in configs_in(seen.latest)}
    assert all(retained for topic, _, retained in seen.log if topic in configs)
    assert "homeassistant/sensor/pi1/soc_temperature/config" in configs
    assert "homeassistant/binary_sensor/pi1/under_voltage/config" in configs
    assert "homeassistant/switch/pi1/gpio27/config" not in configs  # controllable, but an input
    assert set(configs) == wanted  # every declared entity and the two pins, nothing else
    for topic, config in configs.items():
        assert config_problems(topic, config) == [], topic
    assert configs[SWITCH_17]["name"] == "Garage relay"


async def test_state_follows_rest_websocket_and_input_edges(broker, gpio):
    async with running_bridge(bridge_settings(broker)), watching(broker, "endrpi/pi1/pins/+") as seen:
        await eventually(lambda: len(seen.latest) == 26, what="every pin")
        status, _ = await http_put("/pins/GPIO5", {"io": "OUTPUT", "state": 1})
        assert status == 200
        await eventually(lambda: seen.json("endrpi/pi1/pins/GPIO5")["state"] == 1.0, what="the REST change")
        async with websocket() as client:
            reply = await client.request(
                "UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO6": {"io": "INPUT", "pull": "UP"}}}
            )
            assert reply["success"] is True
        await eventually(lambda: seen.json("endrpi/pi1/pins/GPIO6")["pull"] == "UP", what="the WebSocket change")
        services.pin_configurations_update(changes={13: InputChange(pull="FLOATING")})  # watched for edges
        gpio.factory.pin(13).drive_high()
        await eventually(lambda: seen.json("endrpi/pi1/pins/GPIO13")["state"] == 1.0, what="the input edge")


async def test_a_command_changes_the_pin_and_its_state(broker):
    async with (
        running_bridge(bridge_settings(broker)),
        watching(broker, "endrpi/pi1/pins/GPIO17", "endrpi/pi1/errors") as seen,
    ):
        await eventually(lambda: "endrpi/pi1/pins/GPIO17" in seen.latest, what="GPIO17's state")
        await seen.client.publish("endrpi/pi1/pins/GPIO17/set", '{"io": "OUTPUT", "state": 1}', qos=1)
        await eventually(lambda: seen.json("endrpi/pi1/pins/GPIO17")["state"] == 1.0, what="the command's state")
        assert services.pin_configuration_read(pin=17).io == "OUTPUT"
        await seen.client.publish("endrpi/pi1/pins/GPIO17/set", "OFF", qos=1)
        await eventually(lambda: seen.json("endrpi/pi1/pins/GPIO17")["state"] == 0.0, what="OFF")
        assert "endrpi/pi1/errors" not in seen.latest


@pytest.mark.parametrize(
    ("pin", "payload", "message"),
    [
        ("GPIO22", '{"io": "OUTPUT", "state": 1}', "GPIO22 is not controllable over MQTT"),
        ("GPIO5", "ON", "GPIO5 is not controllable over MQTT"),
        ("GPIO27", '{"io": "OUTPUT", "state": 1}', "GPIO27 is locked"),
        ("GPIO17", '{"io": "OUTPUT"}', "Invalid command for GPIO17"),
        ("GPIO99", "ON", "not found"),
    ],
)
async def test_a_refused_command_publishes_an_error_and_changes_nothing(broker, pin, payload, message):
    before = server_pins()
    async with running_bridge(bridge_settings(broker)), watching(broker, "endrpi/pi1/errors") as seen:
        await seen.client.publish(f"endrpi/pi1/pins/{pin}/set", payload, qos=1)
        await eventually(lambda: "endrpi/pi1/errors" in seen.latest, what="the error")
    error = seen.json("endrpi/pi1/errors")
    assert error["topic"] == f"endrpi/pi1/pins/{pin}/set"
    assert error["pin"] == pin
    assert message in error["message"]
    assert server_pins() == before


async def test_home_assistant_birth_republishes_every_config(broker):
    async with (
        running_bridge(bridge_settings(broker)),
        watching(broker, "homeassistant/+/pi1/+/config", "endrpi/pi1/system") as seen,
    ):

        def expected() -> set[str] | None:
            state = published_state(seen)
            return None if state is None else declared_configs(state) | {SENSOR_22}

        await eventually(
            lambda: (wanted := expected()) is not None and configs_in(seen.latest) >= wanted, what="the configs"
        )
        wanted = expected()
        assert wanted is not None
        mark = len(seen.log)
        await seen.client.publish("homeassistant/status", "online", qos=1)

        def again() -> set[str]:
            return configs_in(topic for topic, _, _ in seen.log[mark:])

        await eventually(lambda: again() >= wanted, what="the configs again")
        assert all(not retained for _, _, retained in seen.log[mark:])  # sent live, not replayed by the broker
        assert again() == wanted  # nothing else is announced
        await seen.client.publish("homeassistant/status", "offline", qos=1)


async def test_an_entity_is_removed_when_its_pin_stops_being_exposed(broker):
    topic = "homeassistant/binary_sensor/pi1/gpio22/config"
    async with running_bridge(bridge_settings(broker)) as bridge, watching(broker, topic) as seen:
        await eventually(lambda: seen.latest.get(topic, b"") != b"", what="GPIO22's config")
        services.pin_settings_remember({22: PinSetting(pin=22, mqtt_exposed=False)})
        bridge.pin_settings_changed()
        await eventually(lambda: seen.latest[topic] == b"", what="the empty retained config")


async def test_a_config_left_by_an_earlier_run_is_removed(broker):
    stale = "homeassistant/switch/pi1/gpio9/config"
    async with watching(broker, stale) as seen:
        await seen.client.publish(stale, '{"name": "old"}', qos=1, retain=True)
        async with running_bridge(bridge_settings(broker)):
            await eventually(lambda: seen.latest.get(stale) == b"", what="the stale config removed")


async def test_a_burst_of_1000_updates_ends_with_the_broker_holding_the_server_state(broker):
    names = ["GPIO5", "GPIO6", "GPIO12", "GPIO13", "GPIO16"]
    async with running_bridge(bridge_settings(broker)), watching(broker, "endrpi/pi1/pins/+") as seen:
        await eventually(lambda: len(seen.latest) == 26, what="every pin")

        def burst() -> None:
            for index in range(1000):
                pin = naming.parse_pin(names[index % len(names)])
                assert pin is not None
                services.pin_configurations_update(changes={pin: OutputChange(state=float(index % 2))})

        worker = threading.Thread(target=burst)
        worker.start()
        await asyncio.to_thread(worker.join)
        expected = server_pins()
        took = await eventually(
            lambda: {name: json.loads(seen.latest[f"endrpi/pi1/pins/{name}"]) for name in PINS} == expected,
            what="the broker's state equal to the server's",
        )
        print(f"burst settled {took * 1000:.0f} ms after the last update; {len(seen.log)} pin messages")
    async with watching(broker, "endrpi/pi1/pins/+") as retained:
        await eventually(lambda: len(retained.latest) == 26, what="the retained pins")
        assert {name: retained.json(f"endrpi/pi1/pins/{name}") for name in PINS} == expected


async def test_the_bridge_reconnects_after_the_broker_restarts_and_republishes_everything(broker, caplog, monkeypatch):
    # How soon it is back is bounded by the wait between attempts (at most BACKOFF_MAX), whatever this
    # machine's speed: the bridge's waits between attempts are recorded and checked, not the seconds taken.
    backoffs: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(delay: float) -> None:
        caller = sys._getframe(1).f_code.co_name
        if caller == "_run":  # the connection loop's wait before the next attempt
            backoffs.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(bridge_module, "asyncio", SimpleNamespace(**{**vars(asyncio), "sleep": recorded_sleep}))
    services.pin_configurations_update(changes={5: InputChange(pull="DOWN")})
    async with running_bridge(bridge_settings(broker)) as bridge:
        broker.stop()
        await eventually(lambda: not bridge.connected, what="the bridge noticing")
        # Down until the waits between attempts have doubled up to their cap (0.5, 1, 2, 4, 4 s).
        await eventually(lambda: len(backoffs) >= 5, deadline=60, what="five failed attempts")
        broker.start()  # the same port, nothing retained
        started = time.monotonic()
        async with watching(broker, "endrpi/pi1/#") as seen:
            await eventually(
                lambda: (
                    seen.latest.get("endrpi/pi1/availability") == b"online"
                    and "endrpi/pi1/system" in seen.latest
                    and all(f"endrpi/pi1/pins/{name}" in seen.latest for name in PINS)
                ),
                deadline=10,
                what="the state republished",
            )
            took = time.monotonic() - started
        assert seen.json("endrpi/pi1/pins/GPIO5")["pull"] == "DOWN"
        assert bridge.connections == 2
        print(f"republished {took:.1f} s after the broker came back; waits between attempts {backoffs}")
        assert max(backoffs) <= BACKOFF_MAX  # so it is back at most BACKOFF_MAX after the broker is
    messages = [record.getMessage() for record in caplog.records if record.name == "endrpi_project.mqtt.bridge"]
    assert len([m for m in messages if m.startswith("MQTT: connected")]) == 2
    assert len([m for m in messages if m.startswith("MQTT: disconnected")]) == 1
    assert not [m for m in messages if m.startswith("MQTT: cannot connect")]  # retries are not logged


async def test_a_broker_that_is_down_is_logged_once_and_retried(tmp_path, caplog):
    from endrpi_project.testing.live import free_port
    from endrpi_project.testing.mosquitto import Mosquitto
    from tests.mqtt.conftest import need_mosquitto

    need_mosquitto()
    absent = Mosquitto(tmp_path / "broker", free_port())
    async with running_bridge(bridge_settings(absent), connect=False) as bridge:
        await asyncio.sleep(2.0)
        assert not bridge.connected
        absent.start()
        try:
            await eventually(lambda: bridge.connected, what="connecting once the broker is there")
        finally:
            absent.stop()
    messages = [record.getMessage() for record in caplog.records if record.name == "endrpi_project.mqtt.bridge"]
    assert len([m for m in messages if m.startswith("MQTT: cannot connect")]) == 1


async def test_throttle_flags_that_change_are_published_at_once(broker, vcgencmd):
    settings = bridge_settings(broker, interval=3600.0, throttle_check=0.05)
    async with running_bridge(settings), watching(broker, "endrpi/pi1/system") as seen:
        await eventually(lambda: "endrpi/pi1/system" in seen.latest, what="the readings")
        assert seen.json("endrpi/pi1/system")["throttle"]["underVoltageDetected"] is True
        vcgencmd.answer(throttled="0x0")
        await eventually(
            lambda: seen.json("endrpi/pi1/system")["throttle"]["underVoltageDetected"] is False,
            what="the change published",
        )


async def test_a_password_broker_needs_the_credentials(tmp_path):
    from tests.mqtt.conftest import need_mosquitto

    need_mosquitto()
    from endrpi_project.testing.mosquitto import mosquitto

    with mosquitto(tmp_path / "broker", users={"endrpi": "s3cret:/@"}) as broker:
        url = f"mqtt://endrpi:s3cret%3A%2F%40@127.0.0.1:{broker.port}"
        async with running_bridge(bridge_settings(broker, broker=_broker(url))) as bridge:
            assert bridge.connected
        async with running_bridge(
            bridge_settings(broker, broker=_broker(f"mqtt://endrpi:wrong@127.0.0.1:{broker.port}")), connect=False
        ) as bridge:
            await asyncio.sleep(1.0)
            assert not bridge.connected


async def test_a_tls_broker_with_its_ca_file(tmp_path):
    from tests.mqtt.conftest import need_mosquitto

    need_mosquitto()
    from endrpi_project.testing.mosquitto import mosquitto

    with mosquitto(tmp_path / "broker", tls=True) as broker:
        assert broker.url.startswith("mqtts://")
        async with running_bridge(bridge_settings(broker)), watching(broker, "endrpi/pi1/availability") as seen:
            await eventually(lambda: seen.latest.get("endrpi/pi1/availability") == b"online", what="online over TLS")
        untrusted = bridge_settings(broker, broker=_broker(broker.url))  # no CA file: the test CA is not trusted
        async with running_bridge(untrusted, connect=False) as bridge:
            await asyncio.sleep(1.0)
            assert not bridge.connected


def _broker(url: str):
    from endrpi_project.mqtt.broker import broker_from_url

    return broker_from_url(url)


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2])
async def test_stopping_at_any_moment_of_the_first_second_finishes(broker, delay):
    async with watching(broker, "endrpi/pi1/availability") as seen:
        async with running_bridge(bridge_settings(broker)):
            await asyncio.sleep(delay)
        # running_bridge has stopped it: the clean stop said offline and ended every task
        await eventually(lambda: seen.latest.get("endrpi/pi1/availability") == b"offline", what="offline")
