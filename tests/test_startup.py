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
from endrpi_project.testing.live import ROOT, free_port, live_server


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


async def test_a_fault_in_the_start_up_work_itself_is_logged_and_the_ports_still_open(monkeypatch, no_guard, caplog):
    port = Port(HTTPFactory(None))
    reactor = FakeReactor([port])

    async def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(startup, "server_start", broken)
    startup.daphne_start(reactor)
    await asyncio_wait_for(lambda: port in reactor.readers)
    assert "Start-up failed" in caplog.text


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


SERVERS = ["daphne", "endrpi_serve", "uvicorn"]


def _environment(tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(tmp_path / "data"),
        "ENDRPI_HOST_ROOT": str(tmp_path / "host"),  # no /dev/gpiochip* there
        "ENDRPI_GPIO": "mock",
        **env,
    }


def _server_command(server: str, port: int) -> list[str]:
    application = "endrpi_project.asgi:application"
    return {
        "daphne": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
        "endrpi_serve": [sys.executable, "manage.py", "endrpi_serve"],
        "uvicorn": [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), application],
    }[server]


def _refusal(tmp_path: Path, server: str, *, migrate: bool = True, **env: str) -> tuple[int, str]:
    """Start ``server`` with ``env``; its exit status and the line that says why it stopped."""
    port = free_port()
    environment = _environment(tmp_path, ENDRPI_HOST="127.0.0.1", ENDRPI_PORT=str(port), **env)
    (tmp_path / "host").mkdir(exist_ok=True)
    if migrate:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True)
    result = subprocess.run(
        _server_command(server, port), cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert "Endrpi is ready" not in result.stdout  # the launcher never says it serves
    lines = result.stderr.strip().splitlines() or [""]
    if server == "uvicorn" and lines[-1] == "ERROR:    Application startup failed. Exiting.":
        lines.pop()  # uvicorn's own last word, after the lifespan's message
    return result.returncode, lines[-1]


# daphne and the launcher print the line and exit 1; uvicorn logs the lifespan's message and exits 3.
REFUSED = {"daphne": (1, "Endrpi cannot start: "), "endrpi_serve": (1, "Endrpi cannot start: ")}
REFUSED["uvicorn"] = (3, "ERROR:    Endrpi cannot start: ")


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_real_gpio_where_there_is_none_refuses_to_start_in_one_line(tmp_path: Path, server: str):
    status, line = _refusal(tmp_path, server, ENDRPI_GPIO="real")
    code, prefix = REFUSED[server]
    assert (status, line[: len(prefix)]) == (code, prefix), line
    assert line[len(prefix) :].startswith("ENDRPI_GPIO=real but the header's GPIO cannot be driven: no gpiochip"), line


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_a_database_in_a_new_directory_refuses_to_start_in_one_line_naming_the_setting(tmp_path: Path, server: str):
    database = tmp_path / "not-yet" / "endrpi.sqlite3"
    status, line = _refusal(tmp_path, server, migrate=False, ENDRPI_DATABASE_PATH=str(database))
    code, prefix = REFUSED[server]
    assert (status, line[: len(prefix)]) == (code, prefix), line
    assert line[len(prefix) :].startswith(f"ENDRPI_DATABASE_PATH: the database {database} is not set up ("), line
    assert line.endswith(
        "migration(s) not applied): run 'python manage.py migrate' before starting the server "
        "(scripts/serve and the service do)"
    ), line


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_saved_pin_configurations_are_applied_before_the_first_request_is_answered(tmp_path: Path, server: str):
    """Start-up work runs under every server: daphne's reactor, or the lifespan protocol (uvicorn).

    No waiting: neither server answers anything before its start-up work is done.
    """
    environment = _environment(tmp_path)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment, check=True)
    save = "from pins.models import PinSetting; PinSetting.objects.create(pin=17, io='OUTPUT', state=1.0)"
    subprocess.run([*manage, "shell", "-c", save], cwd=ROOT, env=environment, check=True)
    host = {"ENDRPI_HOST_ROOT": str(tmp_path / "host")}
    with live_server(tmp_path / "data", host, serve=server == "endrpi_serve", uvicorn=server == "uvicorn") as live:
        request = urllib.request.Request(f"{live.http_url}/pins/GPIO17", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            pin = json.load(response)
    assert (pin["io"], pin["state"]) == ("OUTPUT", 1.0)
