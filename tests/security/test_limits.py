"""WebSocket limits: each exceeded limit gets an error envelope; the connection and others carry on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from endrpi_project.access.limits import TokenBucket
from endrpi_project.asgi import application
from pins.serializers import MAX_PINS_PER_MESSAGE

# The consumer reads pin settings from the database (and closes old connections around it), as
# in the core WebSocket tests.
pytestmark = pytest.mark.django_db(transaction=True)

UPDATE = {"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1.0}}}}


async def connect() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def ask(communicator: WebsocketCommunicator, message: Any) -> Any:
    await communicator.send_json_to(message)
    return await communicator.receive_json_from()


def test_the_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert bucket.take()
    assert not bucket.take()
    now[0] += 100.0
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


async def test_a_message_over_the_size_limit_gets_an_error_and_the_connection_stays_open(settings):
    settings.ENDRPI_WS_MAX_MESSAGE_BYTES = 1024
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "pad": "x" * 1024}))
    reply = await communicator.receive_json_from()
    assert reply == {
        "action": None,
        "success": False,
        "data": None,
        "error": "Message too large: at most 1024 bytes (ENDRPI_WS_MAX_MESSAGE_BYTES)",
    }
    # Multi-byte characters count as bytes, not characters.
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "pad": "é" * 600}, ensure_ascii=False))
    assert "Message too large" in (await communicator.receive_json_from())["error"]
    await communicator.send_to(bytes_data=b"x" * 2048)
    assert "Message too large" in (await communicator.receive_json_from())["error"]
    assert (await ask(communicator, {"action": "READ_UPTIME"}))["success"] is True
    await communicator.disconnect()


async def test_a_read_of_too_many_pin_names_is_refused():
    communicator = await connect()
    reply = await ask(
        communicator, {"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": ["GPIO17"] * (MAX_PINS_PER_MESSAGE + 1)}}
    )
    assert reply["success"] is False
    assert reply["error"] == f"pins: Ensure this field has no more than {MAX_PINS_PER_MESSAGE} elements."
    names = ["GPIO17", "BCM17", "BOARD11", "J8:11", "17"]
    reply = await ask(communicator, {"action": "READ_PIN_CONFIGURATIONS", "params": {"pins": names}})
    assert list(reply["data"]) == ["GPIO17"]
    await communicator.disconnect()


async def test_an_update_of_too_many_pins_is_refused_in_one_line(gpio):
    communicator = await connect()
    pins = {f"NOPE{n}": {"io": "OUTPUT", "state": 1.0} for n in range(MAX_PINS_PER_MESSAGE + 1)}
    reply = await ask(communicator, {"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": pins}})
    assert reply["error"] == f"pins: Too many pins: at most {MAX_PINS_PER_MESSAGE} in one request"
    await communicator.disconnect()


async def test_writes_over_the_rate_get_an_error_reads_continue_and_another_connection_is_unaffected(settings):
    settings.ENDRPI_WS_WRITE_RATE = 0.01
    settings.ENDRPI_WS_WRITE_BURST = 3
    greedy = await connect()
    other = await connect()
    replies = [await ask(greedy, UPDATE) for _ in range(5)]
    assert [reply["success"] for reply in replies] == [True, True, True, False, False]
    assert replies[3]["action"] == "UPDATE_PIN_CONFIGURATIONS"
    assert replies[3]["error"].startswith("Too many pin updates on this connection: at most 0.01 a second")
    assert (await ask(greedy, {"action": "READ_TEMPERATURE"}))["success"] is True
    assert (await ask(other, UPDATE))["success"] is True
    await greedy.disconnect()
    await other.disconnect()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[" * 100_000, "Received invalid message: not valid JSON"),
        ('{"action": "READ_UPTIME", "id": NaN}', "Received invalid message: not valid JSON"),
        ('{"action": "READ_UPTIME", "id": 1e999}', "Received invalid message: not valid JSON"),
        ('{"action": ' + "9" * 5000 + "}", "Received invalid message: not valid JSON"),
    ],
)
async def test_frames_python_json_would_choke_on_get_an_error_envelope(settings, text, error):
    settings.ENDRPI_WS_MAX_MESSAGE_BYTES = 200_000
    communicator = await connect()
    await communicator.send_to(text_data=text)
    reply = await communicator.receive_json_from()
    assert reply == {"action": None, "success": False, "data": None, "error": error}
    assert (await ask(communicator, {"action": "READ_UPTIME"}))["success"] is True
    await communicator.disconnect()


async def test_a_deeply_nested_id_that_cannot_be_echoed_still_gets_one_reply(settings):
    settings.ENDRPI_WS_MAX_MESSAGE_BYTES = 200_000
    communicator = await connect()
    depth = 900
    await communicator.send_to(text_data='{"action": "READ_UPTIME", "id": ' + "[" * depth + "]" * depth + "}")
    reply = await communicator.receive_json_from()
    assert reply["action"] == "READ_UPTIME"
    assert communicator.output_queue.empty()
    await communicator.disconnect()
