from __future__ import annotations

from django.apps import AppConfig


class EndrpiConfig(AppConfig):
    """The project's wiring: registers the configuration checks. It owns no models, pages or actions."""

    name = "endrpi_project"
    verbose_name = "Endrpi"

    def ready(self) -> None:
        from endrpi_project import checks  # noqa: F401  (registers the system checks)
