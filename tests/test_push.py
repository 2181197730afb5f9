"""The push protocol itself: SUBSCRIBE/UNSUBSCRIBE errors, lost messages, a slow client's outbox."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

import pytest

from endrpi_project.push.hub import hub
from endrpi_project.push.outbox import BACKLOG_POLL_SECONDS, MESSAGES_DROPPED, Outbox
from endrpi_project.websocket.daphne import transport_backlog
from endrpi_project.websocket.registry import action_table
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)

TOPICS = "TEMPERATURE, THROTTLE, UPTIME, FREQUENCY, MEMORY, PINS, HISTORY, EVENTS, FLEET"


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        ("SUBSCRIBE", None, "Received message with missing 'params' field: SUBSCRIBE needs params"),
        ("SUBSCRIBE", ["PINS"], "Received message with invalid 'params' field: params must be an object"),
        ("SUBSCRIBE", {}, "topic: This field is required."),
        ("SUBSCRIBE", {"topic": "VOLTAGE"}, f'topic: Unknown topic "VOLTAGE"; topics are {TOPICS}'),
        ("SUBSCRIBE", {"topic": "pins"}, f'topic: Unknown topic "pins"; topics are {TOPICS}'),
        ("SUBSCRIBE", {"topic": None}, "topic: This field may not be null."),
        (
            "SUBSCRIBE",
            {"topic": "TEMPERATURE", "intervalMs": 99},
            "intervalMs: Ensure this value is greater than or equal to 100.",
        ),
        (
            "SUBSCRIBE",
            {"topic": "TEMPERATURE", "intervalMs": 3_600_001},
            "intervalMs: Ensure this value is less than or equal to 3600000.",
        ),
        (
            "SUBSCRIBE",
            {"topic": "TEMPERATURE", "intervalMs": "1000"},
            "intervalMs: A whole number of milliseconds is required.",
        ),
        (
            "SUBSCRIBE",
            {"topic": "TEMPERATURE", "intervalMs": 150.5},
            "intervalMs: A whole number of milliseconds is required.",
        ),
        (
            "SUBSCRIBE",
            {"topic": "TEMPERATURE", "intervalMs": True},
            "intervalMs: A whole number of milliseconds is required.",
        ),
        ("SUBSCRIBE", {"topic": "THROTTLE", "onChange": "yes"}, "onChange: Must be true or false."),
        (
            "SUBSCRIBE",
            {"topic": "THROTTLE", "interval": 100},
            "Unknown param(s) interval; this topic takes intervalMs, onChange",
        ),
        ("SUBSCRIBE", {"topic": "PINS", "intervalMs": 100}, "Unknown param(s) intervalMs; this topic takes pins"),
        (
            "SUBSCRIBE",
            {"topic": "PINS", "pins": []},
            "pins: Name at least one pin, or leave pins out to hear about every pin",
        ),
        (
            "SUBSCRIBE",
            {"topic": "PINS", "pins": ["GPIO99"]},
            "pins: Pin with BCM pin number `GPIO99` not found; pins are GPIO2 to GPIO27",
        ),
        ("SUBSCRIBE", {"topic": "PINS", "pins": "GPIO17"}, 'pins: Expected a list of items but got type "str".'),
        ("UNSUBSCRIBE", None, "Received message with missing 'params' field: UNSUBSCRIBE needs params"),
        ("UNSUBSCRIBE", {}, "topic: This field is required."),
        ("UNSUBSCRIBE", {"topic": "VOLTAGE"}, f'topic: Unknown topic "VOLTAGE"; topics are {TOPICS}'),
        ("UNSUBSCRIBE", {"topic": "PINS"}, "Not subscribed to PINS"),
    ],
)
async def test_bad_subscription_params_get_a_clear_error_and_the_connection_stays_open(action, params, message):
    async with websocket() as client:
        reply = await client.request(action, params, id="x")
        assert reply == {"action": action, "success": False, "data": None, "error": message, "id": "x"}
        assert (await client.request("READ_UPTIME"))["success"] is True


def test_subscribe_and_unsubscribe_are_in_the_action_table_with_their_params():
    assert action_table()["SUBSCRIBE"].params is not None
    assert action_table()["UNSUBSCRIBE"].params is not None
    assert action_table()["SUBSCRIBE"].model == "Subscription"


async def test_a_message_the_channel_layer_lost_is_reported_before_the_next_one():
    async with websocket() as watcher, websocket() as writer:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        await writer.request("UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}})
        assert (await watcher.receive())["action"] == "PIN_CONFIGURATIONS_CHANGED"
        # Two messages of the pins group vanish on their way (as from a full or expired channel).
        next(hub._sequences["endrpi.pins"])
        next(hub._sequences["endrpi.pins"])
        await writer.request("UPDATE_PIN_CONFIGURATIONS", {"pins": {"GPIO17": {"io": "OUTPUT", "state": 0}}})
        assert await watcher.receive() == {
            "action": MESSAGES_DROPPED,
            "success": True,
            "data": {"dropped": 2, "topics": ["PINS"]},
            "error": None,
        }
        assert (await watcher.receive())["data"] == {
            "GPIO17": {"io": "OUTPUT", "state": 0.0, "pull": "FLOATING", "label": None}
        }


def passive(action: str, data: Any) -> dict[str, Any]:
    return {"action": action, "success": True, "data": data, "error": None}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


async def settle() -> None:
    await asyncio.sleep(BACKLOG_POLL_SECONDS * 2)


class Socket:
    """Whether the client's socket is draining, as the outbox sees it."""

    def __init__(self) -> None:
        self.stalled = False

    def backlogged(self) -> bool:
        return self.stalled


