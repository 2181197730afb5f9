"""The pins app: the header's GPIOs over REST and WebSocket, and the operator's pin settings."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save


class PinsConfig(AppConfig):
    name = "pins"
    verbose_name = "GPIO pins"

    def ready(self) -> None:
        from pins import rules, services
        from pins.models import PinSetting

        # Checked when Django starts, on any machine (simulated pins included), so a frequency lgpio
        # would refuse stops the server at once rather than failing the first PWM update on a Pi.
        problem = rules.pwm_frequency_problem(settings.ENDRPI_PWM_FREQUENCY)
        if problem is not None:
            # Like every other bad setting (endrpi_project.env.SettingError): one line, no traceback.
            raise SystemExit(problem)
        for signal in (post_save, post_delete):
            signal.connect(services.pin_settings_forget, sender=PinSetting, dispatch_uid=f"pins-forget-{signal}")
            # After the forget above (receivers run in the order connected): open pages see the change at once.
            signal.connect(services.pin_setting_saved, sender=PinSetting, dispatch_uid=f"pins-publish-{signal}")
