"""What runs when the server starts and when it stops: the one list of start-up work, under any ASGI server.

Importing ``endrpi_project.asgi`` starts nothing, so a test (or a tool) may import it freely. The
work runs where the server starts the application:

- under a server that speaks the ASGI lifespan protocol (uvicorn, hypercorn), through
  :func:`lifespan` (``lifespan.startup`` / ``lifespan.shutdown``);
- under daphne, which does not, through its Twisted reactor: :func:`schedule` (called when the
  application is imported) asks it, with public Twisted API, to run :func:`daphne_start` once it
  runs (``callWhenRunning``) and :func:`server_stop` before it shuts down. ``daphne_start`` first
  puts the connection guard in front of daphne's listening ports (and checks the open-file limit:
  :mod:`endrpi_project.http.server`), holds them (no connection is accepted) while the start-up work
  runs, then opens them.

Either way the first steps are checks that refuse to start, in one line naming the setting
(:class:`~endrpi_project.http.server.ServerCannotStart`): a database that is not set up, and any
step's ``ImproperlyConfigured`` (``ENDRPI_GPIO=real`` without GPIO). Under daphne that line goes to
stderr and the process exits with status 1; under a lifespan server, it is the
``lifespan.startup.failed`` message (uvicorn logs it and exits). Any other failing step is logged and
the server serves on. A feature that needs work at start-up (claiming saved pin configurations, a
background task) adds one :class:`Startup` entry to :func:`startups`, in the order it must run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from endrpi_project.access.tokens import access_exposure_warn
from endrpi_project.history.services import history_start, history_stop
from endrpi_project.http.server import ServerCannotStart, ports_hold, ports_release, server_guard
from endrpi_project.mqtt import services as mqtt_services
from pins.services import pins_start
from system.sensors.services import sensors_start, sensors_stop
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


def database_check() -> None:
    """Refuse to start on a database that is not set up (no tables, or migrations not applied).

    A database that cannot be read at all (locked by another process) is left to the requests, which
    answer 503 naming the cause.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        logger.warning("Could not check that the database is set up: %s", error)
        return
    finally:
        connection.close()
    if missing:
        raise ServerCannotStart(
            f"{settings.DATABASE_SETTING}: the database {settings.DATABASE_PATH} is not set up "
            f"({len(missing)} migration(s) not applied): run 'python manage.py migrate' before starting "
            "the server (scripts/serve and the service do)"
        )


def startups() -> list[Startup]:
    return [
        Startup("database is set up", start=_in_thread(database_check)),
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
    """Run every start-up step once, in order.

    A step that refuses (:class:`ServerCannotStart`, or Django's ``ImproperlyConfigured`` such as
    ``ENDRPI_GPIO=real`` without GPIO) undoes the steps before it and raises ``ServerCannotStart``;
    any other failure is logged and the server serves on.
    """
    if _started:
        return
    try:
        for startup in startups():
            try:
                await startup.start()
            except ImproperlyConfigured as error:
                raise ServerCannotStart(str(error)) from None
            except ServerCannotStart:
                raise
            except Exception:
                logger.exception("Start-up step '%s' failed", startup.name)
            _started.append(startup)
    except ServerCannotStart:
        await server_stop()
        raise


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


# --- Under a server that speaks the ASGI lifespan protocol (uvicorn, hypercorn) -------------------


async def lifespan(scope: Any, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
    """The ASGI ``lifespan`` scope: the start-up work at ``lifespan.startup``, undone at ``lifespan.shutdown``."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await server_start()
            except ServerCannotStart as error:
                await send({"type": "lifespan.startup.failed", "message": f"Endrpi cannot start: {error}"})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await server_stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


# --- Under daphne (no lifespan): its Twisted reactor ------------------------------------------------


def refuse(error: ServerCannotStart) -> NoReturn:
    """Stop the process before it serves: the one line on stderr, exit status 1."""
    sys.stdout.flush()
    sys.stderr.write(f"Endrpi cannot start: {error}\n")
    sys.stderr.flush()
    os._exit(1)  # from inside the reactor: SystemExit would be caught and logged to nowhere by Twisted


def daphne_start(reactor: Any) -> None:
    """Once daphne's reactor runs: guard its ports, accept nothing while the start-up work runs, then serve."""
    try:
        ports = server_guard(reactor)
    except ServerCannotStart as error:
        refuse(error)
    ports_hold(reactor, ports)

    async def start() -> None:
        try:
            await server_start()
        except ServerCannotStart as error:
            refuse(error)
        except Exception:  # a fault in the start-up machinery itself: said, and the server serves on
            logger.exception("Start-up failed")
        ports_release(reactor, ports)

    def begin() -> None:
        # Runs inside the asyncio loop (callLater), so server_start has a running loop for its tasks.
        _tasks.add(asyncio.ensure_future(start()))

    reactor.callLater(0, begin)


def schedule() -> bool:
    """Under daphne, run :func:`daphne_start` once the reactor runs and :func:`server_stop` at shutdown.

    Returns whether a Twisted reactor was there to schedule with (none under a test client). Under
    another ASGI server the reactor is imported (by daphne's modules) but never run: nothing happens.
    """
    reactor: Any = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return False
    from twisted.internet.defer import Deferred

    def stop() -> Deferred[Any]:
        return Deferred.fromFuture(asyncio.ensure_future(server_stop()))

    reactor.callWhenRunning(daphne_start, reactor)
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    return True
