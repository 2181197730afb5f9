"""Small helpers for driving the real ASGI application in tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from channels.testing import HttpCommunicator, WebsocketCommunicator

from endrpi_project.asgi import application


@asynccontextmanager
async def websocket(path: str = "/", headers: list[tuple[bytes, bytes]] | None = None) -> AsyncIterator[Client]:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected, "the WebSocket handshake was refused"
    try:
        yield Client(communicator)
    finally:
        await communicator.disconnect()


class Client:
    """A WebSocket client that sends frames and reads envelopes."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send_text(self, text: str) -> dict[str, Any]:
        await self.communicator.send_to(text_data=text)
        return await self.receive()

    async def send_bytes(self, data: bytes) -> dict[str, Any]:
        await self.communicator.send_to(bytes_data=data)
        return await self.receive()

    async def request(self, action: Any, params: Any = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"action": action, **extra}
        if params is not None:
            message["params"] = params
        return await self.send_text(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(await self.communicator.receive_from(timeout=5))
        return reply


async def http_get(path: str) -> tuple[int, Any]:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"accept", b"application/json")])
    response = await communicator.get_response(timeout=5)
    return response["status"], json.loads(response["body"])


async def http_put(path: str, body: Any) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"accept", b"application/json"),
    ]
    communicator = HttpCommunicator(application, "PUT", path, body=data, headers=headers)
    response = await communicator.get_response(timeout=5)
    return response["status"], json.loads(response["body"])


async def assert_nothing_pending(client: Client) -> None:
    """Deterministically, instead of waiting to see that nothing comes: nothing is waiting for ``client``.

    A marker request's reply must be the next message. (For a client with subscriptions, prefer
    :func:`assert_next_push_is_marker`, which also catches a push still on its way.)
    """
    reply = await client.request("READ_UPTIME", id="marker")
    assert reply["id"] == "marker", f"something arrived before the marker reply: {reply}"


async def assert_next_push_is_marker(client: Client) -> None:
    """Nothing was pushed to a PINS subscriber before a marker change published now, after the test's own.

    The marker goes through the same hub and group as every pin change, which keep order, so any
    push the test caused would arrive first.
    """
    from endrpi_project.push.hub import publish
    from pins.events import PIN_CONFIGURATIONS_CHANGED, PINS_GROUP

    marker = {"marker": True}
    publish(PINS_GROUP, action=PIN_CONFIGURATIONS_CHANGED, data={f"GPIO{bcm}": marker for bcm in range(2, 28)})
    message = await client.receive()
    assert message["action"] == PIN_CONFIGURATIONS_CHANGED, message
    assert message["data"], message
    assert all(value == marker for value in message["data"].values()), f"pushed before the marker: {message}"


@contextmanager
def readings_declared(readings: list[Any]) -> Iterator[None]:
    """The system app declares ``readings`` instead of its own while the block runs: every edge reads
    the new table (the REST routes too: the URL configuration is rebuilt), and the real one is back after.
    """
    from importlib import reload

    from django.urls import clear_url_caches

    import endrpi_project.urls
    import system.urls
    from endrpi_project.readings.registry import reading_table
    from endrpi_project.routing import EndrpiConsumer
    from endrpi_project.websocket.registry import action_table, topic_table
    from system import declarations

    def rebuild() -> None:
        for cached in (reading_table, action_table, topic_table):
            cached.cache_clear()
        EndrpiConsumer.actions = action_table()  # the consumer takes the table once, at import
        reload(system.urls)
        reload(endrpi_project.urls)
        clear_url_caches()

    original = declarations.READINGS
    declarations.READINGS = list(readings)
    rebuild()
    try:
        yield
    finally:
        declarations.READINGS = original
        rebuild()
