"""Guards for the few places Endrpi relies on another library's undocumented behaviour.

Each test fails loudly when the library changes the thing we rely on, so an upgrade cannot turn a
feature off silently. docs/architecture.md ("Other libraries' internals") lists each use and its guard here.
"""

from __future__ import annotations

import inspect

from daphne.http_protocol import WebRequest
from daphne.server import Server


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
