"""``GET /fleet``: the fleet as JSON, or (for a browser) the page that shows it live."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from endrpi_project.api.representation import representer
from endrpi_project.api.serializers import MessageSerializer
from endrpi_project.mqtt import services
from endrpi_project.mqtt.serializers import FleetMemberSerializer


class FleetPageRenderer(TemplateHTMLRenderer):
    """The fleet page for a browser (``Accept: text/html``); it fills itself over the WebSocket."""

    template_name = "mqtt/fleet.html"


@extend_schema(
    responses={
        200: FleetMemberSerializer(many=True),
        404: OpenApiResponse(MessageSerializer, description="A `?format=` other than json or html."),
        409: OpenApiResponse(MessageSerializer, description="MQTT is off (ENDRPI_MQTT_URL is not set)."),
        500: OpenApiResponse(MessageSerializer, description="An unexpected server error."),
    },
    tags=["fleet"],
)
class FleetView(APIView):
    """Every Endrpi publishing to the MQTT broker (this one included), from their retained topics.

    409 when MQTT is off (`ENDRPI_MQTT_URL` unset).
    """

    renderer_classes = [JSONRenderer, FleetPageRenderer]

    def get(self, request: Request) -> Response:
        if isinstance(request.accepted_renderer, FleetPageRenderer):
            context: dict[str, Any] = {"mqtt": services.mqtt_enabled(), "node": services.mqtt_node_id()}
            return Response(context)
        represent = representer(FleetMemberSerializer)
        return Response([represent(member) for member in services.fleet_read()])
