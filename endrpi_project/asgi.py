"""ASGI entry point: ``daphne endrpi_project.asgi:application`` serves HTTP and WebSocket on one port.

Importing this module builds the application and starts nothing. Start-up work (and, under daphne,
the connection guard) runs where the server starts the application: through the ASGI lifespan
protocol under a server that speaks it (uvicorn, hypercorn), once daphne's reactor runs under daphne
(see :mod:`endrpi_project.startup`).
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "endrpi_project.settings")

# Django must be set up before anything imports models or the routing below (what Django's
# get_asgi_application() does, with our handler: see endrpi_project.http.handlers).
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from endrpi_project import startup  # noqa: E402
from endrpi_project.access.origins import WebsocketOriginValidator  # noqa: E402
from endrpi_project.access.redaction import access_log_redact  # noqa: E402
from endrpi_project.http.handlers import SyncChainASGIHandler  # noqa: E402
from endrpi_project.routing import websocket_urlpatterns  # noqa: E402

# Our own origin check, not channels' AllowedHostsOriginValidator: that one lets every page in while
# ALLOWED_HOSTS is "*" (our default) and otherwise refuses scripts that send no Origin.
django_asgi_app = SyncChainASGIHandler()
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketOriginValidator(URLRouter(websocket_urlpatterns)),
        "lifespan": startup.lifespan,
    }
)
startup.schedule()
# daphne's access log is built after this module is imported: make it redact tokens in URLs.
access_log_redact()
