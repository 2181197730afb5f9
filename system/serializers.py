"""How system readings look on the wire, once, for REST and WebSocket alike."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from endrpi_project.readings.serializers import NumberField


class MeasurementSerializer(serializers.Serializer[Any]):
    quantity = NumberField(help_text="The measured value, in units of `prefix` `unitOfMeasurement`.")
    prefix = serializers.ChoiceField(choices=["KILO", "MEGA", "GIGA"], allow_null=True)
    unitOfMeasurement = serializers.CharField(source="unit_of_measurement")


class TemperatureSerializer(serializers.Serializer[Any]):
    systemOnChip = MeasurementSerializer(source="system_on_chip", help_text="SoC temperature, CELSIUS")


class ThrottleSerializer(serializers.Serializer[Any]):
    underVoltageDetected = serializers.BooleanField(source="under_voltage_detected")
    armFrequencyCapped = serializers.BooleanField(source="arm_frequency_capped")
    throttling = serializers.BooleanField()
    softTemperatureLimitActive = serializers.BooleanField(source="soft_temperature_limit_active")
    underVoltageHasOccurred = serializers.BooleanField(source="under_voltage_has_occurred")
    armFrequencyCappingHasOccurred = serializers.BooleanField(source="arm_frequency_capping_has_occurred")
    throttlingHasOccurred = serializers.BooleanField(source="throttling_has_occurred")
    softTemperatureLimitHasOccurred = serializers.BooleanField(source="soft_temperature_limit_has_occurred")
    historyWindow = serializers.ChoiceField(
        source="history_window",
        choices=["SINCE_BOOT", "LAST_2_SECONDS"],
        help_text="What the four `...HasOccurred` flags cover: `SINCE_BOOT` (the firmware's `get_throttled` "
        "command), or `LAST_2_SECONDS` where only the mailbox property tag or the kernel's sysfs file answers "
        "(the kernel's hwmon driver clears their sticky bits every 2 seconds).",
    )


class UpTimeSerializer(serializers.Serializer[Any]):
    seconds = NumberField(help_text="Seconds since boot.")
    formatted = serializers.CharField(help_text="`H:MM:SS`, or `N day(s), H:MM:SS` past a day.")


class FrequencySerializer(serializers.Serializer[Any]):
    arm = MeasurementSerializer(help_text="Measured ARM clock, HERTZ")
    core = MeasurementSerializer(help_text="Measured core (GPU) clock, HERTZ")


class MemorySerializer(serializers.Serializer[Any]):
    total = MeasurementSerializer()
    free = MeasurementSerializer()
    available = MeasurementSerializer()


class OperatingSystemSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    release = serializers.CharField()
    version = serializers.CharField()


class PlatformSerializer(serializers.Serializer[Any]):
    machineType = serializers.CharField(source="machine_type")
    networkName = serializers.CharField(source="network_name")
    operatingSystem = OperatingSystemSerializer(source="operating_system")
    model = serializers.CharField(
        allow_null=True, help_text='The board, from the device tree ("Raspberry Pi 4 Model B Rev 1.4"); null off a Pi.'
    )


class SystemSerializer(serializers.Serializer[Any]):
    platform = PlatformSerializer(allow_null=True)
    temperature = TemperatureSerializer(allow_null=True)
    throttle = ThrottleSerializer(allow_null=True)
    uptime = UpTimeSerializer(allow_null=True)
    frequency = FrequencySerializer(allow_null=True)
    memory = MemorySerializer(allow_null=True)

    def to_representation(self, instance: Any) -> Any:
        """The System model; an ``errors`` map (section -> message) is added only when a reading failed.

        (``errors`` cannot be a declared field: it would shadow ``Serializer.errors``.)
        """
        data = super().to_representation(instance)
        if instance.errors:
            data["errors"] = dict(instance.errors)
        return data
