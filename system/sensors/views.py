"""REST view of one of the Pi's own sensors (``GET /system/sensors`` is made from the declaration)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from endrpi_project.api.representation import representer
from endrpi_project.api.serializers import MessageSerializer, error_responses
from system.sensors import serializers, services

_NO_SUCH_SENSOR = OpenApiResponse(MessageSerializer, description="No sensor has that id now.")


class SensorView(APIView):
    """One of the Pi's own sensors, by the id `GET /system/sensors` lists it under; 404 if there is none now."""

    @extend_schema(
        operation_id="system_sensor_retrieve",
        responses={200: serializers.SensorSerializer, **error_responses(500), 404: _NO_SUCH_SENSOR},
        tags=["system"],
    )
    def get(self, request: Request, sensor_id: str) -> Response:
        return Response(representer(serializers.SensorSerializer)(services.sensor_read(sensor_id=sensor_id)))