async def test_an_outbox_that_keeps_up_sends_every_message_in_order():
    recorder = Recorder()
    outbox = Outbox(recorder, limit=3)
    for state in range(10):
        outbox.put("PINS", passive("PIN_CONFIGURATIONS_CHANGED", {"GPIO17": state}), merge=True)
        await settle()
    await outbox.close()
    assert [message["data"]["GPIO17"] for message in recorder.sent] == list(range(10))


async def test_a_stalled_client_gets_the_latest_state_of_each_topic_and_a_count_of_what_it_missed():
    recorder, socket = Recorder(), Socket()
    outbox = Outbox(recorder, limit=4, backlogged=socket.backlogged)
    socket.stalled = True
    for n in range(1000):
        outbox.put("PINS", passive("PIN_CONFIGURATIONS_CHANGED", {f"GPIO{2 + n % 3}": n}), merge=True)
        outbox.put("TEMPERATURE", passive("TEMPERATURE_UPDATED", {"n": n}), merge=False)
        assert len(outbox) <= 4
    await settle()
    assert recorder.sent == []
    socket.stalled = False
    await settle()
    await outbox.close()
    assert recorder.sent == [
        passive(MESSAGES_DROPPED, {"dropped": 1998, "topics": ["PINS", "TEMPERATURE"]}),
        passive("PIN_CONFIGURATIONS_CHANGED", {"GPIO2": 999, "GPIO3": 997, "GPIO4": 998}),
        passive("TEMPERATURE_UPDATED", {"n": 999}),
    ]


async def test_an_error_envelope_replaces_a_waiting_map_instead_of_merging():
    recorder, socket = Recorder(), Socket()
    socket.stalled = True
    outbox = Outbox(recorder, limit=1, backlogged=socket.backlogged)
    outbox.put("TEMPERATURE", passive("TEMPERATURE_UPDATED", {"n": 1}), merge=True)
    failure = {"action": "TEMPERATURE_UPDATED", "success": False, "data": None, "error": "Failed"}
    outbox.put("TEMPERATURE", failure, merge=True)
    socket.stalled = False
    await settle()
    await outbox.close()
    assert recorder.sent[1:] == [failure]


async def test_unsubscribing_forgets_what_waits_for_that_topic():
    recorder, socket = Recorder(), Socket()
    socket.stalled = True
    outbox = Outbox(recorder, limit=10, backlogged=socket.backlogged)
    outbox.put("PINS", passive("PIN_CONFIGURATIONS_CHANGED", {}), merge=True)
    outbox.put("MEMORY", passive("MEMORY_UPDATED", {}), merge=False)
    outbox.discard("PINS")
    socket.stalled = False
    await settle()
    await outbox.close()
    assert [message["action"] for message in recorder.sent] == ["MEMORY_UPDATED"]


class FakeTransport:
    """The part of a Twisted transport that says whether its write buffer is full."""

    producerPaused = False


class FakeProtocol:
    def __init__(self) -> None:
        self.transport = FakeTransport()


async def fake_handle_reply(protocol: Any, message: dict[str, Any]) -> None:
    return None


def test_under_daphne_the_outbox_sees_when_the_socket_buffer_is_full():
    protocol = FakeProtocol()
    backlogged = transport_backlog(functools.partial(fake_handle_reply, protocol))
    assert backlogged is not None
    assert backlogged() is False
    protocol.transport.producerPaused = True
    assert backlogged() is True


def test_a_send_that_is_not_daphnes_is_not_watched():
    async def send(message: dict[str, Any]) -> None:
        return None

    assert transport_backlog(send) is None
    assert transport_backlog(functools.partial(fake_handle_reply, object())) is None


async def test_messages_a_full_channel_drops_are_reported_with_the_next_one(settings):
    from channels.exceptions import ChannelFull
    from channels.layers import get_channel_layer

    from endrpi_project.push.hub import MESSAGE_TYPE
    from pins.events import PIN_CONFIGURATIONS_CHANGED, PINS_GROUP

    layer = {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10}}
    settings.CHANNEL_LAYERS = {"default": layer}

    async def publish(seq: int) -> None:
        # As the hub sends them (one origin, numbered in order within the group), but straight onto each
        # member's channel: the layer's group_send yields to the consumer between messages, send does not.
        message = {"type": MESSAGE_TYPE, "group": PINS_GROUP, "origin": "test", "seq": seq}
        message.update(action=PIN_CONFIGURATIONS_CHANGED, data={"GPIO17": {"n": seq}}, error=None)
        layer = get_channel_layer()
        for channel in list(layer.groups[PINS_GROUP]):
            with contextlib.suppress(ChannelFull):
                await layer.send(channel, message)

    async with websocket() as watcher:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        # 100 changes land at once, without the consumer getting a turn; its channel holds 10.
        for seq in range(1, 101):
            await publish(seq)
        changes: list[int] = []
        dropped = 0
        while not changes or changes[-1] != 101:
            message = await watcher.receive()
            if not changes and not dropped:
                # The consumer has made room in its channel. What the layer dropped is only known once
                # the next message arrives: send one more.
                await publish(101)
            if message["action"] == MESSAGES_DROPPED:
                dropped += message["data"]["dropped"]
            else:
                changes.append(message["data"]["GPIO17"]["n"])
        assert changes == sorted(changes)
        assert dropped > 0
        assert len(changes) + dropped == 101
