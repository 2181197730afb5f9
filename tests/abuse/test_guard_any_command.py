"""The user's own command gets every protection the launcher gets: a real daphne under each command.

Each test runs twice, against ``daphne endrpi_project.asgi:application`` (as ``python -m daphne``)
and against ``manage.py endrpi_serve`` (what ``scripts/serve`` and the service run). Nothing asserts a
rate or a delay: timeouts are only there so a broken server fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from bench.load import fake_host
from endrpi_project.testing.live import ROOT, LiveServer, free_port, live_server

pytestmark = pytest.mark.slow

COMMANDS = ["daphne", "endrpi_serve"]
# A request head that never ends (no blank line): the connection stays half-open until the deadline.
HALF_OPEN = b"GET /system/uptime HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Waiting: "


@pytest.fixture(params=COMMANDS)
def command(request) -> str:
    return str(request.param)


def serve(tmp_path: Path, command: str, **env: str) -> Any:
    environment = {**fake_host(tmp_path), "ENDRPI_AUTH": "off", **env}

    def open_files_1024() -> None:  # the soft limit a login shell gives (the hard one stays)
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    return live_server(tmp_path / "data", environment, serve=command == "endrpi_serve", preexec_fn=open_files_1024)


@pytest.fixture
def enough_files_here() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def half_open(port: int, count: int, source: str) -> tuple[list[socket.socket], int]:
    """``count`` connections from ``source``, each sending a head that never ends; and how many failed.

    A connection the server refused may be closed before its head is sent (a reset): it counts as
    refused. An unguarded server out of open files stops accepting: those connections fail too.
    """
    sockets, failed = [], 0
    for _ in range(count):
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(10)
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(HALF_OPEN)
        except OSError:
            sock.close()
            failed += 1
            continue
        sockets.append(sock)
    return sockets, failed


def first_lines(sockets: list[socket.socket], wanted: int, timeout: float = 60) -> list[bytes]:
    """The first line of each answer, waiting (at most ``timeout``) until ``wanted`` sockets are answered."""
    answers: list[bytes] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for each in sockets:
            selector.register(each, selectors.EVENT_READ)
        while len(answers) < wanted and time.monotonic() < deadline:
            for key, _ in selector.select(0.5):
                sock: Any = key.fileobj
                try:
                    answers.append(sock.recv(4096).split(b"\r\n", 1)[0] or b"closed")
                except OSError:
                    answers.append(b"reset")
                selector.unregister(sock)
    return answers


def rest_status(server: LiveServer) -> int | str:
    request = urllib.request.Request(f"{server.http_url}/system/uptime", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except Exception as error:
        return f"{type(error).__name__}: {error}"


async def websocket_success(server: LiveServer) -> bool | str:
    try:
        async with connect(server.ws_url, proxy=None, open_timeout=10) as websocket:
            await websocket.send('{"action":"READ_UPTIME"}')
            return bool(json.loads(await asyncio.wait_for(websocket.recv(), 10))["success"])
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def test_1100_half_open_requests_from_another_address_leave_others_served(tmp_path, command, enough_files_here):
    """The issue's first row: open-file limit 1,024; 0 of 30 REST and 0 of 30 WebSocket requests fail."""
    with serve(tmp_path, command, ENDRPI_HTTP_HEAD_TIMEOUT="300") as server:
        attack, failed = half_open(server.port, 1100, "127.0.0.2")
        try:
            rest = [rest_status(server) for _ in range(30)]
            websocket = [asyncio.run(websocket_success(server)) for _ in range(30)]
            # Past the per-address cap (256) every connection is answered 429 and closed at once; the
            # 256 held wait for their head (its deadline is far off) and are answered nothing.
            answers = first_lines(attack, wanted=1100 - 256 - failed)
            held = len(attack) - len(answers)
        finally:
            for sock in attack:
                sock.close()
        assert server.process.poll() is None
    assert [status for status in rest if status != 200] == []
    assert [success for success in websocket if success is not True] == []
    assert set(answers) <= {b"HTTP/1.1 429 Too Many Requests", b"reset"}, answers
    assert held == 256


def http_pipeline(port: int, count: int) -> list[tuple[bytes, str]]:
    """Send ``count`` GET requests in one write on one connection, then read every answer in turn."""
    requests = b"".join(
        f"GET /pins/GPIO{100 + n} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
        for n in range(count)
    )
    answers: list[tuple[bytes, str]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(requests)
        reader = sock.makefile("rb")
        for _ in range(count):
            status = reader.readline().strip()
            if not status:
                break
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            answers.append((status, json.loads(reader.read(length))["message"]))
    return answers


async def websocket_pipeline(server: LiveServer, count: int) -> list[dict[str, Any]]:
    """Send ``count`` requests on one WebSocket before reading anything, then read ``count`` replies."""
    async with connect(server.ws_url, proxy=None, open_timeout=10) as websocket:
        for n in range(count):
            await websocket.send(json.dumps({"action": "READ_UPTIME", "id": n}))
        return [json.loads(await asyncio.wait_for(websocket.recv(), 30)) for _ in range(count)]


def test_200_pipelined_requests_are_all_answered_in_order(tmp_path, command):
    """The issue's second row, over HTTP/1.1 keep-alive and over a WebSocket (ENDRPI_WS_MAX_PENDING is 64)."""
    with serve(tmp_path, command) as server:
        http_answers = http_pipeline(server.port, 200)
        replies = asyncio.run(websocket_pipeline(server, 200))
        assert server.process.poll() is None
    assert [status for status, _ in http_answers] == [b"HTTP/1.1 404 Not Found"] * 200
    assert [message.split("`")[1] for _, message in http_answers] == [f"GPIO{100 + n}" for n in range(200)]
    assert [(reply.get("id"), reply["success"], reply["error"]) for reply in replies] == [
        (n, True, None) for n in range(200)
    ]


LATE_LISTENING_DAPHNE = """
import sys
from daphne import server
from twisted.internet import reactor
from twisted.internet.defer import Deferred

listen_endpoint = server.serverFromString


class ListensLater:
    # A daphne release that opens its ports only after the reactor runs (it could also rename its
    # HTTPFactory, or wrap it in a factory of its own): the guard cannot find them at start-up.
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def listen(self, factory):
        listening = Deferred()
        reactor.callLater(0.5, lambda: self.endpoint.listen(factory).chainDeferred(listening))
        return listening


server.serverFromString = lambda reactor, description: ListensLater(listen_endpoint(reactor, description))
from daphne.cli import CommandLineInterface

CommandLineInterface().run(sys.argv[1:])
"""


def test_a_daphne_the_guard_cannot_find_the_ports_of_refuses_to_start_in_one_line(tmp_path):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(tmp_path),
        "ENDRPI_GPIO": "mock",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True)
    arguments = ["-b", "127.0.0.1", "-p", str(free_port()), "endrpi_project.asgi:application"]
    result = subprocess.run(
        [sys.executable, "-c", LATE_LISTENING_DAPHNE, *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Endrpi cannot start: daphne is listening in a way the connection guard does not recognise (no "
        "listening port serves daphne.http_protocol.HTTPFactory), so the server stops rather than serve without "
        "ENDRPI_MAX_CONNECTIONS and the request-head deadline: see endrpi_project/http/server.py"
    )
