"""Guards for the few places Endrpi relies on another library's undocumented behaviour.

Each test fails loudly when the library changes the thing we rely on, so an upgrade cannot turn a
feature off silently. The README ("Other libraries' internals") lists each use and its guard here.
"""

from __future__ import annotations

import asyncio
import inspect
import textwrap
from typing import Any

from channels.consumer import AsyncConsumer
from daphne.server import Server
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from twisted.internet.abstract import FileDescriptor

from endrpi_project.websocket.daphne import transport_backlog, transport_of


def _body(function: Any) -> str:
    """A function's source without its docstring and indentation, to compare with what we rely on."""
    source = textwrap.dedent(inspect.getsource(function))
    lines = [line.strip() for line in source.splitlines()]
    code = [
        line
        for line in lines
        if line and not line.startswith(("#", '"""')) and line != "Works out what to do with a message."
    ]
    return "\n".join(code)


async def test_daphnes_send_still_leads_to_the_connections_transport():
    """endrpi_project.websocket.daphne: the protocol is the first argument of daphne's ``send``."""
    sent: list[Any] = []

    async def application(*, scope: Any, receive: Any, send: Any) -> None:
        sent.append(send)

    class Transport:
        producerPaused = False

    class Protocol:
        transport = Transport()

    protocol = Protocol()
    server = Server(application=application, endpoints=["tcp:port=0:interface=127.0.0.1"])  # not listening yet
    server.connections = {protocol: {}}
    server.create_application(protocol, {"type": "websocket"})
    await asyncio.sleep(0)
    (send,) = sent
    assert transport_of(send) is protocol.transport
    backlogged = transport_backlog(send)
    assert backlogged is not None
    assert backlogged() is False
    protocol.transport.producerPaused = True
    assert backlogged() is True


def test_twisted_transports_still_say_when_their_write_buffer_is_full():
    """Every Twisted socket transport is a FileDescriptor, whose producerPaused flags a full buffer."""
    assert FileDescriptor.producerPaused is False
    assert "_maybePauseProducer()" in inspect.getsource(FileDescriptor.write)
    assert "self.producerPaused = True" in inspect.getsource(FileDescriptor._maybePauseProducer)


def test_channels_dispatch_is_still_only_the_database_clean_up_and_the_handler():
    """ActionConsumer.dispatch skips this for frames and passive messages; it must not skip more."""
    assert _body(AsyncConsumer.dispatch) == "\n".join(
        [
            "async def dispatch(self, message):",
            "handler = getattr(self, get_handler_name(message), None)",
            "if handler:",
            "await aclose_old_connections()",
            "await handler(message)",
            "else:",
            'raise ValueError("No handler for message type %s" % message["type"])',
        ]
    )


def test_djangos_handler_still_builds_its_chain_in_load_middleware_and_enters_it_in_get_response_async():
    """endrpi_project.http.handlers overrides these two methods of Django's handler."""
    assert "is_async" in inspect.signature(BaseHandler.load_middleware).parameters
    assert "self.get_response_async(" in inspect.getsource(ASGIHandler.run_get_response)
