"""daphne's listening ports behind the connection guard, and the open-file check, under any daphne command.

``daphne endrpi_project.asgi:application`` (the user's command) and ``manage.py endrpi_serve`` (the
launcher ``scripts/serve`` and the service run) get the same protection, installed the same way:
importing the application schedules :func:`server_guard` with Twisted's reactor
(``callWhenRunning``, see :mod:`endrpi_project.startup`). It runs once the reactor runs, after daphne
has opened its listening ports and before the reactor has accepted a single connection, and:

- checks the open-file limit (``RLIMIT_NOFILE``): it must hold ``ENDRPI_MAX_CONNECTIONS`` plus
  :data:`RESERVED_FILES` for the server's own files. A soft limit too low is raised toward the hard
  limit; if the hard limit is lower too, the server refuses to start with one line naming both
  numbers (raise ``LimitNOFILE`` in the systemd unit, or lower the cap);
- puts a :class:`~endrpi_project.access.connections.ConnectionGuard` (caps per server and per client
  address, the request-head deadline, WebSocket flow control) in front of daphne's ``HTTPFactory`` on
  every port it listens on.

How the ports are found uses public API only: the reactor's readers (``IReactorFD.getReaders``) are
the listening ports; a port accepts with its ``factory`` (Twisted's ``Port.factory``, the factory it
was given), and a TLS port's factory wraps daphne's in ``wrappedFactory`` (Twisted's
``WrappingFactory``). If no port serving daphne's ``HTTPFactory`` is found (a daphne release that
listens some other way), the server refuses to start, in one line, rather than serve unguarded:
``tests/abuse/test_guard_any_command.py`` runs a real daphne for each case.
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable
from typing import Any

from django.conf import settings

from endrpi_project.access.connections import ConnectionGuard, guard_install

logger = logging.getLogger(__name__)

# Files the server holds besides client connections: the database and its journal, the listening
# sockets, log files, /sys and /proc reads, the firmware and GPIO devices, the event loop's own.
RESERVED_FILES = 64


class ServerCannotStart(Exception):
    """Start-up refused, with one line saying why (naming the setting); the server never serves."""


class OpenFilesTooLow(ServerCannotStart):
    pass


class GuardNotInstalled(ServerCannotStart):
    pass


def open_files_check(*, max_connections: int) -> int:
    """Make the soft ``RLIMIT_NOFILE`` hold the connection cap; return it. Refuse if the hard limit cannot."""
    needed = max_connections + RESERVED_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise OpenFilesTooLow(
            f"ENDRPI_MAX_CONNECTIONS={max_connections} needs {needed} open files, but the open-file limit is "
            f"{hard} (hard; LimitNOFILE in the systemd unit): raise it or lower ENDRPI_MAX_CONNECTIONS"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    logger.info("Raised the open-file limit from %d to %d for %d connections", soft, needed, max_connections)
    return needed


def _daphne_factory_class() -> type[Any] | None:
    try:
        from daphne.http_protocol import HTTPFactory
    except ImportError:
        return None
    factory: type[Any] = HTTPFactory
    return factory


def guard_listening_ports(reactor: Any, *, guard_build: Any = None) -> list[Any]:
    """Put one :class:`ConnectionGuard` in front of daphne's ``HTTPFactory`` on every port; return the ports.

    Ports already guarded are returned as they are. Raises :class:`GuardNotInstalled` when no port
    serves daphne's factory.
    """
    daphne_factory = _daphne_factory_class()
    guards: dict[int, ConnectionGuard] = {}
    ports: list[Any] = []
    for reader in reactor.getReaders():
        holder, name = reader, "factory"
        factory = getattr(holder, name, None)
        while factory is not None and not isinstance(factory, ConnectionGuard):
            if daphne_factory is not None and isinstance(factory, daphne_factory):
                break
            holder, name = factory, "wrappedFactory"
            factory = getattr(holder, name, None)
        if factory is None:
            continue
        if not isinstance(factory, ConnectionGuard):
            guard = guards.get(id(factory))
            if guard is None:
                guard = guards[id(factory)] = (guard_build or _guard_build)(factory)
            setattr(holder, name, guard)
            factory = guard
        guard_install(factory)
        ports.append(reader)
    if not ports:
        raise GuardNotInstalled(
            "daphne is listening in a way the connection guard does not recognise (no listening port serves "
            "daphne.http_protocol.HTTPFactory), so the server stops rather than serve without "
            "ENDRPI_MAX_CONNECTIONS and the request-head deadline: see endrpi_project/http/server.py"
        )
    return ports


def _guard_build(factory: Any) -> ConnectionGuard:
    return ConnectionGuard(
        factory,
        max_connections=settings.ENDRPI_MAX_CONNECTIONS,
        max_per_client=settings.ENDRPI_MAX_CONNECTIONS_PER_CLIENT,
        head_timeout=settings.ENDRPI_HTTP_HEAD_TIMEOUT,
    )


def server_guard(reactor: Any) -> list[Any]:
    """The open-file check, then the guard on every listening port (returned). Raises :class:`ServerCannotStart`."""
    open_files_check(max_connections=settings.ENDRPI_MAX_CONNECTIONS)
    return guard_listening_ports(reactor)


def ports_hold(reactor: Any, ports: list[Any]) -> None:
    """Accept no connection on ``ports`` (they stay open: the kernel queues clients) until :func:`ports_release`."""
    for port in ports:
        reactor.removeReader(port)


# Called once the ports accept connections after the start-up work (``manage.py endrpi_serve`` says
# "ready" then, after what the start-up work logged, not while clients would still wait).
_when_serving: list[Callable[[], None]] = []


def ports_when_serving(callback: Callable[[], None]) -> None:
    """Call ``callback`` (in the reactor) once :func:`ports_release` has let the ports accept again."""
    _when_serving.append(callback)


def ports_release(reactor: Any, ports: list[Any]) -> None:
    if not reactor.running:  # shutting down: the ports are closing
        return
    for port in ports:
        reactor.addReader(port)
    while _when_serving:
        _when_serving.pop(0)()
