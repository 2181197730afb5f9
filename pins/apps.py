from __future__ import annotations

from django.apps import AppConfig


class PinsConfig(AppConfig):
    name = "pins"
    verbose_name = "GPIO pins"
