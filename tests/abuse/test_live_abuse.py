"""Abuse against a real daphne (started as scripts/serve starts it): flood, slowloris, caps, a push burst.

The clients are the benchmark's own (``bench/load.py``), so what is measured there is what is
asserted here; bounds are generous (a shared machine), and nothing asserts a rate or a delay.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bench.load import burst_phase, fake_host, firmware_hold, flood_bounded, flood_phase, slowloris_phase
from endrpi_project.testing.live import LiveServer, live_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    return {**fake_host(tmp_path), "ENDRPI_HOST": "127.0.0.1", "ENDRPI_AUTH": "off"}


def serve(tmp_path: Path, env: dict[str, str], **overrides: str) -> Any:
    return live_server(tmp_path / "data", {**env, **overrides})


@pytest.fixture
def server(tmp_path: Path, server_env: dict[str, str]) -> Iterator[LiveServer]:
    with serve(tmp_path, server_env) as live:
        yield live


def test_a_client_that_never_reads_is_pushed_back_by_tcp_and_others_do_not_notice(server, tmp_path):
    # The flooder's first request waits on a held firmware call: the server falls behind by construction.
    figures = asyncio.run(flood_phase(server, seconds=3.0, hold=firmware_hold(tmp_path)))
    # The server stopped reading once its backlog was full: the flooder's writes block, and it could
    # send no more than the kernel's buffers and that backlog hold.
    assert flood_bounded(figures), figures
    assert figures["mib_per_flooding_connection"] < 32, figures
    assert figures["rss_after_leaving_mib"] <= figures["rss_peak_mib"], figures
    assert figures["bystander_failures"] == [], figures
    assert figures["bystander_answers"] > 0, figures
    assert server.process.poll() is None


def test_slow_request_heads_are_answered_408_at_the_deadline_while_others_are_served(tmp_path, server_env):
    with serve(tmp_path, server_env, ENDRPI_HTTP_HEAD_TIMEOUT="2") as live:
        figures = asyncio.run(slowloris_phase(live, connections=50, seconds=5.0))
    assert figures["answers"] == {"HTTP/1.1 408 Request Timeout": 50}, figures
    assert figures["still_open_at_end"] == 0
    assert figures["legit_rest_status"] == [200]
    assert figures["legit_websocket_success"] == [True]


async def open_websocket(url: str, source: str) -> Any:
    return await connect(url, proxy=None, open_timeout=10, local_addr=(source, 0))


async def open_websocket_once_admitted(url: str, source: str) -> Any:
    """Open a WebSocket, trying again while the server is full (503) until it has seen a close (a bound)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await open_websocket(url, source)
        except InvalidStatus as refused:
            if refused.response.status_code != 503 or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


def test_connections_past_a_cap_are_refused_with_a_message_and_a_closed_one_frees_its_place(tmp_path, server_env):
    async def scenario(live: LiveServer) -> None:
        mine = [await open_websocket(live.ws_url, "127.0.0.2") for _ in range(5)]
        with pytest.raises(InvalidStatus) as refused:
            await open_websocket(live.ws_url, "127.0.0.2")
        assert refused.value.response.status_code == 429
        assert json.loads(refused.value.response.body) == {
            "message": "Too many connections from your address: at most 5 at once (ENDRPI_MAX_CONNECTIONS_PER_CLIENT)"
        }
        others = [await open_websocket(live.ws_url, "127.0.0.3") for _ in range(3)]  # 8 now: the server's cap
        with pytest.raises(InvalidStatus) as full:
            await open_websocket(live.ws_url, "127.0.0.4")
        assert full.value.response.status_code == 503
        await mine.pop().close()
        again = await open_websocket_once_admitted(live.ws_url, "127.0.0.4")
        await again.send('{"action":"READ_UPTIME"}')
        assert json.loads(await asyncio.wait_for(again.recv(), 10))["success"] is True
        for websocket in [*mine, *others, again]:
            await websocket.close()

    overrides = {"ENDRPI_MAX_CONNECTIONS_PER_CLIENT": "5", "ENDRPI_MAX_CONNECTIONS": "8"}
    with serve(tmp_path, server_env, **overrides) as live:
        asyncio.run(scenario(live))


def test_a_connection_that_sends_nothing_is_closed_at_the_head_deadline(tmp_path, server_env):
    with serve(tmp_path, server_env, ENDRPI_HTTP_HEAD_TIMEOUT="1") as live:
        with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout")


def test_a_burst_of_1000_updates_of_26_pins_leaves_both_subscribers_on_the_final_state(tmp_path, server_env):
    with serve(tmp_path, server_env, ENDRPI_WRITE_RATE="100000") as live:
        figures = asyncio.run(burst_phase(live, writers=10, updates=100))
    assert figures["updates_accepted"] == 1000, figures
    assert figures["stale_pins"] == [0, 0], figures
    # Every update not received as a message was reported in MESSAGES_DROPPED.
    assert figures["unaccounted"] == [0, 0], figures


def test_a_burst_with_a_tiny_push_queue_still_ends_on_the_final_state_and_reports_the_rest(tmp_path, server_env):
    with serve(tmp_path, server_env, ENDRPI_WRITE_RATE="100000", ENDRPI_PUSH_QUEUE="1") as live:
        figures = asyncio.run(burst_phase(live, writers=10, updates=100))
    assert figures["stale_pins"] == [0, 0], figures
    assert figures["unaccounted"] == [0, 0], figures


def test_an_upgraded_websocket_is_not_timed_by_the_request_head_deadline(tmp_path, server_env):
    """Guards the one way daphne hands an upgraded connection over (``http_protocol.py`` sets the guard's
    ``wrappedProtocol`` to its WebSocket protocol): were it done another way, the guard would take the
    WebSocket for a keep-alive HTTP connection and write a 408 into it one deadline after its last reply."""

    async def scenario(live: LiveServer) -> None:
        async with connect(live.ws_url, open_timeout=30) as ws:
            for request_id in range(3):
                await ws.send(json.dumps({"action": "READ_UPTIME", "id": request_id}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 30))["id"] == request_id
                await asyncio.sleep(1.5)  # five deadlines of the server's own timer after its reply

    with serve(tmp_path, server_env, ENDRPI_HTTP_HEAD_TIMEOUT="0.3") as live:
        asyncio.run(scenario(live))
