"""REST views for GPIO pins: validate with the serializer, call the service, respond."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pins import serializers, services


class PinListView(APIView):
    """The configuration of every header GPIO, keyed by BCM name (`GPIO2` ... `GPIO27`)."""

    def get(self, request: Request) -> Response:
        configurations = services.pin_configurations_read()
        return Response(
            {name: serializers.PinConfigurationSerializer(config).data for name, config in configurations.items()}
        )


class PinDetailView(APIView):
    """One pin, named as gpiozero names pins: `GPIO17`, `BCM17`, `BOARD11`, `J8:11` or `17`.

    PUT `{"io": "OUTPUT", "state": 1.0}` drives an output; PUT `{"io": "INPUT", "pull": "UP"}`
    makes an input. INPUT needs a pull (state is ignored); OUTPUT needs a state (pull is ignored).
    """

    serializer_class = serializers.PinConfigurationSerializer

    def get(self, request: Request, pin_id: str) -> Response:
        pin = services.pin_resolve(name=pin_id)
        return Response(self.serializer_class(services.pin_configuration_read(pin=pin)).data)

    def put(self, request: Request, pin_id: str) -> Response:
        pin = services.pin_resolve(name=pin_id)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.pin_configuration_update(pin=pin, change=serializer.validated_data)
        return Response({"message": message})
