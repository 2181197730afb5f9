"""The fleet's output, once for REST, WebSocket and push."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class FleetMemberSerializer(serializers.Serializer[Any]):
    node = serializers.CharField(help_text="The Pi's node id: its topics are endrpi/<node>/...")
    name = serializers.CharField(source="display_name", help_text="Its name (the node id when it gave none).")
    model = serializers.CharField(allow_null=True, help_text="Board model from its device tree.")
    online = serializers.BooleanField(source="is_online", help_text="Its retained availability is online.")
    temperature = serializers.FloatField(allow_null=True, help_text="SoC temperature in °C (null: unknown).")
    throttleWarnings = serializers.ListField(
        source="throttle_warnings",
        child=serializers.CharField(),
        help_text="Throttle flags active now, e.g. underVoltageDetected.",
    )
    url = serializers.CharField(allow_null=True, help_text="Its dashboard.")
