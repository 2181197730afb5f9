"""REST views for GPIO pins: validate with the serializer, call the service, respond."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from endrpi_project.api.serializers import MessageSerializer, error_responses
from pins import serializers, services

# PinConfigurationMap: an object keyed by pin name, each value the PinConfiguration component.
PIN_CONFIGURATION_MAP = {
    "type": "object",
    "additionalProperties": {"$ref": "#/components/schemas/PinConfiguration"},
    "example": {"GPIO17": {"io": "OUTPUT", "state": 1.0, "pull": "FLOATING", "label": "Garage relay"}},
}

PIN_ID = OpenApiParameter(
    "pin_id",
    str,
    OpenApiParameter.PATH,
    description="A header GPIO named as gpiozero names pins: `GPIO17`, `BCM17`, `BOARD11`, `J8:11`, `WPI0` or `17`.",
)


class PinListView(APIView):
    """The configuration of every header GPIO, keyed by BCM name (`GPIO2` ... `GPIO27`)."""

    @extend_schema(
        operation_id="pins_list",
        responses={
            200: OpenApiResponse(PIN_CONFIGURATION_MAP, description="PinConfigurationMap: every pin by BCM name."),
            **error_responses(500),
        },
        tags=["pins"],
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.pin_configurations_wire(services.pin_configurations_read()))


class PinDetailView(APIView):
    """One pin, named as gpiozero names pins: `GPIO17`, `BCM17`, `BOARD11`, `J8:11` or `17`.

    PUT `{"io": "OUTPUT", "state": 1.0}` drives an output; PUT `{"io": "INPUT", "pull": "UP"}`
    makes an input. INPUT needs a pull (state is ignored); OUTPUT needs a state (pull is ignored).
    GPIO2 and GPIO3 have fixed pull-ups on the board, so an input there takes pull UP only (400
    otherwise); a pin another program or a kernel driver holds answers 409, naming the holder.
    """

    serializer_class = serializers.PinConfigurationSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.PinConfigurationSerializer:
        """Used by the browsable API only: its PUT form starts from the pin's current configuration."""
        return self.serializer_class(*args, **kwargs)

    @extend_schema(
        operation_id="pin_read",
        parameters=[PIN_ID],
        responses={200: serializers.PinConfigurationSerializer, **error_responses(404, 500)},
        tags=["pins"],
    )
    def get(self, request: Request, pin_id: str) -> Response:
        pin = services.pin_resolve(name=pin_id)
        # A serializer's own .data, not representer(): the browsable API builds its PUT form from it.
        return Response(self.serializer_class(services.pin_configuration_read(pin=pin)).data)

    @extend_schema(
        operation_id="pin_update",
        parameters=[PIN_ID],
        request=serializers.PinConfigurationSerializer,
        responses={200: MessageSerializer, **error_responses(400, 404, 409, 500)},
        tags=["pins"],
    )
    def put(self, request: Request, pin_id: str) -> Response:
        pin = services.pin_resolve(name=pin_id)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.pin_configuration_update(pin=pin, change=serializer.validated_data)
        return Response({"message": message})
