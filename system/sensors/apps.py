"""The sensors app: the Pi's own sensors (1-wire, IIO, hwmon) as readings, and their labels."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SensorsConfig(AppConfig):
    name = "system.sensors"
    label = "sensors"
    verbose_name = "Sensors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from system.sensors import services
        from system.sensors.models import SensorSetting

        for signal in (post_save, post_delete):
            signal.connect(services.sensor_labels_forget, sender=SensorSetting, dispatch_uid=f"sensors-forget-{signal}")
