"""The user's own command gets every protection the launcher gets: a real daphne under each command.

Each test runs twice, against ``daphne endrpi_project.asgi:application`` (as ``python -m daphne``)
and against ``manage.py endrpi_serve`` (what ``scripts/serve`` and the service run). The clients are
the benchmark's (``bench/commands.py``), so what is measured there is asserted here. Nothing asserts a
rate or a delay: timeouts are only there so a broken server fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench.commands import (
    COMMANDS,
    enough_files_here,
    first_lines,
    half_open,
    http_pipeline,
    rest_status,
    serve,
    websocket_pipeline,
    websocket_success,
)
from endrpi_project.testing.live import ROOT, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(params=COMMANDS)
def command(request) -> str:
    return str(request.param)


@pytest.fixture
def enough_files() -> Iterator[None]:
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    enough_files_here()
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def test_1100_half_open_requests_from_another_address_leave_others_served(tmp_path, command, enough_files):
    """The issue's first row: open-file limit 1,024; 0 of 30 REST and 0 of 30 WebSocket requests fail."""
    with serve(tmp_path / "data", command, {"ENDRPI_HTTP_HEAD_TIMEOUT": "300"}) as server:
        attack, failed = half_open(server.port, 1100, "127.0.0.2")
        try:
            rest = [rest_status(server) for _ in range(30)]
            websocket = [asyncio.run(websocket_success(server)) for _ in range(30)]
            # Past the per-address cap (256) every connection is answered 429 and closed at once; the
            # 256 held wait for their head (its deadline is far off) and are answered nothing.
            answers = list(first_lines(attack, wanted=1100 - 256 - failed).values())
            held = len(attack) - len(answers)
        finally:
            for sock in attack:
                sock.close()
        assert server.process.poll() is None
    assert [status for status in rest if status != 200] == []
    assert [success for success in websocket if success is not True] == []
    assert set(answers) <= {b"HTTP/1.1 429 Too Many Requests", b"reset"}, answers
    assert held == 256


def test_200_pipelined_requests_are_all_answered_in_order(tmp_path, command):
    """The issue's second row, over HTTP/1.1 keep-alive and over a WebSocket (ENDRPI_WS_MAX_PENDING is 64)."""
    with serve(tmp_path / "data", command) as server:
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
