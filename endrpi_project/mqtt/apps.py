from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class MqttConfig(AppConfig):
    name = "endrpi_project.mqtt"
    label = "mqtt"
    verbose_name = "MQTT and Home Assistant"

    def ready(self) -> None:
        from endrpi_project.mqtt import services
        from pins.models import PinSetting

        # A label or an MQTT setting changed in the admin: Home Assistant hears of it at once.
        for signal in (post_save, post_delete):
            signal.connect(
                services.mqtt_pin_settings_changed, sender=PinSetting, dispatch_uid=f"mqtt-pin-settings-{signal}"
            )
