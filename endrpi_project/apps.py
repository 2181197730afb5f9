from __future__ import annotations

from django.apps import AppConfig


class EndrpiConfig(AppConfig):
    name = "endrpi_project"
    verbose_name = "Endrpi"

    def ready(self) -> None:
        # Importing these registers their system checks (origins: ENDRPI_ALLOWED_ORIGINS, endrpi.E501).
        from endrpi_project import checks, origins  # noqa: F401
