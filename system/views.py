"""REST views for system readings: each calls one service and renders it with one serializer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.api.representation import representer
from endrpi_project.api.serializers import error_responses
from system import serializers, services
from system.logs import mark_expected_failure


def reading_schema(serializer: type[drf.Serializer[Any]], *, tag: str = "system") -> Any:
    """The schema of a reading view: its model on 200, a ``Message`` on 500."""
    return extend_schema(responses={200: serializer, **error_responses(500)}, tags=[tag])


class ReadingView(APIView):
    """Base for a view that answers GET with one reading."""

    read: ClassVar[Callable[[], Any]]
    serializer_class: ClassVar[type[drf.Serializer[Any]]]

    def get(self, request: Request) -> Response:
        return Response(representer(self.serializer_class)(type(self).read()))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(request, *args, **kwargs)
        if self._reading_failed:
            mark_expected_failure(request)
        return response

    _reading_failed = False

    def handle_exception(self, exc: Exception) -> Response:
        # A reading this machine cannot take answers 500 with its message (the API's contract), but it is not a
        # server error to log on every request: it was logged once, as a warning, at start-up.
        self._reading_failed = isinstance(exc, ReadingFailed)
        return super().handle_exception(exc)


@reading_schema(serializers.SystemSerializer)
class SystemView(ReadingView):
    """Every reading at once. A reading that is unavailable here is `null`, with its message in `errors`."""

    read = staticmethod(services.system_read)
    serializer_class = serializers.SystemSerializer


@reading_schema(serializers.PlatformSerializer)
class PlatformView(ReadingView):
    """Machine type, network name and operating system."""

    read = staticmethod(services.platform_read)
    serializer_class = serializers.PlatformSerializer


@reading_schema(serializers.TemperatureSerializer)
class TemperatureView(ReadingView):
    """System on chip temperature in degrees Celsius."""

    read = staticmethod(services.temperature_read)
    serializer_class = serializers.TemperatureSerializer


@reading_schema(serializers.ThrottleSerializer)
class ThrottleView(ReadingView):
    """Under-voltage, frequency capping, throttling and soft temperature limit: now and since boot."""

    read = staticmethod(services.throttle_read)
    serializer_class = serializers.ThrottleSerializer


@reading_schema(serializers.UpTimeSerializer)
class UptimeView(ReadingView):
    """Time since boot."""

    read = staticmethod(services.uptime_read)
    serializer_class = serializers.UpTimeSerializer


@reading_schema(serializers.FrequencySerializer)
class FrequencyView(ReadingView):
    """Measured ARM and core clocks in hertz."""

    read = staticmethod(services.frequency_read)
    serializer_class = serializers.FrequencySerializer


@reading_schema(serializers.MemorySerializer)
class MemoryView(ReadingView):
    """Total, free and available memory in kilobytes."""

    read = staticmethod(services.memory_read)
    serializer_class = serializers.MemorySerializer
