from __future__ import annotations

from django.apps import AppConfig


class EndrpiConfig(AppConfig):
    name = "endrpi_project"
    verbose_name = "Endrpi"

    def ready(self) -> None:
        from endrpi_project import checks  # noqa: F401  (registers the system checks)
        from endrpi_project import origins  # noqa: F401  (registers the ENDRPI_ALLOWED_ORIGINS system check)
