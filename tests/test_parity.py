"""The same reading gives the same body over REST and over the WebSocket, both through ASGI."""

from __future__ import annotations

import pytest

from tests.helpers import http_get, http_put, websocket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/system/temperature", "READ_TEMPERATURE"),
        ("/system/throttle", "READ_THROTTLE"),
        ("/system/uptime", "READ_UPTIME"),
        ("/system/frequency", "READ_FREQUENCY"),
        ("/system/memory", "READ_MEMORY"),
    ],
)
async def test_a_system_reading_is_the_same_over_rest_and_websocket(path, action):
    status, body = await http_get(path)
    async with websocket() as client:
        reply = await client.request(action)
    assert status == 200
    assert reply["data"] == body


async def test_a_failed_reading_has_the_same_message_over_rest_and_websocket(host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    status, body = await http_get("/system/temperature")
    async with websocket() as client:
        reply = await client.request("READ_TEMPERATURE")
    assert status == 500
    assert reply["error"] == body["message"]


async def test_pins_are_the_same_over_rest_and_websocket():
    status, _ = await http_put("/pins/GPIO17", {"io": "OUTPUT", "state": 1})
    assert status == 200
    status, every_pin = await http_get("/pins")
    async with websocket() as client:
        reply = await client.request("READ_PIN_CONFIGURATIONS", {"pins": list(every_pin)})
    assert reply["data"] == every_pin
    assert every_pin["GPIO17"] == {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": None}


async def test_an_invalid_pin_change_has_the_same_message_over_rest_and_websocket():
    status, body = await http_put("/pins/GPIO17", {"io": "INPUT"})
    async with websocket() as client:
        reply = await client.request("UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO17": {"io": "INPUT"}}})
    assert status == 400
    assert reply["error"] == f"pins.GPIO17: {body['message']}"
