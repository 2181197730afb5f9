"""Guards for the few places Endrpi relies on another library's undocumented behaviour.

Each test fails loudly when the library changes the thing we rely on, so an upgrade cannot turn a
feature off silently. docs/architecture.md ("Other libraries' internals") lists each use and its guard here.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from channels.consumer import AsyncConsumer
from daphne.http_protocol import WebRequest
from daphne.server import Server
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler


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


def test_daphne_still_builds_its_http_factory_through_the_attribute_the_guard_wraps():
    """endrpi_project.http.server: if this fails, connections are no longer guarded (the server refuses to start)."""
    run = inspect.getsource(Server.run)
    assert "self.http_factory = HTTPFactory(self)" in run
    assert "ep.listen(self.http_factory)" in run


def test_daphne_still_hands_an_upgraded_connection_over_by_setting_the_wrappers_wrapped_protocol():
    """endrpi_project.access.connections: the guard keeps seeing a connection after its WebSocket upgrade."""
    process = inspect.getsource(WebRequest.process)
    assert "if isinstance(transport, ProtocolWrapper):" in process
    assert "transport.wrappedProtocol = protocol" in process


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
