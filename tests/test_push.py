"""The push protocol itself: SUBSCRIBE/UNSUBSCRIBE errors, folded messages, a slow client's outbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from endrpi_project.push.hub import QUEUE_LIMIT, hub, publish
from endrpi_project.push.outbox import MESSAGES_DROPPED, Outbox
from endrpi_project.push.subscriptions import Subscriptions
from endrpi_project.push.topics import INTERVAL_STEPS, interval_quantise
from endrpi_project.websocket.registry import action_table
from tests.helpers import websocket

pytestmark = pytest.mark.django_db(transaction=True)

TOPICS = (
    "PLATFORM, TEMPERATURE, THROTTLE, UPTIME, FREQUENCY, MEMORY, CPU, STORAGE, NETWORK, SENSORS, PINS, PIN_SETTINGS, "
    "HISTORY, EVENTS, FLEET"
)


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


async def test_messages_the_hub_folded_are_reported_before_the_latest_state():
    from pins.events import PIN_CONFIGURATIONS_CHANGED, PINS_GROUP

    async with websocket() as watcher:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        # Published faster than the event loop delivers (it does not run in between): past QUEUE_LIMIT
        # waiting messages the hub folds them into one per group, counting what it folded.
        for n in range(QUEUE_LIMIT + 10):
            publish(PINS_GROUP, action=PIN_CONFIGURATIONS_CHANGED, data={f"GPIO{2 + n % 3}": {"n": n}})
        last = QUEUE_LIMIT + 9
        final = {f"GPIO{2 + n % 3}": n for n in range(last - 2, last + 1)}
        changes: dict[str, int] = {}
        dropped, received = 0, 0
        while changes != final:
            message = await watcher.receive()
            if message["action"] == MESSAGES_DROPPED:
                dropped += message["data"]["dropped"]
            else:
                received += 1
                changes.update({pin: value["n"] for pin, value in message["data"].items()})
        assert dropped > 0
        assert received + dropped == QUEUE_LIMIT + 10


async def test_a_gap_in_another_process_messages_is_reported_before_the_next_one():
    recorder = Recorder()
    subscriptions = Subscriptions(send=recorder, limit=10)
    from pins.actions import TOPICS

    pins = next(topic for topic in TOPICS if topic.name == "PINS")
    await subscriptions.subscribe(pins, {})

    def remote(seq: int, n: int) -> dict[str, Any]:
        message = {"group": "endrpi.pins", "origin": "elsewhere", "seq": seq, "action": "PIN_CONFIGURATIONS_CHANGED"}
        return {**message, "data": {"GPIO17": {"n": n}}, "error": None}

    subscriptions.deliver_remote(remote(1, 1))
    await settle()
    subscriptions.deliver_remote(remote(4, 4))  # 2 and 3 were lost on the way
    subscriptions.deliver_remote({**remote(9, 9), "origin": hub.origin})  # this process's own: already delivered
    await settle()
    await subscriptions.close()
    assert recorder.sent == [
        passive("PIN_CONFIGURATIONS_CHANGED", {"GPIO17": {"n": 1}}),
        passive(MESSAGES_DROPPED, {"dropped": 2, "topics": ["PINS"]}),
        passive("PIN_CONFIGURATIONS_CHANGED", {"GPIO17": {"n": 4}}),
    ]


def passive(action: str, data: Any) -> dict[str, Any]:
    return {"action": action, "success": True, "data": data, "error": None}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


async def settle() -> None:
    await asyncio.sleep(0.05)


class Socket:
    """A client's socket as the outbox's ``send`` sees it: while stalled, a send waits."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.draining = asyncio.Event()
        self.draining.set()

    @property
    def stalled(self) -> bool:
        return not self.draining.is_set()

    @stalled.setter
    def stalled(self, value: bool) -> None:
        if value:
            self.draining.clear()
        else:
            self.draining.set()

    async def __call__(self, message: dict[str, Any]) -> None:
        await self.draining.wait()
        self.sent.append(message)


async def test_an_outbox_that_keeps_up_sends_every_message_in_order():
    recorder = Recorder()
    outbox = Outbox(recorder, limit=3)
    for state in range(10):
        outbox.put("PINS", passive("PIN_CONFIGURATIONS_CHANGED", {"GPIO17": state}), merge=True)
        await settle()
    await outbox.close()
    assert [message["data"]["GPIO17"] for message in recorder.sent] == list(range(10))


async def test_a_stalled_client_gets_the_latest_state_of_each_topic_and_a_count_of_what_it_missed():
    recorder = socket = Socket()
    outbox = Outbox(socket, limit=4)
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
    recorder = socket = Socket()
    socket.stalled = True
    outbox = Outbox(socket, limit=1)
    outbox.put("TEMPERATURE", passive("TEMPERATURE_UPDATED", {"n": 1}), merge=True)
    failure = {"action": "TEMPERATURE_UPDATED", "success": False, "data": None, "error": "Failed"}
    outbox.put("TEMPERATURE", failure, merge=True)
    socket.stalled = False
    await settle()
    await outbox.close()
    assert recorder.sent[1:] == [failure]


async def test_unsubscribing_forgets_what_waits_for_that_topic():
    recorder = socket = Socket()
    socket.stalled = True
    outbox = Outbox(socket, limit=10)
    outbox.put("PINS", passive("PIN_CONFIGURATIONS_CHANGED", {}), merge=True)
    outbox.put("MEMORY", passive("MEMORY_UPDATED", {}), merge=False)
    outbox.discard("PINS")
    socket.stalled = False
    await settle()
    await outbox.close()
    assert [message["action"] for message in recorder.sent] == ["MEMORY_UPDATED"]


async def test_a_burst_far_beyond_the_channel_capacity_ends_on_the_latest_state(settings):
    from pins.events import PIN_CONFIGURATIONS_CHANGED, PINS_GROUP

    layer = {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10}}
    settings.CHANNEL_LAYERS = {"default": layer}
    async with websocket() as watcher:
        await watcher.request("SUBSCRIBE", {"topic": "PINS"})
        for n in range(100):
            publish(PINS_GROUP, action=PIN_CONFIGURATIONS_CHANGED, data={"GPIO17": {"n": n}})
        changes: list[int] = []
        dropped = 0
        while not changes or changes[-1] != 99:
            message = await watcher.receive()
            if message["action"] == MESSAGES_DROPPED:
                dropped += message["data"]["dropped"]
            else:
                changes.append(message["data"]["GPIO17"]["n"])
        assert changes == sorted(changes)
        assert len(changes) + dropped == 100


@pytest.mark.parametrize(
    ("asked", "used"),
    [(100, 100), (149, 100), (150, 200), (999, 1000), (1234, 1000), (1500, 2000), (3_500_000, 3_600_000)],
)
def test_intervals_are_rounded_to_one_significant_digit(asked, used):
    assert interval_quantise(asked) == used


def test_300_distinct_intervals_need_at_most_a_few_dozen_pollers():
    assert len({interval_quantise(ms) for ms in range(100, 100 + 300 * 7, 7)}) <= 30
    assert INTERVAL_STEPS == 40


async def test_the_subscribe_reply_says_the_interval_used():
    async with websocket() as client:
        reply = await client.request("SUBSCRIBE", {"topic": "UPTIME", "intervalMs": 1234})
        assert reply["data"]["intervalMs"] == 1000
