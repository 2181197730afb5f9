"""The envelope and its errors, through the real ASGI application."""

from __future__ import annotations

import json

import pytest

from endrpi_project.api.envelope import envelope, summaries_requested
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


# --- A message refused whole still gets its id back ---------------------------------------------------

SURROGATE = "Received invalid message: a string holds a lone surrogate escape (\\ud800-\\udfff), which is not text"
NOT_JSON = "Received invalid message: not valid JSON"


@pytest.mark.parametrize(
    ("frame", "request_id", "expected"),
    [
        # Valid JSON refused whole: the id is read leniently, wherever it is in the message.
        ('{"id": 7, "action": "UPDATE_PIN_CONFIGURATIONS", "params": {"label": "\\ud800"}}', 7, SURROGATE),
        ('{"action": "READ_MEMORY", "params": {"\\udfff": 1}, "id": "req-1"}', "req-1", SURROGATE),
        ('{"action": "READ_MEMORY", "params": {"x": 1e999}, "id": [1, "a"]}', [1, "a"], NOT_JSON),
        ('{"action": "READ_MEMORY", "params": {"n": 1' + "0" * 5000 + '}, "id": null}', None, NOT_JSON),
        # Not JSON (NaN is Python's, not JSON's), yet the id is plain: it comes back too.
        ('{"id": 3, "action": "READ_MEMORY", "params": {"x": NaN}}', 3, NOT_JSON),
    ],
)
async def test_a_message_refused_whole_is_answered_with_its_id(frame, request_id, expected):
    async with websocket() as client:
        reply = await client.send_text(frame)
        assert reply == {**error(None, expected), "id": request_id}
        assert (await client.request("READ_MEMORY", id=1))["id"] == 1


@pytest.mark.parametrize(
    "frame",
    [
        '{"action": "READ_MEMORY", "id": "\\ud800"}',  # the id itself cannot be sent back
        '{"action": "READ_MEMORY", "id": NaN}',
        '{"action": "READ_MEMORY", "id": 1e999}',
        '{"action": "READ_MEMORY", "id": 7',  # not JSON at all
    ],
)
async def test_a_refused_message_whose_id_cannot_be_echoed_is_answered_without_one(frame):
    async with websocket() as client:
        reply = await client.send_text(frame)
        assert reply["success"] is False
        assert reply["error"].startswith("Received invalid message")
        assert "id" not in reply


async def test_a_binary_frame_holding_json_is_answered_with_its_id():
    async with websocket() as client:
        reply = await client.send_bytes(b'{"id": 12, "action": "READ_MEMORY"}')
        assert reply == {**error(None, "Received invalid message: send JSON as a text frame"), "id": 12}


async def test_a_message_too_large_is_answered_with_an_id_found_near_its_start(settings):
    settings.ENDRPI_WS_MAX_MESSAGE_BYTES = 1024
    filler = "x" * 2000
    too_large = "Message too large: at most 1024 bytes (ENDRPI_WS_MAX_MESSAGE_BYTES)"
    async with websocket() as client:
        reply = await client.send_text(json.dumps({"action": "READ_MEMORY", "id": "big-1", "params": {"x": filler}}))
        assert reply == {**error(None, too_large), "id": "big-1"}
        # Not read whole: an id past the first KiB is not looked for, and the reply says so by leaving it out.
        reply = await client.send_text(json.dumps({"params": {"x": filler}, "id": "late"}))
        assert reply == error(None, too_large)


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        (b"", False),
        (b"summaries=1", True),
        (b"summaries=true", True),
        (b"summaries=0", False),
        (b"summaries=", False),
        (b"token=endrpi_x&summaries=1", True),
        (b"token=endrpi_x", False),
    ],
)
def test_summaries_are_asked_for_in_the_query_only_with_a_true_value(query, wanted):
    assert summaries_requested(query) is wanted


def test_the_envelope_carries_a_summary_only_where_the_connection_asked():
    plain = envelope("READ_TEMPERATURE", error="Failed", summary="Temperature unavailable")
    assert set(plain) == {"action", "success", "data", "error"}
    asked = envelope("READ_TEMPERATURE", error="Failed", summary="Temperature unavailable", summaries=True)
    assert asked["summary"] == "Temperature unavailable"
    assert "summary" not in envelope("READ_TEMPERATURE", data={}, summary="x", summaries=True)  # only beside an error
