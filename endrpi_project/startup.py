"""What runs when the server starts and when it stops: the one list of start-up work.

Importing ``endrpi_project.asgi`` starts nothing, so a test (or a tool) may import it freely. Under
daphne, :func:`schedule` hands :func:`server_start` to the Twisted reactor daphne has installed, to
run once it is running (``callWhenRunning``), and :func:`server_stop` to run before it shuts down,
both public Twisted API. A feature that needs work at start-up (claiming saved pin configurations, a
background task) adds one :class:`Startup` entry to :func:`startups`, in the order it must run.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async

from endrpi_project.access.tokens import access_exposure_warn
from endrpi_project.history.services import history_start, history_stop
from endrpi_project.mqtt import services as mqtt_services
from pins.services import pins_start
from sensors.services import sensors_start, sensors_stop
from system.services import system_start, system_stop

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Startup:
    """One piece of start-up work: ``start`` runs on the event loop, ``stop`` (if any) at shutdown."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]] | None = None


def _in_thread(function: Callable[[], Any]) -> Callable[[], Awaitable[None]]:
    """A blocking start-up step (database, GPIO), run in a worker thread off the event loop."""

    async def run() -> None:
        await sync_to_async(function, thread_sensitive=False)()

    return run


def _now(function: Callable[[], Any]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        function()

    return run


def startups() -> list[Startup]:
    return [
        Startup("exposure warning", start=_now(access_exposure_warn)),
        Startup("GPIO and saved pin configurations", start=_in_thread(pins_start)),
        Startup("readings this machine cannot take (warned once)", start=system_start, stop=system_stop),
        Startup("the Pi's own sensors, found and read", start=sensors_start, stop=sensors_stop),
        Startup("history sampler", start=history_start, stop=history_stop),
        Startup("MQTT bridge", start=mqtt_services.start, stop=mqtt_services.stop),
    ]


_started: list[Startup] = []
_tasks: set[asyncio.Future[None]] = set()  # the start-up task, kept from the garbage collector


async def server_start() -> None:
    """Run every start-up step once, in order; one that fails is logged and the server serves on."""
    if _started:
        return
    for startup in startups():
        try:
            await startup.start()
        except Exception:
            logger.exception("Start-up step '%s' failed", startup.name)
        _started.append(startup)


async def server_stop() -> None:
    """Undo the started steps, last first."""
    while _started:
        startup = _started.pop()
        if startup.stop is None:
            continue
        try:
            await startup.stop()
        except Exception:
            logger.exception("Shutdown step '%s' failed", startup.name)


def schedule() -> bool:
    """Under daphne, run :func:`server_start` once the reactor runs and :func:`server_stop` at shutdown.

    Returns whether a Twisted reactor was there to schedule with (none under a test client).
    """
    reactor: Any = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return False
    from twisted.internet.defer import Deferred

    def start() -> None:
        # Runs inside the asyncio loop (callLater), so server_start has a running loop for its tasks.
        _tasks.add(asyncio.ensure_future(server_start()))

    def stop() -> Deferred[Any]:
        return Deferred.fromFuture(asyncio.ensure_future(server_stop()))

    reactor.callWhenRunning(reactor.callLater, 0, start)
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    return True
