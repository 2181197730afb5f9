"""The connection guard under the HTTP server: caps, the request-head deadline, flow control.

Driven with Twisted's own test doubles (``twisted.internet.testing``: ``StringTransport`` records
what is written and whether reading is paused, ``MemoryReactorClock`` is a clock the test moves), so
no server and no waiting is needed; the live tests (``test_live_abuse.py``) drive the real thing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport

from endrpi_project.access import connections
from endrpi_project.access.connections import ConnectionGuard, Flow, GuardedConnection, flow_for


class Recording(Protocol):
    def __init__(self) -> None:
        self.received = b""
        self.lost = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:
        self.lost = True


def guard(**overrides: Any) -> ConnectionGuard:
    options = {"max_connections": 10, "max_per_client": 3, "head_timeout": 10.0, "clock": MemoryReactorClock()}
    return ConnectionGuard(Factory.forProtocol(Recording), **{**options, **overrides})


def connect(factory: ConnectionGuard, host: str = "10.0.0.5", port: int = 40000) -> tuple[Any, Any]:
    address = IPv4Address("TCP", host, port)
    protocol = factory.buildProtocol(address)
    transport = StringTransport(peerAddress=address, hostAddress=IPv4Address("TCP", "10.0.0.1", 5000))
    protocol.makeConnection(transport)
    return protocol, transport


def answer(transport: StringTransport) -> tuple[str, dict[str, Any]]:
    head, _, body = transport.value().partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


def test_connections_past_the_per_client_cap_get_429_and_are_closed():
    factory = guard()
    for port in range(3):
        _, transport = connect(factory, port=40000 + port)
        assert transport.value() == b""
    _, refused = connect(factory, port=40010)
    assert answer(refused) == (
        "HTTP/1.1 429 Too Many Requests",
        {"message": "Too many connections from your address: at most 3 at once (ENDRPI_MAX_CONNECTIONS_PER_CLIENT)"},
    )
    assert refused.disconnecting
    _, other = connect(factory, host="10.0.0.6")  # another address is unaffected
    assert other.value() == b""


def test_connections_past_the_server_cap_get_503_and_are_closed():
    factory = guard(max_connections=4, max_per_client=100)
    for n in range(4):
        connect(factory, host=f"10.0.1.{n}")
    _, refused = connect(factory, host="10.0.2.1")
    status, body = answer(refused)
    assert status == "HTTP/1.1 503 Service Unavailable"
    assert "limit of 4 connections (ENDRPI_MAX_CONNECTIONS)" in body["message"]
    assert refused.disconnecting


def test_a_closed_connection_gives_its_place_back():
    factory = guard(max_per_client=1)
    protocol, _ = connect(factory)
    protocol.connectionLost(None)
    assert factory.open == 0
    _, transport = connect(factory, port=40001)
    assert transport.value() == b""


def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_deadline_however_often_bytes_come():
    factory = guard()
    protocol, transport = connect(factory)
    request = b"GET / HTTP/1.1\r\nHost: pi\r\nX-Padding: " + b"a" * 100
    for byte in range(19):
        protocol.dataReceived(request[byte : byte + 1])
        factory.clock.advance(0.5)
        assert not transport.disconnecting
    factory.clock.advance(0.5)
    assert answer(transport) == (
        "HTTP/1.1 408 Request Timeout",
        {"message": "The request head did not arrive within 10 s (ENDRPI_HTTP_HEAD_TIMEOUT)"},
    )
    assert transport.disconnecting


def test_a_whole_head_in_time_stops_the_clock_even_split_across_reads():
    factory = guard()
    protocol, transport = connect(factory)
    protocol.dataReceived(b"GET / HTTP/1.1\r\nHost: pi\r")
    protocol.dataReceived(b"\n\r")
    protocol.dataReceived(b"\n")
    factory.clock.advance(60)  # the application may take its time
    assert not transport.disconnecting
    assert protocol.wrappedProtocol.received == b"GET / HTTP/1.1\r\nHost: pi\r\n\r\n"


def test_after_an_answer_a_keep_alive_client_has_the_same_deadline_for_its_next_head():
    factory = guard()
    protocol, transport = connect(factory)
    protocol.dataReceived(b"GET / HTTP/1.1\r\nHost: pi\r\n\r\n")
    factory.clock.advance(5)
    protocol.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    factory.clock.advance(9.9)
    assert not transport.disconnecting
    factory.clock.advance(0.2)
    assert transport.disconnecting


def test_an_upgraded_connection_is_not_timed():
    factory = guard()
    protocol, transport = connect(factory)
    protocol.dataReceived(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
    protocol.wrappedProtocol = Recording()  # what daphne does on a WebSocket upgrade
    protocol.write(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
    factory.clock.advance(3600)
    assert not transport.disconnecting


class Channel:
    """The producer daphne's HTTP channel registers on its transport (a streaming producer)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pauseProducing(self) -> None:
        self.calls.append("pause")

    def resumeProducing(self) -> None:
        self.calls.append("resume")

    def stopProducing(self) -> None:
        self.calls.append("stop")


async def test_flow_sees_the_write_buffer_fill_and_drain_and_wakes_a_waiting_writer():
    factory = guard()
    protocol, transport = connect(factory)
    channel = Channel()
    protocol.registerProducer(channel, True)
    flow = Flow(protocol)
    transport.producer.pauseProducing()  # what Twisted does when the write buffer passes its size
    assert flow.write_paused
    waiting = asyncio.ensure_future(flow.writable())
    await asyncio.sleep(0)
    assert not waiting.done()
    transport.producer.resumeProducing()  # drained
    await asyncio.wait_for(waiting, 1)
    assert not flow.write_paused
    assert channel.calls == ["pause", "resume"]  # the channel still hears about it


async def test_a_writer_waiting_on_a_connection_that_closes_is_released():
    factory = guard()
    protocol, transport = connect(factory)
    protocol.registerProducer(Channel(), True)
    transport.producer.pauseProducing()
    waiting = asyncio.ensure_future(Flow(protocol).writable())
    await asyncio.sleep(0)
    protocol.connectionLost(None)
    await asyncio.wait_for(waiting, 1)


def test_reading_resumes_only_when_neither_the_consumer_nor_the_http_channel_wants_it_paused():
    factory = guard()
    protocol, transport = connect(factory)
    flow = Flow(protocol)
    flow.pause_reading()
    assert transport.producerState == "paused"
    protocol.pauseProducing()  # the HTTP channel pausing too
    flow.resume_reading()
    assert transport.producerState == "paused"
    protocol.resumeProducing()
    assert transport.producerState == "producing"


def test_a_websocket_scope_finds_its_connection_by_address(monkeypatch):
    factory = guard()
    protocol, _ = connect(factory, host="10.0.0.7", port=41234)
    monkeypatch.setattr(connections, "_guard", factory)
    flow = flow_for({"client": ["10.0.0.7", 41234], "server": ["10.0.0.1", 5000]})
    assert flow is not None
    assert flow._connection is protocol
    assert flow_for({"client": ["10.0.0.7", 1], "server": ["10.0.0.1", 5000]}) is None
    protocol.connectionLost(None)
    assert flow_for({"client": ["10.0.0.7", 41234], "server": ["10.0.0.1", 5000]}) is None


def test_without_a_guarded_server_there_is_no_flow(monkeypatch):
    monkeypatch.setattr(connections, "_guard", None)
    assert flow_for({"client": ["127.0.0.1", 1], "server": ["127.0.0.1", 2]}) is None
    assert isinstance(guard().buildProtocol(IPv4Address("TCP", "1.2.3.4", 1)), GuardedConnection)
