"""Start-up work runs when the server starts, never when a module is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from daphne.http_protocol import HTTPFactory
from twisted.internet.ssl import CertificateOptions
from twisted.protocols.tls import TLSMemoryBIOFactory

from endrpi_project import startup
from endrpi_project.access import connections
from endrpi_project.access.connections import ConnectionGuard
from endrpi_project.http.server import GuardNotInstalled, guard_listening_ports
from endrpi_project.testing.live import ROOT, live_server


def test_importing_the_asgi_application_starts_nothing(tmp_path):
    code = (
        "import endrpi_project.asgi\n"
        "from endrpi_project import startup\n"
        "from pins import hardware\n"
        "assert startup._started == [], startup._started\n"
        "assert hardware._gpio is None, 'importing asgi created the GPIO'\n"
    )
    environment = {**os.environ, "ENDRPI_DATA_DIR": str(tmp_path), "ENDRPI_GPIO": "mock"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


class FakeReactor:
    """Twisted's reactor, as far as :func:`startup.schedule` uses it (public IReactorCore and IReactorFD API).

    Its readers are what a real reactor's are once daphne listens: Twisted ``Port`` objects, each
    accepting with the factory in its ``factory`` attribute (twisted/internet/tcp.py, ``Port.doRead``).
    """

    def __init__(self, readers: list[Any]) -> None:
        self.when_running: list[tuple[Any, tuple[Any, ...]]] = []
        self.triggers: list[tuple[str, str, Any]] = []
        self.readers = list(readers)
        self.running = True

    def callWhenRunning(self, function: Any, *args: Any) -> None:
        self.when_running.append((function, args))

    def callLater(self, delay: float, function: Any, *args: Any) -> None:
        function(*args)

    def addSystemEventTrigger(self, phase: str, event: str, function: Any) -> None:
        self.triggers.append((phase, event, function))

    def getReaders(self) -> list[Any]:
        return list(self.readers)

    def removeReader(self, reader: Any) -> None:
        self.readers.remove(reader)

    def addReader(self, reader: Any) -> None:
        self.readers.append(reader)


class Port:
    def __init__(self, factory: Any) -> None:
        self.factory = factory


@pytest.fixture
def no_guard(monkeypatch):
    monkeypatch.setattr(connections, "_guard", None)


async def test_under_daphne_start_up_waits_for_the_reactor_with_the_ports_guarded_and_held(monkeypatch, no_guard):
    daphne_factory = HTTPFactory(None)
    port = Port(daphne_factory)
    reactor = FakeReactor([port])
    monkeypatch.setitem(sys.modules, "twisted.internet.reactor", reactor)
    ran: list[str] = []

    async def start() -> None:
        ran.append(f"start, accepting: {port in reactor.readers}")

    async def stop() -> None:
        ran.append("stop")

    monkeypatch.setattr(startup, "startups", lambda: [startup.Startup("test", start=start, stop=stop)])
    monkeypatch.setattr(startup, "_started", [])
    assert startup.schedule() is True
    assert ran == []
    assert [(phase, event) for phase, event, _ in reactor.triggers] == [("before", "shutdown")]

    (function, args) = reactor.when_running.pop()
    function(*args)
    await asyncio_wait_for(lambda: port in reactor.readers)
    assert ran == ["start, accepting: False"]  # no connection was accepted before the start-up work ran
    assert isinstance(port.factory, ConnectionGuard)
    assert port.factory.wrappedFactory is daphne_factory
    assert connections.guard_active() is port.factory
    await startup.server_stop()
    assert ran == ["start, accepting: False", "stop"]


def test_a_tls_port_is_guarded_inside_its_tls_factory_so_the_guard_reads_http(no_guard):
    daphne_factory = HTTPFactory(None)
    tls = TLSMemoryBIOFactory(CertificateOptions(), False, daphne_factory)  # type: ignore[arg-type]
    port, other = Port(tls), Port(object())
    assert guard_listening_ports(FakeReactor([other, port])) == [port]
    assert port.factory is tls
    assert isinstance(tls.wrappedFactory, ConnectionGuard)
    assert tls.wrappedFactory.wrappedFactory is daphne_factory


def test_a_port_already_guarded_is_left_as_it_is(no_guard):
    port = Port(HTTPFactory(None))
    reactor = FakeReactor([port])
    guard_listening_ports(reactor)
    guard = port.factory
    assert guard_listening_ports(reactor) == [port]
    assert port.factory is guard


def test_without_a_port_serving_daphnes_factory_the_server_refuses_to_start(no_guard):
    with pytest.raises(GuardNotInstalled) as refused:
        guard_listening_ports(FakeReactor([Port(object())]))
    assert "the server stops rather than serve without ENDRPI_MAX_CONNECTIONS" in str(refused.value)
    assert connections.guard_active() is None


async def asyncio_wait_for(condition: Any) -> None:
    import asyncio

    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.slow
def test_daphne_applies_saved_pin_configurations_once_it_runs(tmp_path: Path):
    environment = {**os.environ, "ENDRPI_DATA_DIR": str(tmp_path), "ENDRPI_GPIO": "mock"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment, check=True)
    save = "from pins.models import PinSetting; PinSetting.objects.create(pin=17, io='OUTPUT', state=1.0)"
    subprocess.run([*manage, "shell", "-c", save], cwd=ROOT, env=environment, check=True)
    with live_server(tmp_path) as server:
        deadline = time.monotonic() + 10
        while True:
            request = urllib.request.Request(f"{server.http_url}/pins/GPIO17", headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                pin = json.load(response)
            if pin["io"] == "OUTPUT" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert (pin["io"], pin["state"]) == ("OUTPUT", 1.0)
