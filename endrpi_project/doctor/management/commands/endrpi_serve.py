"""``manage.py endrpi_serve``: daphne where the settings say, and where the dashboard is once it listens.

``scripts/serve`` and the systemd unit both run this, so the rule for where and how the server
listens (:mod:`endrpi_project.doctor.listening`) is in one place. It is daphne's own command line
with one endpoint (``-e``) built from ``ENDRPI_HOST``, ``ENDRPI_PORT`` and the TLS settings; once
the start-up work is done and the endpoint accepts, every address the dashboard answers on is printed. The
connection guard, the open-file check and the start-up refusals come from the application, as under
plain ``daphne`` (:mod:`endrpi_project.startup`, :mod:`endrpi_project.http.server`).

``--prepare`` first migrates the database and collects the static files when they changed
(:mod:`endrpi_project.doctor.preparation`), in this process, so a restart starts Django once.
``--next-steps`` (``scripts/serve``) prints, once ready, the dashboard's address and how to create the
admin user and install the service, in three lines. daphne's access log (a line per request) and its
start-up notes are left out unless ``ENDRPI_ACCESS_LOG`` is on (``scripts/serve --verbose``) or
``ENDRPI_LOG_LEVEL`` is ``DEBUG``.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from endrpi_project.doctor import host
from endrpi_project.doctor.listening import (
    Listening,
    NextSteps,
    TlsError,
    listening_endpoint,
    listening_from_settings,
    listening_urls,
    next_steps_lines,
    tls_files_check,
)
from endrpi_project.doctor.preparation import host_prepare


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

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="First migrate the database and collect the static files, each only if it changed.",
        )
        parser.add_argument(
            "--next-steps",
            action="store_true",
            help="Once ready, print the dashboard's address and how to create the admin user and install the service.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        listening = listening_from_settings()
        if options["prepare"]:
            host_prepare(say=self._say)
        steps = _next_steps() if options["next_steps"] else None
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
        from daphne.cli import CommandLineInterface

        cli = CommandLineInterface()
        cli.server_class = _announcing(cli.server_class, functools.partial(self._when_listening, cli, listening, steps))
        quiet = []
        if not settings.ENDRPI_ACCESS_LOG:
            quiet = ["--verbosity", "0"]  # daphne's option: no access log (its Twisted log is off either way)
            if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
                logging.getLogger("daphne").setLevel(logging.WARNING)  # "HTTP/2 support not enabled", ...
        # daphne exits with status 1 itself when it cannot listen (its log says why).
        cli.run(["-e", listening_endpoint(listening), *quiet, _application_path()])

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _when_listening(self, cli: Any, listening: Listening, steps: NextSteps | None) -> None:
        from endrpi_project.http.server import ports_when_serving

        def announce() -> None:
            bound = list(cli.server.listening_addresses)
            if not bound:
                return
            urls = listening_urls(listening, bound=bound, addresses=host.interface_addresses())
            if steps is None:
                lines = ["Endrpi is ready. The dashboard:", *(f"  {url}" for url in urls)]
            else:
                lines = next_steps_lines(urls, steps)
            self._say("\n".join(lines))

        # Once the start-up work is done and the ports accept: "ready" is then true, and the last word.
        ports_when_serving(announce)


def _next_steps() -> NextSteps:
    """What to suggest once ready, from this checkout: its python, and whether an admin user exists."""
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError, connection

    def here(path: str) -> str:
        relative = os.path.relpath(path)
        return path if relative.startswith("..") else os.path.join(".", relative)

    try:
        admin_exists = get_user_model().objects.filter(is_superuser=True).exists()
    except DatabaseError:
        admin_exists = False  # not migrated yet: the server says so on the pages that need it
    finally:
        connection.close()  # the server opens its own, in its worker threads
    return NextSteps(
        python=here(sys.executable),
        install_service=here(str(settings.BASE_DIR / "scripts" / "install-service")),
        admin_exists=admin_exists,
    )
