"""The dashboard and the WebSocket API page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from endrpi_project.pages.header import header_rows
from endrpi_project.pages.throttle import THROTTLE_ROWS
from endrpi_project.websocket.registry import action_table
from pins import services as pin_services


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The operator's control panel; it reads and drives everything over the WebSocket API."""
    return render(
        request,
        "endrpi/dashboard.html",
        {
            "gpio_simulated": pin_services.pins_simulated(),
            "header_rows": header_rows(),
            "throttle_rows": THROTTLE_ROWS,
            "page": "dashboard",
            # The fleet page (the MQTT app) lists the Pis on the broker; linked when MQTT is on.
            "fleet": bool(settings.ENDRPI_MQTT_URL),
        },
    )


@require_safe
def websocket_docs(request: HttpRequest) -> HttpResponse:
    """The WebSocket API, generated from the action table the consumer dispatches through."""
    return render(request, "endrpi/websocket.html", {"actions": action_table().actions, "page": "websocket"})
