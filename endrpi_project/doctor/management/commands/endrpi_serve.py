"""``manage.py endrpi_serve``: daphne where the settings say, and where the dashboard is once it listens.

``scripts/serve`` and the systemd unit both run this, so the rule for where and how the server
listens (:mod:`endrpi_project.doctor.listening`) is in one place. It is the server's command line
(daphne's, behind the connection guard and the open-file check: :mod:`endrpi_project.http.server`)
with one endpoint (``-e``) built from ``ENDRPI_HOST``, ``ENDRPI_PORT`` and the TLS settings; once
the reactor runs and the endpoint listens, every address the dashboard answers on is printed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from endrpi_project.doctor import host
from endrpi_project.doctor.listening import (
    Listening,
    TlsError,
    listening_endpoint,
    listening_from_settings,
    listening_urls,
    tls_files_check,
)


def _application_path() -> str:
    """daphne's ``module:attribute`` spelling of ``settings.ASGI_APPLICATION``."""
    module, _, attribute = str(settings.ASGI_APPLICATION).rpartition(".")
    return f"{module}:{attribute}"


def _announcing(server_class: type[Any], ready: Callable[[], None]) -> type[Any]:
    """``server_class`` built with daphne's ``ready_callable`` (called before its reactor runs)."""

    class Announcing(server_class):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, ready_callable=ready, **kwargs)

    return Announcing


class Command(BaseCommand):
    help = (
        "Serve Endrpi with daphne on ENDRPI_HOST:ENDRPI_PORT (HTTPS with ENDRPI_TLS_CERT and ENDRPI_TLS_KEY) "
        "and print the dashboard's addresses once listening."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        listening = listening_from_settings()
        if listening.tls_cert is not None and listening.tls_key is not None:
            try:
                certificate = tls_files_check(cert=listening.tls_cert, key=listening.tls_key)
            except TlsError as error:
                raise CommandError(str(error)) from None
            if certificate.expired:
                self.stderr.write(
                    f"Warning: the certificate in ENDRPI_TLS_CERT expired on {certificate.not_after:%Y-%m-%d}; "
                    "browsers will refuse it."
                )
        # Imported here: daphne.server (imported by it) installs Twisted's asyncio reactor, which must
        # come before anything imports twisted.internet.reactor, and only a server wants a reactor.
        from endrpi_project.http.server import EndrpiCommandLine

        cli = EndrpiCommandLine()
        cli.server_class = _announcing(cli.server_class, functools.partial(self._when_listening, cli, listening))
        # daphne exits with status 1 itself when it cannot listen (its log says why).
        cli.run(["-e", listening_endpoint(listening), _application_path()])

    def _when_listening(self, cli: Any, listening: Listening) -> None:
        from twisted.internet import reactor

        def announce() -> None:
            bound = list(cli.server.listening_addresses)
            if not bound:
                return
            urls = listening_urls(listening, bound=bound, addresses=host.interface_addresses())
            lines = ["Endrpi is ready. The dashboard:", *(f"  {url}" for url in urls)]
            self.stdout.write("\n".join(lines))
            self.stdout.flush()

        reactor.callWhenRunning(announce)
