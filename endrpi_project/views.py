"""Project-wide HTTP views: JSON error pages for URLs no app answers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found, server_error


def _wants_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and not accept.startswith("application/json")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return page_not_found(request, exception or Exception("Not found"))
    return JsonResponse({"message": f"Not found: {request.path}"}, status=404)


def internal_error(request: HttpRequest) -> HttpResponse:
    if _wants_html(request):
        return server_error(request)
    return JsonResponse({"message": "Internal server error"}, status=500)
