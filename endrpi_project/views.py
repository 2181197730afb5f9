"""Project-wide HTTP views: the dashboard, the WebSocket API page, JSON error pages for URLs no app answers."""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found, server_error

from endrpi_project.routing import ACTION_TABLE
from pins import services as pin_services


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The operator's control panel; it reads and drives everything over the WebSocket API."""
    header = pin_services.pins_header()
    return render(
        request,
        "endrpi_project/dashboard.html",
        {
            "gpio_simulated": pin_services.pins_simulated(),
            # Rows of the header as on the board: odd pins on the left, even pins on the right.
            "header_rows": [(header[index], header[index + 1]) for index in range(0, len(header), 2)],
        },
    )


@require_safe
def websocket_docs(request: HttpRequest) -> HttpResponse:
    """The WebSocket API, generated from the action table the consumer dispatches through."""
    return render(request, "endrpi_project/websocket.html", {"actions": ACTION_TABLE.actions})


def _wants_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and not accept.startswith("application/json")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django refuses before any view, such as one for a host not in ``ENDRPI_ALLOWED_HOSTS``."""
    if _wants_html(request):
        return django_bad_request(request, exception or Exception("Bad request"))
    if isinstance(exception, DisallowedHost):
        return JsonResponse({"message": "Host not allowed: add it to ENDRPI_ALLOWED_HOSTS"}, status=400)
    return JsonResponse({"message": "Bad request"}, status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return page_not_found(request, exception or Exception("Not found"))
    return JsonResponse({"message": f"Not found: {request.path}"}, status=404)


def internal_error(request: HttpRequest) -> HttpResponse:
    if _wants_html(request):
        return server_error(request)
    return JsonResponse({"message": "Internal server error"}, status=500)
