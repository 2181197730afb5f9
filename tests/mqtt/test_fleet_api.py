"""The fleet over REST and WebSocket, and its page; MQTT off gives a clear answer."""

from __future__ import annotations

import pytest

from endrpi_project.mqtt import services
from tests.helpers import http_get, websocket

pytestmark = pytest.mark.django_db(transaction=True)  # through the ASGI application, as tests/test_push.py


@pytest.fixture
def fleet():
    services.fleet.clear()
    yield services.fleet
    services.fleet.clear()


@pytest.fixture
def mqtt_on(settings):
    settings.ENDRPI_MQTT_URL = "mqtt://127.0.0.1:1"


async def test_rest_says_the_fleet_needs_mqtt(fleet):
    status, body = await http_get("/fleet")
    assert status == 409
    assert body == {"message": "The fleet needs MQTT: set ENDRPI_MQTT_URL to the broker the Pis publish to"}


async def test_rest_lists_every_pi_by_node_id(fleet, mqtt_on):
    fleet.apply("pi2", "availability", b"offline")
    fleet.apply("pi1", "availability", b"online")
    fleet.apply("pi1", "device", b'{"name": "Garage", "model": "Raspberry Pi 5", "url": "http://pi1:5000/"}')
    status, body = await http_get("/fleet")
    assert status == 200
    assert body == [
        {
            "node": "pi1",
            "name": "Garage",
            "model": "Raspberry Pi 5",
            "online": True,
            "temperature": None,
            "throttleWarnings": [],
            "url": "http://pi1:5000/",
        },
        {
            "node": "pi2",
            "name": "pi2",
            "model": None,
            "online": False,
            "temperature": None,
            "throttleWarnings": [],
            "url": None,
        },
    ]


async def test_the_websocket_action_gives_the_same_list(fleet, mqtt_on):
    fleet.apply("pi1", "availability", b"online")
    async with websocket() as client:
        reply = await client.request("READ_FLEET")
    assert reply["success"] is True
    assert [member["node"] for member in reply["data"]] == ["pi1"]
    assert reply["data"] == (await http_get("/fleet"))[1]


async def test_subscribing_to_the_fleet_gives_the_current_list(fleet, mqtt_on):
    fleet.apply("pi1", "availability", b"online")
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "FLEET"})
    assert reply["success"] is True
    assert list(reply["data"]["current"]) == ["pi1"]


def test_a_browser_gets_the_page(client, settings):
    settings.ENDRPI_MQTT_URL = ""
    page = client.get("/fleet", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert b"MQTT is off" in page.content
    settings.ENDRPI_MQTT_URL = "mqtt://127.0.0.1:1"
    page = client.get("/fleet", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert b'id="fleet-rows"' in page.content
    assert b"mqtt/fleet.js" in page.content


def test_the_dashboard_links_the_fleet_only_when_mqtt_is_on(client, settings):
    settings.ENDRPI_MQTT_URL = ""
    assert b'id="fleet-link"' not in client.get("/").content
    settings.ENDRPI_MQTT_URL = "mqtt://127.0.0.1:1"
    assert b'id="fleet-link"' in client.get("/").content
