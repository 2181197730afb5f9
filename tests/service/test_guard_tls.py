"""The connection guard over TLS: daphne's WebSocket upgrade must still work (``wss://``).

Over TLS the guard (a Twisted ``ProtocolWrapper``) copies the TLS transport's interfaces, so it
provides ``ISSLTransport`` without being Twisted's ``TLSMemoryBIOProtocol``; autobahn's
``create_transport_details`` (autobahn/twisted/util.py) then raised for every ``wss://`` handshake and
daphne answered 500. ``test_serve_live.py`` shows it end to end; this shows the rule fast.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface import directlyProvides  # type: ignore[import-untyped]

from endrpi_project.access.connections import ConnectionGuard


def tls_connection():
    guard = ConnectionGuard(
        Factory.forProtocol(Protocol),
        max_connections=10,
        max_per_client=3,
        head_timeout=10.0,
        clock=MemoryReactorClock(),
    )
    address = IPv4Address("TCP", "10.0.0.5", 40000)
    connection = guard.buildProtocol(address)
    transport = StringTransport(peerAddress=address, hostAddress=IPv4Address("TCP", "10.0.0.1", 5443))
    directlyProvides(transport, ISSLTransport)  # as Twisted's TLS protocol does
    connection.makeConnection(transport)
    return connection


def test_over_tls_http_requests_stay_secure():
    # twisted.web's Request.isSecure asks the channel's transport: Django must see https.
    assert ISSLTransport.providedBy(tls_connection())


def test_the_websocket_protocol_daphne_hands_over_to_gets_a_plain_transport():
    connection = tls_connection()
    connection.wrappedProtocol = Protocol()  # what daphne's http_protocol does on a WebSocket upgrade
    assert not ISSLTransport.providedBy(connection)
    assert connection.upgraded
