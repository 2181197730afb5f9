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

from endrpi_project import startup
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
    """Twisted's reactor, as far as :func:`startup.schedule` uses it (public IReactorCore API)."""

    def __init__(self) -> None:
        self.when_running: list[tuple[Any, tuple[Any, ...]]] = []
        self.triggers: list[tuple[str, str, Any]] = []

    def callWhenRunning(self, function: Any, *args: Any) -> None:
        self.when_running.append((function, args))

    def callLater(self, delay: float, function: Any) -> None:
        function()

    def addSystemEventTrigger(self, phase: str, event: str, function: Any) -> None:
        self.triggers.append((phase, event, function))


async def test_under_a_reactor_start_up_waits_for_it_to_run_and_stops_before_shutdown(monkeypatch):
    reactor = FakeReactor()
    monkeypatch.setitem(sys.modules, "twisted.internet.reactor", reactor)
    ran: list[str] = []

    async def start() -> None:
        ran.append("start")

    async def stop() -> None:
        ran.append("stop")

    monkeypatch.setattr(startup, "startups", lambda: [startup.Startup("test", start=start, stop=stop)])
    monkeypatch.setattr(startup, "_started", [])
    assert startup.schedule() is True
    assert ran == []
    assert [(phase, event) for phase, event, _ in reactor.triggers] == [("before", "shutdown")]

    (function, args) = reactor.when_running.pop()
    function(*args)
    await asyncio_wait_for(lambda: ran == ["start"])
    await startup.server_stop()
    assert ran == ["start", "stop"]


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
