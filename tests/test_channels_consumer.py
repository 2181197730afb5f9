"""The consumer on Channels' public behaviour, through a real Channels consumer and channel layer.

Endrpi's consumer answers client frames in its own request loop and leaves connect, disconnect and
channel-layer messages to Channels' ``AsyncConsumer`` (no override of its ``dispatch``). These tests
fail when a Channels release changes what that relies on: that a layer message of type
``push.message`` reaches the handler named after it, and that the consumer ends on disconnect.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator

from endrpi_project.asgi import application
from endrpi_project.push.hub import MESSAGE_TYPE
from pins.events import PINS_GROUP

pytestmark = pytest.mark.django_db(transaction=True)


class OtherProcessesLayer:
    """Channels' in-memory layer, standing for one that reaches other processes: ``endrpi_project.push.hub.
    remote_layer`` takes any layer that is not an ``InMemoryChannelLayer``.

    Models django/channels_redis, ``channels_redis/core.py``, ``RedisChannelLayer``: ``group_send`` puts one
    copy of the message on each member channel and returns without waiting for delivery; a channel over its
    ``capacity`` silently loses the message, and one not received within ``expiry`` seconds is dropped.
    Channels' ``InMemoryChannelLayer`` (``channels/layers.py``) behaves the same way, which is why it is
    reused rather than rewritten; no Redis runs here.
    """

    def __init__(self, **config: Any) -> None:
        self._layer = InMemoryChannelLayer(**config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._layer, name)


@pytest.fixture
def shared_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.OtherProcessesLayer"}}
    layer = get_channel_layer()
    assert isinstance(layer, OtherProcessesLayer)
    return layer


async def test_a_message_from_another_process_reaches_a_subscriber_through_channels_dispatch(shared_layer):
    communicator = WebsocketCommunicator(application, "/")
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data=json.dumps({"action": "SUBSCRIBE", "params": {"topic": "PINS"}, "id": 1}))
    subscribed: dict[str, Any] = json.loads(await communicator.receive_from(timeout=5))
    assert subscribed["success"] is True, subscribed
    while not await communicator.receive_nothing(timeout=0.2):  # the subscription's first state, if any
        pass
    await shared_layer.group_send(
        PINS_GROUP,
        {
            "type": MESSAGE_TYPE,
            "group": PINS_GROUP,
            "origin": "another-process",
            "seq": 1,
            "action": "PIN_CONFIGURATIONS_CHANGED",
            "data": {"GPIO17": {"io": "OUTPUT"}},
            "error": None,
        },
    )
    pushed = json.loads(await communicator.receive_from(timeout=5))
    assert pushed == {
        "action": "PIN_CONFIGURATIONS_CHANGED",
        "success": True,
        "data": {"GPIO17": {"io": "OUTPUT"}},
        "error": None,
    }
    await communicator.disconnect()


async def test_frames_are_answered_in_order_and_the_consumer_ends_when_the_client_leaves():
    communicator = WebsocketCommunicator(application, "/")
    assert (await communicator.connect())[0]
    for n in range(5):
        await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": n}))
    assert [json.loads(await communicator.receive_from(timeout=5))["id"] for _ in range(5)] == list(range(5))
    await communicator.disconnect()
    await asyncio.wait_for(communicator.future, timeout=5)  # the application instance has ended
    assert communicator.future.exception() is None


def test_no_consumer_replaces_channels_dispatch():
    """Channels' ``dispatch`` (its database clean-up, then the handler named after the message type) is used
    as it is: frames skip it by being answered in the consumer's own loop, not by overriding it."""
    from channels.consumer import AsyncConsumer

    from endrpi_project.routing import EndrpiConsumer
    from endrpi_project.websocket import consumers

    mine: list[type[AsyncConsumer]] = [
        value for value in vars(consumers).values() if isinstance(value, type) and issubclass(value, AsyncConsumer)
    ]
    mine.append(EndrpiConsumer)
    for consumer in mine:
        assert consumer.dispatch is AsyncConsumer.dispatch, f"{consumer.__name__} overrides Channels' dispatch"
