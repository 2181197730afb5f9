"""Connection limits under the HTTP server: caps, a request-head deadline, and flow control.

:class:`ConnectionGuard` wraps the server's Twisted protocol factory (``twisted.protocols.policies``
``WrappingFactory``, public Twisted API) and sees every TCP connection before daphne does:

- **Caps.** At most ``ENDRPI_MAX_CONNECTIONS`` connections at once, and at most
  ``ENDRPI_MAX_CONNECTIONS_PER_CLIENT`` from one client address. A connection over a cap gets a
  JSON ``503`` (server full) or ``429`` (too many from your address) and is closed at once, so it
  never holds a file descriptor for long.
- **Request-head deadline.** A connection must deliver a whole HTTP request head (up to the blank
  line) within ``ENDRPI_HTTP_HEAD_TIMEOUT`` seconds of opening, and again within that time of the
  server's last write while it stays plain HTTP (keep-alive). A client that sends a byte at a time
  (slowloris) is answered ``408`` and closed when the deadline passes, however often it sends; Twisted's
  own idle timer, which each byte resets, is no defence. A WebSocket, once upgraded, is not timed.
- **Flow control** for the WebSocket consumer (:class:`Flow`): whether the socket's write buffer is
  full (Twisted calls ``pauseProducing`` on the registered producer when it passes its buffer size
  and ``resumeProducing`` when it drains: we register a tap in front of the HTTP channel's producer),
  and a way to stop reading from the socket while a client has too much unanswered work, so TCP
  pushes back on the client instead of the server queueing without bound.

The consumer finds its connection's :class:`Flow` by the ASGI scope's ``client`` and ``server``
addresses (:func:`flow_for`), which daphne fills from the same transport: no private attribute of
daphne is read. Outside a guarded server (the test client, another ASGI server) there is no flow and
the consumer falls back to bounding its own queue (see :mod:`endrpi_project.websocket.consumers`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import Protocol
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from zope.interface import noLongerProvides  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

HEAD_END = b"\r\n\r\n"

# Address key of one connection: (client host, client port, server host, server port).
Key = tuple[str, int, str, int]


def _response(status: int, reason: str, message: str, extra: Iterable[tuple[str, str]] = ()) -> bytes:
    body = json.dumps({"message": message}).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in extra),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Refusal(Protocol):
    """Answers one fixed HTTP response as soon as the connection opens, then closes it."""

    transport: Any

    def __init__(self, response: bytes) -> None:
        self.response = response

    def connectionMade(self) -> None:
        self.transport.write(self.response)
        self.transport.loseConnection()


class _ProducerTap:
    """Stands in front of the producer registered on the socket, to learn when its buffer fills and drains."""

    def __init__(self, connection: GuardedConnection, producer: Any) -> None:
        self.connection, self.producer = connection, producer

    def pauseProducing(self) -> None:
        self.connection.write_paused = True
        self.producer.pauseProducing()

    def resumeProducing(self) -> None:
        self.connection.write_paused = False
        self.connection.wake_writers()
        self.producer.resumeProducing()

    def stopProducing(self) -> None:
        self.producer.stopProducing()


class GuardedConnection(ProtocolWrapper):
    """One TCP connection: its head deadline while it is HTTP, and its :class:`Flow` once a WebSocket."""

    factory: ConnectionGuard
    transport: Any  # the server's TCP transport (Twisted's ITransport annotations are partial)

    def __init__(self, factory: Any, wrapped: Any) -> None:
        super().__init__(factory, wrapped)
        self.http = wrapped  # daphne replaces ``wrappedProtocol`` with its WebSocket protocol on upgrade
        self.client_host = ""
        self.key: Key | None = None
        self.write_paused = False
        self.closed = False
        self._waiters: list[asyncio.Future[None]] = []
        self._reading_paused_by: set[str] = set()
        self._head_call: Any = None
        self._head_tail = b""

    # --- The connection's life ------------------------------------------------------------------

    def makeConnection(self, transport: Any) -> None:
        peer, host = transport.getPeer(), transport.getHost()
        self.client_host = str(getattr(peer, "host", ""))
        if hasattr(peer, "port") and hasattr(host, "host"):
            self.key = (self.client_host, int(peer.port), str(host.host), int(host.port))
        super().makeConnection(transport)  # type: ignore[no-untyped-call]
        self._await_head()

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True
        self._cancel_head()
        self.wake_writers()
        super().connectionLost(reason)  # type: ignore[no-untyped-call]

    @property
    def upgraded(self) -> bool:
        return self.wrappedProtocol is not self.http

    @property
    def wrappedProtocol(self) -> Any:
        return self._wrapped_protocol

    @wrappedProtocol.setter
    def wrappedProtocol(self, protocol: Any) -> None:
        """daphne hands an upgraded connection to its WebSocket protocol by setting this (http_protocol.py).

        Over TLS this wrapper provides ``ISSLTransport`` (``ProtocolWrapper.makeConnection`` copies the
        TLS transport's interfaces) without being Twisted's ``TLSMemoryBIOProtocol``, and autobahn's
        ``create_transport_details`` then raises for every ``wss://`` handshake (its TLS channel id needs
        the real TLS protocol). HTTP keeps the interface (``isSecure``: Django sees https); the WebSocket,
        whose ASGI scope has no scheme, is handed a plain transport.
        """
        self._wrapped_protocol = protocol
        if protocol is not getattr(self, "http", protocol) and ISSLTransport.providedBy(self):
            noLongerProvides(self, ISSLTransport)

    # --- The request-head deadline ----------------------------------------------------------------

    def _await_head(self) -> None:
        self._cancel_head()
        self._head_tail = b""
        self._head_call = self.factory.clock.callLater(self.factory.head_timeout, self._head_overdue)

    def _cancel_head(self) -> None:
        if self._head_call is not None and self._head_call.active():
            self._head_call.cancel()
        self._head_call = None

    def _head_overdue(self) -> None:
        self._head_call = None
        if self.closed or self.upgraded:
            return
        self.factory.refused["head timeout"] += 1
        timeout = f"{self.factory.head_timeout:g}"
        self.transport.write(
            _response(
                408,
                "Request Timeout",
                f"The request head did not arrive within {timeout} s (ENDRPI_HTTP_HEAD_TIMEOUT)",
            )
        )
        self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if self._head_call is not None:
            seen = self._head_tail + data
            if HEAD_END in seen:
                self._cancel_head()
            else:
                self._head_tail = seen[-(len(HEAD_END) - 1) :]
        super().dataReceived(data)  # type: ignore[no-untyped-call]

    def write(self, data: bytes) -> None:
        self._after_write()
        super().write(data)  # type: ignore[no-untyped-call]

    def writeSequence(self, data: Iterable[bytes]) -> None:
        self._after_write()
        super().writeSequence(data)  # type: ignore[no-untyped-call]

    def _after_write(self) -> None:
        # The server answered (part of) a request: a keep-alive client's next head is due in time too.
        if not self.closed and not self.upgraded:
            self._await_head()

    # --- Flow control -----------------------------------------------------------------------------

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        if streaming:
            producer = _ProducerTap(self, producer)
        super().registerProducer(producer, streaming)  # type: ignore[no-untyped-call]

    def pauseProducing(self) -> None:  # the HTTP channel pausing its reads
        self._pause_reading("http")

    def resumeProducing(self) -> None:
        self._resume_reading("http")

    def _pause_reading(self, reason: str) -> None:
        if not self._reading_paused_by and not self.closed:
            self.transport.pauseProducing()
        self._reading_paused_by.add(reason)

    def _resume_reading(self, reason: str) -> None:
        if reason not in self._reading_paused_by:
            return
        self._reading_paused_by.discard(reason)
        if not self._reading_paused_by and not self.closed:
            self.transport.resumeProducing()

    def wake_writers(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def writable(self) -> None:
        while self.write_paused and not self.closed:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter


class Flow:
    """What a WebSocket consumer may do with its socket: read or not, and wait until writes drain."""

    def __init__(self, connection: GuardedConnection) -> None:
        self._connection = connection

    @property
    def write_paused(self) -> bool:
        return self._connection.write_paused and not self._connection.closed

    async def writable(self) -> None:
        """Return once the socket's write buffer has room (at once if it has, or the connection closed)."""
        await self._connection.writable()

    def pause_reading(self) -> None:
        self._connection._pause_reading("consumer")

    def resume_reading(self) -> None:
        self._connection._resume_reading("consumer")


