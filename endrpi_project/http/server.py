"""The server process: daphne, with every connection behind the connection guard and an open-file check.

    python -m endrpi_project.http.server -b 0.0.0.0 -p 5000 endrpi_project.asgi:application

takes daphne's own command-line arguments (``scripts/serve`` and the live-server helper run it). Two
things differ from plain ``daphne``:

- Before listening, the open-file limit (``RLIMIT_NOFILE``) must hold ``ENDRPI_MAX_CONNECTIONS`` plus
  :data:`RESERVED_FILES` for the server's own files. If the soft limit is lower, it is raised toward
  the hard limit; if the hard limit is lower too, the server refuses to start with one line naming
  both numbers (raise ``LimitNOFILE`` in the systemd unit, or lower the cap).
- The listening factory is wrapped in :class:`~endrpi_project.access.connections.ConnectionGuard`
  (caps per server and per client address, the request-head deadline, WebSocket flow control).

The one private use of daphne is here, in :class:`EndrpiServer`: ``Server.run()`` builds its
``HTTPFactory`` and assigns it to the undocumented attribute ``http_factory`` just before listening
with it, so a property on that name wraps it. If a daphne release stops assigning it, the server
refuses to start (it never serves unguarded), and ``tests/abuse/test_server.py`` fails.
"""

from __future__ import annotations

import logging
import resource
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from django.conf import settings

from endrpi_project.access.connections import ConnectionGuard, guard_install

logger = logging.getLogger(__name__)

# Files the server holds besides client connections: the database and its journal, the listening
# sockets, log files, /sys and /proc reads, the firmware and GPIO devices, the event loop's own.
RESERVED_FILES = 64


class OpenFilesTooLow(SystemExit):
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


class EndrpiServer(Server):
    """daphne's ``Server`` whose listening factory is wrapped in a :class:`ConnectionGuard`."""

    _guarded: ConnectionGuard | None = None

    @property
    def http_factory(self) -> Any:
        return self._guarded

    @http_factory.setter
    def http_factory(self, factory: Any) -> None:
        self._guarded = ConnectionGuard(
            factory,
            max_connections=settings.ENDRPI_MAX_CONNECTIONS,
            max_per_client=settings.ENDRPI_MAX_CONNECTIONS_PER_CLIENT,
            head_timeout=settings.ENDRPI_HTTP_HEAD_TIMEOUT,
        )
        guard_install(self._guarded)

    def run(self) -> None:
        open_files_check(max_connections=settings.ENDRPI_MAX_CONNECTIONS)
        super().run()

    def listen_success(self, port: Any) -> None:
        if self._guarded is None:
            logger.critical(
                "daphne did not build its HTTP factory through Server.http_factory: connections would be "
                "unguarded (no caps, no request-head deadline), so the server stops. See endrpi_project/http/server.py"
            )
            self.stop()
            return
        super().listen_success(port)


class EndrpiCommandLine(CommandLineInterface):
    server_class = EndrpiServer


def main(argv: list[str] | None = None) -> None:
    EndrpiCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
