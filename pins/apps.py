from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PinsConfig(AppConfig):
    name = "pins"
    verbose_name = "GPIO pins"

    def ready(self) -> None:
        from pins import services
        from pins.models import PinSetting

        for signal in (post_save, post_delete):
            signal.connect(services.pin_settings_forget, sender=PinSetting, dispatch_uid=f"pins-forget-{signal}")
