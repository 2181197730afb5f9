from __future__ import annotations

from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "endrpi_project.pages"
    label = "pages"
    verbose_name = "Pages"
