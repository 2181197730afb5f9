"""Guards for the few places Endrpi relies on another library's undocumented behaviour.

Each test fails loudly when the library changes the thing we rely on, so an upgrade cannot turn a
feature off silently. docs/architecture.md ("Other libraries' internals") lists each use and its guard here.
"""

from __future__ import annotations

import inspect

from daphne.http_protocol import WebRequest


def test_daphne_still_hands_an_upgraded_connection_over_by_setting_the_wrappers_wrapped_protocol():
    """endrpi_project.access.connections: the guard keeps seeing a connection after its WebSocket upgrade."""
    process = inspect.getsource(WebRequest.process)
    assert "if isinstance(transport, ProtocolWrapper):" in process
    assert "transport.wrappedProtocol = protocol" in process
