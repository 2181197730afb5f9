"""REST views of the history: ``GET /system/history`` (JSON or CSV) and ``GET /system/events``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from endrpi_project.api.errors import InvalidRequest
from endrpi_project.api.serializers import error_responses
from endrpi_project.history import serializers, services


class HistoryCSVRenderer(renderers.BaseRenderer):
    """``text/csv``, asked for with ``Accept: text/csv`` or ``?format=csv``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return serializers.history_csv(data).encode()


class _FormatNegotiation(DefaultContentNegotiation):
    """An unknown ``?format=`` is a bad param (400 naming the formats), not DRF's 404."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        asked = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        formats = [renderer.format for renderer in renderers]
        if asked is not None and asked not in formats:
            raise InvalidRequest(f"format: {str(asked)[:32]!r} is not a format; formats are {', '.join(formats)}")
        return super().select_renderer(request, renderers, format_suffix)


class HistoryView(APIView):
    """Readings over time, evenly bucketed: min, mean and max of each series per bucket.

    A bucket without samples (the server was off) is left out. Times are ISO 8601 or relative
    (`-24h`, `-30m`, `-7d`). Add `format=csv` (or send `Accept: text/csv`) for a CSV download.
    """

    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, HistoryCSVRenderer]
    content_negotiation_class = _FormatNegotiation

    @extend_schema(
        parameters=[
            serializers.HistoryParams,
            OpenApiParameter("format", str, enum=["json", "api", "csv"], description="csv for a CSV download"),
        ],
        responses={
            (200, "application/json"): serializers.HistorySerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="one line per bucket"),
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="the browsable API (format=api)"),
            **error_responses(400, 500),
        },
        tags=["history"],
    )
    def get(self, request: Request) -> Response:
        params = serializers.HistoryParams(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        answer = services.history_read(**params.validated_data)
        response = Response(answer)
        if isinstance(request.accepted_renderer, HistoryCSVRenderer):
            response["Content-Disposition"] = 'attachment; filename="endrpi-history.csv"'
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """An error is a JSON ``Message`` even when CSV (or the browsable page) was asked for."""
        accepted = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and not isinstance(accepted, renderers.JSONRenderer):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class EventsView(APIView):
    """Throttle and under-voltage events: each condition from when it was seen until it ended.

    `observed: false` marks a condition the firmware's "since boot" flag reported between two
    checks a second apart: it happened between `start` and `end`, too briefly to be seen.
    """

    @extend_schema(
        parameters=[serializers.EventsParams],
        responses={200: serializers.EventsSerializer, **error_responses(400, 500)},
        tags=["history"],
    )
    def get(self, request: Request) -> Response:
        params = serializers.EventsParams(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        return Response(services.history_events_read(**params.validated_data))
