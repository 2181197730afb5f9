"""The bridge inside a real daphne: the last will on ``kill -9``, ``offline`` on a clean stop, 200 Pis in the fleet."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
import websockets.sync.client

from endrpi_project.testing.live import LiveServer, live_server
from endrpi_project.testing.mosquitto import Mosquitto
from tests.conftest import FIXTURES, HostTree
from tests.mqtt.conftest import eventually, watching

pytestmark = pytest.mark.slow  # a real broker and a real server

FLEET_SIZE = 200


@pytest.fixture
def server(broker: Mosquitto, tmp_path: Path) -> Iterator[LiveServer]:
    tree = HostTree(tmp_path / "host")
    tree.write("sys/class/thermal/thermal_zone0/temp", "51540\n")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    env = {
        "ENDRPI_HOST_ROOT": str(tree.root),
        "ENDRPI_VCGENCMD": "/nonexistent",
        "ENDRPI_MQTT_URL": broker.url,
        "ENDRPI_MQTT_NODE_ID": "live",
    }
    with live_server(tmp_path / "data", env) as live:
        yield live


def get_json(server: LiveServer, path: str) -> Any:
    request = urllib.request.Request(f"{server.http_url}{path}", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


async def test_the_broker_publishes_the_last_will_when_the_server_is_killed(broker, server):
    async with watching(broker, "endrpi/live/availability") as seen:
        await eventually(lambda: seen.latest.get("endrpi/live/availability") == b"online", what="online")
        server.process.send_signal(signal.SIGKILL)
        await eventually(lambda: seen.latest.get("endrpi/live/availability") == b"offline", what="the last will")
    async with watching(broker, "endrpi/live/availability") as later:  # and it is retained
        await eventually(lambda: later.latest.get("endrpi/live/availability") == b"offline", what="offline retained")


async def test_a_clean_stop_says_offline(broker, server):
    async with watching(broker, "endrpi/live/availability") as seen:
        await eventually(lambda: seen.latest.get("endrpi/live/availability") == b"online", what="online")
        mark = len(seen.log)
        server.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.process.wait, 15)
        await eventually(lambda: b"offline" in seen.since(mark, "endrpi/live/availability"), what="offline")
    assert "MQTT: connected to" in server.log.read_text()


def simulated_pi(index: int) -> dict[str, bytes]:
    node = f"sim{index:03d}"
    system = {
        "temperature": {"systemOnChip": {"quantity": 40 + index % 30, "prefix": None, "unitOfMeasurement": "CELSIUS"}},
        "throttle": {"underVoltageDetected": index % 7 == 0, "throttling": False},
        "uptime": {"seconds": 1000 + index, "formatted": "0:16:40"},
    }
    device = {"name": f"Pi {index}", "model": "Raspberry Pi 4 Model B Rev 1.4", "url": f"http://{node}:5000/"}
    return {
        f"endrpi/{node}/availability": b"online" if index % 10 else b"offline",
        f"endrpi/{node}/device": json.dumps(device).encode(),
        f"endrpi/{node}/system": json.dumps(system).encode(),
    }


async def test_200_pis_show_in_the_rest_list_and_the_live_page_feed(broker, server):
    await eventually(lambda: [m["node"] for m in get_json(server, "/fleet")] == ["live"], what="the server itself")
    async with websockets.connect(server.ws_url) as socket:
        await socket.send(json.dumps({"action": "SUBSCRIBE", "params": {"topic": "FLEET"}}))
        reply = json.loads(await socket.recv())
        assert reply["success"] is True
        members: dict[str, Any] = dict(reply["data"]["current"])
        rss_before = server.rss_kib()
        assert rss_before is not None
        started = time.monotonic()
        async with watching(broker, "endrpi/live/availability") as publisher:
            for index in range(FLEET_SIZE):
                for topic, payload in simulated_pi(index).items():
                    await publisher.client.publish(topic, payload, qos=1, retain=True)

        def complete() -> bool:  # every Pi listed with its readings, as the page would show it
            simulated = [member for node, member in members.items() if node != "live"]
            return len(simulated) == FLEET_SIZE and all(member["temperature"] is not None for member in simulated)

        while not complete():  # what the page applies, as it applies it
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            if message["action"] == "FLEET_CHANGED":
                members.update(message["data"])
        page_seconds = time.monotonic() - started
    listed = await asyncio.to_thread(get_json, server, "/fleet")
    rest_seconds = time.monotonic() - started
    assert len(listed) == FLEET_SIZE + 1
    sim7 = next(member for member in listed if member["node"] == "sim007")
    assert sim7 == {
        "node": "sim007",
        "name": "Pi 7",
        "model": "Raspberry Pi 4 Model B Rev 1.4",
        "online": True,
        "temperature": 47.0,
        "throttleWarnings": ["underVoltageDetected"],
        "url": "http://sim007:5000/",
    }
    assert next(member for member in listed if member["node"] == "sim010")["online"] is False
    assert members["sim007"] == sim7
    rss_after = server.rss_kib()
    assert rss_after is not None
    growth_mb = (rss_after - rss_before) / 1024
    print(f"200 Pis: page feed {page_seconds:.2f} s, REST {rest_seconds:.2f} s, RSS +{growth_mb:.2f} MB")
    assert growth_mb < 5.0


@pytest.fixture
def silent_broker() -> Iterator[int]:
    """A port that accepts connections and never answers (no CONNACK): a broker hung or behind a black hole."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_broker_that_never_answers_does_not_delay_the_api(silent_broker, tmp_path):
    env = {"ENDRPI_MQTT_URL": f"mqtt://127.0.0.1:{silent_broker}", "ENDRPI_MQTT_NODE_ID": "live"}
    with live_server(tmp_path / "data", env) as live:
        for _ in range(20):  # while the bridge waits for a CONNACK that never comes
            assert get_json(live, "/pins/GPIO17")["io"] in ("INPUT", "OUTPUT")
        with websockets.sync.client.connect(live.ws_url) as connection:
            connection.send(json.dumps({"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": ["GPIO17"]}}))
            assert json.loads(connection.recv(timeout=5))["success"] is True
        log = live.log.read_text()
    assert "MQTT: connected" not in log
