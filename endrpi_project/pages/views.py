"""The dashboard and the WebSocket API page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from endrpi_project.api import errors
from endrpi_project.pages.cards import card_specs, cards, chart_specs
from endrpi_project.pages.header import header_rows
from endrpi_project.pages.throttle import THROTTLE_ROWS
from endrpi_project.websocket.registry import action_table
from pins import services as pin_services


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The operator's control panel; it reads and drives everything over the WebSocket API."""
    shown = cards()
    return render(
        request,
        "endrpi/dashboard.html",
        {
            "gpio_simulated": pin_services.pins_simulated(),
            "header_rows": header_rows(),
            "cards": shown,
            "card_specs": card_specs(shown),
            "history_charts": chart_specs(),
            "throttle_rows": THROTTLE_ROWS,
            "page": "dashboard",
        },
    )


@require_safe
def websocket_docs(request: HttpRequest) -> HttpResponse:
    """The WebSocket API, generated from the action table the consumer dispatches through."""
    return render(request, "endrpi/websocket.html", {"actions": action_table().actions, "page": "websocket"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: a browser gets a page in the dashboard's look with the way back; an API client
    the JSON ``Message`` of :func:`endrpi_project.api.errors.not_found`."""
    if not errors.wants_html(request):
        return errors.not_found(request, exception)
    return render(request, "endrpi/not_found.html", {"path": request.path, "subtitle": "Not found"}, status=404)
