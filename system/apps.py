from __future__ import annotations

from django.apps import AppConfig

from system.logs import expected_failures_quiet


class SystemConfig(AppConfig):
    name = "system"
    verbose_name = "System readings"

    def ready(self) -> None:
        expected_failures_quiet()
