from __future__ import annotations

from django.apps import AppConfig


class EndrpiConfig(AppConfig):
    name = "endrpi_project"
    verbose_name = "Endrpi"
