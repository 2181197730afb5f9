"""How the Pi's own sensors look on the wire, once, for REST, WebSocket, push and MQTT alike."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from system.serializers import MeasurementSerializer


class SensorSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(
        help_text='The kernel\'s name: a 1-wire serial ("28-0316a2797f7f") or chip and channel.'
    )
    # Declared fields named like Field.label and Field.source: the serializer metaclass moves them into ``fields``.
    label = serializers.CharField(  # type: ignore[assignment]
        allow_null=True, help_text="The label set in the admin, or null."
    )
    kind = serializers.ChoiceField(choices=["temperature", "humidity", "pressure", "fan"])
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["w1", "iio", "hwmon"], help_text="The kernel subsystem it is read from: 1-wire, IIO or hwmon."
    )
    value = MeasurementSerializer(
        source="measurement",
        allow_null=True,
        help_text="CELSIUS, PERCENT (relative humidity), HECTOPASCAL or REVOLUTIONS_PER_MINUTE; null when the "
        "last read failed.",
    )
    error = serializers.CharField(allow_null=True, help_text="Why the last read failed (that sensor only), or null.")
    readAt = serializers.DateTimeField(source="read_at", help_text="When it was last read.")


class SensorsSerializer(serializers.Serializer[Any]):
    sensors = serializers.DictField(
        source="by_id",
        child=SensorSerializer(),
        help_text="Every sensor found now, by its stable id (`w1-28-0316a2797f7f`, `iio-bme280-1-0076-temp`).",
    )
