from __future__ import annotations

from django.apps import AppConfig


class EndrpiConfig(AppConfig):
    name = "endrpi_project"
    verbose_name = "Endrpi"

    def ready(self) -> None:
        # Importing these registers their system checks (origins: ENDRPI_ALLOWED_ORIGINS, endrpi.E501) and
        # the schema's description of bearer tokens.
        from endrpi_project import checks, origins, schema  # noqa: F401
