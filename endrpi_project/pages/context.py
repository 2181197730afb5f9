"""What every page's header needs (``TEMPLATES`` context processor): whether to link the fleet page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, bool]:
    """``fleet_link``: the fleet page (the MQTT app) lists the Pis on the broker; linked when MQTT is on."""
    return {"fleet_link": bool(settings.ENDRPI_MQTT_URL)}
