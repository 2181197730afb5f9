"""``GET /metrics``: the Prometheus text format, behind the same access rule as every route."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from endrpi_project.api.serializers import error_responses
from endrpi_project.metrics import collector


class _JSONErrors(BaseContentNegotiation):
    """Whatever a scraper accepts, the metrics come as text and errors as a JSON ``Message``."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class MetricsView(APIView):
    """The Pi's readings and the server's own counts in the Prometheus text format, read at scrape time.

    A reading that fails here is left out (and counted in `endrpi_reading_errors_total`); the scrape
    still succeeds. Under `ENDRPI_AUTH=all` it needs a token, sent as `Authorization: Bearer <token>`.
    """

    renderer_classes: list[type[BaseRenderer]] = [JSONRenderer]
    content_negotiation_class = _JSONErrors

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text format 0.0.4"),
            **error_responses(500),
        },
        tags=["metrics"],
    )
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(collector.scrape(), content_type=collector.CONTENT_TYPE)
