"""The dashboard and the WebSocket API page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from endrpi_project.websocket.registry import action_table
from pins import services as pin_services


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The operator's control panel; it reads and drives everything over the WebSocket API."""
    header = pin_services.pins_header()
    return render(
        request,
        "endrpi/dashboard.html",
        {
            "gpio_simulated": pin_services.pins_simulated(),
            # Rows of the header as on the board: odd pins on the left, even pins on the right.
            "header_rows": [(header[index], header[index + 1]) for index in range(0, len(header), 2)],
        },
    )


@require_safe
def websocket_docs(request: HttpRequest) -> HttpResponse:
    """The WebSocket API, generated from the action table the consumer dispatches through."""
    return render(request, "endrpi/websocket.html", {"actions": action_table().actions})
