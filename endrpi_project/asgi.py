"""ASGI entry point: ``daphne endrpi_project.asgi:application`` serves HTTP and WebSocket on one port."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "endrpi_project.settings")

# Django must be set up before anything imports models or the routing below (what Django's
# get_asgi_application() does, with our handler: see endrpi_project.handlers).
django.setup(set_prefix=False)

from endrpi_project.handlers import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from endrpi_project.access import access_exposure_warn  # noqa: E402
from endrpi_project.origins import WebsocketOriginValidator  # noqa: E402
from endrpi_project.routing import websocket_urlpatterns  # noqa: E402
from pins.services import pins_start  # noqa: E402

pins_start()

# Our own origin check, not channels' AllowedHostsOriginValidator: that one lets every page in while
# ALLOWED_HOSTS is "*" (our default) and otherwise refuses scripts that send no Origin.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
access_exposure_warn()