class ConnectionGuard(WrappingFactory):
    """Wraps the HTTP server's factory: connection caps, the head deadline, and a :class:`Flow` per connection."""

    protocol = GuardedConnection

    def __init__(
        self,
        wrapped: Any,
        *,
        max_connections: int,
        max_per_client: int,
        head_timeout: float,
        clock: Any = None,
    ) -> None:
        super().__init__(wrapped)  # type: ignore[no-untyped-call]
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.head_timeout = head_timeout
        if clock is None:
            from twisted.internet import reactor  # the reactor the server runs (installed by then)

            clock = reactor
        self.clock: Any = clock
        self.per_client: Counter[str] = Counter()
        self.by_key: dict[Key, GuardedConnection] = {}
        self.refused: Counter[str] = Counter()

    @property
    def open(self) -> int:
        return len(self.protocols)

    def buildProtocol(self, addr: Any) -> Any:
        host = str(getattr(addr, "host", ""))
        if self.open >= self.max_connections:
            return self._refuse(
                "server full",
                _response(
                    503,
                    "Service Unavailable",
                    f"The server is at its limit of {self.max_connections} connections "
                    "(ENDRPI_MAX_CONNECTIONS); try again shortly",
                    [("Retry-After", "1")],
                ),
            )
        if host and self.per_client[host] >= self.max_per_client:
            return self._refuse(
                "client full",
                _response(
                    429,
                    "Too Many Requests",
                    f"Too many connections from your address: at most {self.max_per_client} at once "
                    "(ENDRPI_MAX_CONNECTIONS_PER_CLIENT)",
                    [("Retry-After", "1")],
                ),
            )
        return super().buildProtocol(addr)

    def _refuse(self, reason: str, response: bytes) -> Refusal:
        self.refused[reason] += 1
        count = self.refused[reason]
        if count == 1 or count % 1000 == 0:
            logger.warning("Connection refused (%s): %d so far", reason, count)
        return Refusal(response)

    def registerProtocol(self, p: Any) -> None:
        super().registerProtocol(p)  # type: ignore[no-untyped-call]
        connection: GuardedConnection = p
        self.per_client[connection.client_host] += 1
        if connection.key is not None:
            self.by_key[connection.key] = connection

    def unregisterProtocol(self, p: Any) -> None:
        super().unregisterProtocol(p)  # type: ignore[no-untyped-call]
        connection: GuardedConnection = p
        self.per_client[connection.client_host] -= 1
        if self.per_client[connection.client_host] <= 0:
            del self.per_client[connection.client_host]
        if connection.key is not None and self.by_key.get(connection.key) is connection:
            del self.by_key[connection.key]


# The guard of the server running in this process (set by endrpi_project.http.server), if any.
_guard: ConnectionGuard | None = None


def guard_install(guard: ConnectionGuard) -> None:
    global _guard
    _guard = guard


def guard_active() -> ConnectionGuard | None:
    return _guard


def flow_for(scope: dict[str, Any] | Any) -> Flow | None:
    """The :class:`Flow` of the connection an ASGI ``scope`` came in on, or ``None`` without a guard."""
    guard = _guard
    client, server = scope.get("client"), scope.get("server")
    if guard is None or not client or not server:
        return None
    connection = guard.by_key.get((str(client[0]), int(client[1]), str(server[0]), int(server[1])))
    if connection is None:
        _missing_flow_warn(scope)
        return None
    return Flow(connection)


_warned: list[bool] = []


def _missing_flow_warn(scope: Any) -> None:
    if not _warned:
        _warned.append(True)
        logger.error(
            "No guarded connection for the WebSocket from %s to %s: the server's scope and its connections "
            "disagree (proxy headers?), so this connection's unanswered work is bounded by dropping, not by TCP",
            scope.get("client"),
            scope.get("server"),
        )
