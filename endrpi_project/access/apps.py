from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "endrpi_project.access"
    label = "access"
    verbose_name = "Access tokens"

    def ready(self) -> None:
        # Importing these registers the ENDRPI_ALLOWED_ORIGINS check (endrpi.E501) and the schema's
        # description of bearer tokens.
        from endrpi_project.access import origins, schema  # noqa: F401
