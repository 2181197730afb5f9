"""REST views for readings: one per declared reading (``/system/<key>``) and ``GET /system``.

Each view calls the reading's service and renders it with its serializer; the views are made from
the declarations (:mod:`system.declarations`, :func:`endrpi_project.readings.registry.reading_table`),
so a reading declared anywhere has its route, its schema and its browsable page.
"""

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
from endrpi_project.readings.declaration import Reading
from endrpi_project.readings.registry import readings_read, system_serializer
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


def reading_view(reading: Reading) -> type[ReadingView]:
    """``GET /system/<key>``: the reading's model; its description is what the declaration says it measures."""
    view = type(
        f"{reading.key.capitalize()}View",
        (ReadingView,),
        {
            "__doc__": reading.measures,
            "__module__": __name__,
            "read": staticmethod(reading.read),
            "serializer_class": reading.serializer,
        },
    )
    decorated: type[ReadingView] = reading_schema(reading.serializer)(view)
    return decorated


def system_view() -> type[ReadingView]:
    """``GET /system``: every declared reading at once."""

    @reading_schema(system_serializer())
    class SystemView(ReadingView):
        """Every reading at once. A reading that is unavailable here is `null`, with its message in `errors`."""

        read = staticmethod(readings_read)
        serializer_class = system_serializer()

    return SystemView
