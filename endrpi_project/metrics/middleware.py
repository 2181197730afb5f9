"""Counts every REST response by route and outcome, for ``endrpi_requests_total{edge="rest"}``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from endrpi_project.api.tally import tally


class RequestTallyMiddleware:
    """Sync only: the HTTP handler runs the middleware chain in one thread (see endrpi_project.http)."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        tally.request(edge="rest", action=match.url_name if match is not None else None, ok=response.status_code < 400)
        return response
