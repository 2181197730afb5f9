"""The envelope and its errors, through the real ASGI application."""

from __future__ import annotations

import json

import pytest

from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)


def error(action, message):
    return {"action": action, "success": False, "data": None, "error": message}


@pytest.mark.parametrize(
    ("frame", "reply"),
    [
        ("not json", error(None, "Received invalid message: not valid JSON")),
        ("  ", error(None, "Received invalid message: not valid JSON")),
        ('{"action": "READ_MEMORY", "id": NaN}', error(None, "Received invalid message: not valid JSON")),
        ('{"action": "READ_MEMORY", "id": -Infinity}', error(None, "Received invalid message: not valid JSON")),
        # 60 000 bytes: deeper than json can parse, yet under the 64 KiB message limit (docs/security.md).
        ("[" * 30_000 + "]" * 30_000, error(None, "Received invalid message: not valid JSON")),
        ('{"id": 1' + "0" * 5000 + "}", error(None, "Received invalid message: not valid JSON")),
        ("[1, 2]", error(None, "Received invalid message: expected a JSON object")),
        ('"READ_MEMORY"', error(None, "Received invalid message: expected a JSON object")),
        ("null", error(None, "Received invalid message: expected a JSON object")),
        ("{}", error(None, "Received message with missing 'action' field")),
        ('{"action": 5}', error(None, "Received message with invalid 'action' field")),
        ('{"action": ["READ_MEMORY"]}', error(None, "Received message with invalid 'action' field")),
        ('{"action": "FLY"}', error(None, "Received message with unknown 'action' value: FLY")),
        ('{"action": "read_memory"}', error(None, "Received message with unknown 'action' value: read_memory")),
    ],
)
async def test_a_bad_frame_gets_an_error_envelope_and_the_connection_stays_open(frame, reply):
    async with websocket() as client:
        assert await client.send_text(frame) == reply
        follow_up = await client.request("READ_MEMORY")
        assert follow_up["success"] is True


async def test_a_binary_frame_gets_an_error_envelope():
    async with websocket() as client:
        reply = await client.send_bytes(b"\x00\x01")
        assert reply == error(None, "Received invalid message: send JSON as a text frame")
        assert (await client.request("READ_UPTIME"))["success"] is True


async def test_a_request_id_comes_back_on_the_reply():
    async with websocket() as client:
        assert (await client.request("READ_UPTIME", id="abc-1"))["id"] == "abc-1"
        assert (await client.request("READ_UPTIME", id=7))["id"] == 7
        assert (await client.request("FLY", id=8))["id"] == 8


async def test_without_a_request_id_no_id_key_is_added():
    async with websocket() as client:
        assert "id" not in await client.request("READ_UPTIME")


async def test_pipelined_requests_are_each_answered_in_order():
    async with websocket() as client:
        for index in range(20):
            await client.communicator.send_to(text_data=json.dumps({"action": "READ_MEMORY", "id": index}))
        replies = [await client.receive() for _ in range(20)]
        assert [reply["id"] for reply in replies] == list(range(20))
        assert all(reply["success"] for reply in replies)


async def test_every_reply_has_exactly_the_envelope_keys():
    async with websocket() as client:
        for action in ("READ_TEMPERATURE", "READ_THROTTLE", "READ_UPTIME", "READ_FREQUENCY", "READ_MEMORY", "FLY"):
            assert set(await client.request(action)) == {"action", "success", "data", "error"}
